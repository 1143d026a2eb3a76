// ContextService: the context subsystem. It answers a RAG application's
// retrievals (search, pin the version read, assemble the context within a
// token budget, log the record), records answers, replays a logged
// retrieval (one function per mode, context/replay.cc) and audits an answer
// against the context it was given (the groundedness scorer, groundedness/).
//
// Locks: none of its own. A retrieval takes the collection's pins_mu while
// it pins the version it read (History::PinForLog); the log orders its own
// appends (log/retrieval_log.h).
//
// It may call: collections, history (pins, snapshots' versions), the
// retrieval log, the prompt registry, the groundedness scorer.
//
// Thread-safety: every method is thread-safe. Ownership: it borrows every
// subsystem it calls, and the store; the façade (Database::Impl) owns them
// and keeps them until this is gone.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "collection/collections.h"
#include "history/history.h"
#include "log/retrieval_log.h"
#include "prompts/prompt_registry.h"
#include "storage/store.h"
#include "verity/context.h"
#include "verity/groundedness.h"

namespace verity {

// The longest query text the retrieval log keeps (Retrieve, cache hits).
inline constexpr size_t kMaxLogFieldBytes = 64 * 1024;

class ContextService {
 public:
  ContextService(Store& store, Collections& collections, History& history, RetrievalLog& retrieval_log,
                 PromptRegistry& prompts)
      : store_(store),
        db_(store.db()),
        collections_(collections),
        history_(history),
        retrieval_log_(retrieval_log),
        prompts_(prompts) {}
  ContextService(const ContextService&) = delete;
  ContextService& operator=(const ContextService&) = delete;

  // The public API's work (verity/database.h documents their errors).
  Result<RetrieveResult> Retrieve(const RetrieveRequest& request);
  Result<LogRecord> RecordAnswer(const AnswerRequest& request);
  // Replay (a cache hit replays its source).
  Result<ReplayResult> ReplayOne(const ReplayRequest& request) const;
  // Audit. When the retrieval has no recorded answer and none was given,
  // the status is FailedPrecondition and *unanswered is set
  // (AuditCollection counts those apart); otherwise *unanswered is false.
  Result<AuditResult> AuditOne(const AuditRequest& request, bool* unanswered) const;
  Result<BatchAuditResult> AuditCollection(const BatchAuditRequest& request,
                                           const std::function<Status()>& keep_going) const;
  // Appends the cache-hit record of a lookup that hit (LogKind::kCacheHit)
  // and sets result->retrieval_id / log_seq. Refreshes the log pin of the
  // version read (the rows of the source's context stay while the hit's
  // record is kept). *source_expired is set when the source retrieval is
  // no longer in the log (the hit must not be served); the status is then
  // NotFound. FailedPrecondition on a read-only database.
  Status LogCacheHit(Collection& c, const CacheLookupRequest& request, CacheLookupResult* result, bool* source_expired);

 private:
  struct ReplayRun;  // one replay of a logged retrieval (context/replay.cc)

  // Runs `read` (the retrieval's search, or its filter scan) for `request`
  // and pins the version it read for the log, retrying a head read whose
  // version GC collected in between (a request that named a version or
  // snapshot gets the refusal). A read that gives no context (no chunk, or
  // none within the token budget) is refused before anything is pinned:
  // FailedPrecondition / InvalidArgument.
  Result<SearchResult> ReadPinnedForLog(Collection& c, const RetrieveRequest& request,
                                        const std::function<Result<SearchResult>()>& read);
  // A retrieval by filter alone (no query vector): every record at `at`
  // passing `filter`, in document order (document_id, then id, both in byte
  // order), as hits at distance 0 with their records; `exact` is true.
  // FailedPrecondition when more than `max_chunks` pass (nothing is cut
  // silently); ResourceExhausted ("hits: ...") when their ids, texts and
  // document ids pass `max_payload_bytes` (0 = no bound) twice over the text,
  // as a retrieval's response carries them.
  Result<SearchResult> ScanByFilter(const Collection& c, const Filter& filter, const ReadPoint& at,
                                    uint32_t max_chunks, uint64_t max_payload_bytes) const;
  // The in-context chunks of logged retrieval `r`, read from its rows and
  // checked against the logged hashes. FailedPrecondition when they are no
  // longer stored; DataLoss when a text differs from its hash.
  Status ReadAuditedContext(const LogRecord& r, std::vector<SourceChunk>* chunks) const;

  const Store& store_;     // its read-only switch
  rocksdb::DB* const db_;  // the store's, for read snapshots
  Collections& collections_;
  History& history_;
  RetrievalLog& retrieval_log_;
  PromptRegistry& prompts_;
};

}  // namespace verity
