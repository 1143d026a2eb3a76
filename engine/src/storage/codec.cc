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
  if (meta.has_text_index()) {
    const storage::TextIndexMeta& t = meta.text_index();
    c.text_index.enabled = t.enabled();
    c.text_index.analyzer.preset = t.analyzer().preset();
    c.text_index.analyzer.case_fold = t.analyzer().case_fold();
    c.text_index.analyzer.ascii_fold = t.analyzer().ascii_fold();
    c.text_index.analyzer.stopwords = t.analyzer().stopwords();
    c.text_index.analyzer.stemmer = t.analyzer().stemmer();
    c.text_index.analyzer.max_term_bytes = t.analyzer().max_term_bytes();
    c.text_index.k1 = t.k1();
    c.text_index.b = t.b();
    c.text_index.analyzer_version = t.analyzer_version();
    for (const auto& f : t.fields()) c.text_index.fields.push_back({f.name(), f.weight()});
  }
  for (const auto& f : meta.sparse_fields()) c.sparse_fields.push_back({f.name(), f.dimension()});
  return c;
}

void ConfigToMeta(const CollectionConfig& config, storage::CollectionMeta* meta) {
  meta->set_name(config.name);
  meta->set_dimension(config.dimension);
  meta->set_metric(static_cast<uint32_t>(config.metric));
  meta->set_m(config.m);
  meta->set_ef_construction(config.ef_construction);
  meta->set_default_ef(config.default_ef);
  meta->set_has_retention(true);
  meta->set_keep_versions(config.retention.keep_versions);
  meta->set_keep_seconds(config.retention.keep_seconds);
  meta->clear_text_index();
  if (config.text_index.enabled) {
    storage::TextIndexMeta* t = meta->mutable_text_index();
    const AnalyzerConfig& a = config.text_index.analyzer;
    t->set_enabled(true);
    t->mutable_analyzer()->set_preset(a.preset);
    t->mutable_analyzer()->set_case_fold(a.case_fold);
    t->mutable_analyzer()->set_ascii_fold(a.ascii_fold);
    t->mutable_analyzer()->set_stopwords(a.stopwords);
    t->mutable_analyzer()->set_stemmer(a.stemmer);
    t->mutable_analyzer()->set_max_term_bytes(a.max_term_bytes);
    t->set_k1(config.text_index.k1);
    t->set_b(config.text_index.b);
    t->set_analyzer_version(config.text_index.analyzer_version);
    for (const TextFieldConfig& f : config.text_index.fields) {
      storage::TextFieldMeta* field = t->add_fields();
      field->set_name(f.name);
      field->set_weight(f.weight);
    }
  }
  meta->clear_sparse_fields();
  for (const auto& f : config.sparse_fields) {
    storage::SparseFieldMeta* m = meta->add_sparse_fields();
    m->set_name(f.name);
    m->set_dimension(f.dimension);
  }
}

void SparseToProto(const std::map<std::string, SparseVector>& sparse,
                   google::protobuf::Map<std::string, storage::SparseValues>* out) {
  for (const auto& [name, v] : sparse) {
    storage::SparseValues& p = (*out)[name];
    p.mutable_indices()->Add(v.indices.begin(), v.indices.end());
    p.mutable_values()->Add(v.values.begin(), v.values.end());
  }
}

std::map<std::string, SparseVector> SparseFromProto(
    const google::protobuf::Map<std::string, storage::SparseValues>& in) {
  std::map<std::string, SparseVector> out;
  for (const auto& [name, p] : in) {
    SparseVector& v = out[name];
    v.indices.assign(p.indices().begin(), p.indices().end());
    v.values.assign(p.values().begin(), p.values().end());
  }
  return out;
}

std::string EncodeVector(const std::vector<float>& v) {
  std::string out(v.size() * sizeof(float), '\0');
  if (!v.empty()) std::memcpy(out.data(), v.data(), out.size());  // a dimension-0 record has no vector
  return out;
}

Status DecodeVector(const std::string& bytes, uint32_t dimension, std::vector<float>* out) {
  if (bytes.size() != static_cast<size_t>(dimension) * sizeof(float)) {
    return Status::DataLoss("stored vector has " + std::to_string(bytes.size()) + " bytes, expected " +
                            std::to_string(dimension * sizeof(float)));
  }
  out->resize(dimension);
  if (dimension > 0) std::memcpy(out->data(), bytes.data(), bytes.size());  // memcpy of nullptr is UB even for 0
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
