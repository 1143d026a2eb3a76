#include "cache/answer_cache.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "index/distance.h"
#include "verity/groundedness.h"

namespace verity {
namespace {

void AppendField(std::string* out, const std::string& field) {
  const uint32_t n = static_cast<uint32_t>(field.size());
  out->append(reinterpret_cast<const char*>(&n), sizeof(n));
  out->append(field);
}

// Numbers, negations and names of a question's critical tokens.
struct Kinds {
  std::vector<std::string> numbers, negations, names;
};

Kinds Classify(const std::vector<std::string>& critical) {
  Kinds k;
  for (const std::string& t : critical) {
    if (t.find_first_of("0123456789") != std::string::npos) k.numbers.push_back(t);
    else if (IsNegationToken(t)) k.negations.push_back(t);
    else k.names.push_back(t);
  }
  return k;
}

bool Includes(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return std::includes(a.begin(), a.end(), b.begin(), b.end());  // both sorted
}

// Whether a cached question may answer this one: the same numbers, the same
// negations, and no swapped name (each side holding a name the other lacks:
// "Berlin" vs "Lisbon"). A name on one side only is allowed: a question's
// first word, capitalised, counts as a name ("Tell me ..." against "What
// was ..."), and the vectors' similarity already passed the threshold.
bool Agree(const std::vector<std::string>& cached, const std::vector<std::string>& asked) {
  const Kinds a = Classify(cached), b = Classify(asked);
  if (a.numbers != b.numbers || a.negations != b.negations) return false;
  return Includes(a.names, b.names) || Includes(b.names, a.names);
}

}  // namespace

std::string AnswerCache::Fence(uint32_t collection_id, Version version, const std::string& prompt,
                               const std::string& model, const std::string& canonical_params) {
  std::string out;
  out.append(reinterpret_cast<const char*>(&collection_id), sizeof(collection_id));
  out.append(reinterpret_cast<const char*>(&version), sizeof(version));
  AppendField(&out, prompt);
  AppendField(&out, model);
  AppendField(&out, canonical_params);
  return out;
}

std::string AnswerCache::ExactKey(const std::string& fence, const std::string& text, const std::vector<float>& v) {
  std::string key = fence;
  if (!text.empty()) {
    key += 't';
    key += text;
  } else {
    key += 'v';
    key.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
  }
  return key;
}

void AnswerCache::Encode(const std::vector<float>& unit_vector, uint8_t* out) {
  for (size_t d = 0; d < unit_vector.size(); ++d) {
    const float x = std::clamp(unit_vector[d], -1.0f, 1.0f);  // NaN-free: vectors are validated
    out[d] = static_cast<uint8_t>(std::lround((x + 1.0f) * 127.5f));
  }
}

void AnswerCache::Remove(Iter it) {
  if (it->in_bucket) {
    Bucket& bucket = by_fence_[it->entry.fence];
    const size_t i = it->bucket_index, last = bucket.nodes.size() - 1;
    bucket.nodes[i] = bucket.nodes[last];
    bucket.nodes[i]->bucket_index = i;
    std::memcpy(bucket.codes.data() + i * bucket.dim, bucket.codes.data() + last * bucket.dim, bucket.dim);
    bucket.nodes.pop_back();
    bucket.codes.resize(bucket.nodes.size() * bucket.dim);
    if (bucket.nodes.empty()) by_fence_.erase(it->entry.fence);
  }
  exact_.erase(it->exact_key);
  bytes_ -= it->bytes;
  lru_.erase(it);
}

void AnswerCache::Store(CacheEntry entry) {
  std::lock_guard lock(mu_);
  ++stats_.stores;
  Node node;
  node.exact_key = ExactKey(entry.fence, entry.query_text, entry.unit_vector);
  node.bytes = sizeof(Node) + node.exact_key.size() + entry.fence.size() + entry.query_text.size() +
               entry.unit_vector.size() * (sizeof(float) + 1) + entry.answer.size() + entry.source_retrieval_id.size() +
               entry.context_sha256.size();
  for (const auto& t : entry.critical) node.bytes += t.size() + sizeof(std::string);
  node.entry = std::move(entry);
  if (auto old = exact_.find(node.exact_key); old != exact_.end()) Remove(old->second);
  if (node.bytes > max_bytes_ || max_entries_ == 0) return;
  const bool has_vector = !node.entry.unit_vector.empty();
  if (auto b = by_fence_.find(node.entry.fence);
      has_vector && b != by_fence_.end() && b->second.dim != node.entry.unit_vector.size()) {
    return;  // cannot happen: a fence names one collection, whose dimension is fixed
  }
  lru_.push_front(std::move(node));
  const Iter it = lru_.begin();
  if (has_vector) {  // without one (a text or sparse retrieval): exact lookups only
    Bucket& bucket = by_fence_[it->entry.fence];
    bucket.dim = it->entry.unit_vector.size();
    it->bucket_index = bucket.nodes.size();
    it->in_bucket = true;
    bucket.nodes.push_back(it);
    bucket.codes.resize(bucket.nodes.size() * bucket.dim);
    Encode(it->entry.unit_vector, bucket.codes.data() + it->bucket_index * bucket.dim);
  }
  exact_[it->exact_key] = it;
  bytes_ += it->bytes;
  while (lru_.size() > max_entries_ || bytes_ > max_bytes_) {
    Remove(std::prev(lru_.end()));
    ++stats_.evictions;
  }
}

CacheLookupResult AnswerCache::Lookup(const std::string& fence, const std::string& query_text,
                                      const std::vector<float>& unit_vector, double min_similarity, bool semantic) {
  std::lock_guard lock(mu_);
  CacheLookupResult result;
  auto hit = [&](Iter it, CacheMatch match, double similarity) {
    lru_.splice(lru_.begin(), lru_, it);  // most recently used
    result.match = match;
    result.answer = it->entry.answer;
    result.source_retrieval_id = it->entry.source_retrieval_id;
    result.context_sha256 = it->entry.context_sha256;
    result.similarity = similarity;
    return result;
  };
  if (auto exact = exact_.find(ExactKey(fence, query_text, unit_vector)); exact != exact_.end()) {
    return hit(exact->second, CacheMatch::kExact, 1.0);
  }
  const auto bucket = by_fence_.find(fence);
  // Only vectors are compared: a lookup without one (and the entries
  // without one, outside the buckets) match exactly or not at all.
  if (semantic && !unit_vector.empty() && bucket != by_fence_.end() && bucket->second.dim == unit_vector.size()) {
    const Bucket& b = bucket->second;
    const size_t dim = b.dim;
    // Codes first. Each code is within h = 0.5 / 127.5 of its component, so
    // the two codes' difference vector is within E = 2h * sqrt(dim) of the
    // true one, and for a pair with cosine >= t (|a - b| <= sqrt(2 - 2t))
    // the cosine the codes give is at most sqrt(2 - 2t) * E + E^2 / 2 too
    // low: every entry above `floor` is checked with the floats.
    const double e = 2.0 * (0.5 / 127.5) * std::sqrt(static_cast<double>(dim));
    // (+1e-4: unit vectors are unit only to float precision.)
    const double margin = std::sqrt(std::max(0.0, 2.0 - 2.0 * min_similarity)) * e + e * e / 2.0 + 1e-4;
    const double floor_l2 = 2.0 * (1.0 - (min_similarity - margin)) * 127.5 * 127.5;
    std::vector<uint8_t> query(dim);
    Encode(unit_vector, query.data());
    const CodeKernel l2 = SelectedCodeL2Kernel();
    const DistanceKernel dot = SelectedDotKernel();
    std::vector<std::pair<double, Iter>> candidates;
    for (size_t i = 0; i < b.nodes.size(); ++i) {
      if (static_cast<double>(l2(query.data(), b.codes.data() + i * dim, dim)) > floor_l2) continue;
      const Iter& it = b.nodes[i];
      const double similarity = dot(unit_vector.data(), it->entry.unit_vector.data(), dim);
      if (similarity >= min_similarity) candidates.emplace_back(similarity, it);
    }
    std::sort(candidates.begin(), candidates.end(),
              [](const auto& a, const auto& b) { return a.first > b.first; });
    if (!candidates.empty()) {
      const std::vector<std::string> critical = CriticalTokens(query_text);
      for (const auto& [similarity, it] : candidates) {
        if (Agree(it->entry.critical, critical)) return hit(it, CacheMatch::kSemantic, similarity);
        if (result.refused++ == 0) {
          result.refused_reason = "the cached question \"" + it->entry.query_text +
                                  "\" differs in numbers, negations or a name";
        }
      }
    }
  }
  return result;
}

void AnswerCache::Count(const CacheLookupResult& result) {
  std::lock_guard lock(mu_);
  if (result.match == CacheMatch::kExact) ++stats_.exact_hits;
  else if (result.match == CacheMatch::kSemantic) ++stats_.semantic_hits;
  else ++stats_.misses;
  if (result.match == CacheMatch::kMiss && result.refused > 0) ++stats_.refused_false_hits;
}

size_t AnswerCache::Forget(const std::string& source_retrieval_id) {
  std::lock_guard lock(mu_);
  size_t removed = 0;
  for (auto it = lru_.begin(); it != lru_.end();) {
    const auto next = std::next(it);
    if (it->entry.source_retrieval_id == source_retrieval_id) {
      Remove(it);
      ++removed;
    }
    it = next;
  }
  return removed;
}

CacheStats AnswerCache::Stats() const {
  std::lock_guard lock(mu_);
  CacheStats s = stats_;
  s.entries = lru_.size();
  s.bytes = bytes_;
  s.max_entries = max_entries_;
  s.max_bytes = max_bytes_;
  return s;
}

void AnswerCache::Clear() {
  std::lock_guard lock(mu_);
  lru_.clear();
  exact_.clear();
  by_fence_.clear();
  bytes_ = 0;
}

}  // namespace verity
