// AnswerCacheService: the answer cache behind Database's cache methods
// (verity/cache.h, docs/answer-cache.md). It checks a request, resolves what
// fences an entry — the collection, the version read, the prompt version
// (through the prompt registry), the model and the canonical parameters —
// and hands the rest to the in-memory store (AnswerCache: exact and
// semantic lookup with the critical-token check, LRU, byte bound).
//
// What it needs from the rest of the engine it is given as `Hooks` by the
// façade (Database::Impl), which keeps the service ignorant of the façade:
// finding a collection, resolving a version in it, reading the source
// retrieval from the retrieval log, and logging a hit. A hit is served only
// once its log record is durable, and never when its source retrieval has
// expired from the log (the entries made from it are then forgotten).
//
// Ownership: owns the AnswerCache; borrows the prompt registry, which the
// façade keeps alive for as long as the service.
//
// Thread-safety: every method is safe to call concurrently. The service
// holds no lock of its own: the store's mutex (AnswerCache::mu_) guards the
// entries and the stats; the hooks take the locks they need (resolving a
// version holds the collection's graph_mu shared for that only). No lock is
// held while a hook runs.
//
// Errors: InvalidArgument naming the field and its limit for bad input; the
// hooks' errors as they return them (NotFound for an unknown collection or
// retrieval; FailedPrecondition for a read-only database when a hit is
// logged); FailedPrecondition when a retrieval cannot be stored (a cache
// hit, no answer).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "cache/answer_cache.h"
#include "collection/collection.h"
#include "verity/cache.h"
#include "verity/context.h"
#include "verity/status.h"

namespace verity {

class PromptRegistry;

class AnswerCacheService {
 public:
  // The logged retrieval and its recorded answer, if any.
  using LoggedRetrieval = std::pair<LogRecord, std::optional<LogRecord>>;

  // The rest of the engine, as the cache sees it. Each is called without a
  // lock of the service held, from the thread of the call it serves.
  struct Hooks {
    // The collection `name`: NotFound, or DataLoss for an unavailable one.
    std::function<Result<std::shared_ptr<Collection>>(const std::string& name)> find_collection;
    // The version `at` names in `c` now (ReadPoint: the head, a version or a
    // snapshot's): the same resolution and errors a search has.
    std::function<Result<Version>(const Collection& c, const ReadPoint& at)> resolve_version;
    // The retrieval log's record of `retrieval_id` and its answer: the
    // source of an entry (NotFound when not in the log).
    std::function<Result<LoggedRetrieval>(const std::string& retrieval_id)> read_retrieval;
    // Appends the cache-hit record of `result` (a hit read at
    // result->version of `c`) to the retrieval log, durably, and sets
    // result->retrieval_id and log_seq. Sets *source_expired when the
    // source retrieval is no longer in the log (the hit must not be served).
    std::function<Status(Collection& c, const CacheLookupRequest& request, CacheLookupResult* result,
                         bool* source_expired)>
        log_hit;
  };

  struct Options {
    size_t max_entries = 0;           // DatabaseOptions::answer_cache_entries
    size_t max_bytes = 0;             // DatabaseOptions::answer_cache_bytes
    size_t max_query_text_bytes = 0;  // the longest query text the log keeps
  };

  // `prompts` is borrowed and must outlive the service.
  AnswerCacheService(const Options& options, const PromptRegistry* prompts, Hooks hooks);
  AnswerCacheService(const AnswerCacheService&) = delete;
  AnswerCacheService& operator=(const AnswerCacheService&) = delete;

  // Caches the answer of a logged retrieval (request.answer, or the one
  // recorded for it), fenced by the collection and version it read, its
  // logged prompt, request.model and request.params_json.
  Status Store(const CacheStoreRequest& request);
  // Looks the question up under the fence the request resolves to; a hit
  // is logged before it is returned, and every final outcome is counted.
  Result<CacheLookupResult> Lookup(const CacheLookupRequest& request);
  CacheStats Stats() const { return cache_.Stats(); }
  void Clear() { cache_.Clear(); }

 private:
  // The request's own checks, after its collection was found.
  Status ValidateLookup(const Collection& c, const CacheLookupRequest& request) const;
  // The answer to store: request.answer, or the one recorded for the
  // retrieval; bounded.
  static Result<std::string> AnswerToStore(const CacheStoreRequest& request, const LoggedRetrieval& logged);
  // Logs a hit, or turns it into a miss when its source expired from the
  // log (then its entries go).
  Status LogHit(Collection& c, const CacheLookupRequest& request, CacheLookupResult* result);

  const size_t max_query_text_bytes_;
  const PromptRegistry* const prompts_;  // borrowed
  const Hooks hooks_;
  AnswerCache cache_;  // thread-safe itself
};

}  // namespace verity
