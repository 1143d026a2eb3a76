// The data model's value types: collections, records and metadata, search
// requests and results. Plain values: no locking, no I/O.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace verity {

// A collection version: every committed write batch gets the next one.
// Version 0 is the empty collection right after creation.
using Version = uint64_t;

// Where a read reads a collection: its head (the default), a version, or
// the version a named snapshot of that collection pins. Every engine read
// (Get, Count, Scroll, Search, SearchBatch, CacheLookup, Retrieve, a
// counterfactual Replay, and the history calls that read a version:
// CreateSnapshot, Diff, Restore, Export) takes one and resolves it once,
// under the same lock as the read itself, so a snapshot deleted (and its
// version collected) concurrently is either seen whole or not at all.
//
// Resolution errors (the read's, with `at` its field): NotFound with
// StatusReason::kSnapshotNotFound and field "at.snapshot" for a snapshot
// that does not exist; InvalidArgument "at.snapshot" for an empty name;
// InvalidArgument "at" for a version newer than the head; FailedPrecondition
// "at" for a version no longer retained (collected by GC).
//
// Converts implicitly from a Version and from std::optional<Version>
// (nullopt = head), so `request.at = 5;` and `db.Get(c, id, v)` read as
// they did when reads took std::optional<Version>. A plain value: no I/O,
// no locking.
class ReadPoint {
 public:
  enum class Kind { kHead, kVersion, kSnapshot };

  ReadPoint() = default;                                                // the head
  ReadPoint(std::nullopt_t) {}                                         // NOLINT: implicit by design (head)
  ReadPoint(Version version) : kind_(Kind::kVersion), version_(version) {}  // NOLINT: implicit by design
  ReadPoint(std::optional<Version> version)                            // NOLINT: implicit by design
      : kind_(version ? Kind::kVersion : Kind::kHead), version_(version.value_or(0)) {}

  static ReadPoint Head() { return ReadPoint(); }
  static ReadPoint AtVersion(Version version) { return ReadPoint(version); }
  // An empty name is refused when the read resolves it (InvalidArgument).
  static ReadPoint AtSnapshot(std::string name) {
    ReadPoint p;
    p.kind_ = Kind::kSnapshot;
    p.snapshot_ = std::move(name);
    return p;
  }

  Kind kind() const { return kind_; }
  bool is_head() const { return kind_ == Kind::kHead; }
  bool is_version() const { return kind_ == Kind::kVersion; }
  bool is_snapshot() const { return kind_ == Kind::kSnapshot; }
  // The version of an AtVersion point; 0 for the others.
  Version version() const { return version_; }
  // The name of an AtSnapshot point; "" for the others.
  const std::string& snapshot() const { return snapshot_; }

  bool operator==(const ReadPoint& other) const = default;

 private:
  Kind kind_ = Kind::kHead;
  Version version_ = 0;   // kVersion only
  std::string snapshot_;  // kSnapshot only
};

enum class Metric {
  kL2,      // distance = squared Euclidean distance
  kIp,      // distance = 1 - dot(a, b)
  kCosine,  // distance = 1 - cos(a, b); vectors are normalised on the way in
};

// "l2", "ip", "cosine".
const char* MetricName(Metric metric);
// Parses a metric name; returns false if `name` is not one of the above.
bool ParseMetric(const std::string& name, Metric* metric);

// Which versions of a collection are retained (see docs/snapshots.md). A
// version is retained while it is the head, while a snapshot (or another pin,
// such as a retrieval-log record) pins it, or while it is inside this
// window; GC removes the row versions that no retained version can see. The
// window is the union of both rules; 0 turns a rule off.
struct RetentionPolicy {
  uint32_t keep_versions = 100;          // the newest N versions. Default: 100
  int64_t keep_seconds = 7 * 24 * 3600;  // versions that were the head within this many seconds. Default: 7 days
};

// How a collection's full-text index turns text into terms
// (docs/text-search.md). At creation the preset fills stopwords and stemmer
// when they are empty and turns ascii_fold on if it has it; the collection
// then stores (and reports) the resulting settings. Terms are Unicode word segments (UAX #29, by
// ICU's BreakIterator) that contain a letter or a digit.
struct AnalyzerConfig {
  // "standard": word breaks + case folding; "english": also English
  // stopwords and the Snowball English stemmer. "" = "standard".
  std::string preset = "standard";
  bool case_fold = true;    // Unicode full case folding (ICU)
  bool ascii_fold = false;  // also strip accents and fold to ASCII where possible ("café" -> "cafe")
  std::string stopwords;    // "" = none; else a language: "english"
  std::string stemmer;      // "" = none; else a Snowball algorithm: "english", "porter", "french", ...
  // Terms longer than this many bytes are dropped (after folding). 1..1024.
  uint32_t max_term_bytes = 255;
  bool operator==(const AnalyzerConfig& other) const = default;
};

// A collection's full-text (BM25) index over each record's `text`
// (docs/text-search.md). Off unless `enabled`.
// A string metadata field indexed beside the record's text (BM25F).
struct TextFieldConfig {
  std::string name;     // a metadata key, 1..256 bytes
  uint32_t weight = 1;  // 1..16: each of its terms counts as `weight` occurrences
  bool operator==(const TextFieldConfig& other) const = default;
};

struct TextIndexConfig {
  bool enabled = false;
  AnalyzerConfig analyzer;
  // Besides `text` (weight 1), these string metadata values are analysed
  // into the same document, each term weighted by its field's weight
  // (simple BM25F: term frequencies and the length are weighted sums, one
  // k1 and b). At most 8; default none. A list value counts each string.
  std::vector<TextFieldConfig> fields;
  float k1 = 1.2f;  // BM25 term-frequency saturation, 0..3
  float b = 0.75f;  // BM25 length normalisation, 0..1
  // Bumped when the analyzer changes (the index is then rebuilt); logged
  // with every text retrieval so that a replay knows the terms it used.
  uint32_t analyzer_version = 1;
};

// A named sparse-vector field of a collection: records may carry a sparse
// vector in it, and searches score by dot product (docs/text-search.md).
struct SparseFieldConfig {
  std::string name;            // 1..64 bytes of [A-Za-z0-9_.-]
  uint32_t dimension = 1u << 31;  // indices are < dimension; 1..2^31
};

// What a caller chooses when creating a collection.
struct CollectionConfig {
  std::string name;            // 1..128 bytes of [A-Za-z0-9_.-]
  // 0..4096. 0 = no dense vector: a text-only collection (it needs a text
  // index or a sparse field), searched by text or sparse vectors only.
  uint32_t dimension = 0;
  Metric metric = Metric::kL2;
  uint32_t m = 16;             // HNSW links per node. 2..128. Default: 16
  uint32_t ef_construction = 200;  // 1..4096. Default: 200
  uint32_t default_ef = 64;    // search breadth when a query sets none. 1..4096. Default: 64
  RetentionPolicy retention;
  TextIndexConfig text_index;                 // default: none
  std::vector<SparseFieldConfig> sparse_fields;  // at most 8; default: none
};

// A collection as the engine reports it.
struct CollectionInfo {
  CollectionConfig config;
  uint32_t id = 0;                // internal, never reused
  Version head_version = 0;       // newest committed version
  int64_t created_at_us = 0;      // Unix microseconds
  uint64_t live_records = 0;      // records visible at head
  uint64_t graph_nodes = 0;       // row versions in the HNSW graph (live + dead)
  uint64_t dead_nodes = 0;        // graph nodes not visible at head (replaced or deleted rows)
  uint64_t collected_nodes = 0;   // ... of which GC removed every row (they only route searches)
  uint64_t unsaved_graph_nodes = 0;  // graph nodes not yet in the graph file (re-inserted at Open after a crash)
  // Superseded rows kept on disk only because retrieval-log pins see them
  // (no graph node; reads at those versions scan the rows). As of the last GC.
  uint64_t log_only_rows = 0;
  Version oldest_retained = 0;    // versions below this are readable only if pinned (see GC)
  uint64_t retained_versions = 0;  // readable versions: oldest_retained..head + older pinned ones
  uint64_t snapshots = 0;         // number of snapshots of this collection
  // "" when the collection serves; else why it does not: its data was found
  // damaged at open (DataLoss naming the file), and every call on it fails
  // with that. Only ListCollections returns such a collection; the counts
  // above are then 0 but for the version fields of its record.
  std::string unavailable;
};

// One committed version of a collection.
struct VersionInfo {
  Version version = 0;
  int64_t committed_at_us = 0;  // Unix microseconds
  uint32_t upserted = 0;        // records written by this version's batch
  uint32_t deleted = 0;         // records deleted by this version's batch
  bool readable = true;         // false once GC may have collected it (not retained)
  std::vector<std::string> snapshots;  // snapshots that pin this version
  Version restored_from = 0;    // for a restore: the version whose contents it restored
  bool is_restore = false;
};

// A page of ListVersionsPage.
struct VersionPage {
  std::vector<VersionInfo> versions;  // oldest first
  Version next_start_at = 0;          // 0 = no more
};

// A named pin on a collection version. Creating one is metadata only.
struct SnapshotInfo {
  std::string collection;
  std::string name;         // 1..128 bytes of [A-Za-z0-9_.-], unique per collection
  std::string description;  // at most 4096 bytes
  Version version = 0;
  int64_t created_at_us = 0;
  uint64_t records = 0;     // records visible at `version`
};

// One id that differs between two versions.
enum class ChangeKind { kAdded, kRemoved, kChanged };
const char* ChangeKindName(ChangeKind kind);  // "added", "removed", "changed"

struct DiffEntry {
  std::string id;
  ChangeKind kind = ChangeKind::kAdded;
  Version from_row_version = 0;  // the row seen at `from` (0 for added)
  Version to_row_version = 0;    // the row seen at `to` (0 for removed)
};

// Ids added, removed and changed between two versions of one collection, in
// id order, one page at a time; the counts cover the whole diff. A record is
// "changed" when both versions see it with different contents (vector, text,
// document id or metadata); a rewrite with identical contents is not a change.
struct DiffPage {
  Version from = 0;
  Version to = 0;
  uint64_t added = 0;
  uint64_t removed = 0;
  uint64_t changed = 0;
  std::vector<DiffEntry> entries;
  std::string next_cursor;  // "" when this is the last page
};

struct RestoreResult {
  Version version = 0;        // the new head, whose contents equal the restored version's
  Version restored_from = 0;  // the version restored
  uint32_t upserted = 0;      // records written back
  uint32_t deleted = 0;       // records removed
};

struct GcResult {
  Version oldest_retained = 0;    // versions below are readable only if pinned
  uint64_t rows_removed = 0;      // row versions (and tombstones) deleted
  uint64_t nodes_dropped = 0;     // graph nodes no retained version can see, or only log-pinned ones
  uint64_t log_only_rows = 0;     // rows kept on disk only for log pins (no graph node)
  bool graph_rebuilt = false;     // the graph was rebuilt without dropped nodes
  uint64_t bytes_before = 0;      // approximate on-disk size of the collection
  uint64_t bytes_after = 0;
};

// Export and import (see docs/snapshots.md for the directory format).
struct ExportedCollection {
  std::string name;
  Version version = 0;
  uint64_t records = 0;
};
struct ExportResult {
  std::string path;
  std::vector<ExportedCollection> collections;
  uint64_t bytes = 0;  // all files, manifest included
};
struct ImportResult {
  std::vector<CollectionInfo> collections;
  uint64_t records = 0;
  uint64_t bytes = 0;
};
// What Database::RemoveUnfinishedExports did: the directories it removed
// and, for each it had to leave, why.
struct UnfinishedExports {
  std::vector<std::string> removed;  // paths
  std::vector<std::string> errors;   // one message per directory left in place
};
// Called with bytes done and bytes in total (total may be an estimate).
using ProgressFunction = std::function<void(uint64_t done, uint64_t total)>;

// A metadata value: string, int64, double, bool or list of strings.
using MetadataValue =
    std::variant<std::string, int64_t, double, bool, std::vector<std::string>>;
using Metadata = std::map<std::string, MetadataValue>;

// A sparse vector: strictly increasing indices, each with a finite value.
struct SparseVector {
  std::vector<uint32_t> indices;
  std::vector<float> values;
  bool operator==(const SparseVector& other) const = default;
};

// A record (a chunk) as written by a caller.
struct Record {
  std::string id;            // 1..512 bytes of UTF-8, no NUL
  std::vector<float> vector; // exactly the collection's dimension, finite (empty when it is 0)
  std::string text;          // UTF-8, at most 1 MiB
  std::string document_id;   // optional ("" = none), at most 512 bytes
  Metadata metadata;         // at most 64 keys of 1..256 bytes
  // Sparse vectors by field name (the collection's sparse_fields); at most
  // Limits::kMaxSparseEntries entries each.
  std::map<std::string, SparseVector> sparse;
};

// A record as read back at some version.
struct StoredRecord {
  Record record;
  Version row_version = 0;  // the version that wrote this row
};

// Results of writes, searches and scrolls, shared by the engine and the
// client library.
struct WriteResult {
  Version version = 0;   // the collection's new head version
  uint32_t applied = 0;  // records upserted, or ids actually deleted
};

// How a search runs. kAuto lets the planner choose (see DatabaseOptions and
// docs/filters.md); kExact is brute force over the qualifying rows (ground
// truth); kGraph always walks the graph (for benchmarks and diagnosis).
enum class SearchPlan { kAuto, kExact, kGraph };

// How the legs of a hybrid search (a dense vector, a text query and a
// sparse vector in one request) are fused into one ranking
// (docs/text-search.md, "Hybrid search"). Each leg first fetches its top
// max(k, leg_limit) under the same filter and version.
enum class FusionMethod {
  kRrf,     // reciprocal rank fusion: sum of weight / (rrf_k + rank), rank from 1
  kConvex,  // sum of weight * min-max normalised score (dense: 1 - normalised distance)
};
const char* FusionMethodName(FusionMethod method);  // "rrf", "convex"
bool ParseFusionMethod(const std::string& name, FusionMethod* method);

struct FusionConfig {
  FusionMethod method = FusionMethod::kRrf;
  uint32_t rrf_k = 60;        // 1..100000
  float dense_weight = 1.0f;  // each 0..1000 and finite; at least one leg used must be > 0
  float text_weight = 1.0f;
  float sparse_weight = 1.0f;
  uint32_t leg_limit = 100;   // 1..Limits::kMaxK
  bool operator==(const FusionConfig& other) const = default;
};

// One leg's view of a hit: its 0-based rank in that leg's own top-N and its
// score there (dense: the distance; text: BM25; sparse: the dot product).
struct LegScore {
  int32_t rank = -1;  // -1: the leg did not return this hit
  float score = 0;
  bool found() const { return rank >= 0; }
};

struct SearchHit {
  std::string id;
  Version row_version = 0;
  float distance = 0;  // smaller is closer; see Metric. 0 when the dense leg did not find it
  // The score the hits are ranked by when the search is not dense-only:
  // BM25 (text only), the dot product (sparse only) or the fused score
  // (hybrid); larger is better. 0 for a dense-only search.
  float score = 0;
  // Per leg; set only for a hybrid search (two or more legs).
  LegScore dense;
  LegScore text;
  LegScore sparse;
  std::optional<Record> record;
};

struct SearchResult {
  Version version = 0;  // the version that was read
  bool exact = false;   // true when the planner searched by brute force
  std::vector<SearchHit> hits;  // nearest first
};

struct ScrollPage {
  Version version = 0;
  std::vector<StoredRecord> records;  // in id (byte) order
  // "" when there is nothing more. A page holds `limit` records, or fewer
  // when they reach Limits::kMaxPageBytes: continue from the cursor.
  std::string next_cursor;
};

// Limits the engine enforces on every write and query. Each is checked with an
// InvalidArgument that names it.
struct Limits {
  static constexpr uint32_t kMaxDimension = 4096;
  // Every vector component (records and queries) must be finite with
  // |x| <= 1e15, so that no distance can overflow float in any metric at any
  // dimension up to kMaxDimension: a dot product is at most
  // 4096 * 1e15 * 1e15 ~ 4.1e33 and a squared L2 distance at most
  // 4096 * (2e15)^2 ~ 1.6e34, both far below FLT_MAX (3.4e38). Larger
  // components gave inf (l2) and NaN (ip) distances that could not be ranked.
  static constexpr float kMaxVectorComponent = 1e15f;
  static constexpr size_t kMaxIdBytes = 512;
  static constexpr size_t kMaxTextBytes = 1 << 20;
  static constexpr size_t kMaxMetadataKeys = 64;
  static constexpr size_t kMaxMetadataKeyBytes = 256;
  static constexpr size_t kMaxMetadataValueBytes = 64 * 1024;
  static constexpr size_t kMaxListItems = 1024;
  static constexpr size_t kMaxSparseEntries = 65536;  // per sparse vector (record or query)
  static constexpr size_t kMaxSparseFields = 8;
  static constexpr size_t kMaxQueryTerms = 1024;      // analysed terms of a text query
  static constexpr size_t kMaxBatchRecords = 100000;
  static constexpr uint32_t kMaxK = 10000;
  static constexpr uint32_t kMaxEf = 10000;
  static constexpr size_t kMaxScrollLimit = 10000;
  // A page of Scroll or ListLog ends early, with a cursor, once the records
  // in it reach this many bytes (so a page of large texts or answers fits a
  // gRPC message and is never built whole in memory first).
  static constexpr size_t kMaxPageBytes = 16 << 20;
  // A ListLog page examines at most this many records (a filter by
  // collection or kind can match few of them): the page then ends, perhaps
  // empty, with a cursor, so one call's work stays bounded on a long log.
  static constexpr uint32_t kMaxLogScanRecords = 100000;
  static constexpr uint32_t kMaxScrollScan = 100000;  // the same for a Scroll page's ids
  static constexpr size_t kMaxCollectionNameBytes = 128;
  static constexpr size_t kMaxSnapshotNameBytes = 128;
  static constexpr size_t kMaxDescriptionBytes = 4096;
  static constexpr size_t kMaxDiffLimit = 10000;
  static constexpr uint32_t kMaxVersionsPage = 10000;    // ListVersionsPage's limit
  // The highest version a collection may reach: far beyond any real
  // history, and far from wrapping. A write to a head at this version is
  // ResourceExhausted; an import takes at most kMaxVersion - 1, so that an
  // imported collection can always be written once more.
  static constexpr uint64_t kMaxVersion = uint64_t{1} << 62;
  // ListPromptVersionsPage's limit: each version carries its template (up
  // to kMaxPromptBytes), so a page of 1,000 can reach ~500 MiB.
  static constexpr uint32_t kMaxPromptVersionsPage = 1000;
  static constexpr size_t kMaxPromptBytes = 256 * 1024;  // a template, and a prompt config
  static constexpr size_t kMaxRenderedPromptBytes = 16 << 20;  // a template with its variables filled in
  // retention.keep_seconds: 100 years. Larger values overflowed the
  // microsecond cutoff and kept nothing.
  static constexpr int64_t kMaxKeepSeconds = int64_t{100} * 365 * 24 * 3600;
  static constexpr size_t kMaxParamsJsonBytes = 64 * 1024;  // the answer cache's params_json
  static constexpr size_t kMaxParamsJsonDepth = 32;         // nesting of its arrays and objects
};

}  // namespace verity
