// Addresses, as verityd listens on them and clients dial them. Shared by
// verityd (no keys only on a local address) and the CLI (a warning before an
// API key goes out in plaintext to another host). Pure functions.
#pragma once

#include <netdb.h>

#include <memory>
#include <string>

namespace verity::wire {

// Whether `address` (HOST:PORT, [IPv6]:PORT, or unix:PATH) reaches only this
// machine: 127.0.0.0/8 written as four decimal parts, ::1, localhost, or a
// Unix socket. Anything else, including 0.0.0.0 and host names, is not.
bool IsLocalAddress(const std::string& address);

// Splits HOST:PORT or [IPv6]:PORT; false unless both parts are there and
// the port is a number in 0..65535.
bool SplitHostPort(const std::string& address, std::string* host, std::string* port);

// "" when `address` is one a server can listen on or a client dial: HOST:PORT,
// [IPv6]:PORT (port 1..65535, or 0 with `port_zero`: any free port) or
// unix:PATH; else why not, naming `flag`, e.g. '--listen: expected HOST:PORT
// or [IPv6]:PORT or unix:PATH, got "notanaddr"'.
std::string AddressError(const std::string& address, const std::string& flag, bool port_zero);

// The addresses to listen on for HOST:PORT or [IPv6]:PORT (getaddrinfo,
// passive, TCP), freed with the returned pointer; null with *error set
// ("cannot resolve HOST: ..." or the form's error) when there are none.
using AddressList = std::unique_ptr<addrinfo, decltype(&freeaddrinfo)>;
AddressList ListenAddresses(const std::string& address, std::string* error);

}  // namespace verity::wire
