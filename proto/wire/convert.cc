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
  return c;
}

void ToProto(const CollectionConfig& in, v1::CollectionConfig* c) {
  c->set_name(in.name);
  c->set_dimension(in.dimension);
  c->set_metric(MetricToProto(in.metric));
  c->set_m(in.m);
  c->set_ef_construction(in.ef_construction);
  c->set_default_ef(in.default_ef);
}

CollectionInfo FromProto(const v1::CollectionInfo& in) {
  CollectionInfo out;
  auto config = FromProto(in.config());
  if (config.ok()) out.config = *config;
  out.head_version = in.head_version();
  out.created_at_us = in.created_at_us();
  out.live_records = in.live_records();
  out.graph_nodes = in.graph_nodes();
  return out;
}

void ToProto(const CollectionInfo& in, v1::CollectionInfo* out) {
  ToProto(in.config, out->mutable_config());
  out->set_head_version(in.head_version);
  out->set_created_at_us(in.created_at_us);
  out->set_live_records(in.live_records);
  out->set_graph_nodes(in.graph_nodes);
}

void ToProto(const VersionInfo& in, v1::VersionInfo* out) {
  out->set_version(in.version);
  out->set_committed_at_us(in.committed_at_us);
  out->set_upserted(in.upserted);
  out->set_deleted(in.deleted);
}

VersionInfo FromProto(const v1::VersionInfo& in) {
  return VersionInfo{in.version(), in.committed_at_us(), in.upserted(), in.deleted()};
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

std::optional<Version> FromProto(const v1::ReadAt& at, bool present) {
  if (!present || at.point_case() != v1::ReadAt::kVersion) return std::nullopt;
  return at.version();
}

void ToProto(std::optional<Version> at, v1::ReadAt* out) {
  if (at) out->set_version(*at);
}

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

Result<SearchRequest> FromProto(const v1::SearchQuery& in, const std::string& field) {
  SearchRequest r;
  r.vector.assign(in.vector().begin(), in.vector().end());
  r.k = in.k() == 0 ? 10 : in.k();
  r.ef = in.ef();
  r.at = FromProto(in.at(), in.has_at());
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

}  // namespace verity::wire
