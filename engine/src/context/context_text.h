// Small pieces the context service's files share: the assembled context
// and a query vector's logged bytes. Pure.
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "verity/context.h"

namespace verity::context {

// The assembled context: in-context chunk texts joined by a blank line.
inline std::string AssembleContext(const std::vector<RetrievedChunk>& chunks) {
  std::string context;
  bool first = true;
  for (const auto& c : chunks) {
    if (!c.in_context) continue;
    if (!first) context += "\n\n";
    context += c.text;
    first = false;
  }
  return context;
}

// A query vector as the log stores it: its floats' bytes, in memory order.
inline std::string FloatBytes(const std::vector<float>& v) {
  std::string out(v.size() * sizeof(float), '\0');
  if (!v.empty()) std::memcpy(out.data(), v.data(), out.size());
  return out;
}

}  // namespace verity::context
