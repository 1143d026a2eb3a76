// Database: open, close, and collections. Writes are in database_write.cc,
// reads in database_read.cc.
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/write_batch.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "storage/codec.h"
#include "database/database_impl.h"
#include "index/distance.h"
#include "storage/keys.h"
#include "base/validate.h"

namespace verity {

namespace fs = std::filesystem;

#ifndef NDEBUG
thread_local std::shared_mutex* LifecycleGuard::held_ = nullptr;
#endif

void Database::Impl::Log(LogLevel level, const std::string& message) const {
  if (options.log) {
    options.log(level, message);
    return;
  }
  const char* name = level == LogLevel::kInfo ? "info" : level == LogLevel::kWarning ? "warning" : "error";
  std::fprintf(stderr, "verity engine %s: %s\n", name, message.c_str());
}

std::string Database::Impl::GraphPath(uint32_t collection_id) const {
  return dir + "/graphs/" + std::to_string(collection_id) + ".graph";
}

Result<std::shared_ptr<Collection>> Database::Impl::Find(const std::string& name) const {
  std::shared_lock lock(collections_mu);
  auto it = collections.find(name);
  if (it == collections.end()) {
    if (auto u = unavailable.find(name); u != unavailable.end()) {
      return Status::DataLoss("collection \"" + name + "\" is unavailable: " + u->second.error.message() +
                              " (drop it, or import it again from an export with replace)");
    }
    // A name longer than any collection's is not echoed whole (it would go
    // back in the status and into the server's log line).
    if (name.size() > Limits::kMaxCollectionNameBytes) {
      return Status::NotFound("collection \"" + name.substr(0, 64) + "...\" (" + std::to_string(name.size()) +
                              " bytes; names are at most " + std::to_string(Limits::kMaxCollectionNameBytes) +
                              ") does not exist");
    }
    return Status::NotFound("collection \"" + name + "\" does not exist");
  }
  return it->second;
}

bool Database::Impl::NameTaken(const std::string& name) const {
  std::shared_lock lock(collections_mu);
  return collections.count(name) > 0 || unavailable.count(name) > 0;
}

Database::Database(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Database::~Database() {
  Status s = Close();
  if (!s.ok()) impl_->Log(LogLevel::kError, "close: " + s.ToString());
}

bool Database::IsReadOnly() const { return impl_ && impl_->store && impl_->store->IsReadOnly(); }

std::string Database::ReadOnlyReason() const {
  return impl_ && impl_->store ? impl_->store->ReadOnlyReason() : "";
}

namespace {

// Open's first step: the options it checks itself, then the data directory
// (created if allowed and missing) and its graphs/ folder.
Status PrepareDataDirectory(const std::string& dir, const DatabaseOptions& options) {
  // Bounded so that the cutoff (now - retention in µs) cannot overflow.
  constexpr int64_t kMaxLogRetentionSeconds = 1000LL * 366 * 24 * 3600;
  if (options.log_retention_seconds < 0 || options.log_retention_seconds > kMaxLogRetentionSeconds) {
    return Status::InvalidArgument("log_retention_seconds: " + std::to_string(options.log_retention_seconds) +
                                   " is outside 0.." + std::to_string(kMaxLogRetentionSeconds) + " (1,000 years)");
  }
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    if (!options.create_if_missing) return Status::NotFound("data directory " + dir + " does not exist");
    fs::create_directories(dir, ec);
    if (ec) return Status::Unavailable("cannot create data directory " + dir + ": " + ec.message());
  } else if (!fs::is_directory(dir, ec)) {
    return Status::FailedPrecondition("data directory " + dir + " is not a directory");
  }
  fs::create_directories(dir + "/graphs", ec);
  if (ec) return Status::Unavailable("cannot create " + dir + "/graphs: " + ec.message());
  return Status::Ok();
}

}  // namespace

Status Database::Impl::OpenStore() {
  StoreOptions store_options;
  store_options.sync_writes = options.sync_writes;
  store_options.wal_recovery = options.wal_recovery;
  store_options.memtable_budget_bytes = options.memtable_budget_bytes;
  store_options.env = options.env;
  Impl* self = this;  // owns the store, so outlives it
  store_options.log = [self](LogLevel level, const std::string& message) { self->Log(level, message); };
  VERITY_ASSIGN_OR_RETURN(store, Store::Open(dir, store_options));
  db = store->db();
  meta = store->meta();
  rows = store->rows();
  vectors = store->vectors();
  changes = store->changes();
  write_options = store->write_options();
  RetrievalLog::Env log_env;
  log_env.store = store.get();
  log_env.retention_seconds = options.log_retention_seconds;
  log_env.calls_running = &calls_running;
  log_env.log_message = [self](LogLevel level, const std::string& message) { self->Log(level, message); };
  retrieval_log = std::make_unique<RetrievalLog>(std::move(log_env));
  return Status::Ok();
}

void Database::Impl::OpenSubsystems() {
  prompts = std::make_unique<PromptRegistry>(
      db, meta,
      [this](rocksdb::WriteBatch* batch, const std::string& what) { return store->Write(batch, what); },
      NowMicros);
  OpenAnswerCache();
  Log(LogLevel::kInfo, "opened " + dir + " (distance kernels: " + DistanceKernelName() + ")");
}

Status Database::Impl::LoadCollections() {
  std::string value;
  rocksdb::Status rs = db->Get(rocksdb::ReadOptions(), meta, keys::NextCollectionIdKey(), &value);
  if (rs.ok()) {
    if (value.size() != 4) return Status::DataLoss("meta: next collection id is malformed");
    next_collection_id = keys::GetU32(value.data());
  } else if (!rs.IsNotFound()) {
    return FromRocks(rs, "read meta");
  }

  if (!store->opened_read_only()) VERITY_RETURN_IF_ERROR(RemoveOrphans());
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), meta));
  for (it->Seek("C"); it->Valid() && it->key().starts_with("C"); it->Next()) {
    storage::CollectionMeta record;
    if (!record.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status::DataLoss("meta: collection record " + it->key().ToString(true) + " does not parse");
    }
    Status loaded = LoadCollection(record);
    if (loaded.code() == StatusCode::kDataLoss) {
      // One damaged collection (a table block of its rows or vectors fails
      // its checksum) does not take the others and the retrieval log down.
      Log(LogLevel::kError, "collection \"" + record.name() + "\" is unavailable: " + loaded.message() +
                                "; the other collections and the retrieval log are served; drop it or import "
                                "it again from an export (docs/reliability.md, \"Corruption\")");
      std::unique_lock lock(collections_mu);
      unavailable[record.name()] = {record, loaded};
      continue;
    }
    VERITY_RETURN_IF_ERROR(loaded);
  }
  return FromRocks(it->status(), "scan collections");
}

Status Database::Impl::LoadLogAndStartThreads() {
  if (!store->opened_read_only()) VERITY_RETURN_IF_ERROR(retrieval_log->MoveIndexKeys());
  VERITY_RETURN_IF_ERROR(retrieval_log->Load());
  retrieval_log->StartSyncer();
  if (options.gc_interval_seconds > 0 && !store->opened_read_only()) {
    gc_thread = std::thread([this] { RunBackgroundGc(); });
  }
  if ((options.graph_checkpoint_nodes > 0 || options.graph_checkpoint_seconds > 0) && !store->opened_read_only()) {
    checkpoint_thread = std::thread([this] { RunGraphCheckpoints(); });
  }
  return Status::Ok();
}

Result<std::unique_ptr<Database>> Database::Open(const std::string& dir, const DatabaseOptions& options) {
  VERITY_RETURN_IF_ERROR(PrepareDataDirectory(dir, options));
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->options = options;
  VERITY_RETURN_IF_ERROR(impl->OpenStore());

  std::unique_ptr<Database> database(new Database(std::move(impl)));
  Impl& d = *database->impl_;
  d.owner = database.get();
  d.OpenSubsystems();
  VERITY_RETURN_IF_ERROR(d.LoadCollections());
  VERITY_RETURN_IF_ERROR(d.LoadLogAndStartThreads());
  return database;
}

Status Database::Impl::InsertStoredLabels(const Collection& c, HnswGraph& graph,
                                          const std::vector<std::string>& row_key_of_label, size_t from, size_t to) {
  const uint32_t dim = c.config.dimension;
  constexpr size_t kChunk = 8192;
  std::vector<float> chunk;
  std::vector<uint32_t> labels;
  std::vector<float> vector;
  std::string bytes;
  for (size_t start = from; start < to; start += kChunk) {
    const size_t end = std::min(to, start + kChunk);
    chunk.clear();
    labels.clear();
    for (size_t label = start; label < end; ++label) {
      if (row_key_of_label[label].empty()) continue;  // collected by GC
      rocksdb::Status rs = db->Get(rocksdb::ReadOptions(), vectors, row_key_of_label[label], &bytes);
      VERITY_RETURN_IF_ERROR(FromRocks(rs, "read vector of label " + std::to_string(label)));
      VERITY_RETURN_IF_ERROR(DecodeVector(bytes, dim, &vector));
      PrepareVector(c.config.metric, vector.data(), dim);
      chunk.insert(chunk.end(), vector.begin(), vector.end());
      labels.push_back(static_cast<uint32_t>(label));
    }
    VERITY_RETURN_IF_ERROR(graph.AddLabels(labels.data(), chunk.data(), labels.size(), options.insert_threads));
  }
  // Collected labels at the end are holes too: the graph's span is the
  // collection's label count, where the next write's labels start.
  graph.ExtendSpan(to);
  return Status::Ok();
}

bool Database::Impl::RepairNewGraph(const Collection& c, HnswGraph& graph, const char* when) const {
  const HnswGraph::RepairStats r = graph.Repair();
  if (r.unreachable_before == 0) return false;
  Log(r.unreachable_after == 0 ? LogLevel::kInfo : LogLevel::kWarning,
      "collection \"" + c.config.name + "\": graph " + when + ": " + std::to_string(r.unreachable_before) +
          " of " + std::to_string(graph.node_count()) + " nodes were unreachable; " +
          std::to_string(r.links_added) + " links added, " + std::to_string(r.unreachable_after) + " left, in " +
          std::to_string(static_cast<int64_t>(r.seconds * 1000)) + " ms");
  return r.links_added > 0;
}

void Database::Impl::RepairGraphIfDue(Collection& c, double min_fraction, const char* when) {
  if (c.nodes_since_repair == 0) return;
  {
    std::shared_lock lock(c.graph_mu);
    if (c.graph_broken || static_cast<double>(c.nodes_since_repair) <
                              min_fraction * static_cast<double>(c.graph->node_count())) {
      return;
    }
    c.nodes_since_repair = 0;
    if (c.graph->CountUnreachable() == 0) return;
  }
  std::unique_lock lock(c.graph_mu);
  if (RepairNewGraph(c, *c.graph, when)) c.graph_rebuilt_unsaved = true;
}

Status Database::Impl::PersistGraph(Collection& c) {
  std::shared_lock lock(c.graph_mu);
  if (c.graph_broken || opened_read_only()) return Status::Ok();
  const size_t n = c.graph->size();
  if (n == c.saved_nodes && !c.graph_rebuilt_unsaved && std::filesystem::exists(GraphPath(c.id))) return Status::Ok();
  // Nodes beyond the head belong to a write in progress; the graph must not
  // claim to cover them. Writers hold graph_mu exclusively while inserting,
  // so under the shared lock every node is published.
  VERITY_RETURN_IF_ERROR(c.graph->Save(GraphPath(c.id), c.id, c.head));
  c.saved_nodes = n;
  c.graph_rebuilt_unsaved = false;
  return Status::Ok();
}

Status Database::PersistGraphs() {
  VERITY_CHECK_OPEN_();
  std::vector<std::shared_ptr<Collection>> all;
  {
    std::shared_lock lock(impl_->collections_mu);
    for (auto& [name, c] : impl_->collections) all.push_back(c);
  }
  for (auto& c : all) {
    // Hold the writer lock so no write is half published while saving.
    std::lock_guard write(c->write_mu);
    if (c->dropped) continue;  // its graph file is gone with it
    VERITY_RETURN_IF_ERROR(impl_->PersistGraph(*c));
  }
  return Status::Ok();
}

Status Database::Close() {
  if (!impl_) return Status::Ok();
  {
    std::shared_lock life(impl_->lifecycle_mu);
    if (impl_->closed) return Status::Ok();
  }
  if (impl_->checkpoint_thread.joinable()) {
    {
      std::lock_guard lock(impl_->checkpoint_mu);
      impl_->checkpoint_stop = true;
    }
    impl_->checkpoint_cv.notify_all();
    impl_->checkpoint_thread.join();
  }
  if (impl_->gc_thread.joinable()) {
    {
      std::lock_guard lock(impl_->gc_thread_mu);
      impl_->gc_thread_stop = true;
    }
    impl_->gc_thread_cv.notify_all();
    impl_->gc_thread.join();
  }
  // A graph file is derived data: one that cannot be saved (a full disk) is
  // caught up or rebuilt from the rows at the next open, so it is logged,
  // and does not make the stop fail.
  if (Status s = PersistGraphs(); !s.ok()) {
    impl_->Log(LogLevel::kWarning, "close: a graph was not saved (" + s.ToString() +
                                       "); the next open catches it up from the rows");
  }
  Status result;
  std::unique_lock life(impl_->lifecycle_mu);
  if (impl_->closed) return result;
  impl_->closed = true;
  if (impl_->retrieval_log) impl_->retrieval_log->StopSyncer();
  if (impl_->store) {
    // Flushes and syncs (unless a disk error made the database read-only),
    // then closes RocksDB.
    result = impl_->store->Close();
    impl_->retrieval_log.reset();  // it borrows the store's handles
  }
  {
    std::unique_lock lock(impl_->collections_mu);
    impl_->collections.clear();
    impl_->unavailable.clear();
  }
  return result;
}

CollectionInfo Database::Impl::InfoOf(const Collection& c) {
  std::shared_lock lock(c.graph_mu);
  CollectionInfo info;
  info.config = c.config;
  info.id = c.id;
  info.head_version = c.head;
  info.created_at_us = c.created_at_us;
  info.live_records = c.live_count;
  info.graph_nodes = c.graph->node_count();
  info.dead_nodes = c.dead_nodes;
  info.collected_nodes = c.collected_nodes;
  info.unsaved_graph_nodes = c.graph->size() > c.saved_nodes ? c.graph->size() - c.saved_nodes : 0;
  info.log_only_rows = c.log_only_rows;
  info.oldest_retained = c.oldest_retained;
  info.retained_versions = c.head >= c.oldest_retained ? c.head - c.oldest_retained + 1 : 0;
  for (const auto& [version, holders] : c.pins) {
    if (version < c.oldest_retained) ++info.retained_versions;
  }
  info.snapshots = c.snapshot_count;
  return info;
}

Result<CollectionInfo> Database::CreateCollection(const CollectionConfig& config) {
  VERITY_CHECK_WRITABLE_();
  VERITY_RETURN_IF_ERROR(ValidateCollectionConfig(config));
  std::lock_guard ddl(impl_->ddl_mu);
  if (impl_->NameTaken(config.name)) {
    return Status::AlreadyExists("collection \"" + config.name + "\" already exists");
  }
  const uint32_t id = impl_->next_collection_id;
  if (id == UINT32_MAX) return Status::ResourceExhausted("collection ids exhausted");

  storage::CollectionMeta meta;
  meta.set_id(id);
  meta.set_name(config.name);
  meta.set_dimension(config.dimension);
  meta.set_metric(static_cast<uint32_t>(config.metric));
  meta.set_m(config.m);
  meta.set_ef_construction(config.ef_construction);
  meta.set_default_ef(config.default_ef);
  meta.set_has_retention(true);
  meta.set_keep_versions(config.retention.keep_versions);
  meta.set_keep_seconds(config.retention.keep_seconds);
  meta.set_created_at_us(NowMicros());
  storage::VersionMeta version0;
  version0.set_committed_at_us(meta.created_at_us());

  rocksdb::WriteBatch batch;
  std::string id_bytes;
  keys::PutU32(&id_bytes, id);
  std::string next_bytes;
  keys::PutU32(&next_bytes, id + 1);
  batch.Put(impl_->meta, keys::NextCollectionIdKey(), next_bytes);
  batch.Put(impl_->meta, keys::NameKey(config.name), id_bytes);
  batch.Put(impl_->meta, keys::CollectionKey(id), meta.SerializeAsString());
  batch.Put(impl_->meta, keys::VersionKey(id, 0), version0.SerializeAsString());

  auto c = std::make_shared<Collection>();
  c->config = config;
  c->id = id;
  c->created_at_us = meta.created_at_us();
  c->meta = meta;
  const GraphParams params{config.dimension, config.metric, config.m, config.ef_construction};
  VERITY_ASSIGN_OR_RETURN(c->graph, HnswGraph::Create(params, 1024));

  VERITY_RETURN_IF_ERROR(FromRocks(impl_->db->Write(impl_->write_options, &batch), "create collection"));
  impl_->next_collection_id = id + 1;
  // A graph file left by an earlier collection with this id cannot exist
  // (ids are never reused), but remove any stray one to be sure.
  std::error_code ec;
  std::filesystem::remove(impl_->GraphPath(id), ec);
  CollectionInfo info = Impl::InfoOf(*c);
  {
    std::unique_lock lock(impl_->collections_mu);
    impl_->collections[config.name] = std::move(c);
  }
  return info;
}

Result<CollectionInfo> Database::GetCollection(const std::string& name) const {
  VERITY_CHECK_OPEN_();
  VERITY_ASSIGN_OR_RETURN(auto c, impl_->Find(name));
  return Impl::InfoOf(*c);
}

Result<std::vector<CollectionInfo>> Database::ListCollections() const {
  VERITY_CHECK_OPEN_();
  std::vector<std::shared_ptr<Collection>> all;
  {
    std::shared_lock lock(impl_->collections_mu);
    for (auto& [name, c] : impl_->collections) all.push_back(c);
  }
  std::vector<CollectionInfo> out;
  for (auto& c : all) out.push_back(Impl::InfoOf(*c));
  {
    std::shared_lock lock(impl_->collections_mu);
    for (const auto& [name, u] : impl_->unavailable) {
      CollectionInfo info;
      info.config = ConfigFromMeta(u.meta);
      info.id = u.meta.id();
      info.head_version = u.meta.head_version();
      info.created_at_us = u.meta.created_at_us();
      info.oldest_retained = u.meta.oldest_retained();
      info.unavailable = u.error.message();
      out.push_back(std::move(info));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const CollectionInfo& a, const CollectionInfo& b) { return a.config.name < b.config.name; });
  return out;
}

Status Database::Impl::CheckNotDropped(const Collection& c) {
  if (c.replaced) {
    return Status::Aborted("collection \"" + c.config.name +
                           "\" was replaced by an import while this call waited; retry it on the new collection");
  }
  if (c.dropped) return Status::NotFound("collection \"" + c.config.name + "\" does not exist");
  return Status::Ok();
}

void Database::Impl::DeleteCollectionData(rocksdb::WriteBatch& batch, uint32_t id) {
  batch.Delete(meta, keys::CollectionKey(id));
  batch.DeleteRange(meta, keys::VersionPrefix(id), keys::VersionPrefix(id + 1));
  batch.DeleteRange(meta, keys::SnapshotPrefix(id), keys::SnapshotPrefix(id + 1));
  batch.DeleteRange(meta, keys::PinPrefix(id), keys::PinPrefix(id + 1));
  for (auto* cf : {rows, vectors, changes}) {
    batch.DeleteRange(cf, keys::CollectionPrefix(id), keys::CollectionEnd(id));
  }
}

Result<bool> Database::Impl::RemoveUnavailable(const std::string& name, rocksdb::WriteBatch* batch) {
  uint32_t id = 0;
  {
    std::shared_lock lock(collections_mu);
    auto it = unavailable.find(name);
    if (it == unavailable.end()) return false;
    id = it->second.meta.id();
  }
  rocksdb::WriteBatch own;
  rocksdb::WriteBatch& b = batch ? *batch : own;
  if (!batch) b.Delete(meta, keys::NameKey(name));
  DeleteCollectionData(b, id);
  if (!batch) VERITY_RETURN_IF_ERROR(FromRocks(db->Write(write_options, &b), "drop collection"));
  return true;
}

bool Database::Impl::DropUnavailable(const std::string& name) {
  auto removed = RemoveUnavailable(name, nullptr);
  if (!removed.ok() || !*removed) return false;  // a failed write: Find reports the collection as before
  uint32_t id = 0;
  {
    std::unique_lock lock(collections_mu);
    id = unavailable[name].meta.id();
    unavailable.erase(name);
  }
  ForgetDamagedFiles(id);
  std::error_code ec;
  std::filesystem::remove(GraphPath(id), ec);
  Log(LogLevel::kInfo, "dropped unavailable collection \"" + name + "\"");
  return true;
}

void Database::Impl::ForgetDamagedFiles(uint32_t id) {
  // Table files below level 0 that hold nothing but this collection's keys
  // go at once, unread: a compaction that read a damaged block would fail, and RocksDB
  // would stop every write. Files shared with other keys keep the damage
  // until compactions rewrite them (docs/reliability.md, "Corruption").
  const std::string begin = keys::CollectionPrefix(id);
  const std::string end = keys::CollectionEnd(id);
  const rocksdb::Slice b(begin), e(end);
  for (auto* cf : {rows, vectors, changes}) {
    rocksdb::Status rs = rocksdb::DeleteFilesInRange(db, cf, &b, &e);
    if (!rs.ok()) Log(LogLevel::kWarning, "drop: table files of collection " + std::to_string(id) +
                                              " were not removed (" + rs.ToString() + ")");
  }
}

Status Database::DropCollection(const std::string& name) {
  VERITY_CHECK_WRITABLE_();
  std::lock_guard ddl(impl_->ddl_mu);
  if (impl_->DropUnavailable(name)) return Status::Ok();
  VERITY_ASSIGN_OR_RETURN(auto c, impl_->Find(name));
  std::lock_guard gc(c->gc_mu);        // wait for a GC (and graph rebuild) to finish
  std::lock_guard write(c->write_mu);  // wait for an in-flight write to finish
  std::lock_guard pins(c->pins_mu);    // and for a snapshot or log pin being written
  const uint32_t id = c->id;
  rocksdb::WriteBatch batch;
  batch.Delete(impl_->meta, keys::NameKey(name));
  batch.Delete(impl_->meta, keys::CollectionKey(id));
  std::string version_end = keys::VersionPrefix(id + 1);
  batch.DeleteRange(impl_->meta, keys::VersionPrefix(id), version_end);
  batch.DeleteRange(impl_->meta, keys::SnapshotPrefix(id), keys::SnapshotPrefix(id + 1));
  batch.DeleteRange(impl_->meta, keys::PinPrefix(id), keys::PinPrefix(id + 1));
  for (auto* cf : {impl_->rows, impl_->vectors, impl_->changes}) {
    batch.DeleteRange(cf, keys::CollectionPrefix(id), keys::CollectionEnd(id));
  }
  VERITY_RETURN_IF_ERROR(FromRocks(impl_->db->Write(impl_->write_options, &batch), "drop collection"));
  c->dropped = true;  // writers that found it before and waited for its locks refuse
  {
    std::unique_lock lock(impl_->collections_mu);
    impl_->collections.erase(name);
  }
  std::error_code ec;
  std::filesystem::remove(impl_->GraphPath(id), ec);
  impl_->Log(LogLevel::kInfo, "dropped collection \"" + name + "\"");
  return Status::Ok();
}

}  // namespace verity
