#include "convert.h"

#include "verity/filter_parser.h"

namespace verity::wire {

grpc::Status ToGrpc(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(static_cast<int>(status.code())), status.message());
}

Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return Status::Ok();
  return Status(static_cast<StatusCode>(static_cast<int>(status.error_code())), status.error_message());
}

namespace {
v1::Metric MetricToProto(Metric m) {
  return m == Metric::kL2 ? v1::METRIC_L2 : m == Metric::kIp ? v1::METRIC_IP : v1::METRIC_COSINE;
}
}  // namespace

Result<CollectionConfig> FromProto(const v1::CollectionConfig& in) {
  CollectionConfig c;
  c.name = in.name();
  c.dimension = in.dimension();
  switch (in.metric()) {
    case v1::METRIC_UNSPECIFIED:
    case v1::METRIC_L2: c.metric = Metric::kL2; break;
    case v1::METRIC_IP: c.metric = Metric::kIp; break;
    case v1::METRIC_COSINE: c.metric = Metric::kCosine; break;
    default: return Status::InvalidArgument("config.metric: unknown value " + std::to_string(in.metric()));
  }
  if (in.m() != 0) c.m = in.m();
  if (in.ef_construction() != 0) c.ef_construction = in.ef_construction();
  if (in.default_ef() != 0) c.default_ef = in.default_ef();
  VERITY_ASSIGN_OR_RETURN(c.retention, RetentionFromProto(in, RetentionPolicy{}, "config."));
  return c;
}

void ToProto(const CollectionConfig& in, v1::CollectionConfig* c) {
  c->set_name(in.name);
  c->set_dimension(in.dimension);
  c->set_metric(MetricToProto(in.metric));
  c->set_m(in.m);
  c->set_ef_construction(in.ef_construction);
  c->set_default_ef(in.default_ef);
  c->set_keep_versions(in.retention.keep_versions);
  c->set_keep_seconds(in.retention.keep_seconds);
}

CollectionInfo FromProto(const v1::CollectionInfo& in) {
  CollectionInfo out;
  auto config = FromProto(in.config());
  if (config.ok()) out.config = *config;
  out.head_version = in.head_version();
  out.created_at_us = in.created_at_us();
  out.live_records = in.live_records();
  out.graph_nodes = in.graph_nodes();
  out.oldest_retained = in.oldest_retained();
  out.snapshots = in.snapshots();
  return out;
}

void ToProto(const CollectionInfo& in, v1::CollectionInfo* out) {
  ToProto(in.config, out->mutable_config());
  out->set_head_version(in.head_version);
  out->set_created_at_us(in.created_at_us);
  out->set_live_records(in.live_records);
  out->set_graph_nodes(in.graph_nodes);
  out->set_oldest_retained(in.oldest_retained);
  out->set_snapshots(in.snapshots);
}

void ToProto(const VersionInfo& in, v1::VersionInfo* out) {
  out->set_version(in.version);
  out->set_committed_at_us(in.committed_at_us);
  out->set_upserted(in.upserted);
  out->set_deleted(in.deleted);
  out->set_readable(in.readable);
  for (const auto& name : in.snapshots) out->add_snapshots(name);
  out->set_restored_from(in.restored_from);
  out->set_is_restore(in.is_restore);
}

VersionInfo FromProto(const v1::VersionInfo& in) {
  VersionInfo out;
  out.version = in.version();
  out.committed_at_us = in.committed_at_us();
  out.upserted = in.upserted();
  out.deleted = in.deleted();
  out.readable = in.readable();
  out.snapshots.assign(in.snapshots().begin(), in.snapshots().end());
  out.restored_from = in.restored_from();
  out.is_restore = in.is_restore();
  return out;
}

Result<Record> FromProto(const v1::Record& in, const std::string& field) {
  Record r;
  r.id = in.id();
  r.vector.assign(in.vector().begin(), in.vector().end());
  r.text = in.text();
  r.document_id = in.document_id();
  for (const auto& [key, value] : in.metadata()) {
    switch (value.kind_case()) {
      case v1::MetadataValue::kStringValue: r.metadata.emplace(key, value.string_value()); break;
      case v1::MetadataValue::kIntValue: r.metadata.emplace(key, static_cast<int64_t>(value.int_value())); break;
      case v1::MetadataValue::kDoubleValue: r.metadata.emplace(key, value.double_value()); break;
      case v1::MetadataValue::kBoolValue: r.metadata.emplace(key, value.bool_value()); break;
      case v1::MetadataValue::kListValue:
        r.metadata.emplace(key, std::vector<std::string>(value.list_value().values().begin(),
                                                         value.list_value().values().end()));
        break;
      case v1::MetadataValue::KIND_NOT_SET:
        return Status::InvalidArgument(field + ".metadata[\"" + key.substr(0, 64) + "\"]: no value set");
    }
  }
  return r;
}

void ToProto(const Record& in, v1::Record* out) {
  out->set_id(in.id);
  out->mutable_vector()->Add(in.vector.begin(), in.vector.end());
  out->set_text(in.text);
  out->set_document_id(in.document_id);
  auto* metadata = out->mutable_metadata();
  for (const auto& [key, value] : in.metadata) {
    v1::MetadataValue& v = (*metadata)[key];
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::string>) v.set_string_value(x);
          else if constexpr (std::is_same_v<T, int64_t>) v.set_int_value(x);
          else if constexpr (std::is_same_v<T, double>) v.set_double_value(x);
          else if constexpr (std::is_same_v<T, bool>) v.set_bool_value(x);
          else {
            auto* list = v.mutable_list_value();  // set even when empty: [] is a value
            for (const auto& item : x) list->add_values(item);
          }
        },
        value);
  }
}

void ToProto(const StoredRecord& in, v1::StoredRecord* out) {
  ToProto(in.record, out->mutable_record());
  out->set_row_version(in.row_version);
}

Result<StoredRecord> FromProto(const v1::StoredRecord& in, const std::string& field) {
  StoredRecord out;
  VERITY_ASSIGN_OR_RETURN(out.record, FromProto(in.record(), field + ".record"));
  out.row_version = in.row_version();
  return out;
}

Result<std::optional<Version>> FromProto(const v1::ReadAt& at, bool present, const std::string& field,
                                         const SnapshotResolver& resolve) {
  if (!present) return std::optional<Version>();
  switch (at.point_case()) {
    case v1::ReadAt::POINT_NOT_SET: return std::optional<Version>();
    case v1::ReadAt::kVersion: return std::optional<Version>(at.version());
    case v1::ReadAt::kSnapshot: {
      if (at.snapshot().empty()) return Status::InvalidArgument(field + ".snapshot: empty snapshot name");
      if (!resolve) return Status::InvalidArgument(field + ".snapshot: snapshots cannot be resolved here");
      auto version = resolve(at.snapshot());
      if (!version.ok()) return version.status().WithPrefix(field + ".snapshot");
      return std::optional<Version>(*version);
    }
  }
  return Status::InvalidArgument(field + ": unknown point " + std::to_string(at.point_case()));
}

void ToProto(std::optional<Version> at, v1::ReadAt* out) {
  if (at) out->set_version(*at);
}

void SnapshotToProto(const std::string& snapshot, v1::ReadAt* out) { out->set_snapshot(snapshot); }

Result<std::optional<Filter>> ParseFilterField(const std::string& text, const std::string& field) {
  if (text.empty()) return std::optional<Filter>();
  auto parsed = ParseFilter(text);
  if (!parsed.ok()) {
    // ParseFilter names the expression "filter"; name the request field.
    std::string message = parsed.status().message();
    if (message.rfind("filter: ", 0) == 0) message = message.substr(8);
    return Status(parsed.status().code(), field + ": " + message);
  }
  return std::optional<Filter>(std::move(parsed).value());
}

Result<SearchRequest> FromProto(const v1::SearchQuery& in, const std::string& field, const SnapshotResolver& resolve) {
  SearchRequest r;
  r.vector.assign(in.vector().begin(), in.vector().end());
  r.k = in.k() == 0 ? 10 : in.k();
  r.ef = in.ef();
  VERITY_ASSIGN_OR_RETURN(r.at, FromProto(in.at(), in.has_at(), field + ".at", resolve));
  VERITY_ASSIGN_OR_RETURN(r.filter, ParseFilterField(in.filter(), field + ".filter"));
  r.with_payload = in.with_payload();
  r.with_vectors = in.with_vectors();
  switch (in.plan()) {
    case v1::SEARCH_PLAN_AUTO: r.plan = SearchPlan::kAuto; break;
    case v1::SEARCH_PLAN_EXACT: r.plan = SearchPlan::kExact; break;
    case v1::SEARCH_PLAN_GRAPH: r.plan = SearchPlan::kGraph; break;
    default: return Status::InvalidArgument(field + ".plan: unknown value " + std::to_string(in.plan()));
  }
  return r;
}

void ToProto(const SearchResult& in, v1::SearchResponse* out) {
  out->set_version(in.version);
  out->set_exact(in.exact);
  for (const auto& hit : in.hits) {
    auto* h = out->add_hits();
    h->set_id(hit.id);
    h->set_row_version(hit.row_version);
    h->set_distance(hit.distance);
    if (hit.record) ToProto(*hit.record, h->mutable_record());
  }
}

Result<SearchResult> FromProto(const v1::SearchResponse& in) {
  SearchResult out;
  out.version = in.version();
  out.exact = in.exact();
  for (int i = 0; i < in.hits_size(); ++i) {
    const auto& h = in.hits(i);
    SearchHit hit;
    hit.id = h.id();
    hit.row_version = h.row_version();
    hit.distance = h.distance();
    if (h.has_record()) {
      VERITY_ASSIGN_OR_RETURN(Record r, FromProto(h.record(), "hits[" + std::to_string(i) + "].record"));
      hit.record = std::move(r);
    }
    out.hits.push_back(std::move(hit));
  }
  return out;
}

void ToProto(const SnapshotInfo& in, v1::SnapshotInfo* out) {
  out->set_collection(in.collection);
  out->set_name(in.name);
  out->set_description(in.description);
  out->set_version(in.version);
  out->set_created_at_us(in.created_at_us);
  out->set_records(in.records);
}

SnapshotInfo FromProto(const v1::SnapshotInfo& in) {
  SnapshotInfo out;
  out.collection = in.collection();
  out.name = in.name();
  out.description = in.description();
  out.version = in.version();
  out.created_at_us = in.created_at_us();
  out.records = in.records();
  return out;
}

v1::ChangeKind ToProto(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::kAdded: return v1::CHANGE_KIND_ADDED;
    case ChangeKind::kRemoved: return v1::CHANGE_KIND_REMOVED;
    case ChangeKind::kChanged: return v1::CHANGE_KIND_CHANGED;
  }
  return v1::CHANGE_KIND_UNSPECIFIED;
}

Result<ChangeKind> FromProto(v1::ChangeKind kind, const std::string& field) {
  switch (kind) {
    case v1::CHANGE_KIND_ADDED: return ChangeKind::kAdded;
    case v1::CHANGE_KIND_REMOVED: return ChangeKind::kRemoved;
    case v1::CHANGE_KIND_CHANGED: return ChangeKind::kChanged;
    default: return Status::InvalidArgument(field + ": unknown change kind " + std::to_string(kind));
  }
}

void ToProto(const DiffPage& in, v1::DiffResponse* out) {
  out->set_from(in.from);
  out->set_to(in.to);
  out->set_added(in.added);
  out->set_removed(in.removed);
  out->set_changed(in.changed);
  for (const auto& e : in.entries) {
    auto* entry = out->add_entries();
    entry->set_id(e.id);
    entry->set_kind(ToProto(e.kind));
    entry->set_from_row_version(e.from_row_version);
    entry->set_to_row_version(e.to_row_version);
  }
  out->set_next_cursor(in.next_cursor);
}

Result<DiffPage> FromProto(const v1::DiffResponse& in) {
  DiffPage out;
  out.from = in.from();
  out.to = in.to();
  out.added = in.added();
  out.removed = in.removed();
  out.changed = in.changed();
  out.entries.reserve(static_cast<size_t>(in.entries_size()));
  for (int i = 0; i < in.entries_size(); ++i) {
    const auto& e = in.entries(i);
    DiffEntry entry;
    entry.id = e.id();
    VERITY_ASSIGN_OR_RETURN(entry.kind, FromProto(e.kind(), "entries[" + std::to_string(i) + "].kind"));
    entry.from_row_version = e.from_row_version();
    entry.to_row_version = e.to_row_version();
    out.entries.push_back(std::move(entry));
  }
  out.next_cursor = in.next_cursor();
  return out;
}

void ToProto(const RestoreResult& in, v1::RestoreResponse* out) {
  out->set_version(in.version);
  out->set_restored_from(in.restored_from);
  out->set_upserted(in.upserted);
  out->set_deleted(in.deleted);
}

RestoreResult FromProto(const v1::RestoreResponse& in) {
  RestoreResult out;
  out.version = in.version();
  out.restored_from = in.restored_from();
  out.upserted = in.upserted();
  out.deleted = in.deleted();
  return out;
}

void ToProto(const GcResult& in, v1::GcResponse* out) {
  out->set_oldest_retained(in.oldest_retained);
  out->set_rows_removed(in.rows_removed);
  out->set_nodes_dropped(in.nodes_dropped);
  out->set_graph_rebuilt(in.graph_rebuilt);
  out->set_bytes_before(in.bytes_before);
  out->set_bytes_after(in.bytes_after);
}

GcResult FromProto(const v1::GcResponse& in) {
  GcResult out;
  out.oldest_retained = in.oldest_retained();
  out.rows_removed = in.rows_removed();
  out.nodes_dropped = in.nodes_dropped();
  out.graph_rebuilt = in.graph_rebuilt();
  out.bytes_before = in.bytes_before();
  out.bytes_after = in.bytes_after();
  return out;
}

void ToProto(const ExportResult& in, const std::string& name, v1::ExportResult* out) {
  out->set_name(name);
  for (const auto& c : in.collections) {
    auto* e = out->add_collections();
    e->set_name(c.name);
    e->set_version(c.version);
    e->set_records(c.records);
  }
  out->set_bytes(in.bytes);
}

ExportResult FromProto(const v1::ExportResult& in) {
  ExportResult out;
  out.path = in.name();
  for (const auto& c : in.collections()) {
    out.collections.push_back(ExportedCollection{c.name(), c.version(), c.records()});
  }
  out.bytes = in.bytes();
  return out;
}

void ToProto(const ImportResult& in, v1::ImportResult* out) {
  for (const auto& c : in.collections) ToProto(c, out->add_collections());
  out->set_records(in.records);
  out->set_bytes(in.bytes);
}

ImportResult FromProto(const v1::ImportResult& in) {
  ImportResult out;
  for (const auto& c : in.collections()) out.collections.push_back(FromProto(c));
  out.records = in.records();
  out.bytes = in.bytes();
  return out;
}

}  // namespace verity::wire
