// verity::Client: a small typed C++ API over verityd's gRPC services.
//
// Every method is one RPC with the client's timeout as its deadline and
// returns Status / Result<T> with the server's code and message (e.g.
// INVALID_ARGUMENT "records[3].vector[17]: NaN"); transport failures are
// UNAVAILABLE / DEADLINE_EXCEEDED. No exceptions.
//
// Thread-safety: a Client may be used from many threads at once (gRPC stubs
// are thread-safe); share one per process and server.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "verity/cache.h"
#include "verity/context.h"
#include "verity/monitor.h"
#include "verity/prompts.h"
#include "verity/status.h"
#include "verity/types.h"

namespace grpc {
class ClientContext;
}

namespace verity {

struct ClientOptions {
  std::string address = "127.0.0.1:7420";            // HOST:PORT of verityd
  std::chrono::milliseconds timeout{30000};          // deadline of each call
  // Deadline of Export and Import, which copy whole collections.
  // Default: 1 hour
  std::chrono::milliseconds transfer_timeout{3600000};
  int max_message_bytes = 64 << 20;                  // largest message sent or received

  // Security (docs/security.md). The API key goes with every call as
  // metadata `authorization: Bearer <key>`. Default: "" = none
  std::string api_key;
  // TLS: on when `tls` is set or any tls_* file is given. Default: plaintext
  bool tls = false;
  std::string tls_ca_file;    // CA of the server's certificate (PEM); "" = the system's roots
  std::string tls_cert_file;  // mTLS: this client's certificate chain (PEM), with tls_key_file
  std::string tls_key_file;   // mTLS: this client's private key (PEM)
};

// Which version a read sees is a ReadPoint (verity/types.h): the head
// (default), a version number, or the version a snapshot of the same
// collection pins (resolved by the server's engine; NOT_FOUND naming
// "at.snapshot" if it does not exist). It converts implicitly from a Version
// and from std::optional<Version> (nullopt = head), so `Get(c, id, 12)` and
// `Count(c, std::nullopt)` read as before; ReadPoint::AtSnapshot("name")
// names a snapshot.

// A search as the client sends it; the filter is text (docs/filters.md).
// One to three legs (docs/text-search.md): `vector` (dense), `text` (BM25;
// the collection needs a text index) and `sparse` in `sparse_field`; with
// two or more the server fuses them (`fusion`) and each hit carries its
// legs' ranks and scores (SearchHit::dense, text, sparse).
struct ClientSearch {
  std::vector<float> vector;  // empty = no dense leg
  std::string text;           // "" = no text leg
  std::string sparse_field;   // "" = no sparse leg
  SparseVector sparse;
  FusionConfig fusion;        // defaults: RRF, rrf_k 60, weights 1, leg_limit 100
  uint32_t k = 10;
  uint32_t ef = 0;  // 0 = the collection's default
  ReadPoint at;
  std::string filter;  // "" = none
  bool with_payload = true;
  bool with_vectors = false;
  SearchPlan plan = SearchPlan::kAuto;
};

// The analyzer a preset stands for ("standard", "english"; "" =
// "standard"), to set CollectionConfig::text_index.analyzer from before
// changing single fields: the client sends every field of the analyzer as
// it is. InvalidArgument naming "preset" for an unknown one.
Result<AnalyzerConfig> AnalyzerPresetConfig(const std::string& preset);

struct ClientScroll {
  ReadPoint at;
  std::string start_after;
  uint32_t limit = 100;
  std::string filter;
  bool with_vectors = false;
};

// One open SearchStream call (Client::OpenSearchStream) on one collection:
// each Search sends its query on the open stream and waits for the answer.
// For clients with a high query rate: a query on an open stream costs both
// sides less than a call (docs/server.md, "Search streams").
//
// Errors: a refused query returns the status a unary Search would have
// (e.g. INVALID_ARGUMENT "query.vector: ...") and the stream stays usable.
// A broken stream (server gone, the stream's deadline passed) returns the
// call's final status, e.g. UNAVAILABLE or DEADLINE_EXCEEDED, from that
// query and every later one; open a new stream then.
//
// Thread-safety: none; use a stream from one thread at a time, and open one
// stream per thread for parallel queries. The Client must outlive it.
class SearchStream {
 public:
  ~SearchStream();  // closes the stream if Close was not called
  SearchStream(const SearchStream&) = delete;
  SearchStream& operator=(const SearchStream&) = delete;

  Result<SearchResult> Search(const ClientSearch& query);
  // Ends the stream (the client's side, then the call) and returns the
  // call's final status: OK, or the error that broke it. Idempotent.
  Status Close();

 private:
  friend class Client;
  struct Call;
  explicit SearchStream(std::unique_ptr<Call> call);
  std::unique_ptr<Call> call_;
};

class Client {
 public:
  // Creates a channel to options.address; connects lazily on the first call.
  // A TLS file that cannot be read makes every call fail with
  // INVALID_ARGUMENT naming it.
  explicit Client(const ClientOptions& options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const ClientOptions& options() const { return options_; }

  // OK when the server answers SERVING.
  Status Health();

  // A text index (config.text_index.enabled) is sent with its analyzer's
  // every field: start from AnalyzerPresetConfig. dimension 0 with a text
  // index or a sparse field: a collection without dense vectors.
  Result<CollectionInfo> CreateCollection(const CollectionConfig& config);
  Result<CollectionInfo> GetCollection(const std::string& name);
  // Changes the collection's text index (a new analyzer version; every row
  // analysed again): Database::SetTextIndex.
  Result<CollectionInfo> SetTextIndex(const std::string& collection, const TextIndexConfig& text_index);
  Result<std::vector<CollectionInfo>> ListCollections();
  Status DropCollection(const std::string& name);
  // Every version, oldest first, fetched a page (1000 versions) per call.
  Result<std::vector<VersionInfo>> ListVersions(const std::string& collection);

  Result<WriteResult> Upsert(const std::string& collection, const std::vector<Record>& records);
  Result<WriteResult> Delete(const std::string& collection, const std::vector<std::string>& ids);
  Result<StoredRecord> Get(const std::string& collection, const std::string& id, const ReadPoint& at = {});
  Result<ScrollPage> Scroll(const std::string& collection, const ClientScroll& request);
  Result<uint64_t> Count(const std::string& collection, const ReadPoint& at = {}, const std::string& filter = "");
  Result<SearchResult> Search(const std::string& collection, const ClientSearch& query);
  Result<std::vector<SearchResult>> BatchSearch(const std::string& collection,
                                                const std::vector<ClientSearch>& queries);
  // Opens a SearchStream on `collection` (checked with each query, not
  // here). Its deadline is now + `lifetime`, after which it ends with
  // DEADLINE_EXCEEDED. Fails only with a TLS file that cannot be read.
  Result<std::unique_ptr<SearchStream>> OpenSearchStream(const std::string& collection,
                                                         std::chrono::milliseconds lifetime = std::chrono::hours(1));

  // --- Snapshots, history, restore (docs/snapshots.md) ---------------------
  // Pins `at` (default head; may itself name a snapshot) as `name`.
  // ALREADY_EXISTS for a taken name; FAILED_PRECONDITION if collected.
  Result<SnapshotInfo> CreateSnapshot(const std::string& collection, const std::string& name,
                                      const std::string& description = "", const ReadPoint& at = {});
  Result<SnapshotInfo> GetSnapshot(const std::string& collection, const std::string& name);
  Result<std::vector<SnapshotInfo>> ListSnapshots(const std::string& collection);
  Status DeleteSnapshot(const std::string& collection, const std::string& name);
  // One page of the ids that differ from `from` to `to`; pass the previous
  // page's next_cursor as `start_after`. limit 0 = the server's 1000. The
  // server resolves `from` / `to` on each call: for later pages pass the
  // versions the first page reports (DiffPage::from / to), or a head that
  // moved between pages would compare other versions.
  Result<DiffPage> Diff(const std::string& collection, const ReadPoint& from, const ReadPoint& to,
                        const std::string& start_after = "", uint32_t limit = 0);
  // Restores `collection` at `at` (required) as a new head of `into`
  // (default: the collection itself).
  Result<RestoreResult> Restore(const std::string& collection, const ReadPoint& at, const std::string& into = "");
  Result<GcResult> Gc(const std::string& collection);
  // Sets the given rules; an unset one keeps its value. Returns the
  // collection as it is afterwards.
  Result<CollectionInfo> SetRetention(const std::string& collection, std::optional<uint32_t> keep_versions,
                                      std::optional<int64_t> keep_seconds);
  // Exports `collection` at `at` ("" = every collection at its head) to the
  // export directory `name` inside the server's --export-dir. `progress`
  // (optional) is called on this thread with the server's reports. The
  // result's `path` holds the export's name. Deadline: transfer_timeout.
  Result<ExportResult> Export(const std::string& collection, const ReadPoint& at, const std::string& name,
                              const ProgressFunction& progress = nullptr);
  // Imports the export directory `name` of the server's --export-dir.
  // DATA_LOSS naming the file that does not verify; ALREADY_EXISTS without
  // `replace`. Deadline: transfer_timeout.
  Result<ImportResult> Import(const std::string& name, const std::string& as_name = "", bool replace = false,
                              const ProgressFunction& progress = nullptr);

  // --- Context service and retrieval log (docs/retrieval-log.md) ------------
  // Searches and logs the retrieval; the log record is durable before the
  // result arrives. `request.snapshot` names a snapshot (then leave `at`
  // unset); the server logs the name. k 0 means 10. INVALID_ARGUMENT for the
  // vector, k (1..--max-k), ef, the filter; NOT_FOUND for the collection or
  // snapshot.
  Result<RetrieveResult> Retrieve(const RetrieveRequest& request);
  // Logs the answer generated from a retrieval; returns the answer record.
  // NOT_FOUND (retrieval id), ALREADY_EXISTS (it has an answer already),
  // INVALID_ARGUMENT (empty or over 1 MiB).
  Result<LogRecord> RecordAnswer(const AnswerRequest& request);
  // The retrieval record (with its query vector) and its answer record, if
  // any. NOT_FOUND for an unknown retrieval id.
  Result<std::pair<LogRecord, std::optional<LogRecord>>> GetRetrieval(const std::string& retrieval_id);
  // One page of log records; pass the previous page's next_cursor as
  // query.start_after until it is 0 (a page may end early, even empty, with
  // a cursor: see LogPage). Without `with_vectors` retrieval records carry only
  // their query vector's hash. INVALID_ARGUMENT for a limit outside 1..10000.
  Result<LogPage> ListLog(const LogQuery& query, bool with_vectors = false);
  // Walks the hash chain. A chain that does not verify is an OK call with
  // ok == false.
  Result<LogVerifyResult> VerifyLog();
  // Replays a retrieval; for a counterfactual replay `at` / `snapshot`
  // choose the version (default head). NOT_FOUND (retrieval id, snapshot).
  Result<ReplayResult> Replay(const ReplayRequest& request);
  // Scores an answer (the recorded one, or request.answer) against the
  // logged context with the groundedness scorer. NOT_FOUND (retrieval id);
  // FAILED_PRECONDITION (no answer recorded and none given, or the context
  // rows were collected); INVALID_ARGUMENT (threshold outside [0, 1]).
  Result<AuditResult> Audit(const AuditRequest& request);
  // Audits every answered retrieval of a collection in a time range. The
  // result holds every audit (answer and chunk texts included): narrow the
  // range or max_retrievals for large logs. NOT_FOUND (collection);
  // INVALID_ARGUMENT (threshold, low_g, worst over 1000, max_retrievals over
  // 10000).
  Result<BatchAuditResult> AuditCollection(const BatchAuditRequest& request);

  // --- Prompt registry (verity/prompts.h, docs/prompts.md) -----------------
  // INVALID_ARGUMENT for the template (naming the byte offset) or config;
  // NOT_FOUND naming the prompt, version or label.
  Result<PromptVersion> CreatePromptVersion(const PromptDraft& draft);
  Result<PromptVersion> GetPrompt(const PromptRef& ref);
  Result<std::vector<PromptInfo>> ListPrompts();
  Result<std::vector<PromptVersion>> ListPromptVersions(const std::string& name);
  Result<PromptDiff> DiffPrompt(const std::string& name, uint32_t from, uint32_t to);
  Result<PromptLabelEvent> SetPromptLabel(const std::string& name, const std::string& label, uint32_t version,
                                          const std::string& actor = "");
  Result<std::vector<PromptLabelEvent>> PromptLabelHistory(const std::string& name, const std::string& label = "");
  // The rendered text and the version rendered. INVALID_ARGUMENT naming a
  // variable without a value.
  Result<std::pair<std::string, uint32_t>> RenderPrompt(const PromptRef& ref,
                                                        const std::map<std::string, std::string>& variables);

  // --- Answer cache (verity/cache.h, docs/answer-cache.md) -----------------
  // NOT_FOUND (retrieval id), FAILED_PRECONDITION (no answer recorded and
  // none given), INVALID_ARGUMENT (params_json, sizes).
  Status CacheStore(const CacheStoreRequest& request);
  // A miss is an OK result with match kMiss. The wire's CacheLookupRequest
  // carries a version: `at` naming a snapshot is InvalidArgument ("at").
  Result<CacheLookupResult> CacheLookup(const CacheLookupRequest& request);
  Result<CacheStats> GetCacheStats();
  Status ClearCache();

  // --- Monitoring (verity/monitor.h, docs/monitoring.md) -------------------
  // The annotation of a retrieval's (or cache hit's) answer, computed and
  // stored when missing (or always, with `recompute`). NOT_FOUND (retrieval
  // id), FAILED_PRECONDITION (no answer recorded).
  Result<Annotation> Annotate(const std::string& retrieval_id, bool recompute = false);
  // Annotates the answers of a range that have none (or all, with
  // recompute). Needs the admin permission. INVALID_ARGUMENT (range,
  // max_records); NOT_FOUND (collection).
  Result<AnnotateLogResult> AnnotateLog(const AnnotateLogRequest& request);
  // One collection's signals over a range, bucketed, with version markers,
  // flagged answers, per-prompt cost and the live drift. INVALID_ARGUMENT
  // naming the field and its limit (bucket_seconds, low_g, max_flagged, ...);
  // NOT_FOUND (collection).
  Result<MonitorReport> GetMonitorReport(const MonitorReportRequest& request);
  // Forgets the collection's weakness references and drift windows. Needs
  // the admin permission. NOT_FOUND (collection).
  Status ResetMonitorReference(const std::string& collection);

 private:
  struct Stubs;
  ClientOptions options_;
  std::unique_ptr<Stubs> stubs_;
  Status init_status_;  // a TLS file that could not be read

  // Sets the deadline (now + timeout) and the API key of one call.
  void PrepareCall(grpc::ClientContext* ctx, std::chrono::milliseconds timeout) const;
};

}  // namespace verity
