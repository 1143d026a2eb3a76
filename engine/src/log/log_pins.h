// What the retrieval log needs from the pin registry: a retrieval pins the
// version it read (holder "log", docs/retrieval-log.md), so that its rows
// stay while a record names it; log retention (RetrievalLog::Gc) releases
// the pins of versions no kept record names any more. The log knows
// versions by (collection id, version) only and never sees a collection.
//
// Implemented by the history subsystem (History, history/history.h), the
// one registry of pins; pinning a version at retrieval time is the context
// service's, through History::PinForLog.
#pragma once

#include <cstdint>
#include <set>
#include <utility>

#include "verity/status.h"
#include "verity/types.h"

namespace verity {

class LogPins {
 public:
  // A collection id and a version of it.
  using CollectionVersion = std::pair<uint32_t, Version>;

  virtual ~LogPins() = default;

  // The versions whose log pin no retrieval has used since `cutoff_us`
  // (pins loaded at open count as unused since 0), in every serving
  // collection: the first retention run after an open releases those no
  // record names (a crash between a retrieval's pin and its record's sync
  // leaves one). Thread-safe.
  virtual std::set<CollectionVersion> UnusedLogPins(int64_t cutoff_us) = 0;

  // Releases the log pin of each of `versions` that no retrieval has used
  // since `cutoff_us` (a recent retrieval keeps it); versions without a log
  // pin, or of collections no longer serving, are passed by. Stops at the
  // first failed write and returns its error. Thread-safe.
  virtual Status ReleaseLogPins(const std::set<CollectionVersion>& versions, int64_t cutoff_us) = 0;
};

}  // namespace verity
