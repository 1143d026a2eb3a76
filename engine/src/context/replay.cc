// Replay of a logged retrieval, in one of three modes (docs/retrieval-log.md,
// "Replay"): context (rebuild the context from the rows it named and check
// the logged hashes), retrieval (the logged results against exact search at
// the logged version), counterfactual (the logged query run again now, or
// at another version or snapshot).
#include <map>
#include <set>

#include "context/context_service.h"
#include "context/context_text.h"
#include "storage/keys.h"
#include "text/analyzer.h"
#include "util/sha256.h"
#include "verity/filter_parser.h"

namespace verity {

// One replay of logged retrieval `r`, found in collection `c`: one method
// per mode, each filling `result`.
struct ContextService::ReplayRun {
  const ContextService& impl;
  const ReplayRequest& request;
  const LogRecord& r;
  std::shared_ptr<Collection> c;  // set once the collection is found
  ReplayResult result;
  std::vector<std::string> logged_ids;  // the logged hits, in rank order

  Result<ReplayResult> Context();
  Result<ReplayResult> Retrieval();
  Result<ReplayResult> Counterfactual(const ReadPoint& at);

  // The outcome when what the replay needs is no longer stored.
  ReplayResult Collected(const std::string& why) {
    result.outcome = ReplayOutcome::kCollected;
    result.detail = why;
    return result;
  }
  // Fills added, removed, rank_changes and the outcome from the ids a
  // replay found, in rank order.
  void Compare(const std::vector<std::string>& replayed);
  // Sets analyzer_changed, and says why in the detail, when the text leg
  // the replay ran used another analyzer than the logged retrieval
  // (context::AnalyzerChange). The outcome still compares the ids.
  void NoteAnalyzerChange() {
    const std::string change =
        context::AnalyzerChange(r, c->config.text_index.analyzer_version, text::kAnalyzerCodeVersion);
    if (change.empty()) return;
    result.analyzer_changed = true;
    result.detail += "; " + change;
  }
  // The logged query run again at `at` (head when absent) with `plan`,
  // without payload. A retrieval by filter alone (no logged vector) runs
  // its filter scan again instead: every match in document order (up to
  // Limits::kMaxK, so that a replay can report the matches added since).
  Result<SearchResult> Search(const ReadPoint& at, SearchPlan plan) const;
  bool ByFilter() const {
    return r.query_vector.empty() && r.text.empty() && r.sparse_field.empty() && !r.filter.empty();
  }
  // Why version `v` can no longer be read; empty when it can.
  std::string VersionGone(Version v) const {
    std::shared_lock lock(c->graph_mu);
    auto resolved = impl.collections_.ResolveReadPoint(*c, v);
    return resolved.ok() ? std::string() : resolved.status().message();
  }
};

Result<ReplayResult> ContextService::ReplayOne(const ReplayRequest& request) const {
  VERITY_ASSIGN_OR_RETURN(auto logged, retrieval_log_.Get(request.retrieval_id));
  if (logged.first.kind == LogKind::kCacheHit) {
    // A cache hit searched nothing: replay the retrieval it served.
    ReplayRequest source = request;
    source.retrieval_id = logged.first.source_retrieval_id;
    if (auto present = retrieval_log_.Get(source.retrieval_id); !present.ok()) {
      if (present.status().code() != StatusCode::kNotFound) return present.status();
      return Status::NotFound(request.retrieval_id + " is a cache hit of " + source.retrieval_id +
                              ", which is no longer in the log (expired)");
    }
    auto replayed = ReplayOne(source);
    if (replayed.ok()) {
      replayed->detail = "cache hit " + request.retrieval_id + " served the answer of " + source.retrieval_id +
                         "; replaying that retrieval: " + replayed->detail;
    }
    return replayed;
  }
  const LogRecord& r = logged.first;
  ReplayRun run{*this, request, r, nullptr, {}, {}};
  run.result.mode = request.mode;
  run.result.retrieval_id = r.retrieval_id;
  run.result.version = r.version;
  auto found = collections_.Find(r.collection);
  if (found.status().code() == StatusCode::kNotFound) {
    return run.Collected("collection \"" + r.collection + "\" no longer exists");
  }
  VERITY_RETURN_IF_ERROR(found.status());  // unavailable: DataLoss naming the damage
  run.c = *found;
  // A collection dropped and created again under the same name is another
  // collection.
  if (r.collection_id != 0 && r.collection_id != run.c->id) {
    return run.Collected("collection \"" + r.collection + "\" was dropped and created again since");
  }
  for (const auto& chunk : r.chunks) run.logged_ids.push_back(chunk.id);
  switch (request.mode) {
    case ReplayMode::kContext:
      return run.Context();
    case ReplayMode::kRetrieval:
      return run.Retrieval();
    case ReplayMode::kCounterfactual:
      return run.Counterfactual(request.at);  // resolved by its search, under its lock
  }
  return Status::InvalidArgument("mode: unknown");
}

void ContextService::ReplayRun::Compare(const std::vector<std::string>& replayed) {
  std::map<std::string, int32_t> logged_rank, replay_rank;
  for (size_t i = 0; i < logged_ids.size(); ++i) logged_rank[logged_ids[i]] = static_cast<int32_t>(i);
  for (size_t i = 0; i < replayed.size(); ++i) replay_rank[replayed[i]] = static_cast<int32_t>(i);
  for (const auto& id : replayed) {
    if (!logged_rank.count(id)) result.added.push_back(id);
  }
  for (const auto& id : logged_ids) {
    auto it = replay_rank.find(id);
    if (it == replay_rank.end())
      result.removed.push_back(id);
    else if (it->second != logged_rank[id])
      result.rank_changes.push_back({id, logged_rank[id], it->second});
  }
  result.outcome = replayed == logged_ids ? ReplayOutcome::kIdentical : ReplayOutcome::kDiffers;
}

Result<SearchResult> ContextService::ReplayRun::Search(const ReadPoint& at, SearchPlan plan) const {
  SearchRequest s;
  s.vector = r.query_vector;
  s.text = r.text;
  s.sparse_field = r.sparse_field;
  s.sparse = r.sparse;
  if (r.fusion) s.fusion = *r.fusion;
  s.k = r.k;
  s.ef = r.ef;
  s.at = at;
  s.plan = plan;
  s.with_payload = false;
  VERITY_ASSIGN_OR_RETURN(s.filter, ParseFilterField(r.filter, "filter"));
  if (ByFilter()) return impl.ScanByFilter(*c, *s.filter, at, Limits::kMaxK, 0);
  // The logged query as it was: a vector logged before the component
  // bound existed is replayed, not refused.
  VERITY_RETURN_IF_ERROR(impl.collections_.ValidateSearch(*c, s, /*bounded=*/false));
  return impl.collections_.SearchValidated(*c, s);
}

// Rebuilds the context from the rows the log names and checks each text,
// and the context, against the logged hashes.
Result<ReplayResult> ContextService::ReplayRun::Context() {
  const ScopedSnapshot snapshot(impl.db_);
  std::vector<RetrievedChunk> rebuilt;
  bool all_identical = true, any_missing = false;
  for (const auto& chunk : r.chunks) {
    ChunkCheck check{chunk.id, chunk.row_version, "identical"};
    auto row = impl.collections_.ReadRow(*c, keys::RowKey(c->id, chunk.id, chunk.row_version), chunk.id,
                                         chunk.row_version, false, snapshot.options(), /*absent_is_not_found=*/true);
    RetrievedChunk copy = chunk;
    if (!row.ok() && row.status().code() != StatusCode::kNotFound) return row.status();  // not "collected"
    if (!row.ok()) {
      // Only the context counts: a hit the budget left out is reported
      // but does not make the context unrecoverable.
      check.status = chunk.in_context ? "missing" : "missing (not in the context)";
      if (chunk.in_context) {
        any_missing = true;
        all_identical = false;
      }
    } else {
      copy.text = row->record.text;
      if (Sha256::Hex(copy.text) != chunk.text_sha256) {
        check.status = "text differs";
        all_identical = false;
      }
    }
    rebuilt.push_back(std::move(copy));
    result.chunks.push_back(std::move(check));
  }
  result.context_sha256 = Sha256::Hex(context::AssembleContext(rebuilt));
  result.context_hash_matches = result.context_sha256 == r.context_sha256;
  if (any_missing) {
    const std::string gone = VersionGone(r.version);
    return Collected(gone.empty() ? "rows of the context are no longer stored (collected)" : gone);
  }
  result.outcome = all_identical && result.context_hash_matches ? ReplayOutcome::kIdentical : ReplayOutcome::kDiffers;
  result.detail = result.outcome == ReplayOutcome::kIdentical ? "every chunk's text and the context hash match the log"
                                                              : "the rebuilt context does not match the logged hashes";
  return result;
}

// The logged results against exact search at the logged version: recall,
// and the ids the retrieval missed.
Result<ReplayResult> ContextService::ReplayRun::Retrieval() {
  const std::string gone = VersionGone(r.version);
  if (!gone.empty()) return Collected(gone);
  VERITY_ASSIGN_OR_RETURN(SearchResult exact, Search(r.version, SearchPlan::kExact));
  std::vector<std::string> exact_ids;
  for (const auto& h : exact.hits) exact_ids.push_back(h.id);
  Compare(exact_ids);
  std::set<std::string> logged_set(logged_ids.begin(), logged_ids.end());
  size_t found_count = 0;
  for (const auto& id : exact_ids) {
    if (logged_set.count(id))
      ++found_count;
    else
      result.missed.push_back(id);
  }
  result.recall = exact_ids.empty() ? 1.0 : static_cast<double>(found_count) / static_cast<double>(exact_ids.size());
  result.detail = ByFilter() ? "the logged chunks against every record the filter matches at version " +
                                   std::to_string(r.version) + ", in document order (a retrieval by filter alone)"
                             : "the logged results against exact search at version " + std::to_string(r.version);
  NoteAnalyzerChange();
  return result;
}

// The logged query run at `at` (head when absent), against the logged
// results; ids found again whose rows were written since count as changed.
Result<ReplayResult> ContextService::ReplayRun::Counterfactual(const ReadPoint& at) {
  VERITY_ASSIGN_OR_RETURN(SearchResult now, Search(at, SearchPlan::kAuto));
  result.version = now.version;
  std::vector<std::string> now_ids;
  for (const auto& h : now.hits) now_ids.push_back(h.id);
  Compare(now_ids);
  // The same ids can carry other rows: what the model would now read
  // differs even where the ranking does not.
  std::map<std::string, Version> logged_row;
  for (const auto& chunk : r.chunks) logged_row[chunk.id] = chunk.row_version;
  for (const auto& h : now.hits) {
    auto it = logged_row.find(h.id);
    if (it != logged_row.end() && it->second != h.row_version) result.changed.push_back(h.id);
  }
  result.detail = (ByFilter() ? "the logged filter run at version " : "the logged query run at version ") +
                  std::to_string(now.version);
  if (!result.changed.empty()) {
    result.outcome = ReplayOutcome::kDiffers;
    result.detail += "; " + std::to_string(result.changed.size()) + " of the rows found were written again since";
  }
  NoteAnalyzerChange();
  return result;
}

}  // namespace verity
