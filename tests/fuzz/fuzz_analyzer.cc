// libFuzzer target: the text analyzer (engine/src/text/analyzer.h). Any
// bytes, with the standard and english presets and ASCII folding: never a
// crash, every term non-empty, valid UTF-8 and at most max_term_bytes long,
// Analyze's count equal to the terms appended, the same terms twice, and
// the same terms with the ASCII fast path off (ICU's word breaks decide).
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "text/analyzer.h"
#include "text/analyzer_internal.h"
#include "util/utf8.h"

namespace {

using verity::text::Analyzer;

std::unique_ptr<Analyzer> Make(const std::string& preset, bool ascii_fold, uint32_t max_term_bytes) {
  auto config = verity::text::PresetConfig(preset, "preset");
  if (!config.ok()) std::abort();
  config->ascii_fold = ascii_fold;
  config->max_term_bytes = max_term_bytes;
  auto analyzer = Analyzer::Create(*config);
  if (!analyzer.ok()) std::abort();
  return std::move(analyzer).value();
}

bool ValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    const size_t len = verity::utf8::Decode(s, i, &cp);
    if (cp == verity::utf8::kInvalid) return false;
    i += len;
  }
  return true;
}

void Check(const Analyzer& analyzer, std::string_view text) {
  std::vector<std::string> terms;
  const size_t n = analyzer.Analyze(text, &terms);
  if (n != terms.size()) std::abort();
  for (const auto& term : terms) {
    if (term.empty() || term.size() > analyzer.config().max_term_bytes || !ValidUtf8(term)) std::abort();
  }
  std::vector<std::string> again;
  analyzer.Analyze(text, &again);
  if (again != terms) std::abort();
  verity::text::SetAsciiFastPathForTesting(false);
  std::vector<std::string> by_icu;
  analyzer.Analyze(text, &by_icu);
  verity::text::SetAsciiFastPathForTesting(true);
  if (by_icu != terms) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto* analyzers = new std::vector<std::unique_ptr<Analyzer>>([] {
    std::vector<std::unique_ptr<Analyzer>> v;
    v.push_back(Make("standard", false, 255));
    v.push_back(Make("english", false, 255));
    v.push_back(Make("english", true, 8));
    return v;
  }());
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const auto& analyzer : *analyzers) Check(*analyzer, text);
  return 0;
}
