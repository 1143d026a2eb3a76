// Addresses, as verityd listens on them and clients dial them. Shared by
// verityd (no keys only on a local address) and the CLI (a warning before an
// API key goes out in plaintext to another host). Pure functions.
#pragma once

#include <string>

namespace verity::wire {

// Whether `address` (HOST:PORT, [IPv6]:PORT, or unix:PATH) reaches only this
// machine: 127.0.0.0/8 written as four decimal parts, ::1, localhost, or a
// Unix socket. Anything else, including 0.0.0.0 and host names, is not.
bool IsLocalAddress(const std::string& address);

}  // namespace verity::wire
