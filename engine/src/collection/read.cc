// Database reads: Get, Scroll, Count, Search, ListVersions (SearchBatch is
// in collection/search_batch.cc).
// Every read resolves one version first and then sees exactly the rows valid
// at it (see RowNode::VisibleAt and the row key layout in keys.h).
#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>

#include "base/validate.h"
#include "collection/collections.h"
#include "collection/row_scan.h"
#include "index/distance.h"
#include "storage/codec.h"
#include "storage/keys.h"

namespace verity {

uint64_t RecordBytes(const Record& r) {
  uint64_t bytes = r.id.size() + r.text.size() + r.document_id.size() + r.vector.size() * sizeof(float);
  for (const auto& [key, value] : r.metadata) {
    bytes += key.size() + 8;
    if (const auto* s = std::get_if<std::string>(&value)) bytes += s->size();
    if (const auto* list = std::get_if<std::vector<std::string>>(&value)) {
      for (const auto& item : *list) bytes += item.size() + 2;
    }
  }
  return bytes;
}

namespace {

// The refusal of SearchRequest::max_payload_bytes.
Status PayloadTooLarge(uint64_t bytes, size_t hits, uint64_t bound) {
  return Status::ResourceExhausted("the records of the first " + std::to_string(hits) + " hits hold " +
                                   std::to_string(bytes) + " bytes, more than the " + std::to_string(bound) +
                                   " this response may hold")
      .WithField("hits")
      .WithReason(StatusReason::kResponseTooLarge);
}

struct VisibilityContext {
  const std::vector<RowNode>* nodes;
  Version version;
  const MetadataColumns::CompiledFilter* filter;  // nullptr: no filter
};

bool AcceptVisible(const void* context, uint32_t label) {
  const auto& ctx = *static_cast<const VisibilityContext*>(context);
  if (label >= ctx.nodes->size()) return false;
  if (!(*ctx.nodes)[label].VisibleAt(ctx.version)) return false;
  return ctx.filter == nullptr || ctx.filter->Matches(label);
}

}  // namespace

// Finds the newest row of `id` at or below `version`. Sets *found=false if
// the id has no row then (tombstones are returned; the caller checks).
Status SeekRow(rocksdb::Iterator* it, uint32_t collection, std::string_view id, Version version, bool* found,
               Version* row_version) {
  it->Seek(keys::RowKey(collection, id, version));
  *found = false;
  if (!it->Valid()) return FromRocks(it->status(), "seek row");
  const std::string_view key(it->key().data(), it->key().size());
  if (key.size() < 4 || keys::GetU32(key.data()) != collection) return Status::Ok();
  VERITY_ASSIGN_OR_RETURN(const RowKeyParts parts, RowKeyAt(*it));
  if (parts.collection != collection || parts.id != id) return Status::Ok();
  *found = true;
  *row_version = parts.version;
  return Status::Ok();
}


Result<uint64_t> Collections::CountRows(const Collection& c, Version version, const Filter* filter,
                                        const rocksdb::ReadOptions& read) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, rows_));
  uint64_t count = 0;
  VERITY_RETURN_IF_ERROR(ForEachRowAt(
      it.get(), c.id, version, [&](const std::string& id, const std::string&, Version, const storage::RowMeta& row) {
        if (!filter || filter->Matches(FilterFields(MetadataFromProto(row.metadata()), id, row.document_id()))) {
          ++count;
        }
        return Status::Ok();
      }));
  return count;
}

Result<uint64_t> Collections::CountAt(const Collection& c, Version version) const {
  if (version == c.head) return c.live_count;
  if (!c.GraphServes(version)) return CountRows(c, version, nullptr, rocksdb::ReadOptions());
  uint64_t count = 0;
  for (const RowNode& node : c.nodes) count += node.VisibleAt(version) ? 1 : 0;
  return count;
}

Status Collections::SearchRows(const Collection& c, const SearchRequest& request, Version version, const float* query,
                               const rocksdb::ReadOptions& read, std::vector<RowHit>* hits) const {
  const uint32_t dim = c.config.dimension;
  const Filter* filter = request.filter ? &*request.filter : nullptr;
  // A max-heap of the k nearest so far (farthest on top); ties by id.
  auto nearer = [](const RowHit& a, const RowHit& b) {
    return a.distance < b.distance || (a.distance == b.distance && a.id < b.id);
  };
  hits->clear();
  std::vector<float> vector;
  std::string bytes;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, rows_));
  VERITY_RETURN_IF_ERROR(ForEachRowAt(
      it.get(), c.id, version,
      [&](const std::string& id, const std::string& key, Version row_version, const storage::RowMeta& row) -> Status {
        if (filter && !filter->Matches(FilterFields(MetadataFromProto(row.metadata()), id, row.document_id()))) {
          return Status::Ok();
        }
        rocksdb::Status rs = db_->Get(read, vectors_, key, &bytes);
        if (rs.IsNotFound()) return Status::DataLoss("the vector of row " + id + " is missing");
        VERITY_RETURN_IF_ERROR(FromRocks(rs, "read vector of " + id));
        VERITY_RETURN_IF_ERROR(DecodeVector(bytes, dim, &vector));
        PrepareVector(c.config.metric, vector.data(), dim);
        RowHit hit{id, row_version, Distance(c.config.metric, query, vector.data(), dim)};
        // A stored vector from before the component bound can give a
        // distance that is not a number: it has no rank (and would break
        // the heap's ordering), so it is not a hit.
        if (std::isnan(hit.distance)) return Status::Ok();
        if (hits->size() < request.k) {
          hits->push_back(std::move(hit));
          std::push_heap(hits->begin(), hits->end(), nearer);
        } else if (nearer(hit, hits->front())) {
          std::pop_heap(hits->begin(), hits->end(), nearer);
          hits->back() = std::move(hit);
          std::push_heap(hits->begin(), hits->end(), nearer);
        }
        return Status::Ok();
      }));
  std::sort_heap(hits->begin(), hits->end(), nearer);
  return Status::Ok();
}

Result<Version> Collections::ResolveReadPoint(const Collection& c, const ReadPoint& at,
                                              const std::string& field) const {
  Version version = c.head;
  switch (at.kind()) {
    case ReadPoint::Kind::kHead:
      return c.head;
    case ReadPoint::Kind::kVersion:
      version = at.version();
      break;
    case ReadPoint::Kind::kSnapshot: {
      const std::string snapshot_field = field + ".snapshot";
      if (at.snapshot().empty()) return Status::InvalidArgument("empty snapshot name").WithField(snapshot_field);
      // Under the caller's c.graph_mu: a snapshot seen here keeps its pin
      // (DeleteSnapshot unpins under the unique lock) until the read ends.
      auto pinned = SnapshotVersionOf(c, at.snapshot());
      if (!pinned.ok()) return pinned.status().WithField(snapshot_field);
      version = *pinned;
      break;
    }
  }
  if (version > c.head) {
    return Status::InvalidArgument("version " + std::to_string(version) + " does not exist yet (head of \"" +
                                   c.config.name + "\" is " + std::to_string(c.head) + ")")
        .WithField(field);
  }
  if (!c.Readable(version)) {
    return Status::FailedPrecondition("version " + std::to_string(version) + " of \"" + c.config.name +
                                      "\" is not retained (garbage-collected, or before the import that made the "
                                      "collection); the oldest retained version is " +
                                      std::to_string(c.oldest_retained) +
                                      ", older ones only where a snapshot pins them")
        .WithField(field);
  }
  return version;
}

Result<StoredRecord> Collections::ReadRow(const Collection& c, const std::string& row_key, std::string_view id,
                                          Version version, bool with_vector, const rocksdb::ReadOptions& read,
                                          bool absent_is_not_found) const {
  std::string value;
  rocksdb::Status rs = db_->Get(read, rows_, row_key, &value);
  if (rs.IsNotFound()) {
    const std::string what = "row " + std::string(id) + "@" + std::to_string(version) + " of \"" + c.config.name + "\"";
    if (absent_is_not_found) return Status::NotFound(what + " is not stored");
    return Status::DataLoss(what + " is missing");
  }
  VERITY_RETURN_IF_ERROR(FromRocks(rs, "read row"));
  storage::RowMeta row;
  if (!row.ParseFromString(value)) return Status::DataLoss("row " + std::string(id) + " does not parse");
  StoredRecord out;
  out.row_version = version;
  out.record.id.assign(id);
  out.record.text = row.text();
  out.record.document_id = row.document_id();
  out.record.metadata = MetadataFromProto(row.metadata());
  out.record.sparse = SparseFromProto(row.sparse());
  if (with_vector && !row.tombstone() && c.config.dimension > 0) {
    rs = db_->Get(read, vectors_, row_key, &value);
    if (rs.IsNotFound()) return Status::DataLoss("the vector of row " + std::string(id) + " is missing");
    VERITY_RETURN_IF_ERROR(FromRocks(rs, "read vector of " + std::string(id)));
    VERITY_RETURN_IF_ERROR(DecodeVector(value, c.config.dimension, &out.record.vector));
  }
  return out;
}

Result<StoredRecord> Collections::Get(const std::string& collection, const std::string& id, const ReadPoint& at) const {
  VERITY_ASSIGN_OR_RETURN(auto c, Find(collection));
  VERITY_RETURN_IF_ERROR(ValidateRecordId(id, "id"));
  Version version;
  std::optional<ScopedSnapshot> snapshot;
  {
    std::shared_lock lock(c->graph_mu);
    VERITY_ASSIGN_OR_RETURN(version, ResolveReadPoint(*c, at));
    snapshot.emplace(db_);
  }
  const rocksdb::ReadOptions read = snapshot->options();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, rows_));
  bool found;
  Version row_version = 0;
  VERITY_RETURN_IF_ERROR(SeekRow(it.get(), c->id, id, version, &found, &row_version));
  const std::string not_found =
      "record \"" + id + "\" does not exist in \"" + collection + "\" at version " + std::to_string(version);
  if (!found) return Status::NotFound(not_found);
  storage::RowMeta row;
  if (!row.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
    return Status::DataLoss("row " + id + " does not parse");
  }
  if (row.tombstone()) return Status::NotFound(not_found);
  return ReadRow(*c, it->key().ToString(), id, row_version, true, read);
}

Result<ScrollPage> Collections::Scroll(const std::string& collection, const ScrollRequest& request) const {
  VERITY_ASSIGN_OR_RETURN(auto c, Find(collection));
  if (request.limit < 1 || request.limit > Limits::kMaxScrollLimit) {
    return Status::InvalidArgument("limit: " + std::to_string(request.limit) + " is outside 1..10000");
  }
  if (request.max_scanned < 1 || request.max_scanned > Limits::kMaxScrollScan) {
    return Status::InvalidArgument("max_scanned: " + std::to_string(request.max_scanned) + " is outside 1.." +
                                   std::to_string(Limits::kMaxScrollScan));
  }
  if (!request.start_after.empty()) VERITY_RETURN_IF_ERROR(ValidateRecordId(request.start_after, "start_after"));
  if (request.filter) VERITY_RETURN_IF_ERROR(request.filter->Validate());
  ScrollPage page;
  std::optional<ScopedSnapshot> snapshot;
  {
    std::shared_lock lock(c->graph_mu);
    VERITY_ASSIGN_OR_RETURN(page.version, ResolveReadPoint(*c, request.at));
    snapshot.emplace(db_);
  }
  const rocksdb::ReadOptions read = snapshot->options();
  const std::string prefix = keys::CollectionPrefix(c->id);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, rows_));
  it->Seek(request.start_after.empty() ? prefix : keys::RowKeyAfterId(c->id, request.start_after));
  size_t page_bytes = 0;
  bool full = false;  // the page reached Limits::kMaxPageBytes
  uint32_t scanned = 0;
  std::string last_scanned;
  while (it->Valid() && it->key().starts_with(prefix) && page.records.size() < request.limit && !full) {
    if (scanned == request.max_scanned) {  // the next page starts after the last id examined
      page.next_cursor = last_scanned;
      return page;
    }
    VERITY_ASSIGN_OR_RETURN(const RowKeyParts parts, RowKeyAt(*it));
    const std::string id(parts.id);
    Version version = parts.version;
    ++scanned;
    last_scanned = id;
    if (version > page.version) {
      bool found;
      VERITY_RETURN_IF_ERROR(SeekRow(it.get(), c->id, id, page.version, &found, &version));
      if (!found) continue;  // the iterator already sits on the next id
    }
    storage::RowMeta row;
    if (!row.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status::DataLoss("row " + id + " does not parse");
    }
    if (!row.tombstone()) {
      const std::string row_key = it->key().ToString();
      if (!request.filter ||
          request.filter->Matches(FilterFields(MetadataFromProto(row.metadata()), id, row.document_id()))) {
        VERITY_ASSIGN_OR_RETURN(StoredRecord record, ReadRow(*c, row_key, id, version, request.with_vectors, read));
        page_bytes += it->value().size() + id.size() + record.record.vector.size() * sizeof(float);
        full = page_bytes >= Limits::kMaxPageBytes;
        page.records.push_back(std::move(record));
      }
    }
    it->Seek(keys::RowKeyAfterId(c->id, id));
  }
  VERITY_RETURN_IF_ERROR(FromRocks(it->status(), "scroll"));
  if (page.records.size() == request.limit || full) page.next_cursor = page.records.back().record.id;
  return page;
}

Result<uint64_t> Collections::Count(const std::string& collection, const ReadPoint& at, const Filter* filter) const {
  VERITY_ASSIGN_OR_RETURN(auto c, Find(collection));
  if (filter) VERITY_RETURN_IF_ERROR(filter->Validate());
  std::shared_lock lock(c->graph_mu);
  VERITY_ASSIGN_OR_RETURN(Version version, ResolveReadPoint(*c, at));
  if (filter == nullptr && version == c->head) return c->live_count;
  if (!c->GraphServes(version)) {  // a log-pinned version without graph nodes: count its rows
    ScopedSnapshot snapshot(db_);
    lock.unlock();
    return CountRows(*c, version, filter, snapshot.options());
  }
  auto compiled = filter ? c->columns.Compile(*filter) : nullptr;
  uint64_t count = 0;
  for (uint32_t label = 0; label < c->nodes.size(); ++label) {
    if (c->nodes[label].VisibleAt(version) && (compiled == nullptr || compiled->Matches(label))) ++count;
  }
  return count;
}

Status Collections::ValidateSearch(const Collection& c, const SearchRequest& request, bool bounded) const {
  if (request.k < 1 || request.k > Limits::kMaxK) {
    return Status::InvalidArgument(std::to_string(request.k) + " is outside 1.." + std::to_string(Limits::kMaxK))
        .WithField("k");
  }
  if (request.ef > Limits::kMaxEf) {
    return Status::InvalidArgument(std::to_string(request.ef) + " is above the limit " +
                                   std::to_string(Limits::kMaxEf))
        .WithField("ef");
  }
  if (!request.text.empty() || !request.sparse_field.empty()) {
    VERITY_RETURN_IF_ERROR(ValidateLegs(c, request));
  } else if (request.vector.empty() && c.config.dimension == 0) {
    return Status::InvalidArgument("the query is empty: give a text query (the collection \"" + c.config.name +
                                   "\" has no dense vectors) or a sparse vector")
        .WithField("text");
  }
  if (!request.vector.empty() || (request.text.empty() && request.sparse_field.empty())) {
    if (c.config.dimension == 0) {
      return Status::InvalidArgument("the collection \"" + c.config.name +
                                     "\" has no dense vectors (dimension 0): search it by text or sparse vector")
          .WithField("vector");
    }
    VERITY_RETURN_IF_ERROR(ValidateVector(request.vector, c.config.dimension, "vector", bounded));
  }
  if (request.filter) VERITY_RETURN_IF_ERROR(request.filter->Validate());
  return Status::Ok();
}

Result<SearchResult> Collections::SearchOne(const Collection& c, const SearchRequest& request) const {
  VERITY_RETURN_IF_ERROR(ValidateSearch(c, request));
  return SearchValidated(c, request);
}

bool Collections::PlanExactSearch(const Collection& c, const SearchRequest& request, const LabelFilter& accept,
                                  bool all_visible, uint32_t ef) const {
  // Planner: estimate how many nodes qualify from a strided sample; search
  // exactly when few do (a graph walk would then miss true neighbours) or
  // when a scan is estimated cheaper than the walk. The walk expands about
  // ef / fraction nodes with up to M distances each; the scan checks every
  // node and computes a distance for each qualifying one.
  const uint32_t dim = c.config.dimension;
  const size_t n = c.graph->size();
  bool exact =
      request.plan == SearchPlan::kExact || (request.plan == SearchPlan::kAuto && n < options_.exact_search_max_rows);
  if (request.plan == SearchPlan::kAuto && !exact && !all_visible) {
    const size_t samples = std::min<size_t>(n, 512);
    size_t accepted = 0;
    for (size_t i = 0; i < samples; ++i) {
      if (accept.Accepts(static_cast<uint32_t>(i * n / samples))) ++accepted;
    }
    const double fraction = static_cast<double>(accepted) / static_cast<double>(samples);
    const double qualifying = fraction * static_cast<double>(n);
    exact = qualifying < static_cast<double>(options_.exact_search_max_rows) ||
            fraction < options_.exact_search_max_fraction;
    if (!exact && options_.cost_based_planner) {
      constexpr double kCheckCost = 8;  // a visibility + filter check, in units of one float
      const double scan_cost = qualifying * dim + static_cast<double>(n) * kCheckCost;
      const double walk_cost = (ef / fraction) * c.config.m * (dim + kCheckCost);
      exact = scan_cost < walk_cost;
    }
  }
  return exact;
}

Status Collections::FillSearchHits(const Collection& c, const SearchRequest& request, std::vector<RowHit>& hit_rows,
                                   const std::optional<ScopedSnapshot>& snapshot, SearchResult* result) const {
  result->hits.resize(hit_rows.size());
  uint64_t payload_bytes = 0;
  for (size_t i = 0; i < hit_rows.size(); ++i) {
    SearchHit& hit = result->hits[i];
    hit.id = std::move(hit_rows[i].id);
    hit.row_version = hit_rows[i].row_version;
    hit.distance = hit_rows[i].distance;
    if (request.with_payload || request.with_vectors) {
      VERITY_ASSIGN_OR_RETURN(StoredRecord row, ReadRow(c, keys::RowKey(c.id, hit.id, hit.row_version), hit.id,
                                                        hit.row_version, request.with_vectors, snapshot->options()));
      hit.record = std::move(row.record);
      payload_bytes += request.payload_bytes ? request.payload_bytes(*hit.record) : RecordBytes(*hit.record);
      if (request.max_payload_bytes > 0 && payload_bytes > request.max_payload_bytes) {
        return PayloadTooLarge(payload_bytes, i + 1, request.max_payload_bytes);
      }
    }
  }
  return Status::Ok();
}

bool Collections::DenseLegLocked(const Collection& c, const SearchRequest& request, const float* query, uint32_t k,
                                 Version version, const MetadataColumns::CompiledFilter* compiled,
                                 std::vector<RowHit>* hits) const {
  const uint32_t ef = std::max(k, request.ef > 0 ? request.ef : c.config.default_ef);
  VisibilityContext context{&c.nodes, version, compiled};
  LabelFilter accept{AcceptVisible, &context};
  const bool all_visible =
      compiled == nullptr && version == c.head && c.dead_nodes == 0 && c.graph->node_count() == c.live_count;
  if (all_visible) accept = LabelFilter{};
  const bool exact = PlanExactSearch(c, request, accept, all_visible, ef);
  const std::vector<Neighbor> neighbors =
      exact ? c.graph->ExactSearch(query, k, accept) : c.graph->Search(query, k, ef, accept);
  hits->reserve(hits->size() + neighbors.size());
  for (const Neighbor& nb : neighbors) {
    hits->push_back({c.nodes[nb.label].id, c.nodes[nb.label].RowVersionAt(version), nb.distance});
  }
  return exact;
}

Result<SearchResult> Collections::SearchValidated(const Collection& c, const SearchRequest& request) const {
  if (!request.text.empty() || !request.sparse_field.empty()) return SearchLegs(c, request);
  const uint32_t dim = c.config.dimension;
  const Filter* filter = request.filter ? &*request.filter : nullptr;
  std::vector<float> query = request.vector;
  PrepareVector(c.config.metric, query.data(), dim);

  SearchResult result;
  std::vector<RowHit> hit_rows;
  std::optional<ScopedSnapshot> snapshot;
  bool rows_only = false;
  {
    std::shared_lock lock(c.graph_mu);
    if (c.graph_broken) {
      return Status::Unavailable("the graph of \"" + c.config.name +
                                 "\" failed to update; restart the server to rebuild it");
    }
    VERITY_ASSIGN_OR_RETURN(result.version, ResolveReadPoint(c, request.at));
    rows_only = !c.GraphServes(result.version);
    if (request.with_payload || request.with_vectors || rows_only) snapshot.emplace(db_);
    if (!rows_only) {
      auto compiled = filter ? c.columns.Compile(*filter) : nullptr;
      result.exact = DenseLegLocked(c, request, query.data(), request.k, result.version, compiled.get(), &hit_rows);
    }
  }
  if (rows_only) {
    // Some rows visible at this (log-pinned) version have no graph node:
    // an exact search over the rows valid at it, read from RocksDB under
    // the snapshot taken while the version was readable.
    result.exact = true;
    VERITY_RETURN_IF_ERROR(SearchRows(c, request, result.version, query.data(), snapshot->options(), &hit_rows));
  }
  VERITY_RETURN_IF_ERROR(FillSearchHits(c, request, hit_rows, snapshot, &result));
  return result;
}

Result<VersionPage> Collections::VersionsPage(const Collection& c, Version start_at, uint32_t limit,
                                              const std::map<Version, std::vector<std::string>>& snapshots_of) const {
  Version head;
  Version oldest_retained;
  std::map<Version, uint32_t> pins;
  {
    std::shared_lock lock(c.graph_mu);
    head = c.head;
    oldest_retained = c.oldest_retained;
    pins = c.pins;
  }
  VersionPage out;
  const std::string prefix = keys::VersionPrefix(c.id);
  std::string first = prefix;
  keys::PutU64(&first, start_at);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_));
  for (it->Seek(first); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->key().size() != prefix.size() + 8) return Status::DataLoss("meta: malformed version key");
    VersionInfo info;
    info.version = keys::GetU64(it->key().data() + prefix.size());
    if (info.version > head) break;  // committed but not yet published
    if (limit > 0 && out.versions.size() == limit) {
      out.next_start_at = info.version;
      break;
    }
    storage::VersionMeta meta;
    if (!meta.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status::DataLoss("meta: version " + std::to_string(info.version) + " does not parse");
    }
    info.committed_at_us = meta.committed_at_us();
    info.upserted = meta.upserted();
    info.deleted = meta.deleted();
    info.is_restore = meta.is_restore();
    info.restored_from = meta.restored_from();
    info.readable = info.version >= oldest_retained || pins.count(info.version) > 0;
    auto named = snapshots_of.find(info.version);
    if (named != snapshots_of.end()) info.snapshots = named->second;
    out.versions.push_back(info);
  }
  VERITY_RETURN_IF_ERROR(FromRocks(it->status(), "list versions"));
  return out;
}

}  // namespace verity
