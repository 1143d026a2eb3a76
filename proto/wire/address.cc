#include "address.h"

namespace verity::wire {

bool IsLocalAddress(const std::string& address) {
  if (address.rfind("unix:", 0) == 0) return true;
  std::string host = address;
  const auto colon = address.rfind(':');
  if (colon != std::string::npos && address.find(']') == std::string::npos) {
    host = address.substr(0, colon);
  } else if (!address.empty() && address[0] == '[') {
    host = address.substr(1, address.find(']') - 1);
  }
  if (host == "localhost" || host == "::1") return true;
  // 127.0.0.0/8, written as four decimal parts.
  if (host.rfind("127.", 0) != 0) return false;
  int parts = 0, digits = 0;
  for (char c : host) {
    if (c == '.') {
      if (digits == 0) return false;
      ++parts;
      digits = 0;
    } else if (c >= '0' && c <= '9' && digits < 3) {
      ++digits;
    } else {
      return false;
    }
  }
  return parts == 3 && digits > 0;
}

bool SplitHostPort(const std::string& address, std::string* host, std::string* port) {
  if (!address.empty() && address[0] == '[') {
    const size_t close = address.find("]:");
    if (close == std::string::npos) return false;
    *host = address.substr(1, close - 1);
    *port = address.substr(close + 2);
  } else {
    const size_t colon = address.rfind(':');
    if (colon == std::string::npos || address.find(':') != colon) return false;
    *host = address.substr(0, colon);
    *port = address.substr(colon + 1);
  }
  if (host->empty() || port->empty() || port->size() > 5) return false;
  for (char c : *port) {
    if (c < '0' || c > '9') return false;
  }
  return std::stoi(*port) <= 65535;
}

AddressList ListenAddresses(const std::string& address, std::string* error) {
  std::string host, port;
  if (!SplitHostPort(address, &host, &port)) {
    *error = "expected HOST:PORT or [IPv6]:PORT, got \"" + address + "\"";
    return AddressList(nullptr, &freeaddrinfo);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    *error = "cannot resolve " + host + ": " + gai_strerror(rc);
    return AddressList(nullptr, &freeaddrinfo);
  }
  return AddressList(found, &freeaddrinfo);
}

std::string AddressError(const std::string& address, const std::string& flag, bool port_zero) {
  if (address.rfind("unix:", 0) == 0 && address.size() > 5) return "";
  std::string host, port;
  if (!SplitHostPort(address, &host, &port)) {
    return flag + ": expected HOST:PORT, [IPv6]:PORT or unix:PATH (port 0..65535), got \"" + address + "\"";
  }
  if (!port_zero && std::stoi(port) == 0) return flag + ": port 0 in \"" + address + "\"; give a port 1..65535";
  return "";
}

}  // namespace verity::wire
