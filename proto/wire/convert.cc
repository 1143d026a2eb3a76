#include "convert.h"

#include "verity/filter_parser.h"

namespace verity::wire {

grpc::Status ToGrpc(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(static_cast<int>(status.code())), status.message());
}

// Whether a RESOURCE_EXHAUSTED status says a message was over a size limit.
// Its text is the only signal there is: gRPC's own refusal ("Received
// message larger than max (N vs. M)" on the receiving side, "Sent message
// larger than max" on the sending one) carries no error_details and shares
// its code with every other exhaustion (verityd's --max-concurrent-calls,
// --max-batch); verityd's own refusal of a response over its limit names
// --max-message-bytes and sends no details either (the wire carries code and
// message only). The caller neither knows the size of a response it did not
// receive nor which limit the server applied.
bool IsMessageTooLarge(const grpc::Status& status) {
  if (status.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED) return false;
  const std::string& m = status.error_message();
  return m.find("--max-message-bytes") != std::string::npos || m.find("larger than max") != std::string::npos;
}

Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return Status::Ok();
  Status out(static_cast<StatusCode>(static_cast<int>(status.error_code())), status.error_message());
  if (IsMessageTooLarge(status)) out = out.WithReason(StatusReason::kMessageTooLarge);
  return out;
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
  if (in.has_text_index()) {
    VERITY_ASSIGN_OR_RETURN(c.text_index, FromProto(in.text_index(), "config.text_index"));
  }
  for (const auto& f : in.sparse_fields()) c.sparse_fields.push_back(FromProto(f));
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
  if (in.text_index.enabled) ToProto(in.text_index, c->mutable_text_index());
  for (const auto& f : in.sparse_fields) ToProto(f, c->add_sparse_fields());
}

CollectionInfo FromProto(const v1::CollectionInfo& in) {
  CollectionInfo out;
  auto config = FromProto(in.config());
  if (config.ok()) out.config = *config;
  // Read-only on the wire (a request's is ignored): a response reports it.
  if (in.config().has_text_index()) {
    out.config.text_index.analyzer_version = in.config().text_index().analyzer_version();
  }
  out.head_version = in.head_version();
  out.created_at_us = in.created_at_us();
  out.live_records = in.live_records();
  out.graph_nodes = in.graph_nodes();
  out.oldest_retained = in.oldest_retained();
  out.snapshots = in.snapshots();
  out.unavailable = in.unavailable();
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
  out->set_unavailable(in.unavailable);
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
  for (const auto& [name, vector] : in.sparse()) r.sparse.emplace(name, FromProto(vector));
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
  auto* sparse = out->mutable_sparse();
  for (const auto& [name, vector] : in.sparse) ToProto(vector, &(*sparse)[name]);
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

Result<ReadPoint> FromProto(const v1::ReadAt& at, bool present, const std::string& field) {
  if (!present) return ReadPoint::Head();
  switch (at.point_case()) {
    case v1::ReadAt::POINT_NOT_SET: return ReadPoint::Head();
    case v1::ReadAt::kVersion: return ReadPoint::AtVersion(at.version());
    case v1::ReadAt::kSnapshot:
      if (at.snapshot().empty()) return Status::InvalidArgument(field + ".snapshot: empty snapshot name");
      return ReadPoint::AtSnapshot(at.snapshot());
  }
  return Status::InvalidArgument(field + ": unknown point " + std::to_string(at.point_case()));
}

void ToProto(const ReadPoint& at, v1::ReadAt* out) {
  switch (at.kind()) {
    case ReadPoint::Kind::kHead: break;
    case ReadPoint::Kind::kVersion: out->set_version(at.version()); break;
    case ReadPoint::Kind::kSnapshot: out->set_snapshot(at.snapshot()); break;
  }
}

Result<SearchRequest> FromProto(const v1::SearchQuery& in, const std::string& field) {
  SearchRequest r;
  r.vector.assign(in.vector().begin(), in.vector().end());
  r.k = in.k() == 0 ? 10 : in.k();
  r.ef = in.ef();
  VERITY_ASSIGN_OR_RETURN(r.at, FromProto(in.at(), in.has_at(), field + ".at"));
  VERITY_ASSIGN_OR_RETURN(r.filter, ParseFilterField(in.filter(), field + ".filter"));
  r.with_payload = in.with_payload();
  r.with_vectors = in.with_vectors();
  switch (in.plan()) {
    case v1::SEARCH_PLAN_AUTO: r.plan = SearchPlan::kAuto; break;
    case v1::SEARCH_PLAN_EXACT: r.plan = SearchPlan::kExact; break;
    case v1::SEARCH_PLAN_GRAPH: r.plan = SearchPlan::kGraph; break;
    default: return Status::InvalidArgument(field + ".plan: unknown value " + std::to_string(in.plan()));
  }
  r.text = in.text();
  r.sparse_field = in.sparse_field();
  r.sparse = FromProto(in.sparse());
  if (in.has_fusion()) {
    VERITY_ASSIGN_OR_RETURN(r.fusion, FromProto(in.fusion(), field + ".fusion"));
  }
  return r;
}

void ToProto(const SearchResult& in, v1::SearchResponse* out) {
  out->set_version(in.version);
  out->set_exact(in.exact);
  // The legs the search used: those that found at least one hit (only a
  // hybrid search sets them).
  bool dense = false, text = false, sparse = false;
  for (const auto& hit : in.hits) {
    dense = dense || hit.dense.found();
    text = text || hit.text.found();
    sparse = sparse || hit.sparse.found();
  }
  for (const auto& hit : in.hits) {
    auto* h = out->add_hits();
    h->set_id(hit.id);
    h->set_row_version(hit.row_version);
    h->set_distance(hit.distance);
    h->set_score(hit.score);
    if (dense) ToProto(hit.dense, h->mutable_dense());
    if (text) ToProto(hit.text, h->mutable_text());
    if (sparse) ToProto(hit.sparse, h->mutable_sparse());
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
    hit.score = h.score();
    hit.dense = FromProto(h.dense(), h.has_dense());
    hit.text = FromProto(h.text(), h.has_text());
    hit.sparse = FromProto(h.sparse(), h.has_sparse());
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

// --- Context service and retrieval log ----------------------------------------

Result<RetrieveRequest> FromProto(const v1::RetrieveRequest& in) {
  RetrieveRequest r;
  r.collection = in.collection();
  r.vector.assign(in.vector().begin(), in.vector().end());
  r.query_text = in.query_text();
  r.k = in.k() == 0 ? 10 : in.k();
  r.ef = in.ef();
  r.filter = in.filter();
  VERITY_ASSIGN_OR_RETURN(r.at, FromProto(in.at(), in.has_at(), "at"));
  r.token_budget = in.token_budget();
  r.prompt = in.prompt();
  r.client_trace_id = in.client_trace_id();
  r.client_id = in.client_id();
  r.text = in.text();
  r.sparse_field = in.sparse_field();
  r.sparse = FromProto(in.sparse());
  if (in.has_fusion()) {
    VERITY_ASSIGN_OR_RETURN(r.fusion, FromProto(in.fusion(), "fusion"));
  }
  return r;
}

void ToProto(const RetrieveRequest& in, v1::RetrieveRequest* out) {
  out->set_collection(in.collection);
  out->mutable_vector()->Add(in.vector.begin(), in.vector.end());
  out->set_query_text(in.query_text);
  out->set_k(in.k);
  out->set_ef(in.ef);
  out->set_filter(in.filter);
  if (!in.at.is_head()) ToProto(in.at, out->mutable_at());
  out->set_token_budget(in.token_budget);
  out->set_prompt(in.prompt);
  out->set_client_trace_id(in.client_trace_id);
  out->set_client_id(in.client_id);
  out->set_text(in.text);
  out->set_sparse_field(in.sparse_field);
  if (!in.sparse.indices.empty() || !in.sparse.values.empty()) ToProto(in.sparse, out->mutable_sparse());
  if (!(in.fusion == FusionConfig{})) ToProto(in.fusion, out->mutable_fusion());
}

void ToProto(const RetrievedChunk& in, v1::RetrievedChunk* out) {
  out->set_id(in.id);
  out->set_row_version(in.row_version);
  out->set_distance(in.distance);
  out->set_text(in.text);
  out->set_text_sha256(in.text_sha256);
  out->set_document_id(in.document_id);
  out->set_tokens(in.tokens);
  out->set_in_context(in.in_context);
  out->set_score(in.score);
  // Legs only for a hybrid retrieval (one whose chunks some leg ranked).
  if (in.dense.found() || in.text_leg.found() || in.sparse.found()) {
    ToProto(in.dense, out->mutable_dense());
    ToProto(in.text_leg, out->mutable_text_leg());
    ToProto(in.sparse, out->mutable_sparse());
  }
}

RetrievedChunk FromProto(const v1::RetrievedChunk& in) {
  RetrievedChunk out;
  out.id = in.id();
  out.row_version = in.row_version();
  out.distance = in.distance();
  out.text = in.text();
  out.text_sha256 = in.text_sha256();
  out.document_id = in.document_id();
  out.tokens = in.tokens();
  out.in_context = in.in_context();
  out.score = in.score();
  out.dense = FromProto(in.dense(), in.has_dense());
  out.text_leg = FromProto(in.text_leg(), in.has_text_leg());
  out.sparse = FromProto(in.sparse(), in.has_sparse());
  return out;
}

void ToProto(const RetrieveResult& in, v1::RetrieveResponse* out) {
  out->set_retrieval_id(in.retrieval_id);
  out->set_log_seq(in.log_seq);
  out->set_version(in.version);
  out->set_exact(in.exact);
  for (const auto& c : in.chunks) ToProto(c, out->add_chunks());
  out->set_context(in.context);
  out->set_context_sha256(in.context_sha256);
  out->set_context_tokens(in.context_tokens);
  out->set_prompt(in.prompt);
}

RetrieveResult FromProto(const v1::RetrieveResponse& in) {
  RetrieveResult out;
  out.retrieval_id = in.retrieval_id();
  out.log_seq = in.log_seq();
  out.version = in.version();
  out.exact = in.exact();
  for (const auto& c : in.chunks()) out.chunks.push_back(FromProto(c));
  out.context = in.context();
  out.context_sha256 = in.context_sha256();
  out.context_tokens = in.context_tokens();
  out.prompt = in.prompt();
  return out;
}

AnswerRequest FromProto(const v1::RecordAnswerRequest& in) {
  AnswerRequest out;
  out.retrieval_id = in.retrieval_id();
  out.answer = in.answer();
  out.model = in.model();
  out.prompt_tokens = in.prompt_tokens();
  out.completion_tokens = in.completion_tokens();
  return out;
}

void ToProto(const AnswerRequest& in, v1::RecordAnswerRequest* out) {
  out->set_retrieval_id(in.retrieval_id);
  out->set_answer(in.answer);
  out->set_model(in.model);
  out->set_prompt_tokens(in.prompt_tokens);
  out->set_completion_tokens(in.completion_tokens);
}

v1::LogKind ToProto(LogKind kind) {
  switch (kind) {
    case LogKind::kRetrieval: return v1::LOG_KIND_RETRIEVAL;
    case LogKind::kAnswer: return v1::LOG_KIND_ANSWER;
    case LogKind::kCacheHit:
      return v1::LOG_KIND_CACHE_HIT;
  }
  return v1::LOG_KIND_UNSPECIFIED;
}

Result<LogKind> FromProto(v1::LogKind kind, const std::string& field) {
  switch (kind) {
    case v1::LOG_KIND_RETRIEVAL: return LogKind::kRetrieval;
    case v1::LOG_KIND_ANSWER: return LogKind::kAnswer;
    case v1::LOG_KIND_CACHE_HIT:
      return LogKind::kCacheHit;
    default: return Status::InvalidArgument(field + ": unknown log record kind " + std::to_string(kind));
  }
}

void ToProto(const LogRecord& in, v1::LogRecord* out, bool with_vector) {
  out->set_seq(in.seq);
  out->set_time_us(in.time_us);
  out->set_kind(ToProto(in.kind));
  out->set_retrieval_id(in.retrieval_id);
  out->set_collection(in.collection);
  out->set_version(in.version);
  out->set_snapshot(in.snapshot);
  out->set_query_text(in.query_text);
  if (with_vector) out->mutable_query_vector()->Add(in.query_vector.begin(), in.query_vector.end());
  out->set_query_vector_sha256(in.query_vector_sha256);
  out->set_k(in.k);
  out->set_ef(in.ef);
  out->set_filter(in.filter);
  out->set_token_budget(in.token_budget);
  out->set_prompt(in.prompt);
  out->set_client_trace_id(in.client_trace_id);
  out->set_client_id(in.client_id);
  out->set_exact(in.exact);
  out->set_text(in.text);
  out->set_analyzer_version(in.analyzer_version);
  out->set_analyzer_code_version(in.analyzer_code_version);
  out->set_sparse_field(in.sparse_field);
  if (!in.sparse.indices.empty() || !in.sparse.values.empty()) ToProto(in.sparse, out->mutable_sparse());
  if (in.fusion) ToProto(*in.fusion, out->mutable_fusion());
  for (const auto& c : in.chunks) ToProto(c, out->add_chunks());
  out->set_context_sha256(in.context_sha256);
  out->set_context_tokens(in.context_tokens);
  out->set_answer(in.answer);
  out->set_model(in.model);
  out->set_prompt_tokens(in.prompt_tokens);
  out->set_completion_tokens(in.completion_tokens);
  out->set_source_retrieval_id(in.source_retrieval_id);
  out->set_cache_match(ToProto(in.cache_match));
  out->set_similarity(in.similarity);
  if (in.annotation) ToProto(*in.annotation, out->mutable_annotation());
  out->set_prev_hash(in.prev_hash);
  out->set_hash(in.hash);
}

Result<LogRecord> FromProto(const v1::LogRecord& in, const std::string& field) {
  LogRecord out;
  out.seq = in.seq();
  out.time_us = in.time_us();
  VERITY_ASSIGN_OR_RETURN(out.kind, FromProto(in.kind(), field + ".kind"));
  out.retrieval_id = in.retrieval_id();
  out.collection = in.collection();
  out.version = in.version();
  out.snapshot = in.snapshot();
  out.query_text = in.query_text();
  out.query_vector.assign(in.query_vector().begin(), in.query_vector().end());
  out.query_vector_sha256 = in.query_vector_sha256();
  out.k = in.k();
  out.ef = in.ef();
  out.filter = in.filter();
  out.token_budget = in.token_budget();
  out.prompt = in.prompt();
  out.client_trace_id = in.client_trace_id();
  out.client_id = in.client_id();
  out.exact = in.exact();
  out.text = in.text();
  out.analyzer_version = in.analyzer_version();
  out.analyzer_code_version = in.analyzer_code_version();
  out.sparse_field = in.sparse_field();
  out.sparse = FromProto(in.sparse());
  if (in.has_fusion()) {
    VERITY_ASSIGN_OR_RETURN(FusionConfig fusion, FromProto(in.fusion(), field + ".fusion"));
    out.fusion = fusion;
  }
  for (const auto& c : in.chunks()) out.chunks.push_back(FromProto(c));
  out.context_sha256 = in.context_sha256();
  out.context_tokens = in.context_tokens();
  out.answer = in.answer();
  out.model = in.model();
  out.prompt_tokens = in.prompt_tokens();
  out.completion_tokens = in.completion_tokens();
  out.source_retrieval_id = in.source_retrieval_id();
  out.cache_match = FromProto(in.cache_match());
  out.similarity = in.similarity();
  if (in.has_annotation()) {
    VERITY_ASSIGN_OR_RETURN(Annotation annotation, FromProto(in.annotation(), field + ".annotation"));
    out.annotation = std::move(annotation);
  }
  out.prev_hash = in.prev_hash();
  out.hash = in.hash();
  return out;
}

Result<LogQuery> FromProto(const v1::ListLogRequest& in) {
  LogQuery out;
  out.collection = in.collection();
  if (in.since_us() < 0) return Status::InvalidArgument("since_us: " + std::to_string(in.since_us()) + " is negative");
  if (in.until_us() < 0) return Status::InvalidArgument("until_us: " + std::to_string(in.until_us()) + " is negative");
  out.since_us = in.since_us();
  out.until_us = in.until_us();
  if (in.kind() != v1::LOG_KIND_UNSPECIFIED) {
    VERITY_ASSIGN_OR_RETURN(LogKind kind, FromProto(in.kind(), "kind"));
    out.kind = kind;
  }
  out.start_after = in.start_after();
  out.limit = in.limit() == 0 ? 100 : in.limit();
  return out;
}

void ToProto(const LogQuery& in, v1::ListLogRequest* out) {
  out->set_collection(in.collection);
  out->set_since_us(in.since_us);
  out->set_until_us(in.until_us);
  out->set_kind(in.kind ? ToProto(*in.kind) : v1::LOG_KIND_UNSPECIFIED);
  out->set_start_after(in.start_after);
  out->set_limit(in.limit);
}

Result<LogPage> FromProto(const v1::ListLogResponse& in) {
  LogPage out;
  out.records.reserve(static_cast<size_t>(in.records_size()));
  for (int i = 0; i < in.records_size(); ++i) {
    VERITY_ASSIGN_OR_RETURN(LogRecord r, FromProto(in.records(i), "records[" + std::to_string(i) + "]"));
    out.records.push_back(std::move(r));
  }
  out.next_cursor = in.next_cursor();
  return out;
}

void ToProto(const LogVerifyResult& in, v1::VerifyLogResponse* out) {
  out->set_ok(in.ok);
  out->set_records(in.records);
  out->set_first_seq(in.first_seq);
  out->set_last_seq(in.last_seq);
  out->set_head_hash(in.head_hash);
  out->set_first_bad_seq(in.first_bad_seq);
  out->set_problem(in.problem);
}

LogVerifyResult FromProto(const v1::VerifyLogResponse& in) {
  LogVerifyResult out;
  out.ok = in.ok();
  out.records = in.records();
  out.first_seq = in.first_seq();
  out.last_seq = in.last_seq();
  out.head_hash = in.head_hash();
  out.first_bad_seq = in.first_bad_seq();
  out.problem = in.problem();
  return out;
}

v1::ReplayMode ToProto(ReplayMode mode) {
  switch (mode) {
    case ReplayMode::kContext: return v1::REPLAY_MODE_CONTEXT;
    case ReplayMode::kRetrieval: return v1::REPLAY_MODE_RETRIEVAL;
    case ReplayMode::kCounterfactual: return v1::REPLAY_MODE_COUNTERFACTUAL;
  }
  return v1::REPLAY_MODE_UNSPECIFIED;
}

Result<ReplayMode> FromProto(v1::ReplayMode mode, const std::string& field) {
  switch (mode) {
    case v1::REPLAY_MODE_UNSPECIFIED:
    case v1::REPLAY_MODE_CONTEXT: return ReplayMode::kContext;
    case v1::REPLAY_MODE_RETRIEVAL: return ReplayMode::kRetrieval;
    case v1::REPLAY_MODE_COUNTERFACTUAL: return ReplayMode::kCounterfactual;
    default: return Status::InvalidArgument(field + ": unknown replay mode " + std::to_string(mode));
  }
}

Result<ReplayRequest> FromProto(const v1::ReplayRequest& in) {
  ReplayRequest out;
  out.retrieval_id = in.retrieval_id();
  VERITY_ASSIGN_OR_RETURN(out.mode, FromProto(in.mode(), "mode"));
  VERITY_ASSIGN_OR_RETURN(out.at, FromProto(in.at(), in.has_at(), "at"));
  return out;
}

void ToProto(const ReplayRequest& in, v1::ReplayRequest* out) {
  out->set_retrieval_id(in.retrieval_id);
  out->set_mode(ToProto(in.mode));
  if (!in.at.is_head()) ToProto(in.at, out->mutable_at());
}

void ToProto(const ReplayResult& in, v1::ReplayResponse* out) {
  out->set_mode(ToProto(in.mode));
  out->set_retrieval_id(in.retrieval_id);
  out->set_outcome(ReplayOutcomeName(in.outcome));
  out->set_detail(in.detail);
  out->set_version(in.version);
  for (const auto& c : in.chunks) {
    auto* check = out->add_chunks();
    check->set_id(c.id);
    check->set_row_version(c.row_version);
    check->set_status(c.status);
  }
  out->set_context_sha256(in.context_sha256);
  out->set_context_hash_matches(in.context_hash_matches);
  out->set_recall(in.recall);
  for (const auto& id : in.missed) out->add_missed(id);
  for (const auto& id : in.added) out->add_added(id);
  for (const auto& id : in.removed) out->add_removed(id);
  for (const auto& r : in.rank_changes) {
    auto* change = out->add_rank_changes();
    change->set_id(r.id);
    change->set_logged_rank(r.logged_rank);
    change->set_replay_rank(r.replay_rank);
  }
  for (const auto& id : in.changed) out->add_changed(id);
}

Result<ReplayResult> FromProto(const v1::ReplayResponse& in) {
  ReplayResult out;
  VERITY_ASSIGN_OR_RETURN(out.mode, FromProto(in.mode(), "mode"));
  out.retrieval_id = in.retrieval_id();
  if (!ParseReplayOutcome(in.outcome(), &out.outcome)) {
    return Status::InvalidArgument("unknown replay outcome \"" + in.outcome().substr(0, 64) + "\"")
        .WithField("outcome");
  }
  out.detail = in.detail();
  out.version = in.version();
  for (const auto& c : in.chunks()) out.chunks.push_back(ChunkCheck{c.id(), c.row_version(), c.status()});
  out.context_sha256 = in.context_sha256();
  out.context_hash_matches = in.context_hash_matches();
  out.recall = in.recall();
  out.missed.assign(in.missed().begin(), in.missed().end());
  out.added.assign(in.added().begin(), in.added().end());
  out.removed.assign(in.removed().begin(), in.removed().end());
  for (const auto& r : in.rank_changes()) {
    out.rank_changes.push_back(RankChange{r.id(), r.logged_rank(), r.replay_rank()});
  }
  out.changed.assign(in.changed().begin(), in.changed().end());
  return out;
}

// --- Audit ----------------------------------------------------------------------

AuditRequest FromProto(const v1::AuditRequest& in) {
  AuditRequest out;
  out.retrieval_id = in.retrieval_id();
  if (in.has_answer()) out.answer = in.answer();
  if (in.has_threshold()) out.threshold = in.threshold();
  return out;
}

void ToProto(const AuditRequest& in, v1::AuditRequest* out) {
  out->set_retrieval_id(in.retrieval_id);
  if (in.answer) out->set_answer(*in.answer);
  if (in.threshold) out->set_threshold(*in.threshold);
}

v1::SentenceVerdict ToProto(SentenceVerdict verdict) {
  switch (verdict) {
    case SentenceVerdict::kSupported: return v1::SENTENCE_VERDICT_SUPPORTED;
    case SentenceVerdict::kUnsupported: return v1::SENTENCE_VERDICT_UNSUPPORTED;
    case SentenceVerdict::kNotScored: return v1::SENTENCE_VERDICT_NOT_SCORED;
  }
  return v1::SENTENCE_VERDICT_UNSPECIFIED;
}

Result<SentenceVerdict> FromProto(v1::SentenceVerdict verdict, const std::string& field) {
  switch (verdict) {
    case v1::SENTENCE_VERDICT_SUPPORTED: return SentenceVerdict::kSupported;
    case v1::SENTENCE_VERDICT_UNSUPPORTED: return SentenceVerdict::kUnsupported;
    case v1::SENTENCE_VERDICT_NOT_SCORED: return SentenceVerdict::kNotScored;
    default: return Status::InvalidArgument(field + ": unknown sentence verdict " + std::to_string(verdict));
  }
}

void ToProto(const AuditResult& in, v1::AuditResponse* out) {
  out->set_retrieval_id(in.retrieval_id);
  out->set_collection(in.collection);
  out->set_version(in.version);
  out->set_answer(in.answer);
  out->set_answer_recorded(in.answer_recorded);
  out->set_prompt(in.prompt);
  out->set_source_retrieval_id(in.source_retrieval_id);
  for (const auto& c : in.chunks) {
    auto* chunk = out->add_chunks();
    chunk->set_id(c.id);
    chunk->set_text(c.text);
  }
  const GroundednessResult& r = in.result;
  out->set_scorer_version(r.scorer_version);
  out->set_threshold(r.threshold);
  out->set_g(r.g);
  out->set_scored(r.scored);
  out->set_supported(r.supported);
  for (const auto& s : r.sentences) {
    auto* sentence = out->add_sentences();
    sentence->set_text(s.text);
    sentence->set_begin(s.begin);
    sentence->set_end(s.end);
    sentence->set_verdict(ToProto(s.verdict));
    sentence->set_support(s.support);
    sentence->set_token_precision(s.token_precision);
    sentence->set_rouge_l_precision(s.rouge_l_precision);
    sentence->set_trigram_containment(s.trigram_containment);
    sentence->set_chunk_index(s.chunk_index);
    sentence->set_chunk_id(s.chunk_id);
    sentence->set_span_begin(s.span_begin);
    sentence->set_span_end(s.span_end);
    for (const auto& t : s.missing_critical) sentence->add_missing_critical(t);
    for (const auto& t : s.conflicting_negations) sentence->add_conflicting_negations(t);
    if (r.scorer_version == kGroundednessScorerVersion) {  // v3's signals; older results have none
      sentence->set_match_support(s.match_support);
      for (const auto& t : s.contradictions) sentence->add_contradictions(t);
      for (const auto& t : s.role_conflicts) sentence->add_role_conflicts(t);
      sentence->set_short_evidence(s.short_evidence);
      if (s.second_chunk_index >= 0) {
        sentence->set_second_chunk_index(s.second_chunk_index);
        sentence->set_second_chunk_id(s.second_chunk_id);
        sentence->set_second_span_begin(s.second_span_begin);
        sentence->set_second_span_end(s.second_span_end);
      }
    }
  }
}

Result<AuditResult> FromProto(const v1::AuditResponse& in, const std::string& field) {
  AuditResult out;
  out.retrieval_id = in.retrieval_id();
  out.collection = in.collection();
  out.version = in.version();
  out.answer = in.answer();
  out.answer_recorded = in.answer_recorded();
  out.prompt = in.prompt();
  out.source_retrieval_id = in.source_retrieval_id();
  for (const auto& c : in.chunks()) out.chunks.push_back(SourceChunk{c.id(), c.text()});
  GroundednessResult& r = out.result;
  r.scorer_version = in.scorer_version();
  r.threshold = in.threshold();
  r.g = in.g();
  r.scored = in.scored();
  r.supported = in.supported();
  for (int i = 0; i < in.sentences_size(); ++i) {
    const v1::SentenceScore& s = in.sentences(i);
    SentenceScore sentence;
    sentence.text = s.text();
    sentence.begin = static_cast<size_t>(s.begin());
    sentence.end = static_cast<size_t>(s.end());
    VERITY_ASSIGN_OR_RETURN(sentence.verdict,
                            FromProto(s.verdict(), field + "sentences[" + std::to_string(i) + "].verdict"));
    sentence.support = s.support();
    sentence.token_precision = s.token_precision();
    sentence.rouge_l_precision = s.rouge_l_precision();
    sentence.trigram_containment = s.trigram_containment();
    // Absent (a version 1-2 result, or an older server): no penalty.
    sentence.match_support = s.has_match_support() ? s.match_support() : s.support();
    sentence.contradictions.assign(s.contradictions().begin(), s.contradictions().end());
    sentence.role_conflicts.assign(s.role_conflicts().begin(), s.role_conflicts().end());
    sentence.short_evidence = s.short_evidence();
    if (s.has_second_chunk_index()) {
      sentence.second_chunk_index = s.second_chunk_index();
      sentence.second_chunk_id = s.second_chunk_id();
      sentence.second_span_begin = static_cast<size_t>(s.second_span_begin());
      sentence.second_span_end = static_cast<size_t>(s.second_span_end());
    }
    sentence.chunk_index = s.chunk_index();
    sentence.chunk_id = s.chunk_id();
    sentence.span_begin = static_cast<size_t>(s.span_begin());
    sentence.span_end = static_cast<size_t>(s.span_end());
    sentence.missing_critical.assign(s.missing_critical().begin(), s.missing_critical().end());
    sentence.conflicting_negations.assign(s.conflicting_negations().begin(), s.conflicting_negations().end());
    r.sentences.push_back(std::move(sentence));
  }
  return out;
}

BatchAuditRequest FromProto(const v1::AuditCollectionRequest& in) {
  BatchAuditRequest out;
  out.collection = in.collection();
  out.since_us = in.since_us();
  out.until_us = in.until_us();
  if (in.has_threshold()) out.threshold = in.threshold();
  if (in.has_low_g()) out.low_g = in.low_g();
  if (in.has_worst()) out.worst = in.worst();
  if (in.max_retrievals() != 0) out.max_retrievals = in.max_retrievals();
  return out;
}

void ToProto(const BatchAuditRequest& in, v1::AuditCollectionRequest* out) {
  out->set_collection(in.collection);
  out->set_since_us(in.since_us);
  out->set_until_us(in.until_us);
  if (in.threshold) out->set_threshold(*in.threshold);
  out->set_low_g(in.low_g);
  out->set_worst(in.worst);
  out->set_max_retrievals(in.max_retrievals);
}

void ToProto(const BatchAuditResult& in, v1::AuditCollectionResponse* out) {
  out->set_retrievals(in.retrievals);
  out->set_audited(in.audited);
  out->set_unanswered(in.unanswered);
  out->set_unavailable(in.unavailable);
  out->set_scored(in.scored);
  out->set_mean_g(in.mean_g);
  out->set_share_below(in.share_below);
  for (const auto& a : in.worst) ToProto(a, out->add_worst());
  for (const auto& a : in.audits) ToProto(a, out->add_audits());
}

Result<BatchAuditResult> FromProto(const v1::AuditCollectionResponse& in) {
  BatchAuditResult out;
  out.retrievals = in.retrievals();
  out.audited = in.audited();
  out.unanswered = in.unanswered();
  out.unavailable = in.unavailable();
  out.scored = in.scored();
  out.mean_g = in.mean_g();
  out.share_below = in.share_below();
  for (int i = 0; i < in.worst_size(); ++i) {
    VERITY_ASSIGN_OR_RETURN(AuditResult a, FromProto(in.worst(i), "worst[" + std::to_string(i) + "]."));
    out.worst.push_back(std::move(a));
  }
  for (int i = 0; i < in.audits_size(); ++i) {
    VERITY_ASSIGN_OR_RETURN(AuditResult a, FromProto(in.audits(i), "audits[" + std::to_string(i) + "]."));
    out.audits.push_back(std::move(a));
  }
  return out;
}

// --- Prompts ----------------------------------------------------------------

void ToProto(const PromptVersion& in, v1::Prompt* out) {
  out->set_name(in.name);
  out->set_version(in.version);
  out->set_template_(in.template_text);
  out->set_config_json(in.config_json);
  out->set_author(in.author);
  out->set_message(in.message);
  out->set_created_at_us(in.created_at_us);
  for (const auto& v : in.variables) out->add_variables(v);
  for (const auto& l : in.labels) out->add_labels(l);
}

PromptVersion FromProto(const v1::Prompt& in) {
  PromptVersion out;
  out.name = in.name();
  out.version = in.version();
  out.template_text = in.template_();
  out.config_json = in.config_json();
  out.author = in.author();
  out.message = in.message();
  out.created_at_us = in.created_at_us();
  out.variables.assign(in.variables().begin(), in.variables().end());
  out.labels.assign(in.labels().begin(), in.labels().end());
  return out;
}

PromptRef FromProto(const v1::PromptSelector& in) {
  PromptRef out;
  out.name = in.name();
  if (in.which_case() == v1::PromptSelector::kVersion) out.version = in.version();
  if (in.which_case() == v1::PromptSelector::kLabel) out.label = in.label();
  return out;
}

void ToProto(const PromptRef& in, v1::PromptSelector* out) {
  out->set_name(in.name);
  if (in.version) {
    out->set_version(*in.version);
  } else if (!in.label.empty()) {
    out->set_label(in.label);
  }
}

void ToProto(const PromptLabelEvent& in, v1::LabelMove* out) {
  out->set_label(in.label);
  out->set_version(in.version);
  out->set_previous_version(in.previous_version);
  out->set_actor(in.actor);
  out->set_moved_at_us(in.moved_at_us);
}

PromptLabelEvent FromProto(const v1::LabelMove& in, const std::string& name) {
  return {name, in.label(), in.version(), in.previous_version(), in.actor(), in.moved_at_us()};
}

void ToProto(const PromptInfo& in, v1::PromptSummary* out) {
  out->set_name(in.name);
  out->set_latest_version(in.latest_version);
  for (const auto& [label, version] : in.labels) (*out->mutable_labels())[label] = version;
}

PromptInfo FromProto(const v1::PromptSummary& in) {
  PromptInfo out;
  out.name = in.name();
  out.latest_version = in.latest_version();
  for (const auto& [label, version] : in.labels()) out.labels[label] = version;
  return out;
}

void ToProto(const PromptDiff& in, v1::DiffPromptResponse* out) {
  out->set_template_diff(in.template_diff);
  out->set_config_changed(in.config_changed);
  out->set_from_config_json(in.from_config);
  out->set_to_config_json(in.to_config);
}

PromptDiff FromProto(const v1::DiffPromptResponse& in, const std::string& name, uint32_t from, uint32_t to) {
  PromptDiff out;
  out.name = name;
  out.from = from;
  out.to = to;
  out.template_diff = in.template_diff();
  out.config_changed = in.config_changed();
  out.from_config = in.from_config_json();
  out.to_config = in.to_config_json();
  return out;
}

PromptDraft FromProto(const v1::CreatePromptVersionRequest& in) {
  PromptDraft out;
  out.name = in.name();
  out.template_text = in.template_();
  out.config_json = in.config_json();
  out.author = in.author();
  out.message = in.message();
  out.labels.assign(in.labels().begin(), in.labels().end());
  return out;
}

void ToProto(const PromptDraft& in, v1::CreatePromptVersionRequest* out) {
  out->set_name(in.name);
  out->set_template_(in.template_text);
  out->set_config_json(in.config_json);
  out->set_author(in.author);
  out->set_message(in.message);
  for (const auto& l : in.labels) out->add_labels(l);
}

// --- Answer cache ---------------------------------------------------------------

CacheStoreRequest FromProto(const v1::CacheStoreRequest& in) {
  return {in.retrieval_id(), in.answer(), in.model(), in.params_json()};
}

void ToProto(const CacheStoreRequest& in, v1::CacheStoreRequest* out) {
  out->set_retrieval_id(in.retrieval_id);
  out->set_answer(in.answer);
  out->set_model(in.model);
  out->set_params_json(in.params_json);
}

CacheLookupRequest FromProto(const v1::CacheLookupRequest& in) {
  CacheLookupRequest out;
  out.collection = in.collection();
  out.vector.assign(in.vector().begin(), in.vector().end());
  out.query_text = in.query_text();
  if (in.has_at()) out.at = in.at();
  out.prompt = in.prompt();
  out.model = in.model();
  out.params_json = in.params_json();
  if (in.has_min_similarity()) out.min_similarity = in.min_similarity();
  out.semantic = !in.exact_only();
  out.client_trace_id = in.client_trace_id();
  out.client_id = in.client_id();
  return out;
}

void ToProto(const CacheLookupRequest& in, v1::CacheLookupRequest* out) {
  out->set_collection(in.collection);
  out->mutable_vector()->Add(in.vector.begin(), in.vector.end());
  out->set_query_text(in.query_text);
  // The wire's `at` is a version only (Client::CacheLookup refuses a snapshot).
  if (in.at.is_version()) out->set_at(in.at.version());
  out->set_prompt(in.prompt);
  out->set_model(in.model);
  out->set_params_json(in.params_json);
  if (in.min_similarity) out->set_min_similarity(*in.min_similarity);
  out->set_exact_only(!in.semantic);
  out->set_client_trace_id(in.client_trace_id);
  out->set_client_id(in.client_id);
}

v1::CacheMatch ToProto(CacheMatch match) {
  return match == CacheMatch::kExact      ? v1::CACHE_MATCH_EXACT
         : match == CacheMatch::kSemantic ? v1::CACHE_MATCH_SEMANTIC
                                          : v1::CACHE_MATCH_MISS;
}

CacheMatch FromProto(v1::CacheMatch match) {
  return match == v1::CACHE_MATCH_EXACT      ? CacheMatch::kExact
         : match == v1::CACHE_MATCH_SEMANTIC ? CacheMatch::kSemantic
                                             : CacheMatch::kMiss;
}

void ToProto(const CacheLookupResult& in, v1::CacheLookupResponse* out) {
  out->set_match(ToProto(in.match));
  out->set_answer(in.answer);
  out->set_source_retrieval_id(in.source_retrieval_id);
  out->set_retrieval_id(in.retrieval_id);
  out->set_log_seq(in.log_seq);
  out->set_context_sha256(in.context_sha256);
  out->set_similarity(in.similarity);
  out->set_version(in.version);
  out->set_prompt(in.prompt);
  out->set_refused(in.refused);
  out->set_refused_reason(in.refused_reason);
}

CacheLookupResult FromProto(const v1::CacheLookupResponse& in) {
  CacheLookupResult out;
  out.match = FromProto(in.match());
  out.answer = in.answer();
  out.source_retrieval_id = in.source_retrieval_id();
  out.retrieval_id = in.retrieval_id();
  out.log_seq = in.log_seq();
  out.context_sha256 = in.context_sha256();
  out.similarity = in.similarity();
  out.version = in.version();
  out.prompt = in.prompt();
  out.refused = in.refused();
  out.refused_reason = in.refused_reason();
  return out;
}

void ToProto(const CacheStats& in, v1::GetCacheStatsResponse* out) {
  out->set_entries(in.entries);
  out->set_bytes(in.bytes);
  out->set_max_entries(in.max_entries);
  out->set_max_bytes(in.max_bytes);
  out->set_stores(in.stores);
  out->set_exact_hits(in.exact_hits);
  out->set_semantic_hits(in.semantic_hits);
  out->set_misses(in.misses);
  out->set_refused_false_hits(in.refused_false_hits);
  out->set_evictions(in.evictions);
}

CacheStats FromProto(const v1::GetCacheStatsResponse& in) {
  CacheStats out;
  out.entries = in.entries();
  out.bytes = in.bytes();
  out.max_entries = in.max_entries();
  out.max_bytes = in.max_bytes();
  out.stores = in.stores();
  out.exact_hits = in.exact_hits();
  out.semantic_hits = in.semantic_hits();
  out.misses = in.misses();
  out.refused_false_hits = in.refused_false_hits();
  out.evictions = in.evictions();
  return out;
}

}  // namespace verity::wire
