// Database's answer-cache methods (verity/cache.h): the façade opens the
// call and hands it to the cache subsystem (cache/answer_cache_service.h),
// and wires that subsystem to the rest of the engine at open.
#include "cache/answer_cache_service.h"
#include "database/database_impl.h"
#include "prompts/prompt_registry.h"

namespace verity {

void Database::Impl::OpenAnswerCache() {
  AnswerCacheService::Options cache_options;
  cache_options.max_entries = options.answer_cache_entries;
  cache_options.max_bytes = options.answer_cache_bytes;
  cache_options.max_query_text_bytes = kMaxLogFieldBytes;
  AnswerCacheService::Hooks hooks;
  hooks.find_collection = [this](const std::string& name) { return collections->Find(name); };
  hooks.resolve_version = [this](const Collection& c, const ReadPoint& at) {
    std::shared_lock lock(c.graph_mu);
    return collections->ResolveReadPoint(c, at);
  };
  // The retrieval log's side of the cache, the one place the cache reaches
  // the log.
  hooks.read_retrieval = [this](const std::string& retrieval_id) { return retrieval_log->Get(retrieval_id); };
  hooks.log_hit = [this](Collection& c, const CacheLookupRequest& request, CacheLookupResult* result,
                         bool* source_expired) { return context->LogCacheHit(c, request, result, source_expired); };
  answer_cache = std::make_unique<AnswerCacheService>(cache_options, prompts.get(), std::move(hooks));
}

Status Database::CacheStore(const CacheStoreRequest& request) {
  VERITY_CHECK_OPEN_();
  return impl_->answer_cache->Store(request);
}

Result<CacheLookupResult> Database::CacheLookup(const CacheLookupRequest& request) {
  VERITY_CHECK_OPEN_();
  ScopedCount running(impl_->calls_running);
  auto result = impl_->answer_cache->Lookup(request);
  if (result.ok() && !result->retrieval_id.empty()) {
    LogRecord hit;
    hit.kind = LogKind::kCacheHit;
    hit.retrieval_id = result->retrieval_id;
    hit.collection = request.collection;
    impl_->monitor->AnnotateRecorded(hit);
  }
  return result;
}

CacheStats Database::GetCacheStats() const { return impl_->answer_cache->Stats(); }

void Database::ClearCache() { impl_->answer_cache->Clear(); }

}  // namespace verity
