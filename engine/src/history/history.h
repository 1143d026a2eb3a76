// History: the history subsystem. It owns what is kept of a collection's
// past and how it is named: snapshots and pins (one registry — a snapshot's
// pin, a caller's named pin and the retrieval log's pins are all keys of
// the same pin family, counted in Collection::pins), diff and restore,
// retention and GC, export and import.
//
// The retrieval log asks it (as LogPins, log/log_pins.h) which of its pins
// are unused and to release them; the context service asks it to pin the
// version a retrieval read (PinForLog).
//
// Locks: it has no lock of its own. It takes a collection's locks in their
// order (collection/collection.h: gc_mu, write_mu, pins_mu, graph_mu);
// import's registration takes Collections::LockDdl first.
//
// It may call: the collections subsystem (collection/collections.h), the
// store, the index, base/ and util/. Not the retrieval log or the context
// service.
//
// Thread-safety: every method is thread-safe unless it says "caller holds".
// Ownership: it borrows the Store, the Collections and the options, which
// outlive it (the façade, Database::Impl, owns all of them).
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "collection/collections.h"
#include "history/retention.h"
#include "log/log_pins.h"
#include "storage/store.h"
#include "verity/database.h"

namespace verity {

namespace history {
struct ImportItem;  // history/import.cc
}  // namespace history

class History : public LogPins, private StoreUser {
 public:
  // `dir`: the data directory. `log` gets what the subsystem has to say (a
  // GC's summary, an export that skips an unavailable collection); may be
  // empty.
  History(Store& store, Collections& collections, std::string dir, const DatabaseOptions& options, LogFunction log);
  History(const History&) = delete;
  History& operator=(const History&) = delete;

  // --- Snapshots and pins (history/snapshots.cc, pins.cc) ------------------
  // The public API's work; errors as documented in verity/database.h.
  Result<SnapshotInfo> CreateSnapshot(const std::string& collection, const std::string& name,
                                      const std::string& description, const ReadPoint& at);
  Result<SnapshotInfo> GetSnapshot(const std::string& collection, const std::string& name) const;
  Result<std::vector<SnapshotInfo>> ListSnapshots(const std::string& collection) const;
  Status DeleteSnapshot(const std::string& collection, const std::string& name);
  Status PinVersion(const std::string& collection, Version version, const std::string& holder);
  Status UnpinVersion(const std::string& collection, Version version, const std::string& holder);
  // The version snapshot `name` of `collection` names. NotFound or DataLoss.
  Result<Version> SnapshotVersionOf(const std::string& collection, const std::string& name) const;
  // Snapshots of a collection, sorted by name; with their record counts
  // (a pass over the node table each) when `with_counts`.
  Result<std::vector<SnapshotInfo>> SnapshotsOf(const Collection& c, bool with_counts) const;
  // Pins `version` of `c` for the retrieval log (once per version). Caller
  // holds c.pins_mu. NotFound once c is dropped; FailedPrecondition when GC
  // has collected the version (a pin cannot bring its rows back).
  Status PinForLog(Collection& c, Version version);
  // LogPins, for the log's retention: the collections' log pins
  // (Collection::log_pinned).
  std::set<CollectionVersion> UnusedLogPins(int64_t cutoff_us) override;
  Status ReleaseLogPins(const std::set<CollectionVersion>& versions, int64_t cutoff_us) override;

  // --- Diff and restore (history/diff_restore.cc) ---------------------------
  Result<DiffPage> Diff(const std::string& collection, const ReadPoint& from, const ReadPoint& to,
                        const std::string& start_after, uint32_t limit,
                        const std::function<Status()>& keep_going) const;
  Result<RestoreResult> Restore(const std::string& collection, const ReadPoint& at, const std::string& into);

  // --- Retention and GC (history/gc.cc) -------------------------------------
  Status SetRetention(const std::string& collection, const RetentionPolicy& retention);
  Result<GcResult> Gc(const std::string& collection);

  // --- Export and import (history/export.cc, import.cc) ---------------------
  Result<ExportResult> Export(const std::string& collection, const ReadPoint& at, const std::string& path,
                              const ProgressFunction& progress);
  Result<ImportResult> Import(const std::string& path, const std::string& as_name, bool replace,
                              const ProgressFunction& progress, uint32_t max_dimension);

 private:
  // GC of one collection; caller holds c.write_mu.
  Result<GcResult> GcLocked(Collection& c);
  // GC's inputs (the retention settings, the commit times the keep_seconds
  // rule looks at, the horizon so far, the pins) read and handed to
  // history::PlanRetention. Caller holds c.write_mu and c.pins_mu.
  Result<history::RetentionPlan> PlanGc(Collection& c) const;
  // Records `horizon` as c's oldest retained version (on disk, then in
  // memory) if it moves it forward. Caller holds c.write_mu and c.pins_mu.
  Status RecordGcHorizon(Collection& c, Version horizon);

  // Import, in its steps. AssignImportIds gives each item a fresh
  // collection id (recorded; ResourceExhausted when ids run out).
  // DiscardImport removes what an import that failed wrote under them.
  // RegisterImport makes the built items visible with one batch, dropping
  // the collections they replace (`replace`; else AlreadyExists),
  // unavailable ones of the same name included; FindImportReplaced is its
  // first step: the collections each item replaces (null if none), the
  // deletion of unavailable ones added to `batch`. Caller of
  // FindImportReplaced holds Collections::LockDdl.
  Status AssignImportIds(std::vector<history::ImportItem>& items);
  void DiscardImport(const std::vector<history::ImportItem>& items);
  Status RegisterImport(const std::vector<history::ImportItem>& items, bool replace);
  Status FindImportReplaced(const std::vector<history::ImportItem>& items, bool replace, rocksdb::WriteBatch* batch,
                            std::vector<std::shared_ptr<Collection>>* olds);

  Collections& collections_;
  const std::string dir_;
  const DatabaseOptions& options_;
};

}  // namespace verity
