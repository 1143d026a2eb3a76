// Structured log lines for verityd: one JSON object per line on stderr, e.g.
//   {"ts":"2026-11-27T21:00:00.123Z","level":"info","event":"start","listen":"127.0.0.1:7420"}
// Thread-safe: lines from concurrent calls never interleave.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace verity::server {

using LogFields = std::vector<std::pair<std::string, std::string>>;

// level: "info", "warn" or "error". Field values are written as JSON strings.
void Log(const std::string& level, const std::string& event, const LogFields& fields = {});

}  // namespace verity::server
