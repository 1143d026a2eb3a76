// Database writes: Upsert and Delete. Each is one RocksDB WriteBatch (rows,
// vectors, change list, version record, collection record), synced before it
// returns, then applied to the in-memory graph and published.
#include <rocksdb/write_batch.h>

#include "codec.h"
#include "database_impl.h"
#include "keys.h"
#include "validate.h"

namespace verity {
namespace {

// Graph inserts happen in chunks so that searches wait at most one chunk.
constexpr size_t kInsertChunk = 2048;

}  // namespace

Result<WriteResult> Database::Upsert(const std::string& collection, std::vector<Record> records) {
  VERITY_CHECK_OPEN_();
  VERITY_ASSIGN_OR_RETURN(auto c, impl_->Find(collection));
  {
    std::vector<std::string_view> ids;
    ids.reserve(records.size());
    for (const auto& r : records) ids.emplace_back(r.id);
    VERITY_RETURN_IF_ERROR(ValidateBatchIds(ids, "records"));
  }
  const uint32_t dim = c->config.dimension;
  for (size_t i = 0; i < records.size(); ++i) {
    VERITY_RETURN_IF_ERROR(ValidateRecord(records[i], dim, "records[" + std::to_string(i) + "]"));
  }

  std::lock_guard write(c->write_mu);
  const Version version = c->meta.head_version() + 1;
  const uint64_t first_label = c->meta.next_label();
  if (first_label + records.size() > UINT32_MAX) return Status::ResourceExhausted("graph labels exhausted");

  rocksdb::WriteBatch batch;
  uint64_t newly_live = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    const Record& r = records[i];
    storage::RowMeta row;
    row.set_label(first_label + i);
    row.set_text(r.text);
    row.set_document_id(r.document_id);
    MetadataToProto(r.metadata, row.mutable_metadata());
    const std::string key = keys::RowKey(c->id, r.id, version);
    batch.Put(impl_->rows, key, row.SerializeAsString());
    batch.Put(impl_->vectors, key, EncodeVector(r.vector));
    batch.Put(impl_->changes, keys::ChangeKey(c->id, version, r.id), "U");
    if (c->live.find(r.id) == c->live.end()) ++newly_live;
  }
  storage::VersionMeta vmeta;
  vmeta.set_committed_at_us(NowMicros());
  vmeta.set_upserted(static_cast<uint32_t>(records.size()));
  batch.Put(impl_->meta, keys::VersionKey(c->id, version), vmeta.SerializeAsString());
  storage::CollectionMeta meta = c->meta;
  meta.set_head_version(version);
  meta.set_next_label(first_label + records.size());
  meta.set_live_records(meta.live_records() + newly_live);
  batch.Put(impl_->meta, keys::CollectionKey(c->id), meta.SerializeAsString());

  VERITY_RETURN_IF_ERROR(FromRocks(impl_->db->Write(impl_->write_options, &batch), "upsert"));
  c->meta = meta;

  // Durable from here on. Apply to memory: nodes first (invisible until the
  // head moves), then the graph in chunks, then publish.
  std::vector<float> prepared(records.size() * dim);
  for (size_t i = 0; i < records.size(); ++i) {
    std::copy(records[i].vector.begin(), records[i].vector.end(), prepared.begin() + static_cast<std::ptrdiff_t>(i * dim));
    PrepareVector(c->config.metric, prepared.data() + i * dim, dim);
  }
  uint64_t superseded = 0;
  {
    std::unique_lock lock(c->graph_mu);
    c->nodes.reserve(first_label + records.size());
    for (size_t i = 0; i < records.size(); ++i) {
      Record& r = records[i];
      auto [it, inserted] = c->live.try_emplace(r.id, static_cast<uint32_t>(first_label + i));
      if (!inserted) {
        c->nodes[it->second].to = version;  // still visible to readers at older versions
        it->second = static_cast<uint32_t>(first_label + i);
        ++superseded;
      }
      c->columns.Set(static_cast<uint32_t>(first_label + i), r.metadata);
      RowNode node;
      node.id = std::move(r.id);
      node.from = version;
      c->nodes.push_back(std::move(node));
    }
    c->dead_nodes += superseded;
  }
  Status graph_status;
  for (size_t start = 0; start < records.size() && graph_status.ok(); start += kInsertChunk) {
    const size_t n = std::min(kInsertChunk, records.size() - start);
    std::unique_lock lock(c->graph_mu);
    graph_status = c->graph->Add(prepared.data() + start * dim, n, impl_->options.insert_threads);
  }
  std::unique_lock lock(c->graph_mu);
  c->head = version;
  c->live_count = meta.live_records();
  if (!graph_status.ok()) {
    // The batch is durable; only the derived graph is behind. Searches refuse
    // until a restart rebuilds it from the rows.
    c->graph_broken = true;
    impl_->Log(LogLevel::kError, "collection \"" + c->config.name + "\": graph insert failed after commit: " +
                                     graph_status.ToString());
  }
  return WriteResult{version, static_cast<uint32_t>(records.size())};
}

Result<WriteResult> Database::Delete(const std::string& collection, const std::vector<std::string>& ids) {
  VERITY_CHECK_OPEN_();
  VERITY_ASSIGN_OR_RETURN(auto c, impl_->Find(collection));
  {
    std::vector<std::string_view> views(ids.begin(), ids.end());
    VERITY_RETURN_IF_ERROR(ValidateBatchIds(views, "ids"));
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    VERITY_RETURN_IF_ERROR(ValidateRecordId(ids[i], "ids[" + std::to_string(i) + "]"));
  }

  std::lock_guard write(c->write_mu);
  const Version version = c->meta.head_version() + 1;
  rocksdb::WriteBatch batch;
  std::vector<uint32_t> labels;
  storage::RowMeta tombstone;
  tombstone.set_tombstone(true);
  const std::string tombstone_bytes = tombstone.SerializeAsString();
  for (const auto& id : ids) {
    auto it = c->live.find(id);
    if (it == c->live.end()) continue;
    labels.push_back(it->second);
    batch.Put(impl_->rows, keys::RowKey(c->id, id, version), tombstone_bytes);
    batch.Put(impl_->changes, keys::ChangeKey(c->id, version, id), "D");
  }
  storage::VersionMeta vmeta;
  vmeta.set_committed_at_us(NowMicros());
  vmeta.set_deleted(static_cast<uint32_t>(labels.size()));
  batch.Put(impl_->meta, keys::VersionKey(c->id, version), vmeta.SerializeAsString());
  storage::CollectionMeta meta = c->meta;
  meta.set_head_version(version);
  meta.set_live_records(meta.live_records() - labels.size());
  batch.Put(impl_->meta, keys::CollectionKey(c->id), meta.SerializeAsString());

  VERITY_RETURN_IF_ERROR(FromRocks(impl_->db->Write(impl_->write_options, &batch), "delete"));
  c->meta = meta;
  for (const auto& id : ids) c->live.erase(id);

  std::unique_lock lock(c->graph_mu);
  for (uint32_t label : labels) c->nodes[label].to = version;
  c->dead_nodes += labels.size();
  c->head = version;
  c->live_count = meta.live_records();
  return WriteResult{version, static_cast<uint32_t>(labels.size())};
}

}  // namespace verity
