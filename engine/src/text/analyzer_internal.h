// What analyzer.cc and analyzer_config.cc share: the stopword lists and the
// bound on max_term_bytes. Not part of the text subsystem's interface.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace verity::text {

// The largest AnalyzerConfig::max_term_bytes accepted.
inline constexpr uint32_t kMaxTermBytesLimit = 1024;

enum class StopwordList : uint8_t { kNone, kEnglish };

// The list a validated AnalyzerConfig::stopwords names ("" gives kNone).
StopwordList StopwordListFor(const std::string& language);

// True when `term` (folded UTF-8) is on `list`. Thread-safe.
bool IsStopword(StopwordList list, std::string_view term);

// Pure-ASCII text (each piece of it, analyzer.cc) skips ICU: a byte scanner
// gives the same word segments as ICU's BreakIterator, several times
// faster. Tests and fuzz_analyzer turn it off to compare the two paths.
// Process-wide; not for use while another thread analyzes. Default: on.
void SetAsciiFastPathForTesting(bool enabled);

}  // namespace verity::text
