#include "services.h"

#include <malloc.h>

#include <chrono>
#include <filesystem>
#include <mutex>

#include "convert.h"
#include "log.h"
#include "verity/filter_parser.h"
#include "wire/request_parsing.h"

namespace verity::server {
namespace {

using Clock = std::chrono::steady_clock;

// The deadline a call works under: the client's, or the server default.
Clock::time_point Deadline(const grpc::ServerContextBase* ctx, const ServerOptions& options, Clock::time_point start) {
  const auto fallback = start + std::chrono::milliseconds(options.default_deadline_ms);
  const auto client = ctx->deadline();
  if (client == std::chrono::system_clock::time_point::max()) return fallback;
  const auto remaining = client - std::chrono::system_clock::now();
  return std::min(fallback, start + std::chrono::duration_cast<Clock::duration>(remaining));
}

Status CheckDeadline(const grpc::ServerContextBase* ctx, Clock::time_point deadline) {
  if (ctx->IsCancelled()) return Status(StatusCode::kCancelled, "the client cancelled the call");
  if (Clock::now() > deadline) {
    return Status(StatusCode::kDeadlineExceeded, "deadline exceeded (the server default is --default-deadline-ms)");
  }
  return Status::Ok();
}

using wire::FromProto;
using wire::ToGrpc;
using wire::ToProto;

// The engine's NotFound for a snapshot a read names (its field path, e.g.
// "at.snapshot", or "queries[2].at.snapshot" from a batch) as the request's
// field: "<prefix>.<path>: snapshot ... does not exist". (The engine
// resolves every ReadPoint; a batch's "queries[2]: at.snapshot: ..." reads
// "queries[2].at.snapshot: ...".) Other errors are returned unchanged.
Status NameSnapshotField(const Status& status, const std::string& prefix = "") {
  if (status.reason() != StatusReason::kSnapshotNotFound || status.field().empty()) return status;
  const std::string field = prefix.empty() ? status.field() : prefix + "." + status.field();
  return Status(status.code(), std::string(status.detail())).WithReason(status.reason()).WithField(field);
}

// The legs of a query or retrieval as the wire gives them: the sparse leg
// needs both its field and its vector, and the fusion's leg_limit is bounded
// by --max-k (a leg fetches that many hits): a leg_limit the request sets
// (`wire_leg_limit` != 0) above it is refused, the default (100) is lowered
// to it. `prefix` is "query." (or "queries[2].") for a search, "" for a
// retrieval. The engine checks the rest.
Status CheckLegs(const std::string& sparse_field, const SparseVector& sparse, uint32_t wire_leg_limit,
                 FusionConfig* fusion, const std::string& prefix, const ServerOptions& o) {
  if (sparse_field.empty() && !sparse.indices.empty()) {
    return Status::InvalidArgument(prefix + "sparse_field: empty, but " + prefix + "sparse has " +
                                   std::to_string(sparse.indices.size()) +
                                   " entries (name the sparse field it is a vector of)");
  }
  if (!sparse_field.empty() && sparse.indices.empty()) {
    return Status::InvalidArgument(prefix + "sparse: empty; a sparse query on field \"" + sparse_field.substr(0, 64) +
                                   "\" needs at least one entry");
  }
  if (fusion->leg_limit > o.max_k) {
    if (wire_leg_limit == 0) {
      fusion->leg_limit = o.max_k;
    } else {
      return Status::InvalidArgument(prefix + "fusion.leg_limit: " + std::to_string(fusion->leg_limit) +
                                     " exceeds the server limit --max-k=" + std::to_string(o.max_k));
    }
  }
  return Status::Ok();
}

// A query without any leg: no vector, no text, no sparse vector.
bool NoLeg(const std::vector<float>& vector, const std::string& text, const std::string& sparse_field,
           const SparseVector& sparse) {
  return vector.empty() && text.empty() && sparse_field.empty() && sparse.indices.empty();
}

// The server's own limits on a search query (the engine checks the rest).
Result<SearchRequest> SearchFromProto(const v1::SearchQuery& in, const std::string& field, const ServerOptions& o) {
  VERITY_ASSIGN_OR_RETURN(SearchRequest r, FromProto(in, field));
  if (NoLeg(r.vector, r.text, r.sparse_field, r.sparse)) {
    return Status::InvalidArgument(field + ".vector: empty, and the query has no text or sparse vector either (" +
                                   field + " needs a vector, a text, a sparse vector, or several of them)");
  }
  VERITY_RETURN_IF_ERROR(CheckLegs(r.sparse_field, r.sparse, in.fusion().leg_limit(), &r.fusion, field + ".", o));
  if (r.k > o.max_k) {
    return Status::InvalidArgument(field + ".k: " + std::to_string(r.k) + " exceeds the server limit --max-k=" +
                                   std::to_string(o.max_k));
  }
  r.max_payload_bytes = o.max_message_bytes;  // refused before it is built (ResponseBound)
  return r;
}

Status CheckBatch(size_t n, const ServerOptions& options, const std::string& field) {
  if (n > options.max_batch) {
    return Status::ResourceExhausted(field + ": " + std::to_string(n) + " items exceed the server limit --max-batch=" +
                                     std::to_string(options.max_batch));
  }
  return Status::Ok();
}

// Who may make the call (auth.h); a refusal is logged, one line a second at
// most, for the latest denial with the count.
// Who called, for log lines: gRPC's peer ("ipv4:127.0.0.1:5555"), or for a
// call the HTTP gateway forwarded through the in-process channel, the HTTP
// client's address ("http:127.0.0.1:5555"; kHttpPeerMetadata). The metadata
// is believed only on the in-process channel, which only the gateway uses.
std::string Peer(const grpc::ServerContextBase* ctx) {
  std::string peer = ctx->peer();
  const bool network = peer.rfind("ipv4:", 0) == 0 || peer.rfind("ipv6:", 0) == 0 || peer.rfind("unix:", 0) == 0;
  if (network) return peer;
  const auto& metadata = ctx->client_metadata();
  const auto found = metadata.find(kHttpPeerMetadata);
  if (found == metadata.end()) return peer;
  return "http:" + std::string(found->second.data(), found->second.size());
}

Status Authorize(const grpc::ServerContextBase* ctx, const char* method, const ServiceDeps& deps, std::string* caller) {
  Status status = deps.auth->Check(*ctx, method, caller);
  if (!status.ok()) {
    if (const uint64_t n = deps.denials->CountAndTakeIfDue(); n > 0) {
      Log("warn", "request_denied",
          {{"method", method},
           {"code", StatusCodeName(status.code())},
           {"message", status.message()},
           {"peer", Peer(ctx)},
           {"denied_since_last_line", std::to_string(n)}});
    }
  }
  return status;
}

// What a caller can do when `method`'s response is too large to send.
const char* ShrinkHint(const std::string& method) {
  if (method == "Search" || method == "SearchStream" || method == "BatchSearch") {
    return "ask for fewer hits (k) or leave out payloads (with_payload, with_vectors)";
  }
  if (method == "Retrieve") return "ask for fewer chunks (k): the response holds each chunk's text and the context";
  if (method == "AuditCollection") return "narrow the time range or lower max_retrievals";
  if (method == "ListPromptVersions") return "ask for fewer versions a page (limit): each carries its template";
  if (method == "ListVersions") return "ask for a page at a time (limit)";
  if (method == "GetMonitorReport") {
    return "use fewer buckets (bucket_seconds, or a narrower range) or lower max_flagged and ids_per_bucket";
  }
  return "raise --max-message-bytes, and the client's receive limit, to read it";
}

// The engine's refusal of a response over a bound the server gave it
// (SearchRequest::max_payload_bytes, BatchLimits, ...; the status's reason
// says which), naming the server's limit and what to ask for instead.
Status ResponseBound(const Status& status, const char* method, const ServerOptions& options) {
  if (status.code() != StatusCode::kResourceExhausted) return status;
  switch (status.reason()) {
    case StatusReason::kBatchHitsOverLimit:
      return Status(status.code(), status.message() + " (the server limit --max-batch-hits=" +
                                       std::to_string(options.max_batch_hits) + ")")
          .WithReason(status.reason());
    case StatusReason::kResponseTooLarge:
      return Status(status.code(), status.message() + " (the server limit --max-message-bytes=" +
                                       std::to_string(options.max_message_bytes) + "); " + ShrinkHint(method))
          .WithReason(status.reason());
    default:
      return status;
  }
}

// A response gRPC could not send (it would end the call with a bare
// "Sent message larger than max") is refused here instead, naming the limit,
// and counted and logged as the refusal it is.
Status CheckResponseSize(const google::protobuf::MessageLite* response, const char* method,
                         const ServerOptions& options) {
  if (response == nullptr) return Status::Ok();
  const size_t bytes = response->ByteSizeLong();
  if (bytes <= options.max_message_bytes) return Status::Ok();
  return Status::ResourceExhausted("response: " + std::to_string(bytes) +
                                   " bytes exceed the server limit --max-message-bytes=" +
                                   std::to_string(options.max_message_bytes) + "; " + ShrinkHint(method));
}

// The log line of a call that did not succeed: "error" for the server's own
// failures, "info" for the caller's.
void LogFailure(grpc::ServerContextBase* ctx, const char* method, const Status& status, const std::string& caller) {
  const bool server_side = status.code() == StatusCode::kInternal || status.code() == StatusCode::kDataLoss ||
                           status.code() == StatusCode::kUnavailable || status.code() == StatusCode::kUnknown;
  Log(server_side ? "error" : "info", "request_failed",
      {{"method", method},
       {"code", StatusCodeName(status.code())},
       {"message", status.message()},
       {"peer", Peer(ctx)},
       {"caller", caller}});
}

// One call up to its status: who may make it (Authorize), whether its request
// parsed (wire/request_parsing.h), the call limit and deadline, the body,
// then logging of refusals, errors and slow requests.
template <typename Body>
Status RunCall(grpc::ServerContextBase* ctx, const char* method, const ServiceDeps& deps,
               const google::protobuf::Message& request, const google::protobuf::MessageLite* response,
               Clock::time_point start, Body&& body) {
  const ServerOptions& options = *deps.options;
  std::string caller;
  Status status = Authorize(ctx, method, deps, &caller);
  if (!status.ok()) return status;
  if (std::string error = wire::RequestParseError(request); !error.empty()) {
    status = Status::InvalidArgument(std::move(error));
    LogFailure(ctx, method, status, caller);
    return status;
  }
  if (!deps.limiter->TryAcquire()) {
    if (const uint64_t n = deps.limiter->refusals().CountAndTakeIfDue(); n > 0) {
      Log("warn", "overloaded", {{"refused", std::to_string(n)}, {"max_concurrent_calls", std::to_string(deps.limiter->max())}});
    }
    return Status::ResourceExhausted("server busy: --max-concurrent-calls=" + std::to_string(deps.limiter->max()) +
                                     " calls are already running; retry with backoff");
  }
  struct Release {
    CallLimiter* limiter;
    ~Release() { limiter->Release(); }
  } release{deps.limiter};
  const auto deadline = Deadline(ctx, options, start);
  status = CheckDeadline(ctx, deadline);
  if (status.ok()) status = ResponseBound(body(deadline), method, options);
  if (status.ok()) status = CheckResponseSize(response, method, options);
  const auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  if (!status.ok()) LogFailure(ctx, method, status, caller);
  if (elapsed_ms >= options.slow_request_ms) {
    Log("warn", "slow_request", {{"method", method}, {"ms", std::to_string(elapsed_ms)}, {"caller", caller}});
  }
  return status;
}

// Runs one call (RunCall), counts it in the metrics, refused or served, and
// maps its status: the one place both happen. `request` is the call's (for
// Import, its first message); `response` (null for calls without one, and
// for Export / Import's progress streams) is checked against
// --max-message-bytes.
template <typename Body>
grpc::Status Serve(grpc::ServerContextBase* ctx, const char* method, const ServiceDeps& deps,
                   const google::protobuf::Message& request, const google::protobuf::MessageLite* response,
                   Body&& body) {
  const auto start = Clock::now();
  const Status status = RunCall(ctx, method, deps, request, response, start, std::forward<Body>(body));
  deps.metrics->RecordCall(method, status.code(), Clock::now() - start);
  return ToGrpc(status);
}

}  // namespace

grpc::Status ServeCall(grpc::ServerContextBase* ctx, const char* method, const ServiceDeps& deps,
                       const google::protobuf::Message& request, const google::protobuf::MessageLite* response,
                       const std::function<Status()>& body) {
  return Serve(ctx, method, deps, request, response, [&](auto) { return body(); });
}

bool CallLimiter::TryAcquire() {
  if (in_flight_.fetch_add(1, std::memory_order_relaxed) >= max_) {
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

uint64_t LogThrottle::CountAndTakeIfDue() {
  const uint64_t total = total_.fetch_add(1, std::memory_order_relaxed) + 1;
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
  int64_t last = last_report_ms_.load(std::memory_order_relaxed);
  if (now_ms - last < 1000 || !last_report_ms_.compare_exchange_strong(last, now_ms)) return 0;
  const uint64_t reported = reported_.exchange(total, std::memory_order_relaxed);
  return total > reported ? total - reported : 0;
}

// ----- CollectionService ------------------------------------------------------

grpc::Status CollectionServiceImpl::CreateCollection(grpc::ServerContext* ctx, const v1::CreateCollectionRequest* req,
                                                     v1::CreateCollectionResponse* resp) {
  return Serve(ctx, "CreateCollection", deps_, *req, resp, [&](auto) -> Status {
    VERITY_ASSIGN_OR_RETURN(CollectionConfig config, FromProto(req->config()));
    if (config.dimension > options_->max_dimension) {
      return Status::InvalidArgument("config.dimension: " + std::to_string(config.dimension) +
                                     " exceeds the server limit --max-dimension=" +
                                     std::to_string(options_->max_dimension));
    }
    auto info = db_->CreateCollection(config);
    if (info.status().code() == StatusCode::kInvalidArgument) {
      // The engine names the config's own fields ("dimension: ..."); on the
      // wire they are the request's config.dimension, ...
      return Status(StatusCode::kInvalidArgument, "config." + info.status().message());
    }
    if (!info.ok()) return info.status();
    ToProto(*info, resp->mutable_collection());
    return Status::Ok();
  });
}

grpc::Status CollectionServiceImpl::GetCollection(grpc::ServerContext* ctx, const v1::GetCollectionRequest* req,
                                                  v1::GetCollectionResponse* resp) {
  return Serve(ctx, "GetCollection", deps_, *req, resp, [&](auto) -> Status {
    VERITY_ASSIGN_OR_RETURN(CollectionInfo info, db_->GetCollection(req->name()));
    ToProto(info, resp->mutable_collection());
    return Status::Ok();
  });
}

grpc::Status CollectionServiceImpl::SetTextIndex(grpc::ServerContext* ctx, const v1::SetTextIndexRequest* req,
                                                 v1::SetTextIndexResponse* resp) {
  return Serve(ctx, "SetTextIndex", deps_, *req, resp, [&](auto) -> Status {
    if (!req->has_text_index()) {
      return Status::InvalidArgument("text_index: unset; a text index cannot be removed (give the settings to change "
                                     "it to)");
    }
    VERITY_ASSIGN_OR_RETURN(TextIndexConfig settings, FromProto(req->text_index(), "text_index"));
    auto info = db_->SetTextIndex(req->collection(), settings);
    if (!info.ok()) return info.status();  // the engine names text_index.* as the request does
    ToProto(*info, resp->mutable_collection());
    return Status::Ok();
  });
}

grpc::Status CollectionServiceImpl::ListCollections(grpc::ServerContext* ctx, const v1::ListCollectionsRequest* req,
                                                    v1::ListCollectionsResponse* resp) {
  return Serve(ctx, "ListCollections", deps_, *req, resp, [&](auto) -> Status {
    VERITY_ASSIGN_OR_RETURN(auto all, db_->ListCollections());
    for (const auto& info : all) ToProto(info, resp->add_collections());
    return Status::Ok();
  });
}

grpc::Status CollectionServiceImpl::DropCollection(grpc::ServerContext* ctx, const v1::DropCollectionRequest* req,
                                                   v1::DropCollectionResponse*) {
  return Serve(ctx, "DropCollection", deps_, *req, nullptr,
               [&](auto) -> Status { return db_->DropCollection(req->name()); });
}

grpc::Status CollectionServiceImpl::ListVersions(grpc::ServerContext* ctx, const v1::ListVersionsRequest* req,
                                                 v1::ListVersionsResponse* resp) {
  return Serve(ctx, "ListVersions", deps_, *req, resp, [&](auto) -> Status {
    // limit 0: every version (as before pages existed; a response over
    // --max-message-bytes is refused, saying to page).
    VERITY_ASSIGN_OR_RETURN(VersionPage page, db_->ListVersionsPage(req->collection(), req->start_at(), req->limit()));
    for (const auto& v : page.versions) ToProto(v, resp->add_versions());
    resp->set_next_start_at(page.next_start_at);
    return Status::Ok();
  });
}

// ----- RecordService ----------------------------------------------------------

grpc::Status RecordServiceImpl::Upsert(grpc::ServerContext* ctx, const v1::UpsertRequest* req, v1::WriteResponse* resp) {
  return Serve(ctx, "Upsert", deps_, *req, resp, [&](auto) -> Status {
    VERITY_RETURN_IF_ERROR(CheckBatch(static_cast<size_t>(req->records_size()), *options_, "records"));
    std::vector<Record> records;
    records.reserve(static_cast<size_t>(req->records_size()));
    for (int i = 0; i < req->records_size(); ++i) {
      VERITY_ASSIGN_OR_RETURN(Record r, FromProto(req->records(i), "records[" + std::to_string(i) + "]"));
      records.push_back(std::move(r));
    }
    VERITY_ASSIGN_OR_RETURN(WriteResult w, db_->Upsert(req->collection(), std::move(records)));
    resp->set_version(w.version);
    resp->set_applied(w.applied);
    return Status::Ok();
  });
}

grpc::Status RecordServiceImpl::Delete(grpc::ServerContext* ctx, const v1::DeleteRequest* req, v1::WriteResponse* resp) {
  return Serve(ctx, "Delete", deps_, *req, resp, [&](auto) -> Status {
    VERITY_RETURN_IF_ERROR(CheckBatch(static_cast<size_t>(req->ids_size()), *options_, "ids"));
    std::vector<std::string> ids(req->ids().begin(), req->ids().end());
    VERITY_ASSIGN_OR_RETURN(WriteResult w, db_->Delete(req->collection(), ids));
    resp->set_version(w.version);
    resp->set_applied(w.applied);
    return Status::Ok();
  });
}

grpc::Status RecordServiceImpl::Get(grpc::ServerContext* ctx, const v1::GetRequest* req, v1::GetResponse* resp) {
  return Serve(ctx, "Get", deps_, *req, resp, [&](auto) -> Status {
    VERITY_ASSIGN_OR_RETURN(ReadPoint at, FromProto(req->at(), req->has_at(), "at"));
    VERITY_ASSIGN_OR_RETURN(StoredRecord r, db_->Get(req->collection(), req->id(), at));
    ToProto(r, resp->mutable_record());
    return Status::Ok();
  });
}

grpc::Status RecordServiceImpl::Scroll(grpc::ServerContext* ctx, const v1::ScrollRequest* req, v1::ScrollResponse* resp) {
  return Serve(ctx, "Scroll", deps_, *req, resp, [&](auto) -> Status {
    ScrollRequest request;
    VERITY_ASSIGN_OR_RETURN(request.at, FromProto(req->at(), req->has_at(), "at"));
    request.start_after = req->start_after();
    request.limit = req->limit() == 0 ? 100 : req->limit();
    request.with_vectors = req->with_vectors();
    VERITY_ASSIGN_OR_RETURN(request.filter, ParseFilterField(req->filter(), "filter"));
    VERITY_ASSIGN_OR_RETURN(ScrollPage page, db_->Scroll(req->collection(), request));
    resp->set_version(page.version);
    for (const auto& r : page.records) ToProto(r, resp->add_records());
    resp->set_next_cursor(page.next_cursor);
    return Status::Ok();
  });
}

grpc::Status RecordServiceImpl::Count(grpc::ServerContext* ctx, const v1::CountRequest* req, v1::CountResponse* resp) {
  return Serve(ctx, "Count", deps_, *req, resp, [&](auto) -> Status {
    VERITY_ASSIGN_OR_RETURN(std::optional<Filter> filter, ParseFilterField(req->filter(), "filter"));
    VERITY_ASSIGN_OR_RETURN(ReadPoint at, FromProto(req->at(), req->has_at(), "at"));
    VERITY_ASSIGN_OR_RETURN(uint64_t count, db_->Count(req->collection(), at, filter ? &*filter : nullptr));
    resp->set_count(count);
    return Status::Ok();
  });
}

// ----- SearchService ----------------------------------------------------------

Status SearchServiceImpl::SearchOne(const v1::SearchRequest& req, v1::SearchResponse* resp) const {
  VERITY_ASSIGN_OR_RETURN(SearchRequest request, SearchFromProto(req.query(), "query", *options_));
  auto result = db_->Search(req.collection(), request);
  if (result.status().reason() == StatusReason::kSnapshotNotFound) return NameSnapshotField(result.status(), "query");
  // The engine names the query's fields ("vector: ...", "text: ..."); on the
  // wire they are the request's query.vector, query.text, ... Besides bad
  // arguments, a FAILED_PRECONDITION names one too (a text query on a
  // collection without a text index: "query.text: ...").
  const Status& failed = result.status();
  if (failed.code() == StatusCode::kInvalidArgument ||
      (failed.code() == StatusCode::kFailedPrecondition && !failed.field().empty())) {
    return Status(failed.code(), "query." + failed.message()).WithReason(failed.reason());
  }
  if (!result.ok()) return result.status();
  ToProto(*result, resp);
  return Status::Ok();
}

grpc::ServerUnaryReactor* SearchServiceImpl::Search(grpc::CallbackServerContext* ctx, const v1::SearchRequest* req,
                                                     v1::SearchResponse* resp) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(Serve(ctx, "Search", deps_, *req, resp, [&](auto) -> Status { return SearchOne(*req, resp); }));
  return reactor;
}

namespace {

// One SearchStream call. The caller's key is checked when it opens (a
// refusal ends the stream). Then gRPC runs the reactions one at a time: a read
// completes (OnReadDone), the query is served as a unary Search would be
// (Serve: auth, limiter, deadline, metrics, log lines, under the method
// name "SearchStream"), its answer is written, and when the write completes
// (OnWriteDone) the next read starts. So there is one query in flight per
// stream and the answers keep the order of the requests. The reactor
// deletes itself in OnDone, which gRPC calls last.
class SearchStreamReactor final : public grpc::ServerBidiReactor<v1::SearchRequest, v1::SearchStreamResponse> {
 public:
  SearchStreamReactor(grpc::CallbackServerContext* ctx, const SearchServiceImpl* service, const ServiceDeps& deps)
      : ctx_(ctx), service_(service), deps_(deps) {
    std::string caller;
    const Status allowed = Authorize(ctx, "SearchStream", deps, &caller);
    if (!allowed.ok()) {
      deps.metrics->RecordCall("SearchStream", allowed.code(), std::chrono::nanoseconds(0));
      Finish(ToGrpc(allowed));
      return;
    }
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client closed its side, or the call was cancelled
      Finish(grpc::Status::OK);
      return;
    }
    answer_.Clear();
    const grpc::Status status =
        Serve(ctx_, "SearchStream", deps_, request_, answer_.mutable_response(),
              [&](auto) -> Status { return service_->SearchOne(request_, answer_.mutable_response()); });
    if (!status.ok()) {
      answer_.clear_response();
      answer_.set_code(static_cast<int32_t>(status.error_code()));
      answer_.set_message(status.error_message());
    }
    StartWrite(&answer_);
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {  // the stream is broken (cancelled, deadline, peer gone)
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the search stream's answer could not be sent"));
      return;
    }
    StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  grpc::CallbackServerContext* const ctx_;
  const SearchServiceImpl* const service_;
  const ServiceDeps& deps_;
  v1::SearchRequest request_;
  v1::SearchStreamResponse answer_;
};

}  // namespace

grpc::ServerBidiReactor<v1::SearchRequest, v1::SearchStreamResponse>* SearchServiceImpl::SearchStream(
    grpc::CallbackServerContext* ctx) {
  return new SearchStreamReactor(ctx, this, deps_);
}

namespace {

// BatchSearch's reactor: gRPC's default one, plus what happens once the
// answer has been sent. A large answer (up to --max-batch-hits hits, a few
// hundred bytes of small allocations each) is freed then, and glibc is asked
// to give the pages back: it keeps freed memory in the arena of the thread
// that allocated it, so without this a server's resident memory stays at
// the largest answers it ever built, one arena per serving thread.
class BatchSearchReactor final : public grpc::ServerUnaryReactor {
 public:
  explicit BatchSearchReactor(v1::BatchSearchResponse* response) : response_(response) {}

  void OnDone() override {
    size_t hits = 0;
    for (const auto& result : response_->results()) hits += static_cast<size_t>(result.hits_size());
    {
      v1::BatchSearchResponse empty;  // gRPC frees the message only after OnDone; free its contents now
      empty.Swap(response_);
    }
    if (hits >= kTrimAfterHits) malloc_trim(0);
    delete this;
  }

 private:
  static constexpr size_t kTrimAfterHits = 100000;
  v1::BatchSearchResponse* const response_;
};

}  // namespace

grpc::ServerUnaryReactor* SearchServiceImpl::BatchSearch(grpc::CallbackServerContext* ctx,
                                                          const v1::BatchSearchRequest* req,
                                                          v1::BatchSearchResponse* resp) {
  auto* reactor = new BatchSearchReactor(resp);
  reactor->Finish(Serve(ctx, "BatchSearch", deps_, *req, resp, [&](auto deadline) -> Status {
    if (req->queries_size() == 0) return Status::InvalidArgument("queries: the batch is empty");
    VERITY_RETURN_IF_ERROR(CheckBatch(static_cast<size_t>(req->queries_size()), *options_, "queries"));
    std::vector<SearchRequest> requests;
    for (int i = 0; i < req->queries_size(); ++i) {
      VERITY_ASSIGN_OR_RETURN(SearchRequest r,
                              SearchFromProto(req->queries(i), "queries[" + std::to_string(i) + "]", *options_));
      requests.push_back(std::move(r));
    }
    // The deadline is checked before each query: an exact batch can run for
    // many seconds, which a caller that has gone should not cost.
    BatchLimits limits;
    limits.max_response_bytes = options_->max_message_bytes;
    limits.max_hits = options_->max_batch_hits;
    auto results =
        db_->SearchBatch(req->collection(), requests, [&] { return CheckDeadline(ctx, deadline); }, limits);
    if (!results.ok()) return NameSnapshotField(results.status());
    for (const auto& r : *results) ToProto(r, resp->add_results());
    return Status::Ok();
  }));
  return reactor;
}

// ----- SnapshotService --------------------------------------------------------

Result<std::string> ExportPath(const ServerOptions& options, const std::string& name, const std::string& field,
                               bool create_dir) {
  if (name.empty() || name.size() > 128) {
    return Status::InvalidArgument(field + ": must be 1..128 bytes, got " + std::to_string(name.size()));
  }
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == '-';
    if (!ok) {
      std::string shown = name;  // printable in the message
      for (char& ch : shown) if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = '?';
      return Status::InvalidArgument(field + ": \"" + shown +
                                     "\" is not a plain name (only A-Z a-z 0-9 _ . - are allowed)");
    }
  }
  if (name == "." || name == "..") return Status::InvalidArgument(field + ": \"" + name + "\" is not a plain name");
  const std::string dir = options.ExportDir();
  if (create_dir) {
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    if (error) {
      return Status::Unavailable("cannot create the export directory --export-dir=" + dir + ": " + error.message());
    }
  }
  return dir + "/" + name;
}

namespace {

// The engine names an export by its path on the server; the client knows it
// by its name, and need not learn the server's directory layout. This edits
// the text the caller reads and decides nothing (code and reason are kept):
// the path is a value inside the message, in file names of the export too
// ("<path>/manifest.json"), not a field a Status could carry.
Status WithExportName(const Status& status, const std::string& path, const std::string& name) {
  std::string message = status.message();
  for (size_t at = message.find(path); at != std::string::npos; at = message.find(path, at + name.size())) {
    message.replace(at, path.size(), name);
  }
  return Status(status.code(), message).WithReason(status.reason());
}

// Sends the engine's progress reports to a stream: the first, then at most one
// per 100 ms (the result message that follows means "done"), from whichever
// thread the engine calls from. Write failures (the client went away) are
// ignored: the operation itself runs to the end.
template <typename Response>
class ProgressStream {
 public:
  explicit ProgressStream(grpc::ServerWriter<Response>* writer) : writer_(writer) {}
  ProgressFunction Function() {
    return [this](uint64_t done, uint64_t total) {
      std::lock_guard<std::mutex> lock(mu_);
      const auto now = Clock::now();
      if (sent_ && now - last_ < std::chrono::milliseconds(100)) return;
      sent_ = true;
      last_ = now;
      Response message;
      message.mutable_progress()->set_bytes_done(done);
      message.mutable_progress()->set_bytes_total(total);
      writer_->Write(message);
    };
  }
  // The final message; after the engine returned, so no progress report races it.
  bool Finish(const Response& result) {
    std::lock_guard<std::mutex> lock(mu_);
    return writer_->Write(result);
  }

 private:
  grpc::ServerWriter<Response>* writer_;
  std::mutex mu_;
  bool sent_ = false;         // guarded by mu_
  Clock::time_point last_{};  // guarded by mu_
};

}  // namespace

grpc::Status SnapshotServiceImpl::CreateSnapshot(grpc::ServerContext* ctx, const v1::CreateSnapshotRequest* req,
                                                 v1::CreateSnapshotResponse* resp) {
  return Serve(ctx, "CreateSnapshot", deps_, *req, resp, [&](auto) -> Status {
    VERITY_ASSIGN_OR_RETURN(ReadPoint at, FromProto(req->at(), req->has_at(), "at"));
    VERITY_ASSIGN_OR_RETURN(SnapshotInfo info,
                            db_->CreateSnapshot(req->collection(), req->name(), req->description(), at));
    ToProto(info, resp->mutable_snapshot());
    return Status::Ok();
  });
}

grpc::Status SnapshotServiceImpl::GetSnapshot(grpc::ServerContext* ctx, const v1::GetSnapshotRequest* req,
                                              v1::GetSnapshotResponse* resp) {
  return Serve(ctx, "GetSnapshot", deps_, *req, resp, [&](auto) -> Status {
    VERITY_ASSIGN_OR_RETURN(SnapshotInfo info, db_->GetSnapshot(req->collection(), req->name()));
    ToProto(info, resp->mutable_snapshot());
    return Status::Ok();
  });
}

grpc::Status SnapshotServiceImpl::ListSnapshots(grpc::ServerContext* ctx, const v1::ListSnapshotsRequest* req,
                                                v1::ListSnapshotsResponse* resp) {
  return Serve(ctx, "ListSnapshots", deps_, *req, resp, [&](auto) -> Status {
    VERITY_ASSIGN_OR_RETURN(auto all, db_->ListSnapshots(req->collection()));
    for (const auto& info : all) ToProto(info, resp->add_snapshots());
    return Status::Ok();
  });
}

grpc::Status SnapshotServiceImpl::DeleteSnapshot(grpc::ServerContext* ctx, const v1::DeleteSnapshotRequest* req,
                                                 v1::DeleteSnapshotResponse*) {
  return Serve(ctx, "DeleteSnapshot", deps_, *req, nullptr,
               [&](auto) -> Status { return db_->DeleteSnapshot(req->collection(), req->name()); });
}

grpc::Status SnapshotServiceImpl::Diff(grpc::ServerContext* ctx, const v1::DiffRequest* req, v1::DiffResponse* resp) {
  return Serve(ctx, "Diff", deps_, *req, resp, [&](auto deadline) -> Status {
    VERITY_ASSIGN_OR_RETURN(ReadPoint from, FromProto(req->from(), req->has_from(), "from"));
    VERITY_ASSIGN_OR_RETURN(ReadPoint to, FromProto(req->to(), req->has_to(), "to"));
    const uint32_t limit = req->limit() == 0 ? 1000 : req->limit();
    VERITY_ASSIGN_OR_RETURN(DiffPage page, db_->Diff(req->collection(), from, to, req->start_after(), limit,
                                                     [&] { return CheckDeadline(ctx, deadline); }));
    ToProto(page, resp);
    return Status::Ok();
  });
}

grpc::Status SnapshotServiceImpl::Restore(grpc::ServerContext* ctx, const v1::RestoreRequest* req,
                                          v1::RestoreResponse* resp) {
  return Serve(ctx, "Restore", deps_, *req, resp, [&](auto) -> Status {
    VERITY_ASSIGN_OR_RETURN(ReadPoint at, FromProto(req->at(), req->has_at(), "at"));
    if (at.is_head()) return Status::InvalidArgument("at: required (the version or snapshot to restore)");
    VERITY_ASSIGN_OR_RETURN(RestoreResult result, db_->Restore(req->collection(), at, req->into()));
    ToProto(result, resp);
    return Status::Ok();
  });
}

grpc::Status SnapshotServiceImpl::Gc(grpc::ServerContext* ctx, const v1::GcRequest* req, v1::GcResponse* resp) {
  return Serve(ctx, "Gc", deps_, *req, resp, [&](auto) -> Status {
    VERITY_ASSIGN_OR_RETURN(GcResult result, db_->Gc(req->collection()));
    ToProto(result, resp);
    return Status::Ok();
  });
}

grpc::Status SnapshotServiceImpl::SetRetention(grpc::ServerContext* ctx, const v1::SetRetentionRequest* req,
                                               v1::SetRetentionResponse* resp) {
  return Serve(ctx, "SetRetention", deps_, *req, resp, [&](auto) -> Status {
    // Unset fields keep their value. Two concurrent SetRetention calls that
    // set different fields may lose one change (last writer wins).
    VERITY_ASSIGN_OR_RETURN(CollectionInfo before, db_->GetCollection(req->collection()));
    VERITY_ASSIGN_OR_RETURN(RetentionPolicy retention, wire::RetentionFromProto(*req, before.config.retention, ""));
    VERITY_RETURN_IF_ERROR(db_->SetRetention(req->collection(), retention));
    VERITY_ASSIGN_OR_RETURN(CollectionInfo after, db_->GetCollection(req->collection()));
    ToProto(after, resp->mutable_collection());
    return Status::Ok();
  });
}

grpc::Status SnapshotServiceImpl::Export(grpc::ServerContext* ctx, const v1::ExportRequest* req,
                                         grpc::ServerWriter<v1::ExportResponse>* writer) {
  return Serve(ctx, "Export", deps_, *req, nullptr, [&](auto) -> Status {
    VERITY_ASSIGN_OR_RETURN(std::string path, ExportPath(*options_, req->name(), "name", /*create_dir=*/true));
    ReadPoint at;
    if (req->collection().empty()) {
      if (req->has_at() && req->at().point_case() != v1::ReadAt::POINT_NOT_SET) {
        return Status::InvalidArgument("at: only with a collection (an export of every collection is at their heads)");
      }
    } else {
      VERITY_ASSIGN_OR_RETURN(at, FromProto(req->at(), req->has_at(), "at"));
    }
    ProgressStream<v1::ExportResponse> stream(writer);
    auto exported = db_->Export(req->collection(), at, path, stream.Function());
    if (!exported.ok()) return WithExportName(exported.status(), path, req->name());
    const ExportResult& result = *exported;
    v1::ExportResponse last;
    ToProto(result, req->name(), last.mutable_result());
    if (!stream.Finish(last)) return Status(StatusCode::kCancelled, "the client went away before the result was sent");
    return Status::Ok();
  });
}

grpc::Status SnapshotServiceImpl::Import(grpc::ServerContext* ctx, const v1::ImportRequest* req,
                                         grpc::ServerWriter<v1::ImportResponse>* writer) {
  return Serve(ctx, "Import", deps_, *req, nullptr, [&](auto) -> Status {
    VERITY_ASSIGN_OR_RETURN(std::string path, ExportPath(*options_, req->name(), "name", /*create_dir=*/false));
    ProgressStream<v1::ImportResponse> stream(writer);
    auto imported = db_->Import(path, req->as_name(), req->replace(), stream.Function(), options_->max_dimension);
    if (imported.status().reason() == StatusReason::kDimensionOverLimit) {
      return Status(imported.status().code(), imported.status().message() + " (the server limit --max-dimension)")
          .WithReason(imported.status().reason());
    }
    if (!imported.ok()) return WithExportName(imported.status(), path, req->name());
    const ImportResult& result = *imported;
    v1::ImportResponse last;
    ToProto(result, last.mutable_result());
    if (!stream.Finish(last)) return Status(StatusCode::kCancelled, "the client went away before the result was sent");
    return Status::Ok();
  });
}

// ----- ContextService ---------------------------------------------------------

grpc::Status ContextServiceImpl::Retrieve(grpc::ServerContext* ctx, const v1::RetrieveRequest* req,
                                          v1::RetrieveResponse* resp) {
  return Serve(ctx, "Retrieve", deps_, *req, resp, [&](auto) -> Status {
    VERITY_ASSIGN_OR_RETURN(RetrieveRequest request, FromProto(*req));
    const bool no_leg = NoLeg(request.vector, request.text, request.sparse_field, request.sparse);
    if (no_leg && req->filter().empty()) {
      return Status::InvalidArgument(
          "vector: empty, and the retrieval has no text, sparse vector or filter either (it needs a vector, a "
          "text, a sparse vector, several of them, or a filter alone)");
    }
    VERITY_RETURN_IF_ERROR(
        CheckLegs(request.sparse_field, request.sparse, req->fusion().leg_limit(), &request.fusion, "", *options_));
    // A retrieval by filter alone (no leg) takes every chunk the filter
    // matches: unset, k (the most it takes) is the server's --max-k.
    if (no_leg && req->k() == 0) request.k = options_->max_k;
    if (request.k > options_->max_k) {
      return Status::InvalidArgument("k: " + std::to_string(request.k) + " exceeds the server limit --max-k=" +
                                     std::to_string(options_->max_k));
    }
    if (request.vector.size() > options_->max_dimension) {
      return Status::InvalidArgument("vector: has " + std::to_string(request.vector.size()) +
                                     " components; the server limit is --max-dimension=" +
                                     std::to_string(options_->max_dimension));
    }
    request.max_payload_bytes = options_->max_message_bytes;
    VERITY_ASSIGN_OR_RETURN(RetrieveResult result, db_->Retrieve(request));  // an unknown snapshot: "at.snapshot"
    ToProto(result, resp);
    return Status::Ok();
  });
}

grpc::Status ContextServiceImpl::RecordAnswer(grpc::ServerContext* ctx, const v1::RecordAnswerRequest* req,
                                              v1::RecordAnswerResponse* resp) {
  return Serve(ctx, "RecordAnswer", deps_, *req, resp, [&](auto) -> Status {
    VERITY_ASSIGN_OR_RETURN(LogRecord record, db_->RecordAnswer(FromProto(*req)));
    ToProto(record, resp->mutable_record());
    return Status::Ok();
  });
}

// ----- LogService -------------------------------------------------------------

grpc::Status LogServiceImpl::GetRetrieval(grpc::ServerContext* ctx, const v1::GetRetrievalRequest* req,
                                          v1::GetRetrievalResponse* resp) {
  return Serve(ctx, "GetRetrieval", deps_, *req, resp, [&](auto) -> Status {
    VERITY_ASSIGN_OR_RETURN(auto found, db_->GetRetrieval(req->retrieval_id()));
    ToProto(found.first, resp->mutable_retrieval());
    if (found.second) ToProto(*found.second, resp->mutable_answer());
    return Status::Ok();
  });
}

grpc::Status LogServiceImpl::ListLog(grpc::ServerContext* ctx, const v1::ListLogRequest* req,
                                     v1::ListLogResponse* resp) {
  return Serve(ctx, "ListLog", deps_, *req, resp, [&](auto) -> Status {
    VERITY_ASSIGN_OR_RETURN(LogQuery query, FromProto(*req));
    VERITY_ASSIGN_OR_RETURN(LogPage page, db_->ListLog(query));
    for (const auto& record : page.records) ToProto(record, resp->add_records(), req->with_vectors());
    resp->set_next_cursor(page.next_cursor);
    return Status::Ok();
  });
}

grpc::Status LogServiceImpl::VerifyLog(grpc::ServerContext* ctx, const v1::VerifyLogRequest* req,
                                       v1::VerifyLogResponse* resp) {
  return Serve(ctx, "VerifyLog", deps_, *req, resp, [&](auto deadline) -> Status {
    VERITY_ASSIGN_OR_RETURN(LogVerifyResult result, db_->VerifyLog([&] { return CheckDeadline(ctx, deadline); }));
    if (!result.ok) {  // not an error of the call, but an operator wants to see it in the server's log
      Log("error", "log_verify_failed",
          {{"first_bad_seq", std::to_string(result.first_bad_seq)}, {"problem", result.problem}});
    }
    ToProto(result, resp);
    return Status::Ok();
  });
}

grpc::Status LogServiceImpl::Replay(grpc::ServerContext* ctx, const v1::ReplayRequest* req, v1::ReplayResponse* resp) {
  return Serve(ctx, "Replay", deps_, *req, resp, [&](auto) -> Status {
    VERITY_ASSIGN_OR_RETURN(ReplayRequest request, FromProto(*req));
    if (request.mode != ReplayMode::kCounterfactual && !request.at.is_head()) {
      return Status::InvalidArgument(
          "at: only for a counterfactual replay (context and retrieval replays run at the logged version)");
    }
    VERITY_ASSIGN_OR_RETURN(ReplayResult result, db_->Replay(request));  // an unknown snapshot: "at.snapshot"
    ToProto(result, resp);
    return Status::Ok();
  });
}

namespace {

constexpr size_t kMaxAuditAnswerBytes = 1 << 20;  // as RecordAnswer's limit
constexpr uint32_t kMaxAuditWorst = 1000;
constexpr uint32_t kMaxAuditRetrievals = 10000;

// A fraction in [0, 1] (NaN is not), else InvalidArgument naming `field`.
Status CheckFraction(double value, const std::string& field) {
  if (value >= 0 && value <= 1) return Status::Ok();
  return Status::InvalidArgument(field + ": " + std::to_string(value) + " is outside [0, 1]");
}
// Unset is fine (the default applies); a set 0 is a legal 0.
Status CheckFraction(const std::optional<double>& value, const std::string& field) {
  return value ? CheckFraction(*value, field) : Status::Ok();
}

}  // namespace

grpc::Status LogServiceImpl::Audit(grpc::ServerContext* ctx, const v1::AuditRequest* req, v1::AuditResponse* resp) {
  return Serve(ctx, "Audit", deps_, *req, resp, [&](auto) -> Status {
    AuditRequest request = FromProto(*req);
    VERITY_RETURN_IF_ERROR(CheckFraction(request.threshold, "threshold"));
    if (request.answer && request.answer->size() > kMaxAuditAnswerBytes) {
      return Status::InvalidArgument("answer: " + std::to_string(request.answer->size()) + " bytes; at most " +
                                     std::to_string(kMaxAuditAnswerBytes));
    }
    VERITY_ASSIGN_OR_RETURN(AuditResult result, db_->Audit(request));
    deps_.metrics->RecordGroundedness(result.result.g, /*batch=*/false);
    ToProto(result, resp);
    return Status::Ok();
  });
}

grpc::Status LogServiceImpl::AuditCollection(grpc::ServerContext* ctx, const v1::AuditCollectionRequest* req,
                                             v1::AuditCollectionResponse* resp) {
  return Serve(ctx, "AuditCollection", deps_, *req, resp, [&](auto deadline) -> Status {
    BatchAuditRequest request = FromProto(*req);
    VERITY_RETURN_IF_ERROR(CheckFraction(request.threshold, "threshold"));
    VERITY_RETURN_IF_ERROR(CheckFraction(request.low_g, "low_g"));
    if (request.worst > kMaxAuditWorst) {
      return Status::InvalidArgument("worst: " + std::to_string(request.worst) + " exceeds " +
                                     std::to_string(kMaxAuditWorst));
    }
    if (request.max_retrievals > kMaxAuditRetrievals) {
      return Status::InvalidArgument("max_retrievals: " + std::to_string(request.max_retrievals) + " exceeds " +
                                     std::to_string(kMaxAuditRetrievals));
    }
    request.max_result_bytes = options_->max_message_bytes;
    VERITY_ASSIGN_OR_RETURN(BatchAuditResult result,
                            db_->AuditCollection(request, [&] { return CheckDeadline(ctx, deadline); }));
    for (const auto& audit : result.audits) deps_.metrics->RecordGroundedness(audit.result.g, /*batch=*/true);
    ToProto(result, resp);
    return Status::Ok();
  });
}

// ----- PromptService ----------------------------------------------------------

grpc::Status PromptServiceImpl::CreatePromptVersion(grpc::ServerContext* ctx, const v1::CreatePromptVersionRequest* req,
                                                    v1::CreatePromptVersionResponse* resp) {
  return Serve(ctx, "CreatePromptVersion", deps_, *req, resp, [&](auto) -> Status {
    VERITY_ASSIGN_OR_RETURN(PromptVersion p, db_->CreatePromptVersion(wire::FromProto(*req)));
    wire::ToProto(p, resp->mutable_prompt());
    return Status::Ok();
  });
}

grpc::Status PromptServiceImpl::GetPrompt(grpc::ServerContext* ctx, const v1::GetPromptRequest* req,
                                          v1::GetPromptResponse* resp) {
  return Serve(ctx, "GetPrompt", deps_, *req, resp, [&](auto) -> Status {
    VERITY_ASSIGN_OR_RETURN(PromptVersion p, db_->GetPrompt(wire::FromProto(req->prompt())));
    wire::ToProto(p, resp->mutable_prompt());
    return Status::Ok();
  });
}

grpc::Status PromptServiceImpl::ListPrompts(grpc::ServerContext* ctx, const v1::ListPromptsRequest* req,
                                            v1::ListPromptsResponse* resp) {
  return Serve(ctx, "ListPrompts", deps_, *req, resp, [&](auto) -> Status {
    VERITY_ASSIGN_OR_RETURN(auto all, db_->ListPrompts());
    for (const auto& info : all) wire::ToProto(info, resp->add_prompts());
    return Status::Ok();
  });
}

grpc::Status PromptServiceImpl::ListPromptVersions(grpc::ServerContext* ctx, const v1::ListPromptVersionsRequest* req,
                                                   v1::ListPromptVersionsResponse* resp) {
  return Serve(ctx, "ListPromptVersions", deps_, *req, resp, [&](auto) -> Status {
    // limit 0: every version (as before pages existed).
    VERITY_ASSIGN_OR_RETURN(PromptVersionPage page,
                            db_->ListPromptVersionsPage(req->name(), req->start_at(), req->limit()));
    for (const auto& p : page.versions) wire::ToProto(p, resp->add_versions());
    resp->set_next_start_at(page.next_start_at);
    return Status::Ok();
  });
}

grpc::Status PromptServiceImpl::DiffPrompt(grpc::ServerContext* ctx, const v1::DiffPromptRequest* req,
                                           v1::DiffPromptResponse* resp) {
  return Serve(ctx, "DiffPrompt", deps_, *req, resp, [&](auto) -> Status {
    VERITY_ASSIGN_OR_RETURN(PromptDiff d, db_->DiffPrompt(req->name(), req->from_version(), req->to_version()));
    wire::ToProto(d, resp);
    return Status::Ok();
  });
}

grpc::Status PromptServiceImpl::SetPromptLabel(grpc::ServerContext* ctx, const v1::SetPromptLabelRequest* req,
                                               v1::SetPromptLabelResponse* resp) {
  return Serve(ctx, "SetPromptLabel", deps_, *req, resp, [&](auto) -> Status {
    VERITY_ASSIGN_OR_RETURN(PromptLabelEvent move,
                            db_->SetPromptLabel(req->name(), req->label(), req->version(), req->actor()));
    wire::ToProto(move, resp->mutable_move());
    return Status::Ok();
  });
}

grpc::Status PromptServiceImpl::GetLabelHistory(grpc::ServerContext* ctx, const v1::GetLabelHistoryRequest* req,
                                                v1::GetLabelHistoryResponse* resp) {
  return Serve(ctx, "GetLabelHistory", deps_, *req, resp, [&](auto) -> Status {
    VERITY_ASSIGN_OR_RETURN(auto moves, db_->PromptLabelHistory(req->name(), req->label()));
    for (const auto& m : moves) wire::ToProto(m, resp->add_moves());
    return Status::Ok();
  });
}

grpc::Status PromptServiceImpl::RenderPrompt(grpc::ServerContext* ctx, const v1::RenderPromptRequest* req,
                                             v1::RenderPromptResponse* resp) {
  return Serve(ctx, "RenderPrompt", deps_, *req, resp, [&](auto) -> Status {
    const PromptRef ref = wire::FromProto(req->prompt());
    VERITY_ASSIGN_OR_RETURN(PromptVersion p, db_->GetPrompt(ref));
    std::map<std::string, std::string> variables(req->variables().begin(), req->variables().end());
    // Render exactly the version read, even if a label moves meanwhile.
    VERITY_ASSIGN_OR_RETURN(std::string text, RenderTemplate(p.template_text, variables));
    resp->set_text(std::move(text));
    resp->set_version(p.version);
    return Status::Ok();
  });
}

// ----- CacheService -----------------------------------------------------------

grpc::Status CacheServiceImpl::CacheStore(grpc::ServerContext* ctx, const v1::CacheStoreRequest* req,
                                          v1::CacheStoreResponse*) {
  return Serve(ctx, "CacheStore", deps_, *req, nullptr,
               [&](auto) -> Status { return db_->CacheStore(wire::FromProto(*req)); });
}

grpc::Status CacheServiceImpl::CacheLookup(grpc::ServerContext* ctx, const v1::CacheLookupRequest* req,
                                           v1::CacheLookupResponse* resp) {
  return Serve(ctx, "CacheLookup", deps_, *req, resp, [&](auto) -> Status {
    VERITY_ASSIGN_OR_RETURN(CacheLookupResult r, db_->CacheLookup(wire::FromProto(*req)));
    wire::ToProto(r, resp);
    return Status::Ok();
  });
}

grpc::Status CacheServiceImpl::GetCacheStats(grpc::ServerContext* ctx, const v1::GetCacheStatsRequest* req,
                                             v1::GetCacheStatsResponse* resp) {
  return Serve(ctx, "GetCacheStats", deps_, *req, resp, [&](auto) -> Status {
    wire::ToProto(db_->GetCacheStats(), resp);
    return Status::Ok();
  });
}

grpc::Status CacheServiceImpl::ClearCache(grpc::ServerContext* ctx, const v1::ClearCacheRequest* req,
                                          v1::ClearCacheResponse*) {
  return Serve(ctx, "ClearCache", deps_, *req, nullptr, [&](auto) -> Status {
    db_->ClearCache();
    return Status::Ok();
  });
}

}  // namespace verity::server
