// The façade's background threads (util/periodic_thread.h), started by
// Open unless the database opened read-only, stopped first by Close.
//
// GC: every DatabaseOptions::gc_interval_seconds, each collection's GC and
// the retrieval log's retention, through the public calls (so each holds
// the lifecycle lock, as a caller's would).
//
// Graph checkpoints: bound what a start after a crash must re-insert into
// the graphs (DatabaseOptions::graph_checkpoint_*).
// Once a second the thread reads, for each collection, how many graph nodes
// its graph file lacks (graph_mu shared: a counter compare), and saves the
// graphs that are due with PersistGraph under the collection's write_mu, as
// Close does: writes to that collection wait for the save; searches go on.
// When a collection's nodes first went unsaved is the thread's own state.
#include <algorithm>
#include <chrono>
#include <map>

#include "database/database_impl.h"

namespace verity {

void Database::Impl::RunGcRound() {
  for (const auto& name : collections->Names()) {
    if (gc_thread.Stopping()) return;
    Result<GcResult> r = owner->Gc(name);
    if (!r.ok() && r.status().code() != StatusCode::kNotFound) {
      Log(LogLevel::kWarning, "background GC of \"" + name + "\": " + r.status().ToString());
    }
  }
  if (options.log_retention_seconds > 0) {
    Result<uint64_t> removed = owner->GcLog();
    if (!removed.ok()) Log(LogLevel::kWarning, "background GC of the retrieval log: " + removed.status().ToString());
  }
}

void Database::Impl::RunCheckpointRound(CheckpointState& state) {
  using Clock = CheckpointState::Clock;
  auto& unsaved_since = state.unsaved_since;
  auto& retry_after = state.retry_after;
  const std::vector<std::shared_ptr<Collection>> all = collections->All();
  const Clock::time_point now = Clock::now();
  for (const auto& c : all) {
    if (checkpoint_thread.Stopping()) return;
    if (store->IsReadOnly()) break;  // nothing can be written; Close says so
    uint64_t unsaved = 0;
    uint64_t saved = 0;
    {
      std::shared_lock g(c->graph_mu);
      if (c->graph_broken || !c->graph) continue;
      saved = c->saved_nodes;
      const uint64_t n = c->graph->size();
      unsaved = n > saved ? n - saved : 0;
      if (unsaved == 0 && c->graph_rebuilt_unsaved) unsaved = 1;
    }
    if (unsaved == 0) {
      unsaved_since.erase(c->id);
      continue;
    }
    const Clock::time_point since = unsaved_since.emplace(c->id, now).first->second;
    const uint64_t by_count =
        std::max<uint64_t>(options.graph_checkpoint_nodes,
                           static_cast<uint64_t>(options.graph_checkpoint_fraction * static_cast<double>(saved)));
    const bool count_due = options.graph_checkpoint_nodes > 0 && unsaved >= by_count;
    const bool age_due =
        options.graph_checkpoint_seconds > 0 && now - since >= std::chrono::seconds(options.graph_checkpoint_seconds);
    if (!count_due && !age_due) continue;
    if (auto retry = retry_after.find(c->id); retry != retry_after.end()) {
      if (now < retry->second) continue;
      retry_after.erase(retry);
    }
    const Clock::time_point start = Clock::now();
    Status s;
    {
      std::lock_guard write(c->write_mu);
      if (c->dropped) continue;
      s = collections->PersistGraph(*c);
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
    if (s.ok()) {
      unsaved_since.erase(c->id);
      Log(LogLevel::kInfo, "collection \"" + c->config.name + "\": graph checkpoint of " + std::to_string(unsaved) +
                               " unsaved nodes (" + (count_due ? "count" : "age") + ") in " + std::to_string(ms) +
                               " ms");
    } else {
      // Tried again in a minute; the graph is derived data, so a failed
      // save costs only a longer start after a crash.
      retry_after[c->id] = Clock::now() + std::chrono::seconds(60);
      Log(LogLevel::kWarning, "collection \"" + c->config.name + "\": graph checkpoint failed: " + s.ToString());
    }
  }
}

}  // namespace verity
