// The answer cache's Database methods (verity/cache.h): they resolve what
// fences an entry — the collection, the version read, the prompt version —
// and hand the rest to AnswerCache (answer_cache.h).
#include <nlohmann/json.hpp>

#include "database_impl.h"
#include "hnsw_graph.h"
#include "validate.h"
#include "verity/groundedness.h"

namespace verity {
namespace {

constexpr size_t kMaxModelBytes = 1024;
constexpr size_t kMaxCachedAnswerBytes = 1 << 20;

// Parameters compared canonically: a JSON object printed with sorted keys.
// Bounded in size and nesting before it is parsed: printing it back
// recurses once per level.
Result<std::string> CanonicalParams(const std::string& params) {
  if (params.empty()) return std::string();
  if (params.size() > Limits::kMaxParamsJsonBytes) {
    return Status::InvalidArgument("params_json: " + std::to_string(params.size()) + " bytes; the limit is " +
                                   std::to_string(Limits::kMaxParamsJsonBytes));
  }
  if (const size_t depth = JsonNestingDepth(params); depth > Limits::kMaxParamsJsonDepth) {
    return Status::InvalidArgument("params_json: nested " + std::to_string(depth) + " levels deep; the limit is " +
                                   std::to_string(Limits::kMaxParamsJsonDepth));
  }
  const nlohmann::json parsed = nlohmann::json::parse(params, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return Status::InvalidArgument("params_json: must be a JSON object");
  }
  return parsed.dump();
}

// Cosine similarity is a dot product of unit vectors (a zero vector stays zero).
std::vector<float> UnitVector(std::vector<float> v) {
  PrepareVector(Metric::kCosine, v.data(), v.size());
  return v;
}

}  // namespace

Status Database::CacheStore(const CacheStoreRequest& request) {
  VERITY_CHECK_OPEN_();
  if (request.model.size() > kMaxModelBytes) {
    return Status::InvalidArgument("model: at most " + std::to_string(kMaxModelBytes) + " bytes");
  }
  VERITY_ASSIGN_OR_RETURN(std::string params, CanonicalParams(request.params_json));
  VERITY_ASSIGN_OR_RETURN(auto logged, GetRetrieval(request.retrieval_id));
  const LogRecord& r = logged.first;
  if (r.kind == LogKind::kCacheHit) {
    return Status::FailedPrecondition(r.retrieval_id + " is a cache hit; store its source retrieval " +
                                      r.source_retrieval_id + " instead");
  }
  std::string answer = request.answer;
  if (answer.empty()) {
    if (!logged.second) {
      return Status::FailedPrecondition("retrieval " + r.retrieval_id +
                                        " has no recorded answer; record one or give the answer to cache");
    }
    answer = logged.second->answer;
  }
  if (answer.size() > kMaxCachedAnswerBytes || !IsValidUtf8(answer)) {
    return Status::InvalidArgument("answer: at most 1 MiB of UTF-8");
  }
  VERITY_ASSIGN_OR_RETURN(auto c, impl_->Find(r.collection));
  if (r.collection_id != 0 && r.collection_id != c->id) {
    return Status::NotFound("collection \"" + r.collection + "\" of " + r.retrieval_id + " was dropped");
  }
  CacheEntry entry;
  entry.fence = AnswerCache::Fence(c->id, r.version, r.prompt, request.model, params);
  entry.query_text = r.query_text;
  entry.unit_vector = UnitVector(r.query_vector);
  entry.critical = CriticalTokens(r.query_text);
  entry.answer = std::move(answer);
  entry.source_retrieval_id = r.retrieval_id;
  entry.context_sha256 = r.context_sha256;
  impl_->answer_cache->Store(std::move(entry));
  return Status::Ok();
}

Result<CacheLookupResult> Database::CacheLookup(const CacheLookupRequest& request) {
  VERITY_CHECK_OPEN_();
  CallCounter running(impl_->calls_running);
  VERITY_ASSIGN_OR_RETURN(auto c, impl_->Find(request.collection));
  VERITY_RETURN_IF_ERROR(ValidateVector(request.vector, c->config.dimension, "vector"));
  if (!(request.min_similarity >= 0 && request.min_similarity <= 1)) {
    return Status::InvalidArgument("min_similarity: must be in [0, 1]");
  }
  if (request.model.size() > kMaxModelBytes) {
    return Status::InvalidArgument("model: at most " + std::to_string(kMaxModelBytes) + " bytes");
  }
  if (request.query_text.size() > kMaxLogFieldBytes) {
    return Status::InvalidArgument("query_text: " + std::to_string(request.query_text.size()) +
                                   " bytes; the limit is " + std::to_string(kMaxLogFieldBytes));
  }
  VERITY_RETURN_IF_ERROR(ValidateClientFields(request.prompt, request.client_trace_id, request.client_id));
  VERITY_ASSIGN_OR_RETURN(std::string params, CanonicalParams(request.params_json));
  VERITY_ASSIGN_OR_RETURN(std::string prompt, impl_->prompts->ResolvePrompt(request.prompt));
  Version version;
  {
    std::shared_lock lock(c->graph_mu);
    VERITY_ASSIGN_OR_RETURN(version, impl_->ResolveVersion(*c, request.at));
  }
  CacheLookupResult result =
      impl_->answer_cache->Lookup(AnswerCache::Fence(c->id, version, prompt, request.model, params),
                                  request.query_text, UnitVector(request.vector), request.min_similarity,
                                  request.semantic);
  result.version = version;
  result.prompt = prompt;
  if (result.match != CacheMatch::kMiss) {
    bool source_expired = false;
    Status logged = impl_->LogCacheHit(*c, request, &result, &source_expired);
    if (source_expired) {
      // The source retrieval expired from the log: its answer could no
      // longer be audited, so it is not served; its entries go.
      impl_->answer_cache->Forget(result.source_retrieval_id);
      CacheLookupResult miss;
      miss.version = version;
      miss.prompt = prompt;
      result = std::move(miss);
    } else if (!logged.ok()) {
      return logged;  // not counted: nothing was served
    }
  }
  impl_->answer_cache->Count(result);
  return result;
}

CacheStats Database::GetCacheStats() const { return impl_->answer_cache->Stats(); }

void Database::ClearCache() { impl_->answer_cache->Clear(); }

}  // namespace verity
