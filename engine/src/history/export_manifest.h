// The manifest of an export directory (docs/snapshots.md, "Export format"):
// its constants and its parser, kept apart so that the parser can be fuzzed
// (tests/fuzz/fuzz_export_manifest.cc). Thread-safe: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "verity/status.h"
#include "verity/types.h"

namespace verity {

constexpr char kExportFormat[] = "verity-export";
constexpr int kExportFormatVersion = 1;
constexpr char kExportRecordsFile[] = "records.bin";

// One collection as the manifest describes it.
struct ManifestCollection {
  CollectionConfig config;
  Version version = 0;
  uint64_t records = 0;
  std::string file_name;  // as named in the manifest: "<collection>/records.bin"
  uint64_t bytes = 0;
  std::string sha256;
};

// The highest collection version an import accepts: one below the write
// path's Limits::kMaxVersion, so that an imported collection always has room
// for at least one more write (a head at kMaxVersion refuses every write as
// "versions ... exhausted").
constexpr Version kMaxImportVersion = Limits::kMaxVersion - 1;

// Parses the text of an export's manifest.json. DataLoss naming
// manifest.json for anything malformed (not JSON, a missing or mistyped
// field, an unknown metric, an invalid collection config, a file other than
// <name>/records.bin, a collection listed twice); InvalidArgument for a
// format version this code does not read, and for a collection version above
// kMaxImportVersion (naming the collection, the field and the limit).
Result<std::vector<ManifestCollection>> ParseManifest(const std::string& text);

}  // namespace verity
