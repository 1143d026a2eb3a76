#include "import_file.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <map>

#include "json_numbers.h"

namespace verity::cli {

using Json = nlohmann::json;

namespace {

// Why `line` does not parse, from the JSON parser: "not valid JSON at byte
// 17: invalid string: ill-formed UTF-8 byte" (JSON text must be UTF-8). The
// parser's text is "[json.exception...] parse error at ...: syntax error
// ... - WHY; last read: '...'", where the part read echoes the line.
std::string WhyNotJson(const std::string& line) {
  try {
    const Json unused = Json::parse(line);  // throws: the parse fails
  } catch (const Json::parse_error& e) {
    std::string what = e.what();
    if (const size_t last = what.find("; last read"); last != std::string::npos) what.resize(last);
    if (const size_t dash = what.find(" - "); dash != std::string::npos) what.erase(0, dash + 3);
    return "not valid JSON at byte " + std::to_string(e.byte) + ": " + what;
  } catch (const Json::exception& e) {  // e.g. a number out of range (1e999)
    return std::string("not valid JSON: ") + e.what();
  }
  return "not valid JSON";
}

}  // namespace

Result<std::unique_ptr<ImportReader>> ImportReader::Open(const std::string& path) {
  auto reader = std::unique_ptr<ImportReader>(new ImportReader());
  reader->path_ = path;
  std::error_code ec;
  reader->file_bytes_ = std::filesystem::file_size(path, ec);
  if (ec) return Status::NotFound(path + ": " + ec.message());
  reader->in_.open(path, std::ios::binary);
  if (!reader->in_) return Status::NotFound(path + ": cannot open");
  reader->fvecs_ = path.size() >= 6 && path.compare(path.size() - 6, 6, ".fvecs") == 0;
  return reader;
}

Status ImportReader::Next(size_t max, std::vector<Record>* batch) {
  batch->clear();
  batch_lines_.clear();
  return fvecs_ ? NextFvecs(max, batch) : NextJsonLines(max, batch);
}

Status ImportReader::NextFvecs(size_t max, std::vector<Record>* batch) {
  while (batch->size() < max) {
    int32_t dim = 0;
    if (!in_.read(reinterpret_cast<char*>(&dim), sizeof(dim))) {
      if (in_.gcount() == 0) return Status::Ok();
      return Status::InvalidArgument(path_ + ": vector " + std::to_string(line_) + ": truncated dimension");
    }
    if (dim <= 0 || dim > static_cast<int32_t>(Limits::kMaxDimension)) {
      return Status::InvalidArgument(path_ + ": vector " + std::to_string(line_) + ": dimension " +
                                     std::to_string(dim) + " is outside 1..4096");
    }
    Record r;
    r.id = std::to_string(line_);
    r.vector.resize(static_cast<size_t>(dim));
    if (!in_.read(reinterpret_cast<char*>(r.vector.data()), static_cast<std::streamsize>(dim * sizeof(float)))) {
      return Status::InvalidArgument(path_ + ": vector " + std::to_string(line_) + ": truncated");
    }
    bytes_read_ += sizeof(dim) + static_cast<uint64_t>(dim) * sizeof(float);
    batch_lines_.push_back(line_);
    ++line_;
    batch->push_back(std::move(r));
  }
  return Status::Ok();
}

namespace {

Status MetadataFromJson(const Json& object, Metadata* out, const std::string& where) {
  if (!object.is_object()) return Status::InvalidArgument(where + "\"metadata\" must be an object");
  for (const auto& [key, value] : object.items()) {
    if (value.is_string()) (*out)[key] = value.get<std::string>();
    else if (value.is_boolean()) (*out)[key] = value.get<bool>();
    else if (IsInteger(value)) {
      const std::optional<int64_t> n = IntegerToInt64(value);
      if (!n) {
        return Status::InvalidArgument(where + "metadata \"" + key + "\": " + IntegerText(value) + " " +
                                       Int64RangeText() + "; write it as a string to keep its digits");
      }
      (*out)[key] = *n;
    } else if (value.is_number_float()) (*out)[key] = value.get<double>();
    else if (value.is_array()) {
      std::vector<std::string> list;
      for (const auto& item : value) {
        if (!item.is_string()) return Status::InvalidArgument(where + "metadata \"" + key + "\": lists hold strings only");
        list.push_back(item.get<std::string>());
      }
      (*out)[key] = std::move(list);
    } else {
      return Status::InvalidArgument(where + "metadata \"" + key + "\": unsupported value " + value.dump());
    }
  }
  return Status::Ok();
}

// "sparse": {"FIELD": {"indices": [...], "values": [...]}, ...}.
Status SparseMapFromJson(const Json& object, std::map<std::string, SparseVector>* out, const std::string& where) {
  if (!object.is_object()) {
    return Status::InvalidArgument(where + "\"sparse\" must be an object of sparse vectors by field name, not " +
                                   Shown(object));
  }
  for (const auto& [field, value] : object.items()) {
    SparseVector v;
    if (Status read = SparseFromJson(value, &v); !read.ok()) {
      return Status::InvalidArgument(where + "sparse \"" + field.substr(0, 64) + "\": " + read.message());
    }
    (*out)[field] = std::move(v);
  }
  return Status::Ok();
}

}  // namespace

Status ImportReader::NextJsonLines(size_t max, std::vector<Record>* batch) {
  std::string line;
  while (batch->size() < max && std::getline(in_, line)) {
    ++line_;
    bytes_read_ += line.size() + 1;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path_ + ":" + std::to_string(line_) + ": ";
    Json j = ParseJson(line);
    if (j.is_discarded()) return Status::InvalidArgument(where + WhyNotJson(line));
    if (!j.is_object()) return Status::InvalidArgument(where + "expected a JSON object");
    Record r;
    if (!j.contains("id")) return Status::InvalidArgument(where + "\"id\" is missing (a string or an integer)");
    if (!(j["id"].is_string() || IsInteger(j["id"]))) {
      return Status::InvalidArgument(where + "\"id\" must be a string or an integer, not " + Shown(j["id"]));
    }
    // An integer id is its decimal text, digit for digit at any size (ids are
    // strings): 7 and "7" are one record, 18446744073709551615 stays itself.
    r.id = j["id"].is_string() ? j["id"].get<std::string>() : IntegerText(j["id"]);
    // No vector: a record of a collection without dense vectors (dimension
    // 0, searched by text or sparse vectors); the server says so otherwise.
    if (j.contains("vector")) {
      if (!j["vector"].is_array()) {
        return Status::InvalidArgument(where + "\"vector\" must be an array of numbers, not " + Shown(j["vector"]));
      }
      if (Status vector = VectorFromJson(j["vector"], &r.vector); !vector.ok()) {
        return Status::InvalidArgument(where + vector.message());
      }
    }
    if (j.contains("sparse")) VERITY_RETURN_IF_ERROR(SparseMapFromJson(j["sparse"], &r.sparse, where));
    if (j.contains("text")) {
      if (!j["text"].is_string()) return Status::InvalidArgument(where + "\"text\" must be a string");
      r.text = j["text"].get<std::string>();
    }
    if (j.contains("document_id")) {
      if (!j["document_id"].is_string()) return Status::InvalidArgument(where + "\"document_id\" must be a string");
      r.document_id = j["document_id"].get<std::string>();
    }
    if (j.contains("metadata")) VERITY_RETURN_IF_ERROR(MetadataFromJson(j["metadata"], &r.metadata, where));
    batch_lines_.push_back(line_);
    batch->push_back(std::move(r));
  }
  return Status::Ok();
}

}  // namespace verity::cli
