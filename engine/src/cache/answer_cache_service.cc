// The answer cache's requests (answer_cache_service.h): checks, fences, and
// the hit's log record, around the store (answer_cache.h).
#include "cache/answer_cache_service.h"

#include <nlohmann/json.hpp>

#include "index/hnsw_graph.h"
#include "prompts/prompt_registry.h"
#include "base/validate.h"
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

Status ValidateModel(const std::string& model) {
  if (model.size() > kMaxModelBytes) {
    return Status::InvalidArgument("model: at most " + std::to_string(kMaxModelBytes) + " bytes");
  }
  return Status::Ok();
}

}  // namespace

AnswerCacheService::AnswerCacheService(const Options& options, const PromptRegistry* prompts, Hooks hooks)
    : max_query_text_bytes_(options.max_query_text_bytes),
      prompts_(prompts),
      hooks_(std::move(hooks)),
      cache_(options.max_entries, options.max_bytes) {}

// --- Store --------------------------------------------------------------------

Result<std::string> AnswerCacheService::AnswerToStore(const CacheStoreRequest& request, const LoggedRetrieval& logged) {
  std::string answer = request.answer;
  if (answer.empty()) {
    if (!logged.second) {
      return Status::FailedPrecondition("retrieval " + logged.first.retrieval_id +
                                        " has no recorded answer; record one or give the answer to cache");
    }
    answer = logged.second->answer;
  }
  if (answer.size() > kMaxCachedAnswerBytes || !IsValidUtf8(answer)) {
    return Status::InvalidArgument("answer: at most 1 MiB of UTF-8");
  }
  return answer;
}

Status AnswerCacheService::Store(const CacheStoreRequest& request) {
  VERITY_RETURN_IF_ERROR(ValidateModel(request.model));
  VERITY_ASSIGN_OR_RETURN(std::string params, CanonicalParams(request.params_json));
  VERITY_ASSIGN_OR_RETURN(LoggedRetrieval logged, hooks_.read_retrieval(request.retrieval_id));
  const LogRecord& r = logged.first;
  if (r.kind == LogKind::kCacheHit) {
    return Status::FailedPrecondition(r.retrieval_id + " is a cache hit; store its source retrieval " +
                                      r.source_retrieval_id + " instead");
  }
  if (r.query_text.empty() && r.query_vector.empty()) {
    // A sparse-only (or filter-only) retrieval without a question text: a
    // lookup carries a text and a vector, and neither could ever be this
    // question, so an entry would only match other questions without either.
    return Status::FailedPrecondition("retrieval " + r.retrieval_id +
                                      " has no query text and no query vector: a cached answer is found by one of "
                                      "them (retrieve with query_text to cache a sparse retrieval's answer)");
  }
  VERITY_ASSIGN_OR_RETURN(std::string answer, AnswerToStore(request, logged));
  VERITY_ASSIGN_OR_RETURN(auto c, hooks_.find_collection(r.collection));
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
  cache_.Store(std::move(entry));
  return Status::Ok();
}

// --- Lookup -------------------------------------------------------------------

Status AnswerCacheService::ValidateLookup(const Collection& c, const CacheLookupRequest& request) const {
  // No vector is allowed with a question text: the lookup is then exact
  // (the question of a text retrieval, which has no query vector).
  if (request.vector.empty() && request.query_text.empty()) {
    return Status::InvalidArgument("vector: empty, and query_text is empty too: a lookup needs the question's "
                                   "text, its vector (the collection's dimension " +
                                   std::to_string(c.config.dimension) + "), or both");
  }
  if (!request.vector.empty()) {
    VERITY_RETURN_IF_ERROR(ValidateVector(request.vector, c.config.dimension, "vector"));
  }
  if (request.min_similarity && !(*request.min_similarity >= 0 && *request.min_similarity <= 1)) {
    return Status::InvalidArgument("min_similarity: " + std::to_string(*request.min_similarity) +
                                   " is outside [0, 1]");
  }
  VERITY_RETURN_IF_ERROR(ValidateModel(request.model));
  if (request.query_text.size() > max_query_text_bytes_) {
    return Status::InvalidArgument("query_text: " + std::to_string(request.query_text.size()) +
                                   " bytes; the limit is " + std::to_string(max_query_text_bytes_));
  }
  return ValidateClientFields(request.prompt, request.client_trace_id, request.client_id);
}

Result<CacheLookupResult> AnswerCacheService::Lookup(const CacheLookupRequest& request) {
  VERITY_ASSIGN_OR_RETURN(auto c, hooks_.find_collection(request.collection));
  VERITY_RETURN_IF_ERROR(ValidateLookup(*c, request));
  VERITY_ASSIGN_OR_RETURN(std::string params, CanonicalParams(request.params_json));
  VERITY_ASSIGN_OR_RETURN(std::string prompt, prompts_->ResolvePrompt(request.prompt));
  VERITY_ASSIGN_OR_RETURN(Version version, hooks_.resolve_version(*c, request.at));
  CacheLookupResult result =
      cache_.Lookup(AnswerCache::Fence(c->id, version, prompt, request.model, params), request.query_text,
                    UnitVector(request.vector),
                    request.min_similarity.value_or(AnswerCache::kDefaultMinSimilarity), request.semantic);
  result.version = version;
  result.prompt = prompt;
  if (result.match != CacheMatch::kMiss) {
    VERITY_RETURN_IF_ERROR(LogHit(*c, request, &result));  // not counted: nothing was served
  }
  cache_.Count(result);
  return result;
}

Status AnswerCacheService::LogHit(Collection& c, const CacheLookupRequest& request, CacheLookupResult* result) {
  bool source_expired = false;
  Status logged = hooks_.log_hit(c, request, result, &source_expired);
  if (source_expired) {
    // The source retrieval expired from the log: its answer could no
    // longer be audited, so it is not served; its entries go.
    cache_.Forget(result->source_retrieval_id);
    CacheLookupResult miss;
    miss.version = result->version;
    miss.prompt = result->prompt;
    *result = std::move(miss);
    return Status::Ok();
  }
  return logged;
}

}  // namespace verity
