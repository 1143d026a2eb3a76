#include "storage/codec.h"

#include "storage/keys.h"

#include <cstring>

namespace verity {

void MetadataToProto(const Metadata& metadata,
                     google::protobuf::Map<std::string, storage::MetadataValue>* out) {
  for (const auto& [key, value] : metadata) {
    storage::MetadataValue& v = (*out)[key];
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::string>) v.set_string_value(x);
          else if constexpr (std::is_same_v<T, int64_t>) v.set_int_value(x);
          else if constexpr (std::is_same_v<T, double>) v.set_double_value(x);
          else if constexpr (std::is_same_v<T, bool>) v.set_bool_value(x);
          else {
            auto* list = v.mutable_list_value();
            for (const auto& item : x) list->add_values(item);
          }
        },
        value);
  }
}

Metadata MetadataFromProto(const google::protobuf::Map<std::string, storage::MetadataValue>& in) {
  Metadata out;
  for (const auto& [key, v] : in) {
    switch (v.kind_case()) {
      case storage::MetadataValue::kStringValue: out.emplace(key, v.string_value()); break;
      case storage::MetadataValue::kIntValue: out.emplace(key, static_cast<int64_t>(v.int_value())); break;
      case storage::MetadataValue::kDoubleValue: out.emplace(key, v.double_value()); break;
      case storage::MetadataValue::kBoolValue: out.emplace(key, v.bool_value()); break;
      case storage::MetadataValue::kListValue:
        out.emplace(key, std::vector<std::string>(v.list_value().values().begin(), v.list_value().values().end()));
        break;
      case storage::MetadataValue::KIND_NOT_SET: break;
    }
  }
  return out;
}

CollectionConfig ConfigFromMeta(const storage::CollectionMeta& meta) {
  CollectionConfig c;
  c.name = meta.name();
  c.dimension = meta.dimension();
  c.metric = static_cast<Metric>(meta.metric());
  c.m = meta.m();
  c.ef_construction = meta.ef_construction();
  c.default_ef = meta.default_ef();
  if (meta.has_retention()) {
    c.retention.keep_versions = meta.keep_versions();
    c.retention.keep_seconds = meta.keep_seconds();
  }
  return c;
}

std::string EncodeVector(const std::vector<float>& v) {
  std::string out(v.size() * sizeof(float), '\0');
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

Status DecodeVector(const std::string& bytes, uint32_t dimension, std::vector<float>* out) {
  if (bytes.size() != static_cast<size_t>(dimension) * sizeof(float)) {
    return Status::DataLoss("stored vector has " + std::to_string(bytes.size()) + " bytes, expected " +
                            std::to_string(dimension * sizeof(float)));
  }
  out->resize(dimension);
  std::memcpy(out->data(), bytes.data(), bytes.size());
  return Status::Ok();
}

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::Ok();
  const std::string message = what + ": " + s.ToString();
  if (s.IsCorruption()) return Status::DataLoss(message);
  if (s.IsNotFound()) return Status::NotFound(message);
  if (s.IsInvalidArgument()) return Status::InvalidArgument(message);
  // RocksDB's refusal of a LOCK file another opener holds ("While lock file:
  // DIR/LOCK: Resource temporarily unavailable", or "lock hold by current
  // process"); not any I/O error whose path holds "lock" (/mnt/block0).
  const std::string text = s.ToString();
  if (s.IsIOError() &&
      (text.find("While lock file") != std::string::npos || text.find("lock hold by current process") != std::string::npos)) {
    return Status::FailedPrecondition(message);
  }
  if (s.IsNoSpace()) return Status::ResourceExhausted(message);
  if (s.IsIOError()) return Status::Unavailable(message);
  return Status::Internal(message);
}

Result<RowKeyParts> RowKeyAt(const rocksdb::Iterator& it) {
  RowKeyParts parts;
  if (!keys::ParseRowKey(std::string_view(it.key().data(), it.key().size()), &parts.collection, &parts.id,
                         &parts.version)) {
    return Status::DataLoss("rows: malformed key " + it.key().ToString(true));
  }
  return parts;
}

}  // namespace verity
