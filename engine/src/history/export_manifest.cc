#include "history/export_manifest.h"

#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "base/validate.h"

namespace verity {
namespace {

using Json = nlohmann::json;

// object[key] as an integer of type T: a JSON integer within T's range.
// nlohmann's get<T>() would convert a float (8.6e10) or an out-of-range
// integer with undefined behaviour (found by fuzz_export_manifest).
template <typename T>
T Integer(const Json& object, const char* key) {
  const Json& v = object.at(key);
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<T>::max());
  if (v.is_number_unsigned()) {
    const uint64_t x = v.get<uint64_t>();
    if (x <= kMax) return static_cast<T>(x);
  } else if (v.is_number_integer()) {
    const int64_t x = v.get<int64_t>();
    const bool fits =
        x < 0 ? (std::numeric_limits<T>::is_signed && x >= static_cast<int64_t>(std::numeric_limits<T>::min()))
              : static_cast<uint64_t>(x) <= kMax;
    if (fits) return static_cast<T>(x);
  }
  throw std::out_of_range(std::string(key) + " is not an integer in range");
}

}  // namespace

Result<std::vector<ManifestCollection>> ParseManifest(const std::string& text) {
  auto bad = [](const std::string& what) { return Status::DataLoss("export: manifest.json: " + what); };
  Json m;
  try {
    m = Json::parse(text);
  } catch (const std::exception& e) {
    return bad(std::string("does not parse: ") + e.what());
  }
  std::vector<ManifestCollection> items;
  try {
    if (m.at("format").get<std::string>() != kExportFormat) return bad("not a Verity export");
    const int version = Integer<int>(m, "format_version");
    if (version != kExportFormatVersion) {
      return Status::InvalidArgument("export: format version " + std::to_string(version) +
                                     " is not supported (this "
                                     "server reads version " +
                                     std::to_string(kExportFormatVersion) + ")");
    }
    for (const auto& c : m.at("collections")) {
      ManifestCollection item;
      item.config.name = c.at("name").get<std::string>();
      item.config.dimension = Integer<uint32_t>(c, "dimension");
      if (!ParseMetric(c.at("metric").get<std::string>(), &item.config.metric)) return bad("unknown metric");
      item.config.m = Integer<uint32_t>(c, "m");
      item.config.ef_construction = Integer<uint32_t>(c, "ef_construction");
      item.config.default_ef = Integer<uint32_t>(c, "default_ef");
      item.config.retention.keep_versions = Integer<uint32_t>(c, "keep_versions");
      item.config.retention.keep_seconds = Integer<int64_t>(c, "keep_seconds");
      if (c.contains("text_index")) {
        const auto& t = c.at("text_index");
        const auto& a = t.at("analyzer");
        item.config.text_index.enabled = true;
        item.config.text_index.analyzer.preset = a.at("preset").get<std::string>();
        item.config.text_index.analyzer.case_fold = a.at("case_fold").get<bool>();
        item.config.text_index.analyzer.ascii_fold = a.at("ascii_fold").get<bool>();
        item.config.text_index.analyzer.stopwords = a.at("stopwords").get<std::string>();
        item.config.text_index.analyzer.stemmer = a.at("stemmer").get<std::string>();
        item.config.text_index.analyzer.max_term_bytes = Integer<uint32_t>(a, "max_term_bytes");
        item.config.text_index.k1 = t.at("k1").get<float>();
        item.config.text_index.b = t.at("b").get<float>();
        item.config.text_index.analyzer_version = Integer<uint32_t>(t, "analyzer_version");
      }
      if (c.contains("sparse_fields")) {
        for (const auto& f : c.at("sparse_fields")) {
          item.config.sparse_fields.push_back({f.at("name").get<std::string>(), Integer<uint32_t>(f, "dimension")});
        }
      }
      item.version = Integer<uint64_t>(c, "version");
      item.records = Integer<uint64_t>(c, "records");
      const auto& files = c.at("files");
      if (files.size() != 1) return bad("expected one file per collection");
      item.file_name = files[0].at("path").get<std::string>();
      if (item.file_name != item.config.name + "/" + kExportRecordsFile)
        return bad("unexpected file " + item.file_name);
      item.bytes = Integer<uint64_t>(files[0], "bytes");
      item.sha256 = files[0].at("sha256").get<std::string>();
      if (Status s = ValidateCollectionConfig(item.config); !s.ok()) return bad(s.message());
      // After the config check, so that the name in the message is a valid one.
      if (item.version > kMaxImportVersion) {
        return Status::InvalidArgument("export: manifest.json: collection \"" + item.config.name + "\": version " +
                                       std::to_string(item.version) + " is above the limit " +
                                       std::to_string(kMaxImportVersion) +
                                       " (an imported collection must have room for its next write)");
      }
      items.push_back(std::move(item));
    }
  } catch (const std::exception& e) {
    return bad(std::string("missing or mistyped field: ") + e.what());
  }
  std::set<std::string> names;
  for (const auto& item : items) {
    if (!names.insert(item.config.name).second) return bad("collection " + item.config.name + " appears twice");
  }
  return items;
}

}  // namespace verity
