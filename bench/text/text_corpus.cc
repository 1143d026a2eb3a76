#include "text_corpus.h"

#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

namespace verity::bench {
namespace {

using Json = nlohmann::json;

Status LineError(const std::string& path, size_t line, const std::string& what) {
  return Status::InvalidArgument(path + ":" + std::to_string(line) + ": " + what);
}

Result<MetadataValue> MetadataFromJson(const Json& value) {
  if (value.is_string()) return MetadataValue(value.get<std::string>());
  if (value.is_boolean()) return MetadataValue(value.get<bool>());
  if (value.is_number_integer()) return MetadataValue(value.get<int64_t>());
  if (value.is_number()) return MetadataValue(value.get<double>());
  if (value.is_array()) {
    std::vector<std::string> list;
    for (const Json& item : value) {
      if (!item.is_string()) return Status::InvalidArgument("a metadata list holds strings only");
      list.push_back(item.get<std::string>());
    }
    return MetadataValue(std::move(list));
  }
  return Status::InvalidArgument("a metadata value is a string, number, boolean or list of strings");
}

Result<Record> RecordFromJson(const Json& object) {
  if (!object.is_object() || !object.contains("id") || !object["id"].is_string()) {
    return Status::InvalidArgument("not a record: an object with a string \"id\"");
  }
  Record record;
  record.id = object["id"].get<std::string>();
  record.text = object.value("text", std::string());
  record.document_id = object.value("document_id", std::string());
  if (object.contains("metadata")) {
    for (const auto& [key, value] : object["metadata"].items()) {
      VERITY_ASSIGN_OR_RETURN(MetadataValue converted, MetadataFromJson(value));
      record.metadata.emplace(key, std::move(converted));
    }
  }
  if (object.contains("vector")) {
    for (const Json& x : object["vector"]) record.vector.push_back(x.get<float>());
  }
  return record;
}

}  // namespace

Result<std::vector<Record>> ReadTextRecords(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot open " + path);
  std::vector<Record> records;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    Json object = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (object.is_discarded()) return LineError(path, number, "not JSON");
    Result<Record> record = RecordFromJson(object);
    if (!record.ok()) return LineError(path, number, record.status().message());
    records.push_back(std::move(*record));
  }
  return records;
}

Result<std::vector<std::pair<std::string, std::string>>> ReadQueries(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot open " + path);
  std::vector<std::pair<std::string, std::string>> queries;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    const size_t tab = line.find('\t');
    if (tab == std::string::npos) {
      queries.emplace_back(std::to_string(number), line);
    } else {
      queries.emplace_back(line.substr(0, tab), line.substr(tab + 1));
    }
  }
  return queries;
}

Result<CollectionInfo> LoadTextCollection(Database& db, const CollectionConfig& config,
                                          std::vector<Record> records, size_t batch) {
  Result<CollectionInfo> info = db.GetCollection(config.name);
  if (!info.ok() && info.status().code() != StatusCode::kNotFound) return info.status();
  if (!info.ok()) {
    VERITY_ASSIGN_OR_RETURN(info, db.CreateCollection(config));
  } else if (info->live_records >= records.size()) {
    return info;
  }
  for (size_t first = 0; first < records.size(); first += batch) {
    const size_t end = std::min(records.size(), first + batch);
    std::vector<Record> chunk(std::make_move_iterator(records.begin() + static_cast<std::ptrdiff_t>(first)),
                              std::make_move_iterator(records.begin() + static_cast<std::ptrdiff_t>(end)));
    VERITY_RETURN_IF_ERROR(db.Upsert(config.name, std::move(chunk)).status().WithPrefix(config.name));
  }
  return db.GetCollection(config.name);
}

}  // namespace verity::bench
