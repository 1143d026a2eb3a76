// Disk faults, injected under RocksDB by a FileSystem wrapper (fault_fs.h):
// a failed WAL write or sync is never acknowledged, the database turns
// read-only with a clear error and keeps serving reads, and it reopens
// cleanly; a power cut (nothing unsynced survives) loses nothing that was
// acknowledged, retrievals included.
#include <catch2/catch.hpp>
#include <rocksdb/db.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "engine/child_process.h"
#include "engine/crash_batches.h"
#include "engine/fault_fs.h"
#include "engine/table_files.h"
#include "engine/test_data.h"

using namespace verity;

namespace {

// The engine's log lines, collected under a lock: the engine also logs from
// its own threads.
class CapturedLog {
 public:
  // Quiet test options on `env`, logging here; this object must outlive the
  // database opened with them.
  DatabaseOptions Options(std::shared_ptr<rocksdb::Env> env) {
    DatabaseOptions options = test::QuietOptions();
    options.env = std::move(env);
    options.log = [this](LogLevel, const std::string& line) {
      std::lock_guard<std::mutex> lock(mu_);
      text_ += line + "\n";
    };
    return options;
  }
  bool Contains(const std::string& needle) const {
    std::lock_guard<std::mutex> lock(mu_);
    return text_.find(needle) != std::string::npos;
  }
  void Clear() {
    std::lock_guard<std::mutex> lock(mu_);
    text_.clear();
  }

 private:
  mutable std::mutex mu_;
  std::string text_;
};

std::vector<Record> Batch(size_t from, size_t n, const std::vector<float>& data, size_t dim) {
  std::vector<Record> out;
  for (size_t i = from; i < from + n; ++i) out.push_back(test::MakeRecord(i, data.data() + i * dim, dim));
  return out;
}

}  // namespace

TEST_CASE("disk faults: a failed write or sync is not acknowledged, the database turns read-only, reopens cleanly",
          "[engine][faults]") {
  constexpr size_t kDim = 8;
  const auto data = test::ClusteredVectors(400, kDim, 4, 11);
  uint64_t faults = 0;
  for (const bool sync_fault : {true, false}) {
    for (const bool power_cut : {true, false}) {
      DYNAMIC_SECTION((sync_fault ? "a WAL sync fails" : "a WAL write fails")
                      << (power_cut ? ", then the power goes" : ", then a clean restart")) {
        test::TempDir dir;
        auto [fs, env] = test::FaultFs::Make();
        CapturedLog log;
        const DatabaseOptions options = log.Options(env);
        {
          auto db = Database::Open(dir.path(), options);
          REQUIRE(db.ok());
          CollectionConfig config;
          config.name = "c";
          config.dimension = kDim;
          REQUIRE((*db)->CreateCollection(config).ok());
          REQUIRE((*db)->Upsert("c", Batch(0, 100, data, kDim)).ok());
          CHECK_FALSE((*db)->IsReadOnly());

          (sync_fault ? fs->fail_syncs : fs->fail_writes) = true;
          auto failed = (*db)->Upsert("c", Batch(100, 100, data, kDim));
          REQUIRE_FALSE(failed.ok());
          CHECK(failed.status().code() == StatusCode::kUnavailable);
          CHECK(failed.status().message().find("injected") != std::string::npos);
          (sync_fault ? fs->fail_syncs : fs->fail_writes) = false;
          faults = fs->faults();
          CHECK(faults >= 1);
          CHECK((*db)->IsReadOnly());  // what health checks and metrics read

          // Read-only from now on, with the reason; every kind of write.
          auto refused = (*db)->Upsert("c", Batch(200, 10, data, kDim));
          REQUIRE(refused.status().code() == StatusCode::kFailedPrecondition);
          CHECK(refused.status().message().find("read-only") != std::string::npos);
          CHECK(refused.status().message().find("injected") != std::string::npos);
          CHECK((*db)->Delete("c", {"r1"}).status().code() == StatusCode::kFailedPrecondition);
          CollectionConfig other = config;
          other.name = "other";
          CHECK((*db)->CreateCollection(other).status().code() == StatusCode::kFailedPrecondition);
          CHECK((*db)->CreateSnapshot("c", "s", "", std::nullopt).status().code() == StatusCode::kFailedPrecondition);
          RetrieveRequest retrieve;
          retrieve.collection = "c";
          retrieve.vector.assign(data.begin(), data.begin() + kDim);
          CHECK((*db)->Retrieve(retrieve).status().code() == StatusCode::kFailedPrecondition);
          CHECK((*db)->Restore("c", Version{1}).status().code() == StatusCode::kFailedPrecondition);
          CHECK((*db)->Gc("c").status().code() == StatusCode::kFailedPrecondition);
          CHECK((*db)->SetRetention("c", RetentionPolicy{5, 0}).code() == StatusCode::kFailedPrecondition);
          CHECK((*db)->DropCollection("c").code() == StatusCode::kFailedPrecondition);
          CHECK((*db)->Import(dir.Sub("no-such-export")).status().code() == StatusCode::kFailedPrecondition);
          CHECK((*db)->RecordAnswer({"rtv-" + std::string(32, '0'), "an answer", "", 0, 0}).status().code() ==
                StatusCode::kFailedPrecondition);
          CHECK((*db)->CreatePromptVersion({"qa", "Q: {{question}}", "", "", "", {}}).status().code() ==
                StatusCode::kFailedPrecondition);
          CHECK((*db)->GcLog().status().code() == StatusCode::kFailedPrecondition);
          // Reads go on, and see exactly the acknowledged rows.
          CHECK(*(*db)->Count("c") == 100);
          CHECK((*db)->Get("c", "r7").ok());
          CHECK((*db)->Get("c", "r150").status().code() == StatusCode::kNotFound);
          SearchRequest search;
          search.vector.assign(data.begin() + 150 * kDim, data.begin() + 151 * kDim);
          search.k = 20;
          auto hits = (*db)->Search("c", search);
          REQUIRE(hits.ok());
          for (const auto& hit : hits->hits) CHECK(std::stoi(hit.id.substr(1)) < 100);
          CHECK(log.Contains("read-only"));
          (void)(*db)->Close();  // may report the error again
        }
        // A power cut: unsynced bytes are gone, and so is the failed batch.
        // A clean restart: bytes that reached the OS before the failure may
        // still be there, so the failed batch may come back, but whole or not
        // at all (what docs/reliability.md promises: "may or may not be applied").
        if (power_cut) fs->DropUnsyncedData();
        auto db = Database::Open(dir.path(), test::QuietOptions());
        REQUIRE(db.ok());
        CHECK_FALSE((*db)->IsReadOnly());
        const uint64_t count = *(*db)->Count("c");
        if (power_cut) {
          CHECK(count == 100);
        } else {
          CHECK((count == 100 || count == 200));
          std::printf("disk faults (%s, clean restart): the failed batch %s\n", sync_fault ? "WAL sync" : "WAL write",
                      count == 200 ? "came back whole" : "is not there");
        }
        CHECK((*db)->Get("c", "r150").ok() == (count == 200));
        CHECK((*db)->Get("c", "r199").ok() == (count == 200));
        REQUIRE((*db)->Upsert("c", Batch(100, 100, data, kDim)).ok());
        CHECK(*(*db)->Count("c") == 200);
        REQUIRE((*db)->Close().ok());
        std::printf("disk faults (%s): %llu injected errors, nothing acknowledged lost, read-only until reopened\n",
                    sync_fault ? "WAL sync" : "WAL write", static_cast<unsigned long long>(faults));
      }
    }
  }
}

TEST_CASE("disk faults: a disk that fills up stops cleanly, reopens read-only while full, writable once freed",
          "[engine][faults]") {
  constexpr size_t kDim = 8;
  const auto data = test::ClusteredVectors(200, kDim, 4, 12);
  test::TempDir dir;
  auto [fs, env] = test::FaultFs::Make();
  CapturedLog log;
  const DatabaseOptions options = log.Options(env);
  CollectionConfig config;
  config.name = "c";
  config.dimension = kDim;
  {
    auto db = Database::Open(dir.path(), options);
    REQUIRE(db.ok());
    REQUIRE((*db)->CreateCollection(config).ok());
    REQUIRE((*db)->Upsert("c", Batch(0, 100, data, kDim)).ok());  // in the WAL and the memtable
    // The disk fills while the server runs; the stop's flush is the first
    // write to meet it. Close must report it, not abort (before: RocksDB's
    // assertion on a WAL sync after the failed flush killed the process).
    fs->disk_full = true;
    SECTION("a write meets the full disk first") {
      CHECK((*db)->Upsert("c", Batch(100, 10, data, kDim)).status().code() == StatusCode::kResourceExhausted);
    }
    SECTION("a retrieval meets the full disk first") {
      RetrieveRequest retrieve;
      retrieve.collection = "c";
      retrieve.vector.assign(data.begin(), data.begin() + kDim);
      CHECK_FALSE((*db)->Retrieve(retrieve).ok());
    }
    SECTION("the stop's flush meets it first") {}
    const Status closed = (*db)->Close();
    std::printf("close on a full disk: %s\n", closed.ToString().c_str());
  }
  // Still full: the database opens read-only, says why, and serves reads.
  {
    log.Clear();
    auto db = Database::Open(dir.path(), options);
    REQUIRE(db.ok());
    CHECK((*db)->IsReadOnly());
    CHECK(*(*db)->Count("c") == 100);
    CHECK((*db)->Get("c", "r7").ok());
    SearchRequest search;
    search.vector.assign(data.begin(), data.begin() + kDim);
    search.k = 5;
    auto hits = (*db)->Search("c", search);
    REQUIRE(hits.ok());
    CHECK(hits->hits.size() == 5);
    auto refused = (*db)->Upsert("c", Batch(100, 10, data, kDim));
    REQUIRE(refused.status().code() == StatusCode::kFailedPrecondition);
    CHECK(refused.status().message().find("read-only") != std::string::npos);
    CHECK(refused.status().message().find("no space") != std::string::npos);
    CHECK(log.Contains("read-only"));
    CHECK((*db)->Close().ok());
  }
  // Space freed: a normal open, every acknowledged write there, writable.
  fs->disk_full = false;
  auto db = Database::Open(dir.path(), options);
  REQUIRE(db.ok());
  CHECK_FALSE((*db)->IsReadOnly());
  CHECK(*(*db)->Count("c") == 100);
  REQUIRE((*db)->Upsert("c", Batch(100, 100, data, kDim)).ok());
  CHECK(*(*db)->Count("c") == 200);
  REQUIRE((*db)->Close().ok());
}

TEST_CASE("disk faults: a power cut at a random moment loses no acknowledged write or retrieval", "[engine][faults]") {
  test::TempDir dir;
  const uint64_t seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  Version acked = 0;
  int cuts = 0;
  uint64_t dropped_bytes = 0, retrievals = 0;
  for (int round = 0; round < 15; ++round) {
    // The last round cuts after a second: writes and retrievals are then
    // acknowledged before a cut even on a slow, loaded build.
    const std::string cut_ms = std::to_string(round == 14 ? 1000 : rng() % 150);
    test::ChildProcess writer;
    REQUIRE(writer.Start(VERITY_CRASH_WRITER, {dir.path(), "1000000", cut_ms}));
    FILE* out = writer.output();
    char line[256];
    std::vector<std::string> delivered;
    bool cut = false;
    while (std::fgets(line, sizeof(line), out) != nullptr) {
      unsigned long long v = 0;
      char id[128];
      if (std::sscanf(line, "ACK %llu", &v) == 1) acked = v;
      else if (std::sscanf(line, "RTV %127s", id) == 1) delivered.push_back(id);
      else if (std::sscanf(line, "CUT %llu", &v) == 1) {
        cut = true;
        dropped_bytes += v;
      }
    }
    writer.CloseOutput();
    const int status = writer.Wait().value_or(0);
    INFO("round " << round << ", power cut after " << cut_ms << " ms");
    REQUIRE(cut);
    REQUIRE(WIFEXITED(status));
    ++cuts;

    auto db = Database::Open(dir.path(), test::QuietOptions());
    REQUIRE(db.ok());
    auto info = (*db)->GetCollection("crash");
    if (acked == 0 && info.status().code() == StatusCode::kNotFound) continue;  // cut before the first write
    REQUIRE(info.ok());
    const Version head = info->head_version;
    INFO("acknowledged " << acked << ", head after the cut " << head);
    REQUIRE(head >= acked);
    REQUIRE(head <= acked + 1);
    std::map<std::string, Record> expected;
    for (Version v = 1; v <= head; ++v) {
      test::CrashBatch b = test::MakeCrashBatch(v);
      for (auto& r : b.upserts) expected[r.id] = r;
      for (auto& id : b.deletes) expected.erase(id);
    }
    REQUIRE(*(*db)->Count("crash") == expected.size());
    for (const auto& id : delivered) {
      INFO("retrieval " << id);
      REQUIRE((*db)->GetRetrieval(id).ok());
      ++retrievals;
    }
    auto verified = (*db)->VerifyLog();
    REQUIRE(verified.ok());
    REQUIRE(verified->ok);
    REQUIRE((*db)->Close().ok());
    acked = head;
  }
  std::printf("disk faults: %d power cuts, %llu unsynced bytes dropped, %llu delivered retrievals all logged\n", cuts,
              static_cast<unsigned long long>(dropped_bytes), static_cast<unsigned long long>(retrievals));
  CHECK(cuts == 15);
  CHECK(acked > 0);       // writes were acknowledged before some cut, and found after it
  CHECK(retrievals > 0);  // and so were retrievals
}

TEST_CASE("corruption: a damaged RocksDB table file is DATA_LOSS naming it, never a crash", "[engine][faults]") {
  constexpr size_t kDim = 8;
  const auto data = test::ClusteredVectors(3000, kDim, 4, 5);
  test::TempDir dir;
  {
    auto db = Database::Open(dir.path(), test::QuietOptions());
    REQUIRE(db.ok());
    CollectionConfig config;
    config.name = "c";
    config.dimension = kDim;
    REQUIRE((*db)->CreateCollection(config).ok());
    for (size_t from = 0; from < 3000; from += 1000) REQUIRE((*db)->Upsert("c", Batch(from, 1000, data, kDim)).ok());
    REQUIRE((*db)->Close().ok());  // flushes the memtables into .sst files
  }
  // Overwrite the middle of every table file (its data blocks) with junk.
  int damaged = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path() + "/db")) {
    if (entry.path().extension() != ".sst") continue;
    const auto size = std::filesystem::file_size(entry.path());
    if (size < 4096) continue;
    std::fstream f(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 3));
    const std::string junk(512, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    ++damaged;
  }
  REQUIRE(damaged > 0);
  // Either the open or the first full read finds it: DATA_LOSS, naming the
  // table file; nothing crashes.
  auto db = Database::Open(dir.path(), test::QuietOptions());
  Status found = db.status();
  if (db.ok()) {
    ScrollRequest scroll;
    scroll.limit = 10000;
    scroll.with_vectors = true;
    auto page = (*db)->Scroll("c", scroll);
    found = page.status();
    if (page.ok()) {
      SearchRequest search;
      search.vector.assign(data.begin(), data.begin() + kDim);
      search.plan = SearchPlan::kExact;
      found = (*db)->Search("c", search).status();
    }
  }
  INFO(found.ToString());
  CHECK(found.code() == StatusCode::kDataLoss);
  CHECK(found.message().find(".sst") != std::string::npos);
  std::printf("corruption: %d damaged table files -> %s\n", damaged, found.ToString().c_str());
}


TEST_CASE("corruption: one damaged collection is unavailable, the others and the retrieval log serve",
          "[engine][faults][unavailable]") {
  constexpr size_t kDim = 32;
  constexpr size_t kRecords = 2000;
  const auto data = test::ClusteredVectors(kRecords, kDim, 4, 7);
  test::TempDir dir;
  test::TempDir exports;
  const std::string db_dir = dir.path() + "/db";
  auto retrieve = [&](Database& db, const std::string& collection, size_t i) {
    RetrieveRequest r;
    r.collection = collection;
    r.vector.assign(data.begin() + i * kDim, data.begin() + (i + 1) * kDim);
    r.k = 3;
    auto result = db.Retrieve(r);
    REQUIRE(result.ok());
  };
  CollectionConfig config;
  config.dimension = kDim;
  // "a" first, closed (its vectors flushed into table files of their own),
  // then "b": no table file of the vectors family holds both.
  {
    auto db = Database::Open(dir.path(), test::QuietOptions());
    REQUIRE(db.ok());
    config.name = "a";
    REQUIRE((*db)->CreateCollection(config).ok());
    for (size_t from = 0; from < kRecords; from += 500) REQUIRE((*db)->Upsert("a", Batch(from, 500, data, kDim)).ok());
    retrieve(**db, "a", 1);
    REQUIRE((*db)->Export("a", std::nullopt, exports.Sub("a.export")).ok());
    REQUIRE((*db)->Close().ok());
  }
  {
    auto db = Database::Open(dir.path(), test::QuietOptions());
    REQUIRE(db.ok());
    config.name = "b";
    REQUIRE((*db)->CreateCollection(config).ok());
    for (size_t from = 0; from < kRecords; from += 500) REQUIRE((*db)->Upsert("b", Batch(from, 500, data, kDim)).ok());
    for (size_t i = 0; i < 5; ++i) retrieve(**db, "b", i);
    REQUIRE((*db)->Close().ok());
  }
  // The vectors table file written with "a" alone: damage its middle (data
  // blocks), and remove a's graph file, so that the open rebuilds the graph
  // from the vectors and reads the damaged block.
  std::string damaged;
  std::string families;
  for (const auto& f : test::TableFiles(db_dir)) {
    bool only_a = false;
    const std::string family = test::FamilyOf(f, 1, &only_a);
    families += f + ": " + family + (only_a ? " (only \"a\")" : "") + "\n";
    if (family == "vectors" && only_a) damaged = f;
  }
  INFO(families);
  REQUIRE_FALSE(damaged.empty());
  {
    const auto size = std::filesystem::file_size(damaged);
    REQUIRE(size > 64 * 1024);
    std::fstream f(damaged, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 3));
    const std::string junk(512, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  const std::string file_name = std::filesystem::path(damaged).filename().string();
  REQUIRE(std::filesystem::remove(dir.path() + "/graphs/1.graph"));

  std::string log;
  DatabaseOptions options = test::QuietOptions();
  options.log = [&](LogLevel, const std::string& line) { log += line + "\n"; };
  auto db = Database::Open(dir.path(), options);
  INFO(log);
  REQUIRE(db.ok());  // before: "read vector of label N: Corruption: block checksum mismatch" failed the open
  CHECK(log.find("collection \"a\" is unavailable") != std::string::npos);

  // "b" serves.
  SearchRequest search;
  search.vector.assign(data.begin(), data.begin() + kDim);
  search.k = 5;
  auto found = (*db)->Search("b", search);
  REQUIRE(found.ok());
  CHECK(found->hits.size() == 5);
  REQUIRE((*db)->Upsert("b", Batch(0, 10, data, kDim)).ok());
  retrieve(**db, "b", 7);

  // "a" is DATA_LOSS naming the file, for reads and writes.
  auto is_damage = [&](const Status& s) {
    INFO(s.ToString());
    CHECK(s.code() == StatusCode::kDataLoss);
    CHECK(s.message().find("collection \"a\" is unavailable") != std::string::npos);
    CHECK(s.message().find(file_name) != std::string::npos);
  };
  is_damage((*db)->Search("a", search).status());
  is_damage((*db)->Get("a", "r1").status());
  is_damage((*db)->Upsert("a", Batch(0, 1, data, kDim)).status());
  is_damage((*db)->GetCollection("a").status());
  config.name = "a";
  CHECK((*db)->CreateCollection(config).status().code() == StatusCode::kAlreadyExists);

  // The list shows both, "a" with why it is unavailable.
  auto list = (*db)->ListCollections();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].config.name == "a");
  CHECK((*list)[0].config.dimension == kDim);
  CHECK((*list)[0].unavailable.find(file_name) != std::string::npos);
  CHECK((*list)[1].config.name == "b");
  CHECK((*list)[1].unavailable.empty());

  // The retrieval log serves: it verifies, lists every record, and a
  // record of "a" replays as DATA_LOSS (not "collected").
  auto verified = (*db)->VerifyLog();
  REQUIRE(verified.ok());
  CHECK(verified->ok);
  CHECK(verified->records == 7);
  LogQuery query;
  auto page = (*db)->ListLog(query);
  REQUIRE(page.ok());
  REQUIRE(page->records.size() == 7);
  ReplayRequest replay;
  replay.retrieval_id = page->records[0].retrieval_id;
  is_damage((*db)->Replay(replay).status());
  REQUIRE((*db)->Gc("b").ok());

  SECTION("drop removes it; the next open has only \"b\"") {
    REQUIRE((*db)->DropCollection("a").ok());
    CHECK((*db)->Search("a", search).status().code() == StatusCode::kNotFound);
    REQUIRE((*db)->Close().ok());
    auto reopened = Database::Open(dir.path(), test::QuietOptions());
    REQUIRE(reopened.ok());
    auto names = (*reopened)->ListCollections();
    REQUIRE(names.ok());
    REQUIRE(names->size() == 1);
    CHECK((*names)[0].config.name == "b");
    CHECK((*reopened)->Search("b", search).ok());
  }
  SECTION("an import with replace repairs it from an export") {
    CHECK((*db)->Import(exports.Sub("a.export")).status().code() == StatusCode::kAlreadyExists);
    auto imported = (*db)->Import(exports.Sub("a.export"), "", /*replace=*/true);
    REQUIRE(imported.ok());
    auto hits = (*db)->Search("a", search);
    REQUIRE(hits.ok());
    CHECK(hits->hits.size() == 5);
    CHECK((*db)->ListCollections()->at(0).unavailable.empty());
    REQUIRE((*db)->Close().ok());
    auto reopened = Database::Open(dir.path(), test::QuietOptions());
    REQUIRE(reopened.ok());
    CHECK((*reopened)->ListCollections()->size() == 2);
    CHECK((*reopened)->Search("a", search).ok());
  }
}

namespace {

// Flushes the column family `family` of the RocksDB database in `db_dir`
// and no other, as RocksDB does when the memtable budget picks one family:
// a raw open that replays the write-ahead logs into memtables without
// flushing them (avoid_flush_during_recovery), a flush of `family` alone
// (waited for), and a close that flushes nothing
// (avoid_flush_during_shutdown). The other families' writes stay only in
// the logs, which RocksDB keeps for them.
void FlushFamilyAlone(const std::string& db_dir, const std::string& family) {
  rocksdb::Options options;
  options.avoid_flush_during_recovery = true;
  options.avoid_flush_during_shutdown = true;
  std::vector<std::string> names;
  REQUIRE(rocksdb::DB::ListColumnFamilies(options, db_dir, &names).ok());
  const auto wanted = std::find(names.begin(), names.end(), family);
  REQUIRE(wanted != names.end());
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const auto& name : names) families.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, db_dir, families, &handles, &raw);
  INFO(s.ToString());
  REQUIRE(s.ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  s = db->Flush(rocksdb::FlushOptions(), handles[wanted - names.begin()]);
  for (rocksdb::ColumnFamilyHandle* handle : handles) CHECK(db->DestroyColumnFamilyHandle(handle).ok());
  CHECK(s.ok());
  CHECK(db->Close().ok());
}

}  // namespace

TEST_CASE("corruption: a write-ahead log damaged in the middle says what happened and what to do",
          "[engine][faults][wal]") {
  test::TempDir damaged;
  // A child writes 3,000 records and exits without closing, as a crash:
  // every write is only in its write-ahead log (far below the memtable
  // budget, nothing flushed).
  const std::string command = std::string(VERITY_KILL_CHILD) + " " + damaged.path() + " wal-writes";
  REQUIRE(std::system(command.c_str()) == 0);
  // Then the vectors family alone is flushed: a table file holds writes
  // that the other families (rows among them) have only in the log, so the
  // log damaged in the middle cannot be replayed to a consistent point
  // ("SST file is ahead of WALs"). The flush is made here, not left to
  // RocksDB's background flushes under a small memtable budget: which
  // families those had flushed when the child exited depended on timing,
  // and the test failed when the damaged log's rows were already in a table
  // file (no record lost) or its vectors were lost and its rows were not
  // (skip-corrupted refused to open: NOT_FOUND "read vector of label ...").
  FlushFamilyAlone(damaged.path() + "/db", "vectors");

  std::vector<std::string> wals;  // the logs that hold writes
  for (const auto& entry : std::filesystem::directory_iterator(damaged.path() + "/db")) {
    if (entry.path().extension() == ".log" && entry.file_size() > 0) wals.push_back(entry.path().string());
  }
  REQUIRE(wals.size() == 1);
  const auto size = std::filesystem::file_size(wals[0]);
  INFO(wals[0] << ": " << size << " bytes");
  REQUIRE(size > 64 * 1024);  // 30 batches of 100 records
  {
    std::fstream f(wals[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 2));
    const std::string junk(256, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto refusal = Database::Open(damaged.path(), test::QuietOptions());
  REQUIRE_FALSE(refusal.ok());
  const Status& refused = refusal.status();
  INFO(refused.ToString());
  CHECK(refused.code() == StatusCode::kDataLoss);
  CHECK(refused.message().find("write-ahead log") != std::string::npos);
  CHECK(refused.message().find("damaged in the middle") != std::string::npos);
  CHECK(refused.message().find("--wal-recovery skip-corrupted") != std::string::npos);
  CHECK(refused.message().find("backup") != std::string::npos);

  // Accepting the loss: the open replays what is intact.
  DatabaseOptions salvage = test::QuietOptions();
  salvage.wal_recovery = WalRecovery::kSkipCorrupted;
  auto opened = Database::Open(damaged.path(), salvage);
  INFO(opened.status().ToString());
  REQUIRE(opened.ok());
  auto info = (*opened)->GetCollection("c");
  REQUIRE(info.ok());
  CHECK(info->live_records < 3000);  // the damaged records' writes are lost
  SearchRequest search;
  search.vector.assign(32, 1.0f);
  search.k = 3;
  CHECK((*opened)->Search("c", search).ok());
  std::printf("wal corruption: %s\nskip-corrupted kept %llu of 3000 records at version %llu\n",
              refused.ToString().c_str(), static_cast<unsigned long long>(info->live_records),
              static_cast<unsigned long long>(info->head_version));
}
