#include "verity/client.h"

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <sstream>

#include "convert.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "verity/v1/cache.grpc.pb.h"
#include "verity/v1/collections.grpc.pb.h"
#include "verity/v1/context.grpc.pb.h"
#include "verity/v1/monitor.grpc.pb.h"
#include "verity/v1/prompts.grpc.pb.h"
#include "verity/v1/records.grpc.pb.h"
#include "verity/v1/search.grpc.pb.h"
#include "verity/v1/snapshots.grpc.pb.h"

namespace verity {

using wire::FromGrpc;
using wire::FromProto;
using wire::ToProto;

struct Client::Stubs {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::CollectionService::Stub> collections;
  std::unique_ptr<v1::RecordService::Stub> records;
  std::unique_ptr<v1::SearchService::Stub> search;
  std::unique_ptr<v1::SnapshotService::Stub> snapshots;
  std::unique_ptr<v1::ContextService::Stub> context;
  std::unique_ptr<v1::LogService::Stub> log;
  std::unique_ptr<v1::PromptService::Stub> prompts;
  std::unique_ptr<v1::CacheService::Stub> cache;
  std::unique_ptr<v1::MonitorService::Stub> monitor;
  std::unique_ptr<grpc::health::v1::Health::Stub> health;
};

namespace {

// Head leaves the ReadAt unset.
void ReadPointToProto(const ReadPoint& at, v1::ReadAt* out) { wire::ToProto(at, out); }

void QueryToProto(const ClientSearch& in, v1::SearchQuery* out) {
  out->mutable_vector()->Add(in.vector.begin(), in.vector.end());
  out->set_k(in.k);
  out->set_ef(in.ef);
  if (!in.at.is_head()) ReadPointToProto(in.at, out->mutable_at());
  out->set_filter(in.filter);
  out->set_with_payload(in.with_payload);
  out->set_with_vectors(in.with_vectors);
  out->set_plan(in.plan == SearchPlan::kExact   ? v1::SEARCH_PLAN_EXACT
                : in.plan == SearchPlan::kGraph ? v1::SEARCH_PLAN_GRAPH
                                                : v1::SEARCH_PLAN_AUTO);
  out->set_text(in.text);
  out->set_sparse_field(in.sparse_field);
  if (!in.sparse.indices.empty() || !in.sparse.values.empty()) wire::ToProto(in.sparse, out->mutable_sparse());
  if (!(in.fusion == FusionConfig{})) wire::ToProto(in.fusion, out->mutable_fusion());
}

Result<std::string> ReadPem(const std::string& field, const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  if (!in || !(text << in.rdbuf())) return Status::InvalidArgument(field + ": cannot read " + path);
  return text.str();
}

// Plaintext, TLS (optionally with our own CA), or mTLS.
Result<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentials(const ClientOptions& o) {
  if (!o.tls && o.tls_ca_file.empty() && o.tls_cert_file.empty() && o.tls_key_file.empty()) {
    return grpc::InsecureChannelCredentials();
  }
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return Status::InvalidArgument("tls_cert_file and tls_key_file go together: give both or neither");
  }
  grpc::SslCredentialsOptions tls;
  if (!o.tls_ca_file.empty()) {
    VERITY_ASSIGN_OR_RETURN(tls.pem_root_certs, ReadPem("tls_ca_file", o.tls_ca_file));
  }
  if (!o.tls_cert_file.empty()) {
    VERITY_ASSIGN_OR_RETURN(tls.pem_cert_chain, ReadPem("tls_cert_file", o.tls_cert_file));
    VERITY_ASSIGN_OR_RETURN(tls.pem_private_key, ReadPem("tls_key_file", o.tls_key_file));
  }
  return grpc::SslCredentials(tls);
}

// Reads every page of a paged list call (start_at, limit, next_start_at):
// `call(request, &response)` makes one call, `take(response)` keeps its
// items. A page refused for its size (by verityd or by gRPC, on either side:
// wire::FromGrpc gives it StatusReason::kMessageTooLarge) is asked for again
// at half the size.
template <typename Response, typename Request, typename Call, typename Take>
Status ReadEveryPage(const std::string& method, Request request, Call call, Take take) {
  for (;;) {
    Response response;
    const Status status = call(request, &response);
    if (status.reason() == StatusReason::kMessageTooLarge && request.limit() > 1) {
      request.set_limit(request.limit() / 2);
      continue;
    }
    VERITY_RETURN_IF_ERROR(status);
    take(response);
    if (response.next_start_at() == 0) return Status::Ok();
    if (response.next_start_at() <= request.start_at()) {
      return Status::Internal(method + ": the server's next page does not move forward");
    }
    request.set_start_at(response.next_start_at());
  }
}

}  // namespace

void Client::PrepareCall(grpc::ClientContext* ctx, std::chrono::milliseconds timeout) const {
  ctx->set_deadline(std::chrono::system_clock::now() + timeout);
  if (!options_.api_key.empty()) ctx->AddMetadata("authorization", "Bearer " + options_.api_key);
}

Client::Client(const ClientOptions& options) : options_(options), stubs_(std::make_unique<Stubs>()) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_message_bytes);
  args.SetMaxSendMessageSize(options.max_message_bytes);
  auto credentials = ChannelCredentials(options);
  if (!credentials.ok()) {
    init_status_ = credentials.status();
    credentials = grpc::InsecureChannelCredentials();  // never used: every call returns init_status_
  }
  stubs_->channel = grpc::CreateCustomChannel(options.address, *credentials, args);
  stubs_->collections = v1::CollectionService::NewStub(stubs_->channel);
  stubs_->records = v1::RecordService::NewStub(stubs_->channel);
  stubs_->search = v1::SearchService::NewStub(stubs_->channel);
  stubs_->snapshots = v1::SnapshotService::NewStub(stubs_->channel);
  stubs_->context = v1::ContextService::NewStub(stubs_->channel);
  stubs_->log = v1::LogService::NewStub(stubs_->channel);
  stubs_->prompts = v1::PromptService::NewStub(stubs_->channel);
  stubs_->cache = v1::CacheService::NewStub(stubs_->channel);
  stubs_->monitor = v1::MonitorService::NewStub(stubs_->channel);
  stubs_->health = grpc::health::v1::Health::NewStub(stubs_->channel);
}

Client::~Client() = default;

// One RPC with the client's deadline; the gRPC status becomes a Status.
#define VERITY_RPC_(stub, method, request, response)                                       \
  do {                                                                                     \
    VERITY_RETURN_IF_ERROR(init_status_);                                                  \
    grpc::ClientContext ctx_;                                                              \
    PrepareCall(&ctx_, options_.timeout);                                                  \
    VERITY_RETURN_IF_ERROR(FromGrpc(stubs_->stub->method(&ctx_, request, &(response)))); \
  } while (0)

Status Client::Health() {
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  VERITY_RPC_(health, Check, request, response);
  if (response.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
    return Status::Unavailable("the server at " + options_.address + " is not serving");
  }
  return Status::Ok();
}

Result<AnalyzerConfig> AnalyzerPresetConfig(const std::string& preset) {
  return wire::AnalyzerPreset(preset, "preset");
}

Result<CollectionInfo> Client::CreateCollection(const CollectionConfig& config) {
  v1::CreateCollectionRequest request;
  ToProto(config, request.mutable_config());
  v1::CreateCollectionResponse response;
  VERITY_RPC_(collections, CreateCollection, request, response);
  return FromProto(response.collection());
}

Result<CollectionInfo> Client::SetTextIndex(const std::string& collection, const TextIndexConfig& text_index) {
  v1::SetTextIndexRequest request;
  request.set_collection(collection);
  ToProto(text_index, request.mutable_text_index());
  v1::SetTextIndexResponse response;
  VERITY_RPC_(collections, SetTextIndex, request, response);
  return FromProto(response.collection());
}

Result<CollectionInfo> Client::GetCollection(const std::string& name) {
  v1::GetCollectionRequest request;
  request.set_name(name);
  v1::GetCollectionResponse response;
  VERITY_RPC_(collections, GetCollection, request, response);
  return FromProto(response.collection());
}

Result<std::vector<CollectionInfo>> Client::ListCollections() {
  v1::ListCollectionsRequest request;
  v1::ListCollectionsResponse response;
  VERITY_RPC_(collections, ListCollections, request, response);
  std::vector<CollectionInfo> out;
  for (const auto& c : response.collections()) out.push_back(FromProto(c));
  return out;
}

Status Client::DropCollection(const std::string& name) {
  v1::DropCollectionRequest request;
  request.set_name(name);
  v1::DropCollectionResponse response;
  VERITY_RPC_(collections, DropCollection, request, response);
  return Status::Ok();
}

Result<std::vector<VersionInfo>> Client::ListVersions(const std::string& collection) {
  VERITY_RETURN_IF_ERROR(init_status_);
  v1::ListVersionsRequest request;
  request.set_collection(collection);
  request.set_limit(1000);
  std::vector<VersionInfo> out;
  VERITY_RETURN_IF_ERROR(ReadEveryPage<v1::ListVersionsResponse>(
      "ListVersions", request,
      [&](const v1::ListVersionsRequest& page, v1::ListVersionsResponse* response) {
        grpc::ClientContext ctx;
        PrepareCall(&ctx, options_.timeout);
        return FromGrpc(stubs_->collections->ListVersions(&ctx, page, response));
      },
      [&](const v1::ListVersionsResponse& response) {
        for (const auto& v : response.versions()) out.push_back(FromProto(v));
      }));
  return out;
}

Result<WriteResult> Client::Upsert(const std::string& collection, const std::vector<Record>& records) {
  v1::UpsertRequest request;
  request.set_collection(collection);
  for (const auto& r : records) ToProto(r, request.add_records());
  v1::WriteResponse response;
  VERITY_RPC_(records, Upsert, request, response);
  return WriteResult{response.version(), response.applied()};
}

Result<WriteResult> Client::Delete(const std::string& collection, const std::vector<std::string>& ids) {
  v1::DeleteRequest request;
  request.set_collection(collection);
  for (const auto& id : ids) request.add_ids(id);
  v1::WriteResponse response;
  VERITY_RPC_(records, Delete, request, response);
  return WriteResult{response.version(), response.applied()};
}

Result<StoredRecord> Client::Get(const std::string& collection, const std::string& id, const ReadPoint& at) {
  v1::GetRequest request;
  request.set_collection(collection);
  request.set_id(id);
  if (!at.is_head()) ReadPointToProto(at, request.mutable_at());
  v1::GetResponse response;
  VERITY_RPC_(records, Get, request, response);
  return FromProto(response.record(), "record");
}

Result<ScrollPage> Client::Scroll(const std::string& collection, const ClientScroll& scroll) {
  v1::ScrollRequest request;
  request.set_collection(collection);
  if (!scroll.at.is_head()) ReadPointToProto(scroll.at, request.mutable_at());
  request.set_start_after(scroll.start_after);
  request.set_limit(scroll.limit);
  request.set_filter(scroll.filter);
  request.set_with_vectors(scroll.with_vectors);
  v1::ScrollResponse response;
  VERITY_RPC_(records, Scroll, request, response);
  ScrollPage page;
  page.version = response.version();
  page.next_cursor = response.next_cursor();
  for (int i = 0; i < response.records_size(); ++i) {
    VERITY_ASSIGN_OR_RETURN(StoredRecord r, FromProto(response.records(i), "records[" + std::to_string(i) + "]"));
    page.records.push_back(std::move(r));
  }
  return page;
}

Result<uint64_t> Client::Count(const std::string& collection, const ReadPoint& at, const std::string& filter) {
  v1::CountRequest request;
  request.set_collection(collection);
  if (!at.is_head()) ReadPointToProto(at, request.mutable_at());
  request.set_filter(filter);
  v1::CountResponse response;
  VERITY_RPC_(records, Count, request, response);
  return response.count();
}

Result<SearchResult> Client::Search(const std::string& collection, const ClientSearch& query) {
  v1::SearchRequest request;
  request.set_collection(collection);
  QueryToProto(query, request.mutable_query());
  v1::SearchResponse response;
  VERITY_RPC_(search, Search, request, response);
  return FromProto(response);
}

Result<std::vector<SearchResult>> Client::BatchSearch(const std::string& collection,
                                                      const std::vector<ClientSearch>& queries) {
  v1::BatchSearchRequest request;
  request.set_collection(collection);
  for (const auto& q : queries) QueryToProto(q, request.add_queries());
  v1::BatchSearchResponse response;
  VERITY_RPC_(search, BatchSearch, request, response);
  std::vector<SearchResult> out;
  for (const auto& r : response.results()) {
    VERITY_ASSIGN_OR_RETURN(SearchResult result, FromProto(r));
    out.push_back(std::move(result));
  }
  return out;
}

struct SearchStream::Call {
  grpc::ClientContext context;
  std::string collection;
  std::unique_ptr<grpc::ClientReaderWriter<v1::SearchRequest, v1::SearchStreamResponse>> stream;
  v1::SearchRequest request;
  v1::SearchStreamResponse answer;
  std::optional<Status> final;  // set once the call has ended
};

SearchStream::SearchStream(std::unique_ptr<Call> call) : call_(std::move(call)) {}

SearchStream::~SearchStream() { (void)Close(); }

Result<SearchResult> SearchStream::Search(const ClientSearch& query) {
  Call& c = *call_;
  if (c.final) return c.final->ok() ? Status::FailedPrecondition("the search stream is closed") : *c.final;
  c.request.Clear();
  c.request.set_collection(c.collection);
  QueryToProto(query, c.request.mutable_query());
  if (!c.stream->Write(c.request) || !c.stream->Read(&c.answer)) {
    // Broken: the call's status says why (a stream that ends OK here means
    // the server went away mid-stream).
    Status status = FromGrpc(c.stream->Finish());
    if (status.ok()) status = Status::Unavailable("the search stream ended before its answer arrived");
    c.final = status;
    return status;
  }
  if (c.answer.code() != 0) {
    return FromGrpc(grpc::Status(static_cast<grpc::StatusCode>(c.answer.code()), c.answer.message()));
  }
  return FromProto(c.answer.response());
}

Status SearchStream::Close() {
  Call& c = *call_;
  if (!c.final) {
    c.stream->WritesDone();
    while (c.stream->Read(&c.answer)) {
    }
    c.final = FromGrpc(c.stream->Finish());
  }
  return *c.final;
}

Result<std::unique_ptr<SearchStream>> Client::OpenSearchStream(const std::string& collection,
                                                               std::chrono::milliseconds lifetime) {
  VERITY_RETURN_IF_ERROR(init_status_);
  auto call = std::make_unique<SearchStream::Call>();
  call->collection = collection;
  PrepareCall(&call->context, lifetime);
  call->stream = stubs_->search->SearchStream(&call->context);
  return std::unique_ptr<SearchStream>(new SearchStream(std::move(call)));
}

Result<SnapshotInfo> Client::CreateSnapshot(const std::string& collection, const std::string& name,
                                            const std::string& description, const ReadPoint& at) {
  v1::CreateSnapshotRequest request;
  request.set_collection(collection);
  request.set_name(name);
  request.set_description(description);
  if (!at.is_head()) ReadPointToProto(at, request.mutable_at());
  v1::CreateSnapshotResponse response;
  VERITY_RPC_(snapshots, CreateSnapshot, request, response);
  return FromProto(response.snapshot());
}

Result<SnapshotInfo> Client::GetSnapshot(const std::string& collection, const std::string& name) {
  v1::GetSnapshotRequest request;
  request.set_collection(collection);
  request.set_name(name);
  v1::GetSnapshotResponse response;
  VERITY_RPC_(snapshots, GetSnapshot, request, response);
  return FromProto(response.snapshot());
}

Result<std::vector<SnapshotInfo>> Client::ListSnapshots(const std::string& collection) {
  v1::ListSnapshotsRequest request;
  request.set_collection(collection);
  v1::ListSnapshotsResponse response;
  VERITY_RPC_(snapshots, ListSnapshots, request, response);
  std::vector<SnapshotInfo> out;
  for (const auto& s : response.snapshots()) out.push_back(FromProto(s));
  return out;
}

Status Client::DeleteSnapshot(const std::string& collection, const std::string& name) {
  v1::DeleteSnapshotRequest request;
  request.set_collection(collection);
  request.set_name(name);
  v1::DeleteSnapshotResponse response;
  VERITY_RPC_(snapshots, DeleteSnapshot, request, response);
  return Status::Ok();
}

Result<DiffPage> Client::Diff(const std::string& collection, const ReadPoint& from, const ReadPoint& to,
                              const std::string& start_after, uint32_t limit) {
  v1::DiffRequest request;
  request.set_collection(collection);
  if (!from.is_head()) ReadPointToProto(from, request.mutable_from());
  if (!to.is_head()) ReadPointToProto(to, request.mutable_to());
  request.set_start_after(start_after);
  request.set_limit(limit);
  v1::DiffResponse response;
  VERITY_RPC_(snapshots, Diff, request, response);
  return FromProto(response);
}

Result<RestoreResult> Client::Restore(const std::string& collection, const ReadPoint& at, const std::string& into) {
  v1::RestoreRequest request;
  request.set_collection(collection);
  if (!at.is_head()) ReadPointToProto(at, request.mutable_at());
  request.set_into(into);
  v1::RestoreResponse response;
  VERITY_RPC_(snapshots, Restore, request, response);
  return FromProto(response);
}

Result<GcResult> Client::Gc(const std::string& collection) {
  v1::GcRequest request;
  request.set_collection(collection);
  v1::GcResponse response;
  VERITY_RPC_(snapshots, Gc, request, response);
  return FromProto(response);
}

Result<CollectionInfo> Client::SetRetention(const std::string& collection, std::optional<uint32_t> keep_versions,
                                            std::optional<int64_t> keep_seconds) {
  v1::SetRetentionRequest request;
  request.set_collection(collection);
  if (keep_versions) request.set_keep_versions(*keep_versions);
  if (keep_seconds) request.set_keep_seconds(*keep_seconds);
  v1::SetRetentionResponse response;
  VERITY_RPC_(snapshots, SetRetention, request, response);
  return FromProto(response.collection());
}

namespace {

// Reads a server stream of progress messages and one final result (the
// Export and Import responses share that shape). `on_result` converts it.
template <typename Response, typename Reader, typename OnResult>
Status ReadTransfer(Reader* reader, const ProgressFunction& progress, OnResult&& on_result) {
  Response message;
  bool have_result = false;
  while (reader->Read(&message)) {
    if (message.has_progress()) {
      if (progress) progress(message.progress().bytes_done(), message.progress().bytes_total());
    } else if (message.has_result()) {
      on_result(message);
      have_result = true;
    }
  }
  VERITY_RETURN_IF_ERROR(FromGrpc(reader->Finish()));
  if (!have_result) return Status(StatusCode::kInternal, "the server ended the stream without a result");
  return Status::Ok();
}

}  // namespace

Result<ExportResult> Client::Export(const std::string& collection, const ReadPoint& at, const std::string& name,
                                    const ProgressFunction& progress) {
  v1::ExportRequest request;
  request.set_collection(collection);
  if (!at.is_head()) ReadPointToProto(at, request.mutable_at());
  request.set_name(name);
  VERITY_RETURN_IF_ERROR(init_status_);
  grpc::ClientContext ctx;
  PrepareCall(&ctx, options_.transfer_timeout);
  auto reader = stubs_->snapshots->Export(&ctx, request);
  ExportResult result;
  VERITY_RETURN_IF_ERROR(ReadTransfer<v1::ExportResponse>(
      reader.get(), progress, [&](const v1::ExportResponse& m) { result = FromProto(m.result()); }));
  return result;
}

Result<ImportResult> Client::Import(const std::string& name, const std::string& as_name, bool replace,
                                    const ProgressFunction& progress) {
  v1::ImportRequest request;
  request.set_name(name);
  request.set_as_name(as_name);
  request.set_replace(replace);
  VERITY_RETURN_IF_ERROR(init_status_);
  grpc::ClientContext ctx;
  PrepareCall(&ctx, options_.transfer_timeout);
  auto reader = stubs_->snapshots->Import(&ctx, request);
  ImportResult result;
  VERITY_RETURN_IF_ERROR(ReadTransfer<v1::ImportResponse>(
      reader.get(), progress, [&](const v1::ImportResponse& m) { result = FromProto(m.result()); }));
  return result;
}

Result<RetrieveResult> Client::Retrieve(const RetrieveRequest& retrieve) {
  v1::RetrieveRequest request;
  ToProto(retrieve, &request);
  v1::RetrieveResponse response;
  VERITY_RPC_(context, Retrieve, request, response);
  return FromProto(response);
}

Result<LogRecord> Client::RecordAnswer(const AnswerRequest& answer) {
  v1::RecordAnswerRequest request;
  ToProto(answer, &request);
  v1::RecordAnswerResponse response;
  VERITY_RPC_(context, RecordAnswer, request, response);
  return FromProto(response.record(), "record");
}

Result<std::pair<LogRecord, std::optional<LogRecord>>> Client::GetRetrieval(const std::string& retrieval_id) {
  v1::GetRetrievalRequest request;
  request.set_retrieval_id(retrieval_id);
  v1::GetRetrievalResponse response;
  VERITY_RPC_(log, GetRetrieval, request, response);
  VERITY_ASSIGN_OR_RETURN(LogRecord retrieval, FromProto(response.retrieval(), "retrieval"));
  std::optional<LogRecord> answer;
  if (response.has_answer()) {
    VERITY_ASSIGN_OR_RETURN(LogRecord a, FromProto(response.answer(), "answer"));
    answer = std::move(a);
  }
  return std::make_pair(std::move(retrieval), std::move(answer));
}

Result<LogPage> Client::ListLog(const LogQuery& query, bool with_vectors) {
  v1::ListLogRequest request;
  ToProto(query, &request);
  request.set_with_vectors(with_vectors);
  v1::ListLogResponse response;
  VERITY_RPC_(log, ListLog, request, response);
  return FromProto(response);
}

Result<LogVerifyResult> Client::VerifyLog() {
  v1::VerifyLogRequest request;
  v1::VerifyLogResponse response;
  VERITY_RPC_(log, VerifyLog, request, response);
  return FromProto(response);
}

Result<ReplayResult> Client::Replay(const ReplayRequest& replay) {
  v1::ReplayRequest request;
  ToProto(replay, &request);
  v1::ReplayResponse response;
  VERITY_RPC_(log, Replay, request, response);
  return FromProto(response);
}

Result<AuditResult> Client::Audit(const AuditRequest& audit) {
  v1::AuditRequest request;
  ToProto(audit, &request);
  v1::AuditResponse response;
  VERITY_RPC_(log, Audit, request, response);
  return FromProto(response, "");
}

Result<BatchAuditResult> Client::AuditCollection(const BatchAuditRequest& audit) {
  v1::AuditCollectionRequest request;
  ToProto(audit, &request);
  v1::AuditCollectionResponse response;
  VERITY_RPC_(log, AuditCollection, request, response);
  return FromProto(response);
}

// --- Prompt registry ------------------------------------------------------------

Result<PromptVersion> Client::CreatePromptVersion(const PromptDraft& draft) {
  v1::CreatePromptVersionRequest request;
  wire::ToProto(draft, &request);
  v1::CreatePromptVersionResponse response;
  VERITY_RPC_(prompts, CreatePromptVersion, request, response);
  return wire::FromProto(response.prompt());
}

Result<PromptVersion> Client::GetPrompt(const PromptRef& ref) {
  v1::GetPromptRequest request;
  wire::ToProto(ref, request.mutable_prompt());
  v1::GetPromptResponse response;
  VERITY_RPC_(prompts, GetPrompt, request, response);
  return wire::FromProto(response.prompt());
}

Result<std::vector<PromptInfo>> Client::ListPrompts() {
  v1::ListPromptsRequest request;
  v1::ListPromptsResponse response;
  VERITY_RPC_(prompts, ListPrompts, request, response);
  std::vector<PromptInfo> out;
  for (const auto& p : response.prompts()) out.push_back(wire::FromProto(p));
  return out;
}

Result<std::vector<PromptVersion>> Client::ListPromptVersions(const std::string& name) {
  VERITY_RETURN_IF_ERROR(init_status_);
  v1::ListPromptVersionsRequest request;
  request.set_name(name);
  request.set_limit(100);  // each version carries its template (up to 256 KiB)
  std::vector<PromptVersion> out;
  VERITY_RETURN_IF_ERROR(ReadEveryPage<v1::ListPromptVersionsResponse>(
      "ListPromptVersions", request,
      [&](const v1::ListPromptVersionsRequest& page, v1::ListPromptVersionsResponse* response) {
        grpc::ClientContext ctx;
        PrepareCall(&ctx, options_.timeout);
        return FromGrpc(stubs_->prompts->ListPromptVersions(&ctx, page, response));
      },
      [&](const v1::ListPromptVersionsResponse& response) {
        for (const auto& p : response.versions()) out.push_back(wire::FromProto(p));
      }));
  return out;
}

Result<PromptDiff> Client::DiffPrompt(const std::string& name, uint32_t from, uint32_t to) {
  v1::DiffPromptRequest request;
  request.set_name(name);
  request.set_from_version(from);
  request.set_to_version(to);
  v1::DiffPromptResponse response;
  VERITY_RPC_(prompts, DiffPrompt, request, response);
  return wire::FromProto(response, name, from, to);
}

Result<PromptLabelEvent> Client::SetPromptLabel(const std::string& name, const std::string& label, uint32_t version,
                                                const std::string& actor) {
  v1::SetPromptLabelRequest request;
  request.set_name(name);
  request.set_label(label);
  request.set_version(version);
  request.set_actor(actor);
  v1::SetPromptLabelResponse response;
  VERITY_RPC_(prompts, SetPromptLabel, request, response);
  return wire::FromProto(response.move(), name);
}

Result<std::vector<PromptLabelEvent>> Client::PromptLabelHistory(const std::string& name, const std::string& label) {
  v1::GetLabelHistoryRequest request;
  request.set_name(name);
  request.set_label(label);
  v1::GetLabelHistoryResponse response;
  VERITY_RPC_(prompts, GetLabelHistory, request, response);
  std::vector<PromptLabelEvent> out;
  for (const auto& m : response.moves()) out.push_back(wire::FromProto(m, name));
  return out;
}

Result<std::pair<std::string, uint32_t>> Client::RenderPrompt(const PromptRef& ref,
                                                              const std::map<std::string, std::string>& variables) {
  v1::RenderPromptRequest request;
  wire::ToProto(ref, request.mutable_prompt());
  for (const auto& [k, v] : variables) (*request.mutable_variables())[k] = v;
  v1::RenderPromptResponse response;
  VERITY_RPC_(prompts, RenderPrompt, request, response);
  return std::make_pair(response.text(), response.version());
}

// --- Answer cache ---------------------------------------------------------------

Status Client::CacheStore(const CacheStoreRequest& request) {
  v1::CacheStoreRequest wire_request;
  wire::ToProto(request, &wire_request);
  v1::CacheStoreResponse response;
  VERITY_RPC_(cache, CacheStore, wire_request, response);
  return Status::Ok();
}

Result<CacheLookupResult> Client::CacheLookup(const CacheLookupRequest& request) {
  if (request.at.is_snapshot()) {  // CacheLookupRequest.at is a version on the wire
    return Status::InvalidArgument("at: a cache lookup reads at the head or a version, not a snapshot");
  }
  v1::CacheLookupRequest wire_request;
  wire::ToProto(request, &wire_request);
  v1::CacheLookupResponse response;
  VERITY_RPC_(cache, CacheLookup, wire_request, response);
  return wire::FromProto(response);
}

Result<CacheStats> Client::GetCacheStats() {
  v1::GetCacheStatsRequest request;
  v1::GetCacheStatsResponse response;
  VERITY_RPC_(cache, GetCacheStats, request, response);
  return wire::FromProto(response);
}

Status Client::ClearCache() {
  v1::ClearCacheRequest request;
  v1::ClearCacheResponse response;
  VERITY_RPC_(cache, ClearCache, request, response);
  return Status::Ok();
}

// --- Monitoring -----------------------------------------------------------------

Result<Annotation> Client::Annotate(const std::string& retrieval_id, bool recompute) {
  v1::AnnotateRequest request;
  request.set_retrieval_id(retrieval_id);
  request.set_recompute(recompute);
  v1::AnnotateResponse response;
  VERITY_RPC_(monitor, Annotate, request, response);
  return wire::FromProto(response.annotation(), "annotation");
}

Result<AnnotateLogResult> Client::AnnotateLog(const AnnotateLogRequest& annotate) {
  v1::AnnotateLogRequest request;
  wire::ToProto(annotate, &request);
  v1::AnnotateLogResponse response;
  VERITY_RPC_(monitor, AnnotateLog, request, response);
  return wire::FromProto(response);
}

Result<MonitorReport> Client::GetMonitorReport(const MonitorReportRequest& report) {
  v1::GetMonitorReportRequest request;
  wire::ToProto(report, &request);
  v1::GetMonitorReportResponse response;
  VERITY_RPC_(monitor, GetMonitorReport, request, response);
  return wire::FromProto(response);
}

Status Client::ResetMonitorReference(const std::string& collection) {
  v1::ResetMonitorReferenceRequest request;
  request.set_collection(collection);
  v1::ResetMonitorReferenceResponse response;
  VERITY_RPC_(monitor, ResetMonitorReference, request, response);
  return Status::Ok();
}

}  // namespace verity
