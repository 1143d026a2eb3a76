// The store subsystem alone (storage/store.h): its families, writes that
// survive a reopen, the read-only switch, and a second opener refused.
#include <catch2/catch.hpp>

#include <rocksdb/write_batch.h>

#include <string>
#include <vector>

#include "storage/keys.h"
#include "storage/store.h"
#include "test_data.h"

using namespace verity;

namespace {

StoreOptions Quiet(std::vector<std::string>* lines = nullptr) {
  StoreOptions o;
  o.log = [lines](LogLevel, const std::string& line) {
    if (lines) lines->push_back(line);
  };
  return o;
}

std::string Read(const Store& store, rocksdb::ColumnFamilyHandle* family, const std::string& key) {
  std::string value;
  rocksdb::Status rs = store.db()->Get(rocksdb::ReadOptions(), family, key, &value);
  REQUIRE(rs.ok());
  return value;
}

}  // namespace

TEST_CASE("the store keeps what it wrote, plain and synced, across a close and reopen", "[engine][store]") {
  test::TempDir dir;
  {
    auto store = Store::Open(dir.path(), Quiet());
    REQUIRE(store.ok());
    Store& s = **store;
    // Seven families besides RocksDB's default, each its own handle.
    REQUIRE(s.handles().size() == 8);
    for (auto* family : {s.meta(), s.rows(), s.vectors(), s.changes(), s.log(), s.log_index(), s.text()}) {
      CHECK(family != nullptr);
    }
    CHECK(s.meta() != s.rows());
    CHECK(s.log() != s.log_index());
    rocksdb::WriteBatch plain;
    REQUIRE(plain.Put(s.meta(), "k", "plain").ok());
    REQUIRE(s.Write(&plain, "test write").ok());
    rocksdb::WriteBatch synced;
    REQUIRE(synced.Put(s.rows(), "r", "synced").ok());
    REQUIRE(s.WriteSynced(42, &synced, "test synced write").ok());
    // The synced write carried the log's sync mark (Close writes its own).
    const std::string mark = Read(s, s.log_index(), keys::log::kSyncMarkKey);
    REQUIRE(mark.size() == 8);
    CHECK(keys::GetU64(mark.data()) == 42);
    CHECK_FALSE(s.IsReadOnly());
    CHECK(s.CheckWritable().ok());
    REQUIRE(s.Close().ok());
    REQUIRE(s.Close().ok());  // idempotent
  }
  auto store = Store::Open(dir.path(), Quiet());
  REQUIRE(store.ok());
  CHECK(Read(**store, (*store)->meta(), "k") == "plain");
  CHECK(Read(**store, (*store)->rows(), "r") == "synced");
}

TEST_CASE("the store's read-only switch keeps its first reason and refuses writes by name", "[engine][store]") {
  test::TempDir dir;
  std::vector<std::string> lines;
  auto store = Store::Open(dir.path(), Quiet(&lines));
  REQUIRE(store.ok());
  Store& s = **store;
  CHECK(s.ReadOnlyReason().empty());
  s.SetReadOnly("first failure");
  s.SetReadOnly("second failure");
  CHECK(s.IsReadOnly());
  CHECK_FALSE(s.opened_read_only());
  CHECK(s.ReadOnlyReason() == "a write to disk failed (first failure)");
  const Status refused = s.CheckWritable();
  CHECK(refused.code() == StatusCode::kFailedPrecondition);
  CHECK(refused.message().find("read-only: a write to disk failed (first failure)") != std::string::npos);
  CHECK(refused.message().find("restart") != std::string::npos);
  // Logged once, for the first reason (RocksDB's own lines aside).
  std::vector<std::string> switches;
  for (const auto& line : lines) {
    if (line.find("the database is read-only until it is reopened") != std::string::npos) switches.push_back(line);
  }
  REQUIRE(switches.size() == 1);
  CHECK(switches[0].find("first failure") != std::string::npos);
  // A read-only store closes without flushing or syncing, and without error.
  CHECK(s.Close().ok());
}

TEST_CASE("a second store on the same directory is refused as in use", "[engine][store]") {
  test::TempDir dir;
  auto first = Store::Open(dir.path(), Quiet());
  REQUIRE(first.ok());
  auto second = Store::Open(dir.path(), Quiet());
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == StatusCode::kFailedPrecondition);
  CHECK(second.status().message().find("data directory " + dir.path() + " is in use by another process") !=
        std::string::npos);
}
