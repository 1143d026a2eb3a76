// Small pieces the context service's files share: the assembled context,
// a query vector's logged bytes, and whether a replay's text leg runs the
// analyzer the retrieval was logged with. Pure.
#pragma once

#include <cstring>
#include <cstdint>
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

// Why a replay of logged retrieval `r` may not reproduce its text leg: the
// replay analyses the logged text again, with the collection's analyzer
// configuration (`analyzer_version`, TextIndexConfig::analyzer_version) and
// the running engine's analyzer code (`code_version`, kAnalyzerCodeVersion);
// if either differs from the one logged, the query's terms (and the
// documents', which the index was rebuilt with at open) may differ from the
// logged search's. "" when `r` has no text leg or both are the same.
inline std::string AnalyzerChange(const LogRecord& r, uint32_t analyzer_version, uint32_t code_version) {
  if (r.text.empty()) return "";
  if (r.analyzer_version == analyzer_version && r.analyzer_code_version == code_version) return "";
  auto named = [](uint32_t v) { return v == 0 ? std::string("not recorded") : std::to_string(v); };
  return "the text leg ran analyzer code version " + std::to_string(code_version) + " with analyzer version " +
         std::to_string(analyzer_version) + "; the retrieval was logged under code version " +
         named(r.analyzer_code_version) + ", analyzer version " + named(r.analyzer_version) +
         ", so its terms may differ: this is not a bit-identical replay of the logged search";
}

}  // namespace verity::context
