// libFuzzer target: the export manifest reader (engine/src/history/export_manifest.h),
// which reads manifest.json from an export directory an operator hands in.
// Any input gives collections or DataLoss / InvalidArgument, never a crash,
// and what it accepts passes the engine's own config validation.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "history/export_manifest.h"
#include "base/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto items = verity::ParseManifest(text);
  if (!items.ok()) {
    const auto code = items.status().code();
    if (code != verity::StatusCode::kDataLoss && code != verity::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  for (const auto& item : *items) {
    if (!verity::ValidateCollectionConfig(item.config).ok()) std::abort();
    if (item.file_name != item.config.name + "/records.bin") std::abort();
  }
  return 0;
}
