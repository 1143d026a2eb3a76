// Database::SearchBatch: many searches of one collection, run in parallel
// (OpenMP), under the batch's bounds (BatchLimits): the most hits it may
// return and the bytes its response may take. Each query is one
// Collections::SearchValidated (collection/read.cc).
#include <malloc.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>

#include "collection/collections.h"

namespace verity {
namespace {

// The refusal of BatchLimits::max_response_bytes.
Status ResponseTooLarge(uint64_t bytes, size_t hits, uint64_t bound) {
  return Status::ResourceExhausted("the first " + std::to_string(hits) + " hits take " + std::to_string(bytes) +
                                   " bytes, more than the " + std::to_string(bound) + " this response may hold")
      .WithField("hits")
      .WithReason(StatusReason::kResponseTooLarge);
}

// glibc keeps the freed buffers of a large batch (one arena per OpenMP
// thread) resident; a batch that may have held many hits gives them back.
void ReturnFreedMemory(uint64_t hits) {
  if (hits >= 100000) malloc_trim(0);
}

// The most hits the batch can return (*most_hits): no query finds more hits
// than the collection has labels (every row version ever written has one; a
// read at a version whose rows left the graph, kept for the log, scans rows
// that have no graph node but still a label). ResourceExhausted, before any
// query runs, when they could not fit the limits. Takes c.graph_mu shared.
Status CheckBatchBounds(const Collection& c, const std::vector<SearchRequest>& queries, const BatchLimits& limits,
                        uint64_t* most_hits) {
  uint64_t nodes = 0;
  {
    std::shared_lock lock(c.graph_mu);
    nodes = c.nodes.size();
  }
  *most_hits = 0;
  for (const SearchRequest& q : queries) *most_hits += std::min<uint64_t>(q.k, nodes);
  if (limits.max_hits > 0 && *most_hits > limits.max_hits) {
    return Status::ResourceExhausted(std::to_string(queries.size()) + " queries may return " +
                                     std::to_string(*most_hits) + " hits (the sum of min(k, " + std::to_string(nodes) +
                                     " rows)), more than the " + std::to_string(limits.max_hits) +
                                     " one batch may return; send fewer queries or a smaller k")
        .WithField("queries")
        .WithReason(StatusReason::kBatchHitsOverLimit);
  }
  const uint64_t fewest_bytes = *most_hits * (BatchLimits::kHitWireBytes + 1);
  if (limits.max_response_bytes > 0 && fewest_bytes > limits.max_response_bytes) {
    return Status::ResourceExhausted(std::to_string(queries.size()) + " queries may return " +
                                     std::to_string(*most_hits) + " hits, at least " + std::to_string(fewest_bytes) +
                                     " bytes, more than the " + std::to_string(limits.max_response_bytes) +
                                     " this response may hold; send fewer queries or a smaller k")
        .WithField("queries")
        .WithReason(StatusReason::kResponseTooLarge);
  }
  return Status::Ok();
}

// The bytes one query's hits take in the response. Every hit counts, with
// or without its record: ids and distances alone are what a payload-less
// batch is made of.
uint64_t ResultBytes(const SearchResult& result, const SearchRequest& query) {
  uint64_t bytes = 0;
  for (const SearchHit& hit : result.hits) {
    bytes += BatchLimits::kHitWireBytes + hit.id.size();
    if (!hit.record) continue;
    bytes += query.payload_bytes ? query.payload_bytes(*hit.record) : RecordBytes(*hit.record);
  }
  return bytes;
}

}  // namespace

Result<std::vector<SearchResult>> Collections::SearchBatch(const std::string& collection,
                                                           const std::vector<SearchRequest>& queries,
                                                           const std::function<Status()>& keep_going,
                                                           const BatchLimits& limits) const {
  VERITY_ASSIGN_OR_RETURN(auto c, Find(collection));
  // Every query's vector, k, ef and filter first: a bad last query is
  // refused before the others have run.
  for (size_t i = 0; i < queries.size(); ++i) {
    if (Status s = ValidateSearch(*c, queries[i]); !s.ok()) {
      return s.WithField("queries[" + std::to_string(i) + "]");
    }
  }
  uint64_t most_hits = 0;
  VERITY_RETURN_IF_ERROR(CheckBatchBounds(*c, queries, limits, &most_hits));
  std::vector<std::optional<Result<SearchResult>>> results(queries.size());
  std::atomic<bool> stopped{false};
  std::mutex stop_mu;
  Status stop_status;  // the first refusal of keep_going (or of the bound), under stop_mu
  std::atomic<uint64_t> response_bytes{0};
  std::atomic<size_t> hits{0};
#pragma omp parallel for schedule(dynamic, 1)
  for (size_t i = 0; i < queries.size(); ++i) {
    if (stopped.load(std::memory_order_relaxed)) continue;
    if (keep_going) {
      Status go = keep_going();
      if (!go.ok()) {
        std::lock_guard lock(stop_mu);
        if (!stopped.exchange(true)) stop_status = std::move(go);
        continue;
      }
    }
    results[i].emplace(SearchValidated(*c, queries[i]));  // validated above
    if (limits.max_response_bytes > 0 && results[i]->ok()) {
      const uint64_t bytes = ResultBytes(**results[i], queries[i]);
      const uint64_t total = response_bytes.fetch_add(bytes) + bytes;
      const size_t total_hits = hits.fetch_add((*results[i])->hits.size()) + (*results[i])->hits.size();
      if (total > limits.max_response_bytes) {
        std::lock_guard lock(stop_mu);
        if (!stopped.exchange(true)) stop_status = ResponseTooLarge(total, total_hits, limits.max_response_bytes);
      }
    }
    // A refused batch frees what it built as soon as it knows.
    if (stopped.load(std::memory_order_relaxed)) results[i].reset();
  }
  if (stopped.load()) {
    results.clear();
    results.shrink_to_fit();
    ReturnFreedMemory(most_hits);
    std::lock_guard lock(stop_mu);
    return stop_status;
  }
  std::vector<SearchResult> out;
  out.reserve(queries.size());
  for (size_t i = 0; i < results.size(); ++i) {
    if (!results[i]->ok()) return results[i]->status().WithField("queries[" + std::to_string(i) + "]");
    out.push_back(std::move(*results[i]).value());
  }
  return out;
}

}  // namespace verity
