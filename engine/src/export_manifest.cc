#include "export_manifest.h"

#include <nlohmann/json.hpp>
#include <set>

#include "validate.h"

namespace verity {

Result<std::vector<ManifestCollection>> ParseManifest(const std::string& dir, const std::string& text) {
  using Json = nlohmann::json;
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
    const int version = m.at("format_version").get<int>();
    if (version != kExportFormatVersion) {
      return Status::InvalidArgument("export: format version " + std::to_string(version) + " is not supported (this "
                                     "server reads version " + std::to_string(kExportFormatVersion) + ")");
    }
    for (const auto& c : m.at("collections")) {
      ManifestCollection item;
      item.config.name = c.at("name").get<std::string>();
      item.config.dimension = c.at("dimension").get<uint32_t>();
      if (!ParseMetric(c.at("metric").get<std::string>(), &item.config.metric)) return bad("unknown metric");
      item.config.m = c.at("m").get<uint32_t>();
      item.config.ef_construction = c.at("ef_construction").get<uint32_t>();
      item.config.default_ef = c.at("default_ef").get<uint32_t>();
      item.config.retention.keep_versions = c.at("keep_versions").get<uint32_t>();
      item.config.retention.keep_seconds = c.at("keep_seconds").get<int64_t>();
      item.version = c.at("version").get<uint64_t>();
      item.records = c.at("records").get<uint64_t>();
      const auto& files = c.at("files");
      if (files.size() != 1) return bad("expected one file per collection");
      item.file_name = files[0].at("path").get<std::string>();
      if (item.file_name != item.config.name + "/" + kExportRecordsFile) return bad("unexpected file " + item.file_name);
      item.file = dir + "/" + item.file_name;
      item.bytes = files[0].at("bytes").get<uint64_t>();
      item.sha256 = files[0].at("sha256").get<std::string>();
      if (Status s = ValidateCollectionConfig(item.config); !s.ok()) return bad(s.message());
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
