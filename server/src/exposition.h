// Writing the Prometheus text exposition format 0.0.4: the helpers shared
// by metrics.cc and monitor_metrics.cc. Pure functions.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <string>

#include "metrics.h"  // EscapeLabelValue

namespace verity::server::exposition {

// The shortest text that reads back as `v`.
inline std::string Number(double v) {
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), v);
  return ec == std::errc() ? std::string(buffer, end) : "NaN";
}

inline std::string Number(uint64_t v) { return std::to_string(v); }

// A bucket bound as `le` shows it: the shortest exact form (0.00025, 1, 2.5).
inline std::string Bound(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%g", v);
  return buffer;
}

// Appends the HELP and TYPE lines of one metric family.
inline void Family(std::string* out, const char* name, const char* type, const char* help) {
  *out += "# HELP ";
  *out += name;
  *out += ' ';
  *out += help;
  *out += "\n# TYPE ";
  *out += name;
  *out += ' ';
  *out += type;
  *out += '\n';
}

// Appends one sample: NAME{LABELS} VALUE.
inline void Sample(std::string* out, const std::string& name, const std::string& labels, const std::string& value) {
  *out += name;
  if (!labels.empty()) *out += "{" + labels + "}";
  *out += ' ';
  *out += value;
  *out += '\n';
}

// key="value", the value escaped.
inline std::string Label(const char* key, const std::string& value) {
  return std::string(key) + "=\"" + EscapeLabelValue(value) + "\"";
}

}  // namespace verity::server::exposition
