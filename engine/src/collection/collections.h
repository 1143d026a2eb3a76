// Collections: the collections subsystem. It owns the registry of open
// collections (and of those whose load failed), and everything done to one
// collection's rows, versions and graph: create and drop, load at open,
// commit, the reads (get, scroll, count, search and its planner), the graph
// (catch-up, repair, rebuild, the graph file). The state of one collection
// is a `Collection` (collection/collection.h, with its own locks); this
// class holds the map of them.
//
// Locks:
// - mu_ (shared_mutex) guards by_name_ and unavailable_: taken briefly, to
//   find, add or remove a collection, never held across a collection's own
//   locks or RocksDB.
// - ddl_mu_ serialises the calls that change the set of collections
//   (CreateCollection, DropCollection, an import's registration, see
//   LockDdl) and guards next_collection_id_. Order: ddl_mu_, then a
//   collection's locks (Collection's header), then mu_.
//
// It may call: the store (storage/), the index (index/), base/ and util/.
// It knows nothing of snapshots' names, the retrieval log or the context
// service; history/ and context/ call it.
//
// Thread-safety: every method is thread-safe unless it says "caller holds".
// Ownership: it borrows the Store and the DatabaseOptions, which outlive it
// (the façade's Database::Impl owns all three); collections are shared_ptr,
// so a call that found one keeps it alive after a drop (then
// CheckNotDropped refuses its writes).
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "collection/collection.h"
#include "storage/store.h"
#include "verity/database.h"

namespace verity {

class Collections : private StoreUser {
 public:
  // `dir`: the data directory (graph files go under dir/graphs). `log`
  // gets what the subsystem has to say (a rebuilt graph, an unavailable
  // collection); may be empty.
  Collections(Store& store, std::string dir, const DatabaseOptions& options, LogFunction log);
  Collections(const Collections&) = delete;
  Collections& operator=(const Collections&) = delete;

  // --- The registry --------------------------------------------------------
  // Loads every collection at open: the next collection id, orphan removal
  // (unless the store opened read-only), each collection's rows and graph.
  // One whose load is DataLoss becomes unavailable; any other error fails.
  Status LoadAll();
  // NotFound naming the collection; DataLoss naming the damage for one
  // that is unavailable.
  Result<std::shared_ptr<Collection>> Find(const std::string& name) const;
  // Every collection being served, in name order (a copy of the map's
  // values: the caller then takes each one's locks).
  std::vector<std::shared_ptr<Collection>> All() const;
  // The names of every collection being served.
  std::vector<std::string> Names() const;
  // Whether a collection of this name exists, serving or unavailable.
  bool NameTaken(const std::string& name) const;
  // Forgets every collection (Close, after the store closed).
  void Clear();
  // Serialises the calls that add or remove collections (import's
  // registration: history/import.cc); see the class comment.
  std::unique_lock<std::mutex> LockDdl() { return std::unique_lock(ddl_mu_); }
  // Reserves `count` new collection ids (the first is returned), recorded
  // on disk at once so that no later collection gets them; ResourceExhausted
  // when ids run out, else RocksDB's errors. Takes ddl_mu_ itself.
  Result<uint32_t> TakeIds(uint32_t count);
  // Makes `built` visible under their names, replacing whatever was there,
  // and forgets the unavailable collections of those names; returns their
  // ids (their data is the caller's to delete). Caller holds LockDdl.
  std::vector<uint32_t> Register(const std::vector<std::shared_ptr<Collection>>& built);
  // The collections whose load failed (name, the load's DataLoss), by name.
  std::vector<std::pair<std::string, Status>> Unavailable() const;

  // --- Create, list, drop (the public API's work; docs in database.h) ------
  Result<CollectionInfo> CreateCollection(const CollectionConfig& config);
  // Changes (or adds) the collection's text index: a new analyzer version,
  // and every row analysed again (collection/text_load.cc).
  Result<CollectionInfo> SetTextIndex(const std::string& name, TextIndexConfig settings);
  Result<std::vector<CollectionInfo>> ListCollections() const;
  Status DropCollection(const std::string& name);
  // What GetCollection, ListCollections and an import's result say of `c`;
  // takes c.graph_mu shared.
  static CollectionInfo InfoOf(const Collection& c);
  // NotFound, as for a name that does not exist, once c is dropped (a
  // writer that found it before the drop); Aborted (retry) when an import
  // replaced it. Caller holds c.write_mu or c.pins_mu.
  static Status CheckNotDropped(const Collection& c);
  // Adds to `batch` the deletion of collection `id`'s record, versions,
  // snapshots, pins, rows, vectors and changes (not its name key).
  void DeleteCollectionData(rocksdb::WriteBatch& batch, uint32_t id);
  // For an unavailable collection `name`: adds the deletion of its data to
  // `batch` (the caller writes it and then Register forgets it), or with no
  // batch writes that plus the deletion of its name. false when `name` is
  // not unavailable. Caller holds LockDdl.
  Result<bool> RemoveUnavailable(const std::string& name, rocksdb::WriteBatch* batch);
  // Removes table files (below level 0) holding only collection `id`'s keys.
  void ForgetDamagedFiles(uint32_t id);
  // About how many bytes collection `id` takes on disk.
  uint64_t ApproximateBytes(uint32_t collection_id) const;

  // --- Loading (collection/load.cc) -----------------------------------------
  // Builds a Collection from rows already in RocksDB (open and import).
  Result<std::shared_ptr<Collection>> BuildCollection(const storage::CollectionMeta& meta, bool use_graph_file);
  // Loads the collection's pins and snapshot count.
  Status LoadPins(Collection& c);

  // --- Writes (collection/write.cc) -----------------------------------------
  Result<WriteResult> Upsert(const std::string& collection, std::vector<Record> records);
  Result<WriteResult> Delete(const std::string& collection, const std::vector<std::string>& ids);
  // One new version from upserts (validated, ids unique) and deletes (ids
  // not live are ignored). `revive` is empty or has one entry per upsert: a
  // revivable node (RowNode::revivable) holding exactly that record, which
  // then becomes visible again instead of getting a new node (Restore).
  // Caller holds c.write_mu.
  struct Committed {
    Version version = 0;
    uint32_t upserted = 0;
    uint32_t deleted = 0;
  };
  Result<Committed> Commit(Collection& c, std::vector<Record> upserts, const std::vector<std::string>& deletes,
                           storage::VersionMeta vmeta, const std::vector<std::optional<uint32_t>>& revive = {});

  // --- Reads (collection/read.cc, search_batch.cc) --------------------------
  Result<StoredRecord> Get(const std::string& collection, const std::string& id, const ReadPoint& at) const;
  Result<ScrollPage> Scroll(const std::string& collection, const ScrollRequest& request) const;
  Result<uint64_t> Count(const std::string& collection, const ReadPoint& at, const Filter* filter) const;
  Result<std::vector<SearchResult>> SearchBatch(const std::string& collection,
                                                const std::vector<SearchRequest>& queries,
                                                const std::function<Status()>& keep_going,
                                                const BatchLimits& limits) const;
  // One page of c's versions from `start_at` (at most `limit`, 0 = all),
  // each with the snapshots `snapshots_of` says name it (history's, given
  // by the façade). DataLoss for a version record that does not parse.
  Result<VersionPage> VersionsPage(const Collection& c, Version start_at, uint32_t limit,
                                   const std::map<Version, std::vector<std::string>>& snapshots_of) const;
  // The one resolver of every read's ReadPoint (collection/read.cc): the
  // head, the version, or the snapshot's version, checked against the
  // published head. Errors (`field` names the request's field, "at" for
  // most reads): NotFound (kSnapshotNotFound) "<field>.snapshot";
  // InvalidArgument "<field>.snapshot" for an empty name, "<field>" for a
  // version newer than the head; FailedPrecondition "<field>" if GC may have
  // collected it. Caller holds c.graph_mu (shared or unique) for as long
  // as it reads the version resolved.
  Result<Version> ResolveReadPoint(const Collection& c, const ReadPoint& at, const std::string& field = "at") const;
  // The stored record of snapshot `name` of `c`, and the version it pins,
  // read from the meta family: NotFound (kSnapshotNotFound, no field) or
  // DataLoss. ResolveReadPoint calls SnapshotVersionOf under c.graph_mu,
  // which a DeleteSnapshot's unpin waits for. (Snapshots are history's;
  // reading one is part of resolving a read.)
  Result<storage::SnapshotMeta> ReadSnapshot(const Collection& c, const std::string& name) const;
  Result<Version> SnapshotVersionOf(const Collection& c, const std::string& name) const;
  // Records visible at `version`; caller holds c.graph_mu. At a version the
  // graph does not serve (Collection::GraphServes) it counts the rows in
  // RocksDB; errors are RocksDB's or DataLoss.
  Result<uint64_t> CountAt(const Collection& c, Version version) const;
  // Records visible at `version` (matching `filter`, if any), counted from
  // the rows CF read with `read`; needs no lock.
  Result<uint64_t> CountRows(const Collection& c, Version version, const Filter* filter,
                             const rocksdb::ReadOptions& read) const;
  // Reads a row (text, metadata, optionally vector) by exact row key. A row
  // (or its vector) that is not stored is DataLoss, for a read the graph or
  // the version says must find it; with `absent_is_not_found`, a missing
  // row is NotFound instead (replay and audit: GC may have collected it),
  // and any other error still says what failed.
  Result<StoredRecord> ReadRow(const Collection& c, const std::string& row_key, std::string_view id, Version version,
                               bool with_vector, const rocksdb::ReadOptions& read = rocksdb::ReadOptions(),
                               bool absent_is_not_found = false) const;
  Result<SearchResult> SearchOne(const Collection& c, const SearchRequest& request) const;
  // SearchOne's two halves, for callers that must refuse bad input before
  // they act (Retrieve pins its version in between): the input checks (k,
  // ef, the vector, the filter), and the search of a checked request.
  // `bounded`: as ValidateVector's (false for a logged query being replayed).
  Status ValidateSearch(const Collection& c, const SearchRequest& request, bool bounded = true) const;
  Result<SearchResult> SearchValidated(const Collection& c, const SearchRequest& request) const;

  // --- The graph (collection/graph.cc) ---------------------------------------
  // Saves every collection's graph that has unsaved nodes.
  Status PersistGraphs();
  Status PersistGraph(Collection& c);
  // Builds a new graph of the nodes GC left and swaps it in; caller holds
  // c.write_mu (reads go on meanwhile).
  Status RebuildGraph(Collection& c);
  // Reachability repair (HnswGraph::Repair: every node gets an in-link the
  // entry point reaches, so a search can return it). RepairNewGraph repairs
  // a graph no reader sees yet (at open, in a rebuild) and logs what it
  // linked; true when it changed links. RepairGraphIfDue repairs c.graph
  // once the nodes inserted since the last check reach `min_fraction` of
  // the graph (0: any): the check (one pass over the links) holds graph_mu
  // shared, and only a graph with unreachable nodes takes it exclusively.
  // Caller holds c.write_mu, not graph_mu.
  bool RepairNewGraph(const Collection& c, HnswGraph& graph, const char* when) const;
  void RepairGraphIfDue(Collection& c, double min_fraction, const char* when);
  std::string GraphPath(uint32_t collection_id) const;

  // A search hit before its record is read. `distance` is the dense leg's distance, or the text / sparse leg's
  // score (larger is better) for those legs' hits.
  struct RowHit {
    std::string id;
    Version row_version;
    float distance;
  };

 private:
  // Collections whose load at open failed with DataLoss (a damaged table
  // block of their rows or vectors): they are not in by_name_, so GC,
  // graph saves and whole-database exports pass them by; Find refuses them
  // with DataLoss naming the damage; ListCollections shows them; Drop and
  // Import --replace remove them. docs/reliability.md ("Corruption").
  struct UnavailableCollection {
    storage::CollectionMeta meta;
    Status error;  // the load's DataLoss, naming the damaged file
  };

  // Loads one collection's rows and graph at open.
  Status LoadCollection(const storage::CollectionMeta& meta);
  // Removes rows of collection ids that have no collection record (left by
  // an import that crashed before it committed).
  Status RemoveOrphans();
  // Drops the unavailable collection `name`: true when it was one and is
  // gone. Caller holds ddl_mu_.
  bool DropUnavailable(const std::string& name);
  // BuildCollection's steps. LoadNodeTable fills c's node table, live ids,
  // metadata columns, rows-only versions and log-only row count from its
  // rows (c.nodes sized to the label count, pins loaded), and the row key
  // of each label that gets a node; DataLoss for rows that do not parse or
  // whose labels do not fit. AddRowToNode adds one row to its label's node
  // (DataLoss past two rows). LoadGraphFile returns the graph file's graph
  // if it verifies and matches the node table, else null and why in
  // *reason (empty when there is no file and no rows). FinishGraph catches
  // c.graph up with the rows it lacks, or builds one from the rows when
  // there is none (logging `reason`), repairs and saves it as needed.
  Status LoadNodeTable(Collection& c, std::vector<std::string>* row_key_of_label);
  static Status AddRowToNode(RowNode& node, uint64_t label, std::string_view id, Version version, Version to);
  std::unique_ptr<HnswGraph> LoadGraphFile(const Collection& c, std::string* reason);
  Status FinishGraph(Collection& c, const std::vector<std::string>& row_key_of_label, const std::string& reason);
  // The text and sparse indexes (collection/text_load.cc): from the text
  // family's documents, re-analysing (and rewriting) the rows whose
  // document is missing or from another analyzer version; sparse vectors
  // from the rows. Stale documents (labels GC collected) are deleted.
  Status LoadTextIndex(Collection& c, const std::vector<std::string>& row_key_of_label);
  Status LoadSparseIndex(Collection& c, const std::vector<std::string>& row_key_of_label);
  // Inserts the graph labels in [from, to) that have rows, from their
  // stored vectors, into `graph`.
  Status InsertStoredLabels(const Collection& c, HnswGraph& graph, const std::vector<std::string>& row_key_of_label,
                            size_t from, size_t to);

  // Commit's steps (collection/write.cc), in its order; caller holds
  // c.write_mu. The labels of the upserts: label_of[i] for upserts[i];
  // revived ones keep theirs, the others are first_label.. next_label - 1.
  struct CommitLabels {
    std::vector<uint32_t> label_of;
    uint64_t first_label = 0;
    uint64_t next_label = 0;
    size_t new_nodes() const { return next_label - first_label; }
  };
  using CommitDeleted = std::pair<std::string, uint32_t>;  // id, label
  // ResourceExhausted once the graph's labels run out.
  static Result<CommitLabels> AssignCommitLabels(const Collection& c, size_t upserts,
                                                 const std::vector<std::optional<uint32_t>>& revive);
  // Builds the version's WriteBatch (tombstones for the ids of `deletes`
  // live at head, which go to *deleted; rows and vectors of the upserts; the
  // change list; the version and collection records) and writes it synced;
  // then c.meta is the returned collection record. Errors are RocksDB's.
  // `text_docs`: the upserts' analysed text, by position (empty without a
  // text index; revived rows' entries are ignored: their label has one).
  Result<storage::CollectionMeta> WriteCommitBatch(Collection& c, Version version, const std::vector<Record>& upserts,
                                                   const std::vector<std::string>& deletes, const CommitLabels& labels,
                                                   const std::vector<text::DocTerms>& text_docs,
                                                   storage::VersionMeta vmeta, std::vector<CommitDeleted>* deleted);
  // The upserts' analysed text (in parallel for large batches), for the
  // new labels only; empty without a text index.
  std::vector<text::DocTerms> AnalyzeCommit(const Collection& c, const std::vector<Record>& upserts,
                                            const CommitLabels& labels) const;
  // After the write: the live map and the node table (under c.graph_mu),
  // invisible to readers until the head moves. Moves the upserts' ids.
  // Also applies it to the text indexes (c.text), before the head moves.
  static void ApplyCommitToNodes(Collection& c, Version version, std::vector<Record>& upserts,
                                 const CommitLabels& labels, const std::vector<CommitDeleted>& deleted,
                                 const std::vector<text::DocTerms>& text_docs);
  // The new nodes' prepared vectors into the graph, in chunks (c.graph_mu
  // held per chunk); the first failure stops it and is returned.
  Status InsertCommitIntoGraph(Collection& c, const std::vector<float>& prepared, const CommitLabels& labels);

  // The dense leg of a search at `version` over the graph: the k nearest
  // nodes (request.k is ignored) passing `compiled` (null = no filter).
  // Caller holds c.graph_mu shared, and the version is not rows-only.
  // Returns whether it searched exactly.
  bool DenseLegLocked(const Collection& c, const SearchRequest& request, const float* query, uint32_t k,
                      Version version, const MetadataColumns::CompiledFilter* compiled,
                      std::vector<RowHit>* hits) const;
  // A search with a text or sparse leg (collection/text_search.cc): each
  // leg at one version under the same filter, then fused when there are
  // two or more (text::Fuse). ValidateSearch has checked the request.
  Result<SearchResult> SearchLegs(const Collection& c, const SearchRequest& request) const;
  // The text / sparse leg at a rows-only version: the rows visible at it,
  // indexed on the spot (so scores and statistics are exactly the index's).
  Status TextLegFromRows(const Collection& c, const SearchRequest& request, const std::vector<text::QueryTerm>& query,
                         bool sparse, uint32_t k, Version version, const rocksdb::ReadOptions& read,
                         std::vector<RowHit>* hits) const;
  Status ValidateLegs(const Collection& c, const SearchRequest& request) const;
  // The exact k nearest rows visible at `version` (matching the request's
  // filter), nearest first, from the rows and vectors CFs read with `read`:
  // the search at versions whose nodes GC dropped (log-pinned only). `query`
  // is prepared (PrepareVector). Needs no lock; the caller resolved
  // `version` and took `read`'s snapshot while it was readable.
  Status SearchRows(const Collection& c, const SearchRequest& request, Version version, const float* query,
                    const rocksdb::ReadOptions& read, std::vector<RowHit>* hits) const;
  // SearchValidated's steps (collection/read.cc). PlanExactSearch: whether
  // the search scans every node instead of walking the graph (the request's
  // plan, else the planner's estimate from a sample of `accept`); caller
  // holds c.graph_mu shared. FillSearchHits: result->hits from hit_rows
  // (their ids moved out), each with its record read under `snapshot` when
  // the request wants payloads or vectors (then `snapshot` is set);
  // ResourceExhausted past request.max_payload_bytes; needs no lock.
  bool PlanExactSearch(const Collection& c, const SearchRequest& request, const LabelFilter& accept, bool all_visible,
                       uint32_t ef) const;
  Status FillSearchHits(const Collection& c, const SearchRequest& request, std::vector<RowHit>& hit_rows,
                        const std::optional<ScopedSnapshot>& snapshot, SearchResult* result) const;

  const std::string dir_;
  const DatabaseOptions& options_;

  mutable std::shared_mutex mu_;
  std::map<std::string, std::shared_ptr<Collection>> by_name_;  // GUARDED_BY(mu_)
  std::map<std::string, UnavailableCollection> unavailable_;    // GUARDED_BY(mu_)
  std::mutex ddl_mu_;
  uint32_t next_collection_id_ = 1;  // GUARDED_BY(ddl_mu_)
};

// NotFound (kSnapshotNotFound) for snapshot `name` of `collection`; a name
// longer than any snapshot's is not echoed whole (it would go back in the
// status and into the server's log).
Status SnapshotNotFound(const std::string& name, const std::string& collection);

// About how many bytes a record takes in a response (ids, text, metadata,
// vector): for the bounds on responses (SearchRequest::max_payload_bytes).
uint64_t RecordBytes(const Record& r);

// Positions `it` (on the rows CF) at the newest row of `id` at or below
// `version`. Sets *found=false if the id has no row then; tombstones count
// as found (the caller checks).
Status SeekRow(rocksdb::Iterator* it, uint32_t collection, std::string_view id, Version version, bool* found,
               Version* row_version);

// The pin holder of the retrieval log (docs/retrieval-log.md).
inline constexpr char kLogPinHolder[] = "log";

}  // namespace verity
