// The gRPC services of verityd: thin adapters that validate what the engine
// cannot (server limits, deadlines), convert (convert.h), call the engine
// and map its Status. No logic of their own beyond that.
//
// Thread-safety: gRPC calls the methods from its thread pool concurrently;
// they share only the Database (thread-safe) and read-only options.
// Every call is first checked by the Authorizer (auth.h).
// Ownership: the Database, options and Authorizer must outlive the services.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "auth.h"
#include "metrics.h"
#include "server_options.h"
#include "verity/database.h"
#include "verity/v1/cache.grpc.pb.h"
#include "verity/v1/collections.grpc.pb.h"
#include "verity/v1/context.grpc.pb.h"
#include "verity/v1/prompts.grpc.pb.h"
#include "verity/v1/records.grpc.pb.h"
#include "verity/v1/search.grpc.pb.h"
#include "verity/v1/snapshots.grpc.pb.h"

namespace verity::server {

// The call metadata in which the HTTP gateway (http_gateway.h) passes the
// HTTP client's address ("127.0.0.1:5555") to the services' log lines.
inline constexpr char kHttpPeerMetadata[] = "x-verity-http-peer";

// Counts events that are logged at most once a second (a flood of refused
// calls must not become a flood of log lines). Thread-safe.
class LogThrottle {
 public:
  // Counts one event. Returns the events since the last report (this one
  // included) when a report is due — the first event, or a second or more
  // after the last report — and 0 otherwise.
  uint64_t CountAndTakeIfDue();
  uint64_t total() const { return total_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> total_{0};
  std::atomic<uint64_t> reported_{0};
  std::atomic<int64_t> last_report_ms_{-1000000};
};

// Admits at most `max` calls at once; the rest are refused at once with
// RESOURCE_EXHAUSTED instead of queueing without bound. Thread-safe.
class CallLimiter {
 public:
  explicit CallLimiter(uint32_t max) : max_(max) {}
  // True when the call may run; it must then call Release() when done.
  // The caller counts a refused call in refusals().
  bool TryAcquire();
  void Release() { in_flight_.fetch_sub(1, std::memory_order_relaxed); }
  uint32_t max() const { return max_; }
  // Refused calls, counted for a rate-limited log line.
  LogThrottle& refusals() { return refusals_; }

 private:
  const uint32_t max_;
  std::atomic<uint32_t> in_flight_{0};
  LogThrottle refusals_;
};

// What every service shares: the engine, the options, who may call, and
// the limit on calls in flight. Owned by main(); all outlive the services.
struct ServiceDeps {
  Database* db;
  const ServerOptions* options;
  const Authorizer* auth;
  CallLimiter* limiter;
  LogThrottle* denials;  // calls refused by the Authorizer, for the log
  ServerMetrics* metrics;  // every call's method, code and latency
};

// Runs one call as every service's methods do: authorization (the method's
// required_permission), request parsing, the call limit and deadline, then
// `body`, the response size check, logging and metrics; returns the status
// mapped to gRPC. For services outside services.cc (monitor_service.h);
// `response` may be null (a call without one).
grpc::Status ServeCall(grpc::ServerContextBase* ctx, const char* method, const ServiceDeps& deps,
                       const google::protobuf::Message& request, const google::protobuf::MessageLite* response,
                       const std::function<Status()>& body);

class CollectionServiceImpl final : public v1::CollectionService::Service {
 public:
  explicit CollectionServiceImpl(const ServiceDeps& deps) : deps_(deps), db_(deps.db), options_(deps.options) {}
  grpc::Status CreateCollection(grpc::ServerContext* ctx, const v1::CreateCollectionRequest* req,
                                v1::CreateCollectionResponse* resp) override;
  grpc::Status GetCollection(grpc::ServerContext* ctx, const v1::GetCollectionRequest* req,
                             v1::GetCollectionResponse* resp) override;
  grpc::Status SetTextIndex(grpc::ServerContext* ctx, const v1::SetTextIndexRequest* req,
                            v1::SetTextIndexResponse* resp) override;
  grpc::Status ListCollections(grpc::ServerContext* ctx, const v1::ListCollectionsRequest* req,
                               v1::ListCollectionsResponse* resp) override;
  grpc::Status DropCollection(grpc::ServerContext* ctx, const v1::DropCollectionRequest* req,
                              v1::DropCollectionResponse* resp) override;
  grpc::Status ListVersions(grpc::ServerContext* ctx, const v1::ListVersionsRequest* req,
                            v1::ListVersionsResponse* resp) override;

 private:
  const ServiceDeps deps_;
  Database* db_;
  const ServerOptions* options_;
};

class RecordServiceImpl final : public v1::RecordService::Service {
 public:
  explicit RecordServiceImpl(const ServiceDeps& deps) : deps_(deps), db_(deps.db), options_(deps.options) {}
  grpc::Status Upsert(grpc::ServerContext* ctx, const v1::UpsertRequest* req, v1::WriteResponse* resp) override;
  grpc::Status Delete(grpc::ServerContext* ctx, const v1::DeleteRequest* req, v1::WriteResponse* resp) override;
  grpc::Status Get(grpc::ServerContext* ctx, const v1::GetRequest* req, v1::GetResponse* resp) override;
  grpc::Status Scroll(grpc::ServerContext* ctx, const v1::ScrollRequest* req, v1::ScrollResponse* resp) override;
  grpc::Status Count(grpc::ServerContext* ctx, const v1::CountRequest* req, v1::CountResponse* resp) override;

 private:
  const ServiceDeps deps_;
  Database* db_;
  const ServerOptions* options_;
};

// Searches use gRPC's callback API: the handler runs on the thread that read
// the request, one thread hand-off fewer than the sync API per call.
class SearchServiceImpl final : public v1::SearchService::CallbackService {
 public:
  explicit SearchServiceImpl(const ServiceDeps& deps) : deps_(deps), db_(deps.db), options_(deps.options) {}
  grpc::ServerUnaryReactor* Search(grpc::CallbackServerContext* ctx, const v1::SearchRequest* req,
                                   v1::SearchResponse* resp) override;
  grpc::ServerUnaryReactor* BatchSearch(grpc::CallbackServerContext* ctx, const v1::BatchSearchRequest* req,
                                        v1::BatchSearchResponse* resp) override;
  // One reactor per stream (SearchStreamReactor in services.cc): it reads a
  // request, answers it as Search would, writes, and reads the next.
  grpc::ServerBidiReactor<v1::SearchRequest, v1::SearchStreamResponse>* SearchStream(
      grpc::CallbackServerContext* ctx) override;

  // Search's body, shared by the unary call and the stream: the query
  // checked, run and converted into `resp`.
  Status SearchOne(const v1::SearchRequest& req, v1::SearchResponse* resp) const;

 private:
  const ServiceDeps deps_;
  Database* db_;
  const ServerOptions* options_;
};

// Snapshots, diffs, restore, retention, GC, export and import. Export and
// Import stream progress and run for as long as the copy takes; their
// directories are confined to --export-dir (ExportPath).
class SnapshotServiceImpl final : public v1::SnapshotService::Service {
 public:
  explicit SnapshotServiceImpl(const ServiceDeps& deps) : deps_(deps), db_(deps.db), options_(deps.options) {}
  grpc::Status CreateSnapshot(grpc::ServerContext* ctx, const v1::CreateSnapshotRequest* req,
                              v1::CreateSnapshotResponse* resp) override;
  grpc::Status GetSnapshot(grpc::ServerContext* ctx, const v1::GetSnapshotRequest* req,
                           v1::GetSnapshotResponse* resp) override;
  grpc::Status ListSnapshots(grpc::ServerContext* ctx, const v1::ListSnapshotsRequest* req,
                             v1::ListSnapshotsResponse* resp) override;
  grpc::Status DeleteSnapshot(grpc::ServerContext* ctx, const v1::DeleteSnapshotRequest* req,
                              v1::DeleteSnapshotResponse* resp) override;
  grpc::Status Diff(grpc::ServerContext* ctx, const v1::DiffRequest* req, v1::DiffResponse* resp) override;
  grpc::Status Restore(grpc::ServerContext* ctx, const v1::RestoreRequest* req, v1::RestoreResponse* resp) override;
  grpc::Status Gc(grpc::ServerContext* ctx, const v1::GcRequest* req, v1::GcResponse* resp) override;
  grpc::Status SetRetention(grpc::ServerContext* ctx, const v1::SetRetentionRequest* req,
                            v1::SetRetentionResponse* resp) override;
  grpc::Status Export(grpc::ServerContext* ctx, const v1::ExportRequest* req,
                      grpc::ServerWriter<v1::ExportResponse>* writer) override;
  grpc::Status Import(grpc::ServerContext* ctx, const v1::ImportRequest* req,
                      grpc::ServerWriter<v1::ImportResponse>* writer) override;

 private:
  const ServiceDeps deps_;
  Database* db_;
  const ServerOptions* options_;
};

// The context service: Retrieve (a search whose result is logged, durably,
// before it is returned) and RecordAnswer. Sync API: a retrieval waits for a
// synced log write anyway, so the callback API's saved hand-off is noise.
class ContextServiceImpl final : public v1::ContextService::Service {
 public:
  explicit ContextServiceImpl(const ServiceDeps& deps) : deps_(deps), db_(deps.db), options_(deps.options) {}
  grpc::Status Retrieve(grpc::ServerContext* ctx, const v1::RetrieveRequest* req, v1::RetrieveResponse* resp) override;
  grpc::Status RecordAnswer(grpc::ServerContext* ctx, const v1::RecordAnswerRequest* req,
                            v1::RecordAnswerResponse* resp) override;

 private:
  const ServiceDeps deps_;
  Database* db_;
  const ServerOptions* options_;
};

// The audit side of the retrieval log: read, list, verify, replay, audit.
class LogServiceImpl final : public v1::LogService::Service {
 public:
  explicit LogServiceImpl(const ServiceDeps& deps) : deps_(deps), db_(deps.db), options_(deps.options) {}
  grpc::Status GetRetrieval(grpc::ServerContext* ctx, const v1::GetRetrievalRequest* req,
                            v1::GetRetrievalResponse* resp) override;
  grpc::Status ListLog(grpc::ServerContext* ctx, const v1::ListLogRequest* req, v1::ListLogResponse* resp) override;
  grpc::Status VerifyLog(grpc::ServerContext* ctx, const v1::VerifyLogRequest* req,
                         v1::VerifyLogResponse* resp) override;
  grpc::Status Replay(grpc::ServerContext* ctx, const v1::ReplayRequest* req, v1::ReplayResponse* resp) override;
  grpc::Status Audit(grpc::ServerContext* ctx, const v1::AuditRequest* req, v1::AuditResponse* resp) override;
  grpc::Status AuditCollection(grpc::ServerContext* ctx, const v1::AuditCollectionRequest* req,
                               v1::AuditCollectionResponse* resp) override;

 private:
  const ServiceDeps deps_;
  Database* db_;
  const ServerOptions* options_;
};

// The prompt registry: versions, labels, history, diff, render.
class PromptServiceImpl final : public v1::PromptService::Service {
 public:
  explicit PromptServiceImpl(const ServiceDeps& deps) : deps_(deps), db_(deps.db) {}
  grpc::Status CreatePromptVersion(grpc::ServerContext* ctx, const v1::CreatePromptVersionRequest* req,
                                   v1::CreatePromptVersionResponse* resp) override;
  grpc::Status GetPrompt(grpc::ServerContext* ctx, const v1::GetPromptRequest* req,
                         v1::GetPromptResponse* resp) override;
  grpc::Status ListPrompts(grpc::ServerContext* ctx, const v1::ListPromptsRequest* req,
                           v1::ListPromptsResponse* resp) override;
  grpc::Status ListPromptVersions(grpc::ServerContext* ctx, const v1::ListPromptVersionsRequest* req,
                                  v1::ListPromptVersionsResponse* resp) override;
  grpc::Status DiffPrompt(grpc::ServerContext* ctx, const v1::DiffPromptRequest* req,
                          v1::DiffPromptResponse* resp) override;
  grpc::Status SetPromptLabel(grpc::ServerContext* ctx, const v1::SetPromptLabelRequest* req,
                              v1::SetPromptLabelResponse* resp) override;
  grpc::Status GetLabelHistory(grpc::ServerContext* ctx, const v1::GetLabelHistoryRequest* req,
                               v1::GetLabelHistoryResponse* resp) override;
  grpc::Status RenderPrompt(grpc::ServerContext* ctx, const v1::RenderPromptRequest* req,
                            v1::RenderPromptResponse* resp) override;

 private:
  const ServiceDeps deps_;
  Database* db_;
};

// The answer cache: store, lookup, stats, clear.
class CacheServiceImpl final : public v1::CacheService::Service {
 public:
  explicit CacheServiceImpl(const ServiceDeps& deps) : deps_(deps), db_(deps.db) {}
  grpc::Status CacheStore(grpc::ServerContext* ctx, const v1::CacheStoreRequest* req,
                          v1::CacheStoreResponse* resp) override;
  grpc::Status CacheLookup(grpc::ServerContext* ctx, const v1::CacheLookupRequest* req,
                           v1::CacheLookupResponse* resp) override;
  grpc::Status GetCacheStats(grpc::ServerContext* ctx, const v1::GetCacheStatsRequest* req,
                             v1::GetCacheStatsResponse* resp) override;
  grpc::Status ClearCache(grpc::ServerContext* ctx, const v1::ClearCacheRequest* req,
                          v1::ClearCacheResponse* resp) override;

 private:
  const ServiceDeps deps_;
  Database* db_;
};

// The directory of export `name` inside options.export_dir (created if
// missing when `create_dir`). InvalidArgument naming `field` unless name is
// 1..128 of [A-Za-z0-9_.-] and not "." or "..", so that a client can never
// reach outside the export directory; Unavailable if it cannot be created.
Result<std::string> ExportPath(const ServerOptions& options, const std::string& name, const std::string& field,
                               bool create_dir);

}  // namespace verity::server
