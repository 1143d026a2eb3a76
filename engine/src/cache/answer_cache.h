// AnswerCache: the in-memory store behind Database's answer cache
// (verity/cache.h): entries grouped by their fence (collection, version,
// prompt version, model, parameters), an exact index, least-recently-used
// eviction within an entry and a byte bound. It knows nothing of RocksDB or
// the log: AnswerCacheService (answer_cache_service.h) resolves versions and
// prompts, builds the fences and logs hits.
//
// Thread-safety: every method locks the cache's mutex; a lookup (which
// updates the LRU order) is exclusive. A semantic lookup scans the entries
// of its fence only.
#pragma once

#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "verity/cache.h"

namespace verity {

struct CacheEntry {
  std::string fence;                   // see Fence()
  std::string query_text;
  std::vector<float> unit_vector;      // the question's vector, unit length
  std::vector<std::string> critical;   // CriticalTokens(query_text)
  std::string answer;
  std::string source_retrieval_id;
  std::string context_sha256;  // the source retrieval's context, for the hit's log record
};

class AnswerCache {
 public:
  static constexpr double kDefaultMinSimilarity = 0.95;

  AnswerCache(size_t max_entries, size_t max_bytes) : max_entries_(max_entries), max_bytes_(max_bytes) {}

  // The fence of an entry or lookup: every field length-prefixed.
  static std::string Fence(uint32_t collection_id, Version version, const std::string& prompt,
                           const std::string& model, const std::string& canonical_params);

  // Adds (or replaces: same fence and question) an entry, then evicts least
  // recently used entries past either bound. An entry larger than the byte
  // bound is not kept. An entry without a vector (its retrieval had no dense
  // leg: text, sparse) is kept for exact lookups only, outside the fence's
  // vector scan. The caller gives it a query text or a vector (or both).
  void Store(CacheEntry entry);
  // Exact, then (if `semantic` and `unit_vector` is not empty) the most
  // similar entry of the fence with a vector, similarity >= min_similarity,
  // whose critical tokens agree. Does not
  // count the outcome: the caller does, with Count, once it is final (a
  // hit must first be logged). Fills match, answer, source_retrieval_id, similarity, refused.
  // The semantic scan compares codes first, with a margin that bounds their
  // rounding error, so it never misses an entry the floats would accept;
  // similarities reported and compared to the threshold are the floats'.
  CacheLookupResult Lookup(const std::string& fence, const std::string& query_text,
                           const std::vector<float>& unit_vector, double min_similarity, bool semantic);
  // Counts a lookup's final outcome in the stats.
  void Count(const CacheLookupResult& result);
  // Removes every entry made from `source_retrieval_id` (its log record
  // expired: a hit could no longer be audited). Returns how many. Linear.
  size_t Forget(const std::string& source_retrieval_id);
  CacheStats Stats() const;
  void Clear();

 private:
  struct Node {
    CacheEntry entry;
    std::string exact_key;
    size_t bytes = 0;
    size_t bucket_index = 0;  // position in by_fence_[entry.fence]
    bool in_bucket = false;   // false for an entry without a vector (exact lookups only)
  };
  using Iter = std::list<Node>::iterator;
  // The entries of one fence that have a vector, with a uint8 copy of their unit vectors side
  // by side (entry i at codes[i * dim]) for the semantic scan: each
  // component x in [-1, 1] is stored as round((x + 1) * 127.5), so that a
  // scan reads a quarter of the bytes with the graph's u8 L2 kernels, and
  // only entries the codes cannot rule out are checked with the floats.
  struct Bucket {
    std::vector<Iter> nodes;
    std::vector<uint8_t> codes;
    size_t dim = 0;
  };
  static std::string ExactKey(const std::string& fence, const std::string& text, const std::vector<float>& v);
  static void Encode(const std::vector<float>& unit_vector, uint8_t* out);
  void Remove(Iter it);  // caller holds mu_

  const size_t max_entries_;
  const size_t max_bytes_;
  mutable std::mutex mu_;
  std::list<Node> lru_;  // most recently used first
  std::unordered_map<std::string, Iter> exact_;
  std::unordered_map<std::string, Bucket> by_fence_;
  size_t bytes_ = 0;
  CacheStats stats_;
};

}  // namespace verity
