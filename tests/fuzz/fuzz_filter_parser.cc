// libFuzzer target: the filter text syntax (docs/filters.md). Any input must
// give a filter or an InvalidArgument, never a crash; a parsed filter must
// survive the documented round trip ParseFilter(f.ToString()).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "verity/filter_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto filter = verity::ParseFilter(text);
  if (!filter.ok()) {
    if (filter.status().code() != verity::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  const std::string printed = filter->ToString();
  // Escapes can make the text longer than the parser's limit: then the
  // documented promise is a clear refusal, not a round trip.
  if (printed.size() > verity::kMaxFilterTextBytes) {
    if (verity::ParseFilter(printed).status().code() != verity::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  auto again = verity::ParseFilter(printed);
  if (!again.ok() || again->ToString() != printed) std::abort();
  return 0;
}
