// Test helper: the table files (.sst) of a data directory, which column
// family each belongs to, and whose keys it holds (to damage one
// collection's data alone: disk_fault_test.cc, health_test.cc).
#pragma once

#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/table_properties.h>

#include <filesystem>
#include <memory>
#include <set>
#include <string>

#include "../../engine/src/storage/keys.h"

namespace verity::test {

// The table files (.sst) in `db_dir`.
inline std::set<std::string> TableFiles(const std::string& db_dir) {
  std::set<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(db_dir)) {
    if (entry.path().extension() == ".sst") out.insert(entry.path().string());
  }
  return out;
}

// The column family a table file belongs to (from its properties), and
// whether every key in it is of collection `id`.
inline std::string FamilyOf(const std::string& sst, uint32_t id, bool* only_id) {
  rocksdb::Options options;
  rocksdb::SstFileReader reader(options);
  if (rocksdb::Status s = reader.Open(sst); !s.ok()) return s.ToString();
  const std::string prefix = keys::CollectionPrefix(id);
  std::unique_ptr<rocksdb::Iterator> it(reader.NewIterator(rocksdb::ReadOptions()));
  *only_id = true;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!it->key().starts_with(prefix)) *only_id = false;
  }
  return reader.GetTableProperties()->column_family_name;
}


}  // namespace verity::test
