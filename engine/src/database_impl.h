// Database::Impl: shared by database.cc (open, close, collections),
// database_write.cc (upsert, delete) and database_read.cc (get, scroll,
// count, search, versions).
#pragma once

#include <rocksdb/db.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "collection.h"
#include "verity/database.h"

namespace verity {

struct Database::Impl {
  std::string dir;
  DatabaseOptions options;

  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // owned; destroyed in Close
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  rocksdb::ColumnFamilyHandle* rows = nullptr;
  rocksdb::ColumnFamilyHandle* vectors = nullptr;
  rocksdb::ColumnFamilyHandle* changes = nullptr;
  rocksdb::WriteOptions write_options;

  // Held shared by every API call and exclusively by Close, so that Close
  // never pulls RocksDB from under a running call.
  mutable std::shared_mutex lifecycle_mu;
  bool closed = false;  // GUARDED_BY(lifecycle_mu)

  std::mutex ddl_mu;  // serialises CreateCollection and DropCollection
  mutable std::shared_mutex collections_mu;
  std::map<std::string, std::shared_ptr<Collection>> collections;  // GUARDED_BY(collections_mu)
  uint32_t next_collection_id = 1;                                // GUARDED_BY(ddl_mu)

  void Log(LogLevel level, const std::string& message) const;
  std::string GraphPath(uint32_t collection_id) const;

  // NotFound naming the collection.
  Result<std::shared_ptr<Collection>> Find(const std::string& name) const;

  // Loads one collection's rows and graph at open.
  Status LoadCollection(const storage::CollectionMeta& meta);
  // Inserts graph labels [from, to) from their stored vectors.
  Status InsertStoredLabels(Collection& c, const std::vector<std::string>& row_key_of_label,
                            size_t from, size_t to);
  Status PersistGraph(Collection& c);

  // Resolves `at` against the published head. Caller holds c.graph_mu.
  Result<Version> ResolveVersion(const Collection& c, std::optional<Version> at) const;
  // Reads a row (text, metadata, optionally vector) by exact row key.
  Result<StoredRecord> ReadRow(const Collection& c, const std::string& row_key, std::string_view id,
                               Version version, bool with_vector) const;
  Result<SearchResult> SearchOne(const Collection& c, const SearchRequest& request) const;
};

int64_t NowMicros();

// Opens every public method: holds the lifecycle lock shared for the call and
// refuses once the database is closed.
#define VERITY_CHECK_OPEN_()                   \
  std::shared_lock life_(impl_->lifecycle_mu); \
  if (impl_->closed) return Status::FailedPrecondition("database is closed")

}  // namespace verity
