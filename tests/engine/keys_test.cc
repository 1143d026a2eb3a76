#include <catch2/catch.hpp>

#include "storage/codec.h"
#include "storage/keys.h"

using namespace verity;

TEST_CASE("row keys sort by id, then newest version first", "[engine][keys]") {
  const auto a5 = keys::RowKey(1, "a", 5);
  const auto a3 = keys::RowKey(1, "a", 3);
  const auto ab1 = keys::RowKey(1, "ab", 1);
  const auto b9 = keys::RowKey(1, "b", 9);
  REQUIRE(a5 < a3);
  REQUIRE(a3 < ab1);
  REQUIRE(ab1 < b9);
  REQUIRE(keys::RowKeyAfterId(1, "a") > a3);
  REQUIRE(keys::RowKeyAfterId(1, "a") < ab1);
  REQUIRE(keys::RowKey(1, "zzz", 1) < keys::RowKey(2, "a", 1));
  REQUIRE(keys::RowKey(2, "a", 1) < keys::CollectionEnd(2));
}

TEST_CASE("row keys parse back", "[engine][keys]") {
  uint32_t coll;
  std::string_view id;
  Version v;
  const auto key = keys::RowKey(258, "hello", 1234567);
  REQUIRE(keys::ParseRowKey(key, &coll, &id, &v));
  REQUIRE(coll == 258);
  REQUIRE(id == "hello");
  REQUIRE(v == 1234567);
  REQUIRE_FALSE(keys::ParseRowKey("short", &coll, &id, &v));
}

// RocksDB's statuses map to the engine's codes in one place (FromRocks):
// only RocksDB's own refusal of a held LOCK file is "in use", not any I/O
// error whose path happens to hold "lock".
TEST_CASE("FromRocks maps RocksDB statuses, a held LOCK file only by RocksDB's own words", "[engine][keys]") {
  using verity::FromRocks;
  using verity::StatusCode;
  CHECK(FromRocks(rocksdb::Status::OK(), "x").ok());
  CHECK(FromRocks(rocksdb::Status::IOError("While lock file: /data/LOCK", "Resource temporarily unavailable"), "open")
            .code() == StatusCode::kFailedPrecondition);
  CHECK(FromRocks(rocksdb::Status::IOError("lock hold by current process, acquire time 1", "/data/LOCK"), "open")
            .code() == StatusCode::kFailedPrecondition);
  const verity::Status block = FromRocks(rocksdb::Status::IOError("While open a file for appending: /mnt/block0/x.log",
                                                                  "Input/output error"),
                                         "write");
  CHECK(block.code() == StatusCode::kUnavailable);
  CHECK(block.message().rfind("write: ", 0) == 0);
  CHECK(FromRocks(rocksdb::Status::Corruption("bad block"), "read").code() == StatusCode::kDataLoss);
  CHECK(FromRocks(rocksdb::Status::NoSpace("disk full"), "write").code() == StatusCode::kResourceExhausted);
}
