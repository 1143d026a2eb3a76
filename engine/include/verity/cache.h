// The answer cache (issue #8): answers generated from a retrieval, reused
// for the same question — or a close paraphrase — asked of the same data
// with the same prompt, model and parameters, and never once the data or
// the prompt changed (docs/answer-cache.md).
//
// An entry is stored from a logged retrieval (Database::CacheStore): its
// collection, the version it read, its prompt as logged ("name@N"), its
// question (query text and vector), plus the model and parameters the
// answer was generated with. A lookup reads the collection's head version
// (or the version asked for) and resolves its prompt the way Retrieve does;
// only entries made at exactly that version, under exactly that prompt
// version, model and parameters can match ("fenced"): a write to the
// collection or a moved prompt label makes older entries unreachable, and
// they age out of the LRU.
//
// Matching: first exact (the same query text, or with no text the same
// query vector); then semantic: the entries whose query vectors have cosine
// similarity >= the threshold, most similar first (only entries and lookups
// that have a vector: a text or sparse retrieval without a dense leg is
// matched by its exact question text only, docs/text-search.md); a candidate is refused
// when the critical tokens of the two questions differ (numbers, negations,
// names: groundedness.h, CriticalTokens), so "revenue in 2021" never
// answers "revenue in 2022".
//
// Thread-safety: Database's cache methods are safe to call concurrently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "verity/types.h"

namespace verity {

struct CacheStoreRequest {
  // A logged retrieval; its answer is cached. It needs a query text or a
  // query vector (FailedPrecondition otherwise: a sparse-only retrieval
  // without query_text could match no lookup's question).
  std::string retrieval_id;
  std::string answer;        // "" = the answer recorded for the retrieval
  std::string model;         // at most 1024 bytes
  std::string params_json;   // "" or a JSON object (temperature, ...); compared canonically
};

struct CacheLookupRequest {
  std::string collection;
  std::vector<float> vector;       // the question's embedding (the collection's dimension), or
                                   // empty with a query_text: an exact lookup by the text only
  std::string query_text;          // the question
  ReadPoint at;                    // default: the head (see ReadPoint)
  std::string prompt;              // as Retrieve takes it: "name", "name@N", "name@label" or text
  std::string model;
  std::string params_json;
  // Cosine similarity for a semantic hit, in [0, 1]; unset = the default
  // (0.95); a set 0 is 0 (any non-negative similarity).
  std::optional<double> min_similarity;
  bool semantic = true;            // false: exact matches only
  std::string client_trace_id;     // logged with a hit, as Retrieve logs it
  std::string client_id;
};

enum class CacheMatch { kMiss, kExact, kSemantic };
const char* CacheMatchName(CacheMatch match);  // "miss", "exact", "semantic"

struct CacheLookupResult {
  CacheMatch match = CacheMatch::kMiss;
  std::string answer;
  std::string source_retrieval_id;  // the retrieval the answer was generated from
  std::string context_sha256;       // ... and the hash of its context
  // A hit's own retrieval-log record (LogKind::kCacheHit): cite this id for
  // the answer served; audit and replay follow it to the source. "" on a miss.
  std::string retrieval_id;
  uint64_t log_seq = 0;
  double similarity = 0;            // cosine similarity of the questions (1 for exact)
  Version version = 0;              // the version the lookup read
  std::string prompt;               // the prompt as resolved ("name@N")
  // Candidates above the threshold refused because their critical tokens
  // differ, e.g. "2021" vs "2022" (a miss unless another candidate agreed).
  uint32_t refused = 0;
  std::string refused_reason;  // the first refusal, for the caller's log
};

struct CacheStats {
  uint64_t entries = 0;
  uint64_t bytes = 0;
  uint64_t max_entries = 0;
  uint64_t max_bytes = 0;
  uint64_t stores = 0;
  uint64_t exact_hits = 0;
  uint64_t semantic_hits = 0;
  uint64_t misses = 0;
  uint64_t refused_false_hits = 0;  // lookups that refused a candidate and missed
  uint64_t evictions = 0;
};

}  // namespace verity
