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

}  // namespace verity::wire
