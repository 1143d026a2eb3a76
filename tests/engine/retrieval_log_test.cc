// The retrieval log (issue #5): Retrieve logs durably and returns exactly
// what it logged; answers; the hash chain detects every kind of tampering;
// replay in its three modes; retention; SIGKILL during a stream of retrieves.
#include <algorithm>
#include <catch2/catch.hpp>
#include <rocksdb/db.h>
#include <rocksdb/table_properties.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <cstdio>
#include <random>
#include <set>
#include <thread>

#include "context/context_text.h"
#include "engine/test_data.h"
#include "storage/keys.h"
#include "text/analyzer.h"
#include "log/log_chain.h"
#include "util/sha256.h"
#include "storage.pb.h"

using namespace verity;

namespace {

constexpr size_t kDim = 8;

struct LogFixture {
  test::TempDir dir;
  std::unique_ptr<Database> db;
  test::ReferenceModel model;
  std::vector<float> data = test::ClusteredVectors(10000, kDim, 10, 8);
  size_t next_vector = 0;
  Version head = 0;

  explicit LogFixture(DatabaseOptions options = test::QuietOptions()) {
    options.gc_interval_seconds = 0;
    Open(options);
    CollectionConfig config;
    config.name = "kb";
    config.dimension = kDim;
    config.retention = RetentionPolicy{1, 0};
    REQUIRE(db->CreateCollection(config).ok());
    Load(0, 3000);
  }
  void Open(DatabaseOptions options) {
    options.gc_interval_seconds = 0;
    auto opened = Database::Open(dir.path(), options);
    REQUIRE(opened.ok());
    db = std::move(opened).value();
  }
  void Load(size_t from, size_t to) {
    std::vector<Record> batch;
    for (size_t i = from; i < to; ++i) {
      batch.push_back(test::MakeRecord(i % 4000, data.data() + (next_vector++ % 10000) * kDim, kDim));
    }
    auto w = db->Upsert("kb", batch);
    REQUIRE(w.ok());
    for (const auto& r : batch) model.Upsert(w->version, r);
    head = w->version;
  }
  RetrieveRequest Query(size_t q, uint32_t k = 10) {
    RetrieveRequest r;
    r.collection = "kb";
    r.vector.assign(data.begin() + static_cast<long>(q * kDim), data.begin() + static_cast<long>((q + 1) * kDim));
    for (auto& x : r.vector) x += 0.5f;
    r.query_text = "question " + std::to_string(q);
    r.k = k;
    return r;
  }
};

// Opens a closed data directory's RocksDB database directly and hands `fn`
// the named column family ("log": the records, "log_index": the indexes
// and marks), to tamper with.
void WithRawFamily(const std::string& dir, const std::string& family,
                   const std::function<void(rocksdb::DB*, rocksdb::ColumnFamilyHandle*)>& fn) {
  rocksdb::Options options;
  std::vector<std::string> names;
  REQUIRE(rocksdb::DB::ListColumnFamilies(options, dir + "/db", &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const auto& n : names) families.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  REQUIRE(rocksdb::DB::Open(options, dir + "/db", families, &handles, &raw).ok());
  rocksdb::ColumnFamilyHandle* wanted = nullptr;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == family) wanted = handles[i];
  }
  REQUIRE(wanted != nullptr);
  fn(raw, wanted);
  for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
  delete raw;
}

// Copies the closed data directory `from` to `to`, lets `fn` tamper with the
// copy's column family `family` (as WithRawFamily), and opens the copy.
std::unique_ptr<Database> OpenAlteredCopy(const std::string& from, const std::string& to, const std::string& family,
                                          const std::function<void(rocksdb::DB*, rocksdb::ColumnFamilyHandle*)>& fn) {
  std::filesystem::create_directories(to);
  std::filesystem::copy(from + "/db", to + "/db", std::filesystem::copy_options::recursive);
  WithRawFamily(to, family, fn);
  auto db = Database::Open(to, test::QuietOptions());
  REQUIRE(db.ok());
  return std::move(db).value();
}

// Verifies the log: REQUIREs that verification ran, CHECKs that it found the
// log broken, and returns the result for the caller's checks of where and why.
LogVerifyResult VerifyFails(const Database& db) {
  auto v = db.VerifyLog();
  REQUIRE(v.ok());
  CHECK_FALSE(v->ok);
  return *v;
}

using keys::log::RecordKey;

}  // namespace

TEST_CASE("retrieve returns what it logs, and answers are immutable", "[engine][log]") {
  LogFixture f;
  RetrieveRequest request = f.Query(1, 6);
  request.prompt = "support@3";
  request.client_trace_id = "trace-1";
  auto r = f.db->Retrieve(request);
  REQUIRE(r.ok());
  CHECK(r->retrieval_id.rfind("rtv-", 0) == 0);
  CHECK(r->version == f.head);
  REQUIRE(r->chunks.size() == 6);
  std::string context;
  for (size_t i = 0; i < r->chunks.size(); ++i) {
    const auto& c = r->chunks[i];
    CHECK(c.text_sha256 == Sha256::Hex(c.text));
    CHECK(c.tokens == (c.text.size() + 3) / 4);
    auto row = f.db->Get("kb", c.id, r->version);
    REQUIRE(row.ok());
    CHECK(row->record.text == c.text);
    CHECK(row->row_version == c.row_version);
    context += (i ? "\n\n" : "") + c.text;
  }
  CHECK(r->context == context);
  CHECK(r->context_sha256 == Sha256::Hex(context));

  auto logged = f.db->GetRetrieval(r->retrieval_id);
  REQUIRE(logged.ok());
  const LogRecord& rec = logged->first;
  CHECK(rec.kind == LogKind::kRetrieval);
  CHECK(rec.seq == r->log_seq);
  CHECK(rec.collection == "kb");
  CHECK(rec.version == r->version);
  CHECK(rec.query_text == "question 1");
  CHECK(rec.query_vector == request.vector);
  CHECK(rec.prompt == "support@3");
  CHECK(rec.client_trace_id == "trace-1");
  CHECK(rec.context_sha256 == r->context_sha256);
  REQUIRE(rec.chunks.size() == 6);
  for (size_t i = 0; i < 6; ++i) {
    CHECK(rec.chunks[i].id == r->chunks[i].id);
    CHECK(rec.chunks[i].text_sha256 == r->chunks[i].text_sha256);
  }
  CHECK_FALSE(logged->second.has_value());

  // A token budget keeps the best-ranked prefix that fits.
  request.token_budget = r->chunks[0].tokens + r->chunks[1].tokens;
  auto budgeted = f.db->Retrieve(request);
  REQUIRE(budgeted.ok());
  CHECK(budgeted->context_tokens == request.token_budget);
  CHECK(budgeted->chunks[0].in_context);
  CHECK(budgeted->chunks[1].in_context);
  CHECK_FALSE(budgeted->chunks[2].in_context);
  CHECK(budgeted->context == r->chunks[0].text + "\n\n" + r->chunks[1].text);

  AnswerRequest answer{r->retrieval_id, "The answer.", "model-x", 120, 8};
  auto answered = f.db->RecordAnswer(answer);
  REQUIRE(answered.ok());
  CHECK(answered->kind == LogKind::kAnswer);
  auto again = f.db->RecordAnswer(answer);
  CHECK(again.status().code() == StatusCode::kAlreadyExists);
  CHECK(f.db->RecordAnswer({"rtv-nope", "x", "", 0, 0}).status().code() == StatusCode::kNotFound);
  CHECK(f.db->RecordAnswer({budgeted->retrieval_id, "", "", 0, 0}).status().code() == StatusCode::kInvalidArgument);
  auto both = f.db->GetRetrieval(r->retrieval_id);
  REQUIRE(both.ok());
  REQUIRE(both->second.has_value());
  CHECK(both->second->answer == "The answer.");
  CHECK(both->second->model == "model-x");

  // Bad input.
  RetrieveRequest bad = f.Query(2);
  bad.filter = "bucket >";
  CHECK(f.db->Retrieve(bad).status().code() == StatusCode::kInvalidArgument);
  bad = f.Query(2);
  bad.at = ReadPoint::AtSnapshot("missing");
  CHECK(f.db->Retrieve(bad).status().code() == StatusCode::kNotFound);
  bad = f.Query(2);
  bad.k = 0;
  CHECK(f.db->Retrieve(bad).status().code() == StatusCode::kInvalidArgument);

  // Listing, by collection and kind.
  LogQuery q;
  auto all = f.db->ListLog(q);
  REQUIRE(all.ok());
  CHECK(all->records.size() == 3);
  q.kind = LogKind::kAnswer;
  auto answers = f.db->ListLog(q);
  REQUIRE(answers.ok());
  CHECK(answers->records.size() == 1);
  q = LogQuery{};
  q.limit = 2;
  auto first = f.db->ListLog(q);
  REQUIRE(first.ok());
  CHECK(first->records.size() == 2);
  CHECK(first->next_cursor == first->records.back().seq);
  q.start_after = first->next_cursor;
  auto second = f.db->ListLog(q);
  REQUIRE(second.ok());
  CHECK(second->records.size() == 1);
  q = LogQuery{};
  q.since_us = answered->time_us;
  auto recent = f.db->ListLog(q);
  REQUIRE(recent.ok());
  CHECK(recent->records.size() == 1);
}

TEST_CASE("log verify detects modified, deleted, reordered and inserted records", "[engine][log]") {
  LogFixture f;
  for (size_t i = 0; i < 6; ++i) REQUIRE(f.db->Retrieve(f.Query(i)).ok());
  auto ok = f.db->VerifyLog();
  REQUIRE(ok.ok());
  CHECK(ok->ok);
  CHECK(ok->records == 6);
  CHECK(ok->head_hash.size() == 64);
  REQUIRE(f.db->Close().ok());
  const std::string template_dir = f.dir.path();

  auto tampered = [&](const std::string& name,
                      const std::function<void(rocksdb::DB*, rocksdb::ColumnFamilyHandle*)>& fn,
                      const std::string& family = "log") {
    auto db = OpenAlteredCopy(template_dir, f.dir.Sub(name), family, fn);
    auto v = VerifyFails(*db);
    // The database keeps serving.
    CHECK(db->Retrieve(f.Query(9)).ok());
    return v;
  };
  auto get = [](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log, uint64_t seq) {
    std::string value;
    REQUIRE(db->Get(rocksdb::ReadOptions(), log, RecordKey(seq), &value).ok());
    return value;
  };
  SECTION("modified") {
    auto v = tampered("modified", [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log) {
      std::string value = get(db, log, 3);
      value[value.size() / 2] ^= 1;
      REQUIRE(db->Put(rocksdb::WriteOptions(), log, RecordKey(3), value).ok());
    });
    CHECK(v.first_bad_seq == 3);
  }
  SECTION("modified with its hash recomputed") {
    auto v = tampered("rehashed", [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log) {
      std::string value = get(db, log, 3);
      std::string body = value.substr(32);
      body[body.size() - 40] ^= 1;  // inside the message, before prev_hash
      const std::string prev = get(db, log, 2).substr(0, 32);
      REQUIRE(db->Put(rocksdb::WriteOptions(), log, RecordKey(3), Sha256::Raw(prev + body) + body).ok());
    });
    CHECK(v.first_bad_seq <= 4);
    CHECK(v.first_bad_seq >= 3);
  }
  SECTION("deleted") {
    auto v = tampered("deleted", [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log) {
      REQUIRE(db->Delete(rocksdb::WriteOptions(), log, RecordKey(4)).ok());
    });
    CHECK(v.first_bad_seq == 4);
    CHECK_THAT(v.problem, Catch::Contains("missing"));
  }
  SECTION("last deleted") {
    auto v = tampered("truncated", [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log) {
      REQUIRE(db->Delete(rocksdb::WriteOptions(), log, RecordKey(6)).ok());
    });
    CHECK(v.first_bad_seq == 6);
  }
  SECTION("reordered") {
    auto v = tampered("reordered", [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log) {
      const std::string a = get(db, log, 2), b = get(db, log, 5);
      REQUIRE(db->Put(rocksdb::WriteOptions(), log, RecordKey(2), b).ok());
      REQUIRE(db->Put(rocksdb::WriteOptions(), log, RecordKey(5), a).ok());
    });
    CHECK(v.first_bad_seq == 2);
  }
  SECTION("inserted") {
    auto v = tampered("inserted", [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log) {
      // A copy of record 6 appended as record 7, chained correctly, but the
      // head still says 6.
      const std::string last = get(db, log, 6);
      REQUIRE(db->Put(rocksdb::WriteOptions(), log, RecordKey(7), Sha256::Raw(last.substr(0, 32) + last.substr(32)) + last.substr(32)).ok());
    });
    CHECK(v.first_bad_seq == 7);
  }
  SECTION("head mark moved past the last record") {
    std::string last_hash;
    WithRawFamily(template_dir, "log", [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log) {
      last_hash = get(db, log, 6).substr(0, 32);
    });
    auto v = tampered(
        "head",
        [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* index) {
          storage::LogMark head;
          head.set_seq(9);
          head.set_hash(last_hash);
          REQUIRE(db->Put(rocksdb::WriteOptions(), index, keys::log::kHeadKey, head.SerializeAsString()).ok());
        },
        "log_index");
    CHECK(v.first_bad_seq == 7);
    CHECK_THAT(v.problem, Catch::Contains("head says 9"));
  }
}

TEST_CASE("log verify and reads check the indexes, and records without a head mark refuse appends", "[engine][log]") {
  LogFixture f;
  auto a = f.db->Retrieve(f.Query(1));
  auto b = f.db->Retrieve(f.Query(2));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(f.db->RecordAnswer({a->retrieval_id, "The first answer.", "m", 0, 0}).ok());  // record 3
  REQUIRE(f.db->Close().ok());
  const std::string template_dir = f.dir.path();
  auto altered = [&](const std::string& name,
                     const std::function<void(rocksdb::DB*, rocksdb::ColumnFamilyHandle*)>& fn) {
    return OpenAlteredCopy(template_dir, f.dir.Sub(name), "log_index", fn);
  };
  auto seq_bytes = [](uint64_t seq) {
    std::string out;
    keys::PutU64(&out, seq);
    return out;
  };
  SECTION("an answer's index entry deleted") {
    auto db = altered("answer-index", [&](rocksdb::DB* raw, rocksdb::ColumnFamilyHandle* index) {
      REQUIRE(raw->Delete(rocksdb::WriteOptions(), index, keys::log::AnswerKey(a->retrieval_id)).ok());
    });
    auto v = VerifyFails(*db);
    CHECK(v.first_bad_seq == 3);
    CHECK_THAT(v.problem, Catch::Contains("answer index entry is missing"));
    CHECK(db->Retrieve(f.Query(3)).ok());  // the server keeps serving
  }
  SECTION("a retrieval's index entry pointed at another record") {
    auto db = altered("retrieval-index", [&](rocksdb::DB* raw, rocksdb::ColumnFamilyHandle* index) {
      REQUIRE(raw->Put(rocksdb::WriteOptions(), index, keys::log::RetrievalKey(a->retrieval_id), seq_bytes(b->log_seq)).ok());
    });
    auto got = db->GetRetrieval(a->retrieval_id);
    CHECK(got.status().code() == StatusCode::kDataLoss);
    CHECK_THAT(got.status().message(), Catch::Contains("the index was altered"));
    auto v = VerifyFails(*db);
    CHECK(v.first_bad_seq == a->log_seq);
    CHECK_THAT(v.problem, Catch::Contains("names record " + std::to_string(b->log_seq)));
    CHECK(db->Retrieve(f.Query(3)).ok());  // the server keeps serving
  }
  SECTION("an answer index entry deleted lets a second answer in: verify names it") {
    auto db = altered("second-answer", [&](rocksdb::DB* raw, rocksdb::ColumnFamilyHandle* index) {
      REQUIRE(raw->Delete(rocksdb::WriteOptions(), index, keys::log::AnswerKey(a->retrieval_id)).ok());
    });
    REQUIRE(db->RecordAnswer({a->retrieval_id, "A second answer.", "m", 0, 0}).ok());  // record 4
    auto v = VerifyFails(*db);
    CHECK(v.first_bad_seq == 3);
    CHECK_THAT(v.problem,
               Catch::Contains("answer record 3 is not the one its index names (record 4): a second answer to " +
                               a->retrieval_id + " was recorded"));
  }
  SECTION("records without a head mark: appends are refused, everything else serves") {
    auto db = altered("no-head", [&](rocksdb::DB* raw, rocksdb::ColumnFamilyHandle* index) {
      REQUIRE(raw->Delete(rocksdb::WriteOptions(), index, keys::log::kHeadKey).ok());
    });
    auto fresh = db->Upsert("kb", {test::MakeRecord(5000, f.data.data(), kDim)});
    REQUIRE(fresh.ok());
    auto refused = db->Retrieve(f.Query(4));
    CHECK(refused.status().code() == StatusCode::kDataLoss);
    CHECK_THAT(refused.status().message(), Catch::Contains("head mark is missing"));
    // The refused retrieval pinned nothing: its version goes with the next GC.
    REQUIRE(db->Upsert("kb", {test::MakeRecord(5001, f.data.data(), kDim)}).ok());
    REQUIRE(db->Gc("kb").ok());
    CHECK(db->Count("kb", fresh->version).status().code() == StatusCode::kFailedPrecondition);
    CHECK(db->RecordAnswer({b->retrieval_id, "x", "m", 0, 0}).status().code() == StatusCode::kDataLoss);
    SearchRequest search;
    search.vector = f.Query(4).vector;
    CHECK(db->Search("kb", search).ok());
    auto v = VerifyFails(*db);
    CHECK_THAT(v.problem, Catch::Contains("head mark is missing"));
    // Nothing was overwritten: record 1 is still the first retrieval.
    auto first = db->GetRetrieval(a->retrieval_id);
    REQUIRE(first.ok());
    CHECK(first->first.seq == 1);
  }
}

TEST_CASE("log verify checks the time index, and time-range reads do not trust it", "[engine][log]") {
  // 6 retrievals, each answered: records 1..12, at distinct times.
  LogFixture f;
  for (size_t i = 0; i < 6; ++i) {
    auto r = f.db->Retrieve(f.Query(i));
    REQUIRE(r.ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    REQUIRE(f.db->RecordAnswer({r->retrieval_id, "Answer " + std::to_string(i) + ".", "m", 0, 0}).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  LogQuery everything;
  auto all = f.db->ListLog(everything);
  REQUIRE(all.ok());
  REQUIRE(all->records.size() == 12);
  std::vector<int64_t> time(13);
  for (const auto& r : all->records) time[r.seq] = r.time_us;
  for (uint64_t seq = 2; seq <= 12; ++seq) REQUIRE(time[seq] > time[seq - 1]);
  REQUIRE(f.db->VerifyLog()->ok);
  REQUIRE(f.db->Close().ok());
  const std::string template_dir = f.dir.path();
  auto time_key = [](int64_t time_us, uint64_t seq) { return keys::log::TimeKey(time_us, seq); };
  auto altered = [&](const std::string& name,
                     const std::function<void(rocksdb::DB*, rocksdb::ColumnFamilyHandle*)>& fn) {
    return OpenAlteredCopy(template_dir, f.dir.Sub(name), "log_index", fn);
  };
  // What a time-range read sees: list (and so `log export`, which pages
  // through it) and the batch audit.
  auto listed = [](Database& db, int64_t since_us, int64_t until_us = 0) {
    LogQuery query;
    query.since_us = since_us;
    query.until_us = until_us;
    query.limit = 5;  // several pages
    std::vector<uint64_t> seqs;
    for (;;) {
      auto page = db.ListLog(query);
      REQUIRE(page.ok());
      for (const auto& r : page->records) seqs.push_back(r.seq);
      if (page->next_cursor == 0) break;
      query.start_after = page->next_cursor;
    }
    return seqs;
  };
  auto audited = [](Database& db, int64_t since_us) {
    BatchAuditRequest request;
    request.collection = "kb";
    request.since_us = since_us;
    auto batch = db.AuditCollection(request);
    REQUIRE(batch.ok());
    return batch->retrievals;
  };
  const std::vector<uint64_t> from5 = {5, 6, 7, 8, 9, 10, 11, 12};
  SECTION("the control: an untouched index") {
    auto db = altered("control", [](rocksdb::DB*, rocksdb::ColumnFamilyHandle*) {});
    CHECK(listed(*db, time[5]) == from5);
    CHECK(listed(*db, time[5], time[9]) == std::vector<uint64_t>{5, 6, 7, 8});
    CHECK(listed(*db, time[12] + 1).empty());
    CHECK(audited(*db, time[5]) == 4);
    CHECK(db->VerifyLog()->ok);
  }
  SECTION("a forged entry placing the last record at the range's start") {
    // The probe of issue #23: one key makes a range read start at the record it names.
    auto db = altered("forged", [&](rocksdb::DB* raw, rocksdb::ColumnFamilyHandle* index) {
      REQUIRE(raw->Put(rocksdb::WriteOptions(), index, time_key(time[4] + 1, 12), "").ok());
    });
    CHECK(listed(*db, time[4] + 1) == from5);
    CHECK(listed(*db, time[1]).size() == 12);
    CHECK(audited(*db, time[4] + 1) == 4);
    auto v = VerifyFails(*db);
    CHECK(v.first_bad_seq == 5);  // the entry sorts between records 4 and 5
    CHECK_THAT(v.problem, Catch::Contains("time index places record 12 at time_us " + std::to_string(time[4] + 1) +
                                          ", before record 5"));
    CHECK(db->Retrieve(f.Query(7)).ok());  // the server keeps serving
  }
  SECTION("a forged entry before the first record") {
    auto db = altered("forged-first", [&](rocksdb::DB* raw, rocksdb::ColumnFamilyHandle* index) {
      REQUIRE(raw->Put(rocksdb::WriteOptions(), index, time_key(time[1] - 1, 12), "").ok());
    });
    CHECK(listed(*db, time[1] - 1).size() == 12);
    auto v = VerifyFails(*db);
    CHECK(v.first_bad_seq == 1);
    CHECK_THAT(v.problem, Catch::Contains("record 12"));
  }
  SECTION("the entry of a range's first record deleted") {
    auto db = altered("deleted", [&](rocksdb::DB* raw, rocksdb::ColumnFamilyHandle* index) {
      REQUIRE(raw->Delete(rocksdb::WriteOptions(), index, time_key(time[5], 5)).ok());
    });
    CHECK(listed(*db, time[5]) == from5);
    CHECK(audited(*db, time[5]) == 4);
    auto v = VerifyFails(*db);
    CHECK(v.first_bad_seq == 5);
    CHECK_THAT(v.problem, Catch::Contains("record 5: its time-index entry is missing"));
  }
  SECTION("an entry moved to another time") {
    auto db = altered("moved", [&](rocksdb::DB* raw, rocksdb::ColumnFamilyHandle* index) {
      REQUIRE(raw->Delete(rocksdb::WriteOptions(), index, time_key(time[5], 5)).ok());
      REQUIRE(raw->Put(rocksdb::WriteOptions(), index, time_key(time[3], 5), "").ok());
    });
    CHECK(listed(*db, time[5]) == from5);
    auto v = VerifyFails(*db);
    CHECK(v.first_bad_seq == 4);  // the entry sorts between records 3 and 4
    CHECK_THAT(v.problem, Catch::Contains("time index places record 5 at time_us " + std::to_string(time[3])));
  }
  SECTION("an entry for a record beyond the head") {
    auto db = altered("beyond", [&](rocksdb::DB* raw, rocksdb::ColumnFamilyHandle* index) {
      REQUIRE(raw->Put(rocksdb::WriteOptions(), index, time_key(time[12] + 5, 40), "").ok());
    });
    auto v = VerifyFails(*db);
    CHECK_THAT(v.problem, Catch::Contains("record 40"));
  }
  SECTION("a malformed entry") {
    auto db = altered("malformed", [&](rocksdb::DB* raw, rocksdb::ColumnFamilyHandle* index) {
      REQUIRE(raw->Put(rocksdb::WriteOptions(), index, "Tshort", "").ok());
    });
    auto v = VerifyFails(*db);
    CHECK_THAT(v.problem, Catch::Contains("malformed time-index key"));
  }
}

TEST_CASE("the log's keys: records by seq, the time index by time then seq, all records before \"S\"",
          "[engine][log][keys]") {
  // Records sort numerically and their seq parses back.
  for (uint64_t seq : {uint64_t{0}, uint64_t{1}, uint64_t{255}, uint64_t{256}, uint64_t{1} << 40, UINT64_MAX}) {
    const std::string key = keys::log::RecordKey(seq);
    CHECK(key.size() == keys::log::kRecordKeySize);
    CHECK(key.starts_with(keys::log::kRecordPrefix));
    CHECK(keys::log::RecordSeq(key) == seq);
  }
  CHECK(keys::log::RecordKey(255) < keys::log::RecordKey(256));
  // MoveIndexKeys skips the records by seeking to "S".
  CHECK(keys::log::RecordKey(UINT64_MAX) < std::string("S"));
  // The time index sorts by time, then seq; a negative time counts as 0.
  CHECK(keys::log::TimeKey(1, 9) < keys::log::TimeKey(2, 1));
  CHECK(keys::log::TimeKey(2, 1) < keys::log::TimeKey(2, 2));
  CHECK(keys::log::TimeKey(-5, 3) == keys::log::TimeKey(0, 3));
  CHECK(keys::log::TimeKey(7, 3).size() == keys::log::kTimeKeySize);
  // A retrieval's two index entries and the marks never collide.
  const std::set<std::string> distinct = {keys::log::RetrievalKey("rtv-1"), keys::log::AnswerKey("rtv-1"),
                                          keys::log::kHeadKey, keys::log::kStartKey, keys::log::kSyncMarkKey};
  CHECK(distinct.size() == 5);
  CHECK(keys::log::RetrievalKey("rtv-1") == "Irtv-1");
  CHECK(keys::log::AnswerKey("rtv-1") == "Artv-1");
}

TEST_CASE("a record's time read without parsing the entry equals the parsed one", "[engine][log]") {
  storage::LogEntry entry;
  entry.set_seq(7);
  entry.set_query_text("what is seven?");
  entry.set_query_vector(std::string(256, 'v'));
  entry.set_prev_hash(std::string(32, 'p'));
  const std::string hash(32, 'h');
  for (int64_t time_us : {int64_t{0}, int64_t{1}, int64_t{1796592834314630}, int64_t{-5}}) {
    entry.set_time_us(time_us);
    auto got = log_chain::RecordTime(hash + entry.SerializeAsString(), 7);
    REQUIRE(got.ok());
    CHECK(*got == time_us);
  }
  // The last occurrence wins, as in a full parse.
  storage::LogEntry later;
  later.set_time_us(99);
  auto twice = log_chain::RecordTime(hash + entry.SerializeAsString() + later.SerializeAsString(), 7);
  REQUIRE(twice.ok());
  CHECK(*twice == 99);
  const std::string body = entry.SerializeAsString();
  for (const std::string& bad : {hash.substr(0, 20), hash + body.substr(0, body.size() - 3), hash + "\xff"}) {
    auto refused = log_chain::RecordTime(bad, 7);
    CHECK(refused.status().code() == StatusCode::kDataLoss);
    CHECK_THAT(refused.status().message(), Catch::Contains("record 7"));
  }
}

TEST_CASE("log verify reports a record whose time goes back, the chain rewritten after it", "[engine][log]") {
  // Time-range reads search the records by time, which holds because
  // times never go back along the log: verify checks it. (The time index
  // is left as it was: rewriting it to match would fail one record earlier,
  // since its entries would no longer sort like the records.)
  LogFixture f;
  for (size_t i = 0; i < 5; ++i) {
    REQUIRE(f.db->Retrieve(f.Query(i)).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  REQUIRE(f.db->Close().ok());
  // Record 3 dated before record 2, and everything after it rechained.
  std::string head;
  WithRawFamily(f.dir.path(), "log", [&](rocksdb::DB* raw, rocksdb::ColumnFamilyHandle* log) {
    std::string value;
    REQUIRE(raw->Get(rocksdb::ReadOptions(), log, RecordKey(2), &value).ok());
    std::string prev = value.substr(0, 32);
    storage::LogEntry second;
    REQUIRE(second.ParseFromString(value.substr(32)));
    for (uint64_t seq = 3; seq <= 5; ++seq) {
      REQUIRE(raw->Get(rocksdb::ReadOptions(), log, RecordKey(seq), &value).ok());
      storage::LogEntry entry;
      REQUIRE(entry.ParseFromString(value.substr(32)));
      if (seq == 3) entry.set_time_us(second.time_us() - 1000);
      entry.set_prev_hash(prev);
      const std::string body = entry.SerializeAsString();
      prev = Sha256::Raw(prev + body);
      REQUIRE(raw->Put(rocksdb::WriteOptions(), log, RecordKey(seq), prev + body).ok());
    }
    storage::LogMark mark;
    mark.set_seq(5);
    mark.set_hash(prev);
    head = mark.SerializeAsString();
  });
  WithRawFamily(f.dir.path(), "log_index", [&](rocksdb::DB* raw, rocksdb::ColumnFamilyHandle* index) {
    REQUIRE(raw->Put(rocksdb::WriteOptions(), index, keys::log::kHeadKey, head).ok());
  });
  f.Open(test::QuietOptions());
  auto v = f.db->VerifyLog();
  REQUIRE(v.ok());
  CHECK_FALSE(v->ok);
  CHECK(v->first_bad_seq == 3);
  CHECK_THAT(v->problem, Catch::Contains("record 3's time"));
  CHECK_THAT(v->problem, Catch::Contains("is before record 2's"));
}

TEST_CASE("counterfactual replay reports rows written again under the same ids", "[engine][log][replay]") {
  LogFixture f;
  auto r = f.db->Retrieve(f.Query(5, 5));
  REQUIRE(r.ok());
  // The top chunk's text is rewritten; its vector (so the ranking) stays.
  const std::string top = r->chunks[0].id;
  auto row = f.db->Get("kb", top);
  REQUIRE(row.ok());
  Record rewritten = row->record;
  rewritten.text = "a corrected text";
  REQUIRE(f.db->Upsert("kb", {rewritten}).ok());
  auto cf = f.db->Replay({r->retrieval_id, ReplayMode::kCounterfactual, ReadPoint::Head()});
  REQUIRE(cf.ok());
  CHECK(cf->outcome == ReplayOutcome::kDiffers);
  CHECK(cf->changed == std::vector<std::string>{top});
  CHECK(cf->added.empty());
  CHECK(cf->removed.empty());
  CHECK_THAT(cf->detail, Catch::Contains("1 of the rows found were written again"));
  // At the logged version nothing changed.
  auto same = f.db->Replay({r->retrieval_id, ReplayMode::kCounterfactual, r->version});
  REQUIRE(same.ok());
  CHECK(same->outcome == ReplayOutcome::kIdentical);
  CHECK(same->changed.empty());
}

TEST_CASE("log pins no record names are released after a restart, and snapshot pin holders are reserved",
          "[engine][log][gc]") {
  DatabaseOptions options = test::QuietOptions();
  options.log_retention_seconds = 3600;
  LogFixture f(options);
  // A pin the log holds with no record naming it: what a crash between a
  // retrieval's pin and its record's sync leaves.
  const Version leaked = f.head;
  REQUIRE(f.db->PinVersion("kb", leaked, "log").ok());
  f.Load(0, 10);
  auto kept = f.db->Retrieve(f.Query(1));  // pins the head, and names it
  REQUIRE(kept.ok());
  f.Load(0, 10);
  CHECK(f.db->PinVersion("kb", leaked, "snapshot/x").code() == StatusCode::kInvalidArgument);
  CHECK(f.db->UnpinVersion("kb", leaked, "snapshot/x").code() == StatusCode::kInvalidArgument);
  REQUIRE(f.db->Close().ok());
  f.Open(options);
  REQUIRE(f.db->Gc("kb").ok());
  CHECK(f.db->Count("kb", leaked).ok());  // still pinned
  auto swept = f.db->GcLog();
  REQUIRE(swept.ok());
  CHECK(*swept == 0);  // no record expired
  REQUIRE(f.db->Gc("kb").ok());
  CHECK(f.db->Count("kb", leaked).status().code() == StatusCode::kFailedPrecondition);
  CHECK(f.db->Count("kb", kept->version).ok());  // named by a kept record: still pinned
  auto replay = f.db->Replay({kept->retrieval_id, ReplayMode::kContext, ReadPoint::Head()});
  REQUIRE(replay.ok());
  CHECK(replay->outcome == ReplayOutcome::kIdentical);
  REQUIRE(f.db->Close().ok());

  DatabaseOptions bad = test::QuietOptions();
  bad.log_retention_seconds = -1;
  CHECK(Database::Open(f.dir.Sub("other"), bad).status().code() == StatusCode::kInvalidArgument);
}

// Every key of a family, in order.
std::vector<std::pair<std::string, std::string>> RawKeys(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family) {
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), family));
  for (it->SeekToFirst(); it->Valid(); it->Next()) out.emplace_back(it->key().ToString(), it->value().ToString());
  REQUIRE(it->status().ok());
  return out;
}

TEST_CASE("the log family holds only records and an older directory's index keys move out at open", "[engine][log]") {
  LogFixture f;
  std::vector<std::string> ids;
  for (size_t i = 0; i < 5; ++i) {
    auto r = f.db->Retrieve(f.Query(i));
    REQUIRE(r.ok());
    ids.push_back(r->retrieval_id);
  }
  auto answered = f.db->RecordAnswer({ids[1], "The answer.", "model-x", 10, 2});
  REQUIRE(answered.ok());
  REQUIRE(f.db->Close().ok());

  // What this version writes: records alone in "log", so that its flushed
  // files never overlap; the time, id and answer indexes and the head mark
  // in "log_index".
  std::vector<std::pair<std::string, std::string>> index;
  WithRawFamily(f.dir.path(), "log", [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log) {
    auto records = RawKeys(db, log);
    REQUIRE(records.size() == 6);
    for (size_t i = 0; i < records.size(); ++i) CHECK(records[i].first == RecordKey(i + 1));
  });
  WithRawFamily(f.dir.path(), "log_index", [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family) {
    index = RawKeys(db, family);
    // 6 time keys, 5 retrieval ids, 1 answer and its annotation, the head
    // and the sync mark.
    CHECK(index.size() == 15);
    CHECK(std::count_if(index.begin(), index.end(), [](const auto& kv) { return kv.first[0] == 'N'; }) == 1);
  });
  // The layout before: the same keys in "log", none in "log_index"; or a
  // move interrupted halfway (every other key already moved).
  size_t step = 1;
  SECTION("every index key in the log family") { step = 1; }
  SECTION("a move interrupted halfway") { step = 2; }
  std::vector<std::pair<std::string, std::string>> back;
  for (size_t i = 0; i < index.size(); i += step) back.push_back(index[i]);
  WithRawFamily(f.dir.path(), "log_index", [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family) {
    for (const auto& [key, value] : back) REQUIRE(db->Delete(rocksdb::WriteOptions(), family, key).ok());
  });
  WithRawFamily(f.dir.path(), "log", [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log) {
    for (const auto& [key, value] : back) REQUIRE(db->Put(rocksdb::WriteOptions(), log, key, value).ok());
  });

  // Opening moves them; the log reads as before and goes on.
  f.Open(test::QuietOptions());
  auto verified = f.db->VerifyLog();
  REQUIRE(verified.ok());
  CHECK(verified->ok);
  CHECK(verified->records == 6);
  auto got = f.db->GetRetrieval(ids[1]);
  REQUIRE(got.ok());
  CHECK(got->first.query_text == "question 1");
  REQUIRE(got->second.has_value());
  CHECK(got->second->answer == "The answer.");
  LogQuery query;
  query.since_us = answered->time_us;
  auto listed = f.db->ListLog(query);
  REQUIRE(listed.ok());
  REQUIRE(listed->records.size() == 1);
  CHECK(listed->records[0].kind == LogKind::kAnswer);
  auto next = f.db->Retrieve(f.Query(7));
  REQUIRE(next.ok());
  CHECK(next->log_seq == 7);
  REQUIRE(f.db->Close().ok());
  WithRawFamily(f.dir.path(), "log", [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log) {
    auto records = RawKeys(db, log);
    REQUIRE(records.size() == 7);
    for (const auto& [key, value] : records) CHECK(key.size() == 9);
    CHECK(records.back().first == RecordKey(7));
    // The move's deletions were compacted away: no file of the family
    // holds one for later scans to step over.
    rocksdb::TablePropertiesCollection tables;
    REQUIRE(db->GetPropertiesOfAllTables(log, &tables).ok());
    CHECK_FALSE(tables.empty());
    for (const auto& [file, properties] : tables) CHECK(properties->num_deletions == 0);
  });
  WithRawFamily(f.dir.path(), "log_index", [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family) {
    CHECK(RawKeys(db, family).size() == 17);  // + the new record's time and id keys
  });
}

TEST_CASE("replay: context identical after writes, GC and restore, retrieval recall equals brute force",
          "[engine][log][replay]") {
  LogFixture f;
  auto snap = f.db->CreateSnapshot("kb", "v1", "");
  REQUIRE(snap.ok());
  std::vector<RetrieveResult> retrievals;
  for (size_t q = 0; q < 10; ++q) {
    RetrieveRequest r = f.Query(q * 7, 10);
    r.ef = 10;  // a narrow search, so that recall can be below 1
    auto got = f.db->Retrieve(r);
    REQUIRE(got.ok());
    retrievals.push_back(*got);
  }
  const Version logged_version = f.head;
  // 1,000 later writes (rewrites of the same ids), then GC: only the head,
  // the snapshot and the versions the log pins are retained.
  for (int i = 0; i < 4; ++i) f.Load(0, 250);
  auto gc = f.db->Gc("kb");
  REQUIRE(gc.ok());
  for (const auto& r : retrievals) {
    auto replay = f.db->Replay({r.retrieval_id, ReplayMode::kContext, ReadPoint::Head()});
    REQUIRE(replay.ok());
    CHECK(replay->outcome == ReplayOutcome::kIdentical);
    CHECK(replay->context_hash_matches);
  }
  // Retrieval replay: recall equals brute force over the rows at the logged version.
  const auto live = f.model.At(logged_version);
  for (size_t i = 0; i < retrievals.size(); ++i) {
    const auto& r = retrievals[i];
    auto logged = f.db->GetRetrieval(r.retrieval_id);
    REQUIRE(logged.ok());
    const auto truth = test::ReferenceModel::TopKOf(live, logged->first.query_vector, 10);
    std::vector<std::string> got;
    for (const auto& c : r.chunks) got.push_back(c.id);
    auto replay = f.db->Replay({r.retrieval_id, ReplayMode::kRetrieval, ReadPoint::Head()});
    REQUIRE(replay.ok());
    CHECK(replay->recall == Approx(test::Recall(got, truth)));
    CHECK(replay->missed.size() == static_cast<size_t>(std::lround((1 - replay->recall) * 10)));
    CHECK((replay->outcome == ReplayOutcome::kIdentical) == (got == truth));
  }
  // Counterfactual at head: the rewritten records moved.
  auto cf = f.db->Replay({retrievals[0].retrieval_id, ReplayMode::kCounterfactual, ReadPoint::Head()});
  REQUIRE(cf.ok());
  CHECK(cf->version == f.head);
  SearchRequest direct;
  direct.vector = f.db->GetRetrieval(retrievals[0].retrieval_id)->first.query_vector;
  direct.k = 10;
  direct.with_payload = false;
  auto now = f.db->Search("kb", direct);
  REQUIRE(now.ok());
  const std::vector<std::string> now_list = test::Ids(*now);
  std::set<std::string> logged_ids, now_ids(now_list.begin(), now_list.end());
  for (const auto& c : retrievals[0].chunks) logged_ids.insert(c.id);
  // Record 0 (the nearest to query 0) was rewritten far away: it left.
  CHECK(cf->outcome == ReplayOutcome::kDiffers);
  CHECK(std::find(cf->removed.begin(), cf->removed.end(), "r0") != cf->removed.end());
  for (const auto& id : cf->added) CHECK((now_ids.count(id) && !logged_ids.count(id)));
  for (const auto& id : cf->removed) CHECK((logged_ids.count(id) && !now_ids.count(id)));
  CHECK(cf->added.size() == cf->removed.size());  // k = 10 both times
  // And at the snapshot.
  auto at_snapshot =
      f.db->Replay({retrievals[0].retrieval_id, ReplayMode::kCounterfactual, ReadPoint::AtSnapshot("v1")});
  REQUIRE(at_snapshot.ok());
  CHECK(at_snapshot->version == snap->version);

  // After a restore the logged context is still identical.
  REQUIRE(f.db->Restore("kb", snap->version).ok());
  auto after_restore = f.db->Replay({retrievals[3].retrieval_id, ReplayMode::kContext, ReadPoint::Head()});
  REQUIRE(after_restore.ok());
  CHECK(after_restore->outcome == ReplayOutcome::kIdentical);

  // When the logged version is released and collected, replay says so.
  REQUIRE(f.db->UnpinVersion("kb", logged_version, "log").ok());
  REQUIRE(f.db->DeleteSnapshot("kb", "v1").ok());
  f.Load(0, 300);
  REQUIRE(f.db->Gc("kb").ok());
  auto gone = f.db->Replay({retrievals[0].retrieval_id, ReplayMode::kRetrieval, ReadPoint::Head()});
  REQUIRE(gone.ok());
  CHECK(gone->outcome == ReplayOutcome::kCollected);
  CHECK_THAT(gone->detail, Catch::Contains("oldest retained"));
  auto gone_context = f.db->Replay({retrievals[0].retrieval_id, ReplayMode::kContext, ReadPoint::Head()});
  REQUIRE(gone_context.ok());
  CHECK(gone_context->outcome == ReplayOutcome::kCollected);
  CHECK(f.db->Replay({"rtv-unknown", ReplayMode::kContext, ReadPoint::Head()}).status().code() ==
        StatusCode::kNotFound);
}

TEST_CASE("concurrent retrieves share synced batches, and the chain stays whole across restarts",
          "[engine][log][concurrency]") {
  LogFixture f;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  std::mutex ids_mu;
  std::set<uint64_t> seqs;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        auto r = f.db->Retrieve(f.Query(static_cast<size_t>(t * 100 + i)));
        if (!r.ok()) {
          ++failures;
          continue;
        }
        std::lock_guard lock(ids_mu);
        seqs.insert(r->log_seq);
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  CHECK(seqs.size() == 200);
  CHECK(*seqs.begin() == 1);
  CHECK(*seqs.rbegin() == 200);
  REQUIRE(f.db->Close().ok());
  f.Open(test::QuietOptions());
  REQUIRE(f.db->Retrieve(f.Query(3)).ok());
  auto v = f.db->VerifyLog();
  REQUIRE(v.ok());
  CHECK(v->ok);
  CHECK(v->records == 201);
}

TEST_CASE("log retention expires old records and releases the versions they pinned", "[engine][log][gc]") {
  DatabaseOptions options = test::QuietOptions();
  options.log_retention_seconds = 1;
  LogFixture f(options);
  auto old = f.db->Retrieve(f.Query(1));
  REQUIRE(old.ok());
  REQUIRE(f.db->RecordAnswer({old->retrieval_id, "An old answer.", "", 0, 0}).ok());  // and its annotation
  const Version pinned = old->version;
  f.Load(0, 100);
  REQUIRE(f.db->Gc("kb").ok());
  CHECK(f.db->Count("kb", pinned).ok());  // pinned by the log
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  auto fresh = f.db->Retrieve(f.Query(2));
  REQUIRE(fresh.ok());
  auto removed = f.db->GcLog();
  REQUIRE(removed.ok());
  CHECK(*removed == 2);
  CHECK(f.db->GetRetrieval(old->retrieval_id).status().code() == StatusCode::kNotFound);
  auto v = f.db->VerifyLog();
  REQUIRE(v.ok());
  CHECK(v->ok);
  CHECK(v->first_seq == 3);
  REQUIRE(f.db->Gc("kb").ok());
  CHECK(f.db->Count("kb", pinned).status().code() == StatusCode::kFailedPrecondition);
  // The answer's annotation went with it.
  REQUIRE(f.db->Close().ok());
  WithRawFamily(f.dir.path(), "log_index", [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family) {
    for (const auto& [key, value] : RawKeys(db, family)) CHECK(key[0] != 'N');
  });
}

TEST_CASE("the background GC expires log records and then collects the versions they pinned", "[engine][log][gc]") {
  test::TempDir dir;
  DatabaseOptions options = test::QuietOptions();
  options.gc_interval_seconds = 1;
  options.log_retention_seconds = 1;
  auto db = Database::Open(dir.path(), options);
  REQUIRE(db.ok());
  CollectionConfig config;
  config.name = "kb";
  config.dimension = kDim;
  config.retention = RetentionPolicy{1, 0};
  REQUIRE((*db)->CreateCollection(config).ok());
  const auto data = test::ClusteredVectors(200, kDim, 4, 2);
  auto load = [&](size_t offset) {
    std::vector<Record> batch;
    for (size_t i = 0; i < 100; ++i)
      batch.push_back(test::MakeRecord(i, data.data() + ((i + offset) % 200) * kDim, kDim));
    auto w = (*db)->Upsert("kb", batch);
    REQUIRE(w.ok());
    return w->version;
  };
  const Version read = load(0);
  RetrieveRequest request;
  request.collection = "kb";
  request.vector.assign(data.begin(), data.begin() + kDim);
  auto old = (*db)->Retrieve(request);
  REQUIRE(old.ok());
  REQUIRE(old->version == read);
  load(7);  // `read` is no longer the head: only the log's pin keeps it
  CHECK((*db)->Count("kb", read).ok());
  REQUIRE((*db)->Retrieve(request).ok());  // the log's head record (never expires) is at the new head
  // No call from here on: the GC thread does it all, within a few rounds.
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool expired = false, collected = false;
  while (std::chrono::steady_clock::now() < limit && !(expired && collected)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    expired = (*db)->GetRetrieval(old->retrieval_id).status().code() == StatusCode::kNotFound;
    collected = (*db)->Count("kb", read).status().code() == StatusCode::kFailedPrecondition;
  }
  CHECK(expired);
  CHECK(collected);
  auto v = (*db)->VerifyLog();
  REQUIRE(v.ok());
  CHECK(v->ok);
}

TEST_CASE("a refused retrieve pins nothing, and log queries check their time range", "[engine][log]") {
  LogFixture f;
  const Version before = f.head;
  RetrieveRequest short_vector = f.Query(1);
  short_vector.vector.pop_back();
  const Status refused = f.db->Retrieve(short_vector).status();
  CHECK(refused.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(refused.message(), Catch::StartsWith("vector"));
  RetrieveRequest wide = f.Query(1);
  wide.ef = Limits::kMaxEf + 1;
  CHECK(f.db->Retrieve(wide).status().code() == StatusCode::kInvalidArgument);
  RetrieveRequest long_client = f.Query(1);
  long_client.client_id = std::string(2000, 'c');
  CHECK(f.db->Retrieve(long_client).status().message() == "client_id: 2000 bytes; the limit is 1024");
  // Retention keeps one version: with no pin, GC collects the old head.
  f.Load(0, 100);
  REQUIRE(f.db->Gc("kb").ok());
  CHECK(f.db->Count("kb", before).status().code() == StatusCode::kFailedPrecondition);
  // The control: a retrieve that was served pins the version it read.
  auto served = f.db->Retrieve(f.Query(2));
  REQUIRE(served.ok());
  f.Load(100, 200);
  REQUIRE(f.db->Gc("kb").ok());
  CHECK(f.db->Count("kb", served->version).ok());

  LogQuery backwards;
  backwards.since_us = 2000;
  backwards.until_us = 1000;
  const Status range = f.db->ListLog(backwards).status();
  CHECK(range.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(range.message(), Catch::StartsWith("until_us: 1000 is not after since_us 2000"));
  LogQuery negative;
  negative.since_us = -5;
  CHECK(f.db->ListLog(negative).status().code() == StatusCode::kInvalidArgument);
  BatchAuditRequest audit;
  audit.collection = "kb";
  audit.since_us = 2000;
  audit.until_us = 2000;
  CHECK(f.db->AuditCollection(audit).status().code() == StatusCode::kInvalidArgument);
  // An unknown id far longer than any real one is not echoed whole.
  const Status unknown = f.db->GetRetrieval("rtv-" + std::string(100000, 'x')).status();
  CHECK(unknown.code() == StatusCode::kNotFound);
  CHECK(unknown.message().size() < 300);
}

TEST_CASE("a log page of large answers ends early at the page byte limit, with a cursor", "[engine][log]") {
  LogFixture f;
  for (size_t i = 0; i < 20; ++i) {
    auto r = f.db->Retrieve(f.Query(i));
    REQUIRE(r.ok());
    REQUIRE(f.db->RecordAnswer({r->retrieval_id, std::string((1 << 20) - 100, 'a' + i % 26), "m", 0, 0}).ok());
  }
  LogQuery query;
  query.kind = LogKind::kAnswer;
  query.limit = 1000;
  size_t pages = 0, answers = 0;
  do {
    auto page = f.db->ListLog(query);
    REQUIRE(page.ok());
    ++pages;
    size_t bytes = 0;
    for (const auto& r : page->records) bytes += r.answer.size();
    CHECK(bytes <= Limits::kMaxPageBytes + (1 << 20));
    answers += page->records.size();
    query.start_after = page->next_cursor;
  } while (query.start_after != 0);
  CHECK(pages >= 2);
  CHECK(answers == 20);
  query.start_after = UINT64_MAX;  // nothing after the last possible record (it used to wrap to the first page)
  auto after_end = f.db->ListLog(query);
  REQUIRE(after_end.ok());
  CHECK(after_end->records.empty());
  CHECK(after_end->next_cursor == 0);
  // A batch audit pages through the same log: every answered retrieval is audited.
  BatchAuditRequest audit;
  audit.collection = "kb";
  auto audited = f.db->AuditCollection(audit);
  REQUIRE(audited.ok());
  CHECK(audited->audited == 20);
}

TEST_CASE("a filtered log page examines a bounded number of records and ends with a cursor", "[engine][log]") {
  LogFixture f;
  CollectionConfig other;
  other.name = "other";
  other.dimension = kDim;
  REQUIRE(f.db->CreateCollection(other).ok());
  std::vector<Record> records;
  for (size_t i = 0; i < 20; ++i) records.push_back(test::MakeRecord(i, f.data.data() + i * kDim, kDim));
  REQUIRE(f.db->Upsert("other", records).ok());
  for (size_t i = 0; i < 6; ++i) {
    RetrieveRequest r = f.Query(i);
    r.collection = "other";
    REQUIRE(f.db->Retrieve(r).ok());
  }
  for (size_t i = 0; i < 3; ++i) REQUIRE(f.db->Retrieve(f.Query(i)).ok());  // seqs 7..9 in "kb"

  LogQuery query;
  query.collection = "kb";
  query.max_scanned = 2;
  size_t pages = 0, empty_pages = 0;
  std::vector<uint64_t> seqs;
  do {
    auto page = f.db->ListLog(query);
    REQUIRE(page.ok());
    ++pages;
    if (page->records.empty() && page->next_cursor != 0) ++empty_pages;
    for (const auto& r : page->records) {
      CHECK(r.collection == "kb");
      seqs.push_back(r.seq);
    }
    REQUIRE((page->next_cursor == 0 || page->next_cursor > query.start_after));  // always moves on
    query.start_after = page->next_cursor;
  } while (query.start_after != 0);
  CHECK(seqs == std::vector<uint64_t>{7, 8, 9});
  CHECK(empty_pages == 3);  // records 1-2, 3-4, 5-6 are all "other"
  CHECK(pages == 5);
  query = LogQuery();
  query.max_scanned = 0;
  CHECK(f.db->ListLog(query).status().code() == StatusCode::kInvalidArgument);
  query.max_scanned = Limits::kMaxLogScanRecords + 1;
  CHECK_THAT(f.db->ListLog(query).status().message(), Catch::StartsWith("max_scanned:"));
}

TEST_CASE("SIGKILL during a stream of retrieves: every delivered retrieval is logged", "[engine][log][crash]") {
  LogFixture f;
  REQUIRE(f.db->Close().ok());
  std::mt19937 rng(17);
  std::vector<std::string> delivered;
  for (int round = 0; round < 8; ++round) {
    test::ChildProcess child;
    REQUIRE(child.Start(VERITY_KILL_CHILD, {f.dir.path(), "retrieve-loop"}));
    FILE* out = child.output();
    std::atomic<bool> done{false};
    std::thread killer([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(200 + rng() % 400));
      child.Kill();
      done = true;
    });
    char line[256];
    while (std::fgets(line, sizeof(line), out) != nullptr) {
      std::string s(line);
      if (s.rfind("ACK ", 0) == 0) delivered.push_back(s.substr(4, s.size() - 5));
    }
    killer.join();
    child.CloseOutput();
    const int status = child.Wait().value_or(0);
    CHECK(WIFSIGNALED(status));
  }
  REQUIRE(delivered.size() > 8);
  f.Open(test::QuietOptions());
  for (const auto& id : delivered) CHECK(f.db->GetRetrieval(id).ok());
  auto v = f.db->VerifyLog();
  REQUIRE(v.ok());
  CHECK(v->ok);
  CHECK(v->records >= delivered.size());
}

TEST_CASE("audit scores the recorded answer against the logged context", "[engine][log][audit]") {
  LogFixture f;
  auto r1 = f.db->Retrieve(f.Query(5, 3));
  auto r2 = f.db->Retrieve(f.Query(6, 3));
  auto r3 = f.db->Retrieve(f.Query(7, 3));
  REQUIRE(r1.ok());
  REQUIRE(r2.ok());
  REQUIRE(r3.ok());
  // r1: the answer repeats the context; r2: an invented sentence too; r3: none.
  const std::string grounded = r1->chunks[0].text + ".";
  REQUIRE(f.db->RecordAnswer({r1->retrieval_id, grounded, "m", 0, 0}).ok());
  REQUIRE(f.db->RecordAnswer({r2->retrieval_id, r2->chunks[0].text + ". Zebras invented quantum bicycles in 1850.", "m", 0, 0}).ok());

  auto a1 = f.db->Audit({r1->retrieval_id, std::nullopt, std::nullopt});
  REQUIRE(a1.ok());
  CHECK(a1->answer == grounded);
  CHECK(a1->answer_recorded);
  REQUIRE(a1->chunks.size() == 3);
  CHECK(a1->chunks[0].text == r1->chunks[0].text);
  CHECK(a1->result.g == Approx(1.0));
  auto a2 = f.db->Audit({r2->retrieval_id, std::nullopt, std::nullopt});
  REQUIRE(a2.ok());
  CHECK(a2->result.g < 1.0);
  CHECK(a2->result.supported < a2->result.scored);
  // Given instead of recorded.
  auto given =
      f.db->Audit({r3->retrieval_id, std::string("Nothing here is in the context at all, Zebulon."), std::nullopt});
  REQUIRE(given.ok());
  CHECK_FALSE(given->answer_recorded);
  CHECK(given->result.g == Approx(0.0));
  CHECK(f.db->Audit({r3->retrieval_id, std::nullopt, std::nullopt}).status().code() == StatusCode::kFailedPrecondition);
  CHECK(f.db->Audit({r3->retrieval_id, std::nullopt, std::nullopt}).status().reason() ==
        StatusReason::kNoRecordedAnswer);
  CHECK(f.db->Audit({"rtv-none", std::nullopt, std::nullopt}).status().code() == StatusCode::kNotFound);
  // Deterministic.
  CHECK(ToJson(f.db->Audit({r2->retrieval_id, std::nullopt, std::nullopt})->result) == ToJson(a2->result));

  BatchAuditRequest batch;
  batch.collection = "kb";
  auto all = f.db->AuditCollection(batch);
  REQUIRE(all.ok());
  CHECK(all->retrievals == 3);
  CHECK(all->audited == 2);
  CHECK(all->unanswered == 1);
  CHECK(all->scored == 2);
  const double exact =
      (1.0 * a1->result.supported / a1->result.scored + 1.0 * a2->result.supported / a2->result.scored) / 2;
  CHECK(all->mean_g == Approx(exact).epsilon(1e-12));
  REQUIRE(all->worst.size() == 2);
  CHECK(all->worst[0].retrieval_id == r2->retrieval_id);
  // Over the caller's bound on the result (verityd's --max-message-bytes):
  // refused with the reason the server reads to name its flag.
  BatchAuditRequest bounded = batch;
  bounded.max_result_bytes = 10;
  auto over = f.db->AuditCollection(bounded);
  REQUIRE(over.status().code() == StatusCode::kResourceExhausted);
  CHECK(over.status().reason() == StatusReason::kResponseTooLarge);
  CHECK(over.status().message().rfind("audits: the first 1 audits of the range hold about ", 0) == 0);
  // An answer with nothing to score ("OK.": no content word) is audited
  // but not in the mean: its G of 0 says nothing about grounding.
  REQUIRE(f.db->RecordAnswer({r3->retrieval_id, "OK.", "m", 0, 0}).ok());
  all = f.db->AuditCollection(batch);
  REQUIRE(all.ok());
  CHECK(all->audited == 3);
  CHECK(all->scored == 2);
  CHECK(all->mean_g == Approx(exact).epsilon(1e-12));
}

TEST_CASE("batch audit, log verify and diff stop when keep_going refuses", "[engine][log][audit]") {
  LogFixture f;
  std::vector<std::string> ids;
  for (size_t q = 0; q < 4; ++q) {
    auto r = f.db->Retrieve(f.Query(q, 2));
    REQUIRE(r.ok());
    REQUIRE(f.db->RecordAnswer({r->retrieval_id, r->chunks[0].text + ".", "m", 0, 0}).ok());
  }
  const Status late = Status(StatusCode::kDeadlineExceeded, "deadline exceeded");
  // Asked before the log page and each retrieval: the third ask refuses.
  int asked = 0;
  auto refuse_third = [&] { return ++asked == 3 ? late : Status::Ok(); };
  BatchAuditRequest batch;
  batch.collection = "kb";
  auto stopped = f.db->AuditCollection(batch, refuse_third);
  CHECK(stopped.status().code() == StatusCode::kDeadlineExceeded);
  CHECK(asked == 3);
  asked = 0;
  auto all = f.db->AuditCollection(batch, [&] { return ++asked, Status::Ok(); });
  REQUIRE(all.ok());
  CHECK(all->audited == 4);
  CHECK(asked == 5);  // one page, four retrievals

  // VerifyLog asks at its first record (then every 4,096).
  asked = 0;
  CHECK(f.db->VerifyLog([&] { return ++asked, late; }).status().code() == StatusCode::kDeadlineExceeded);
  CHECK(asked == 1);
  auto verified = f.db->VerifyLog([] { return Status::Ok(); });
  REQUIRE(verified.ok());
  CHECK(verified->ok);

  // Diff over 3,000 changed ids asks at least every 1,024 changes read.
  const Version before = f.head;
  f.Load(0, 3000);
  asked = 0;
  auto diff = f.db->Diff("kb", before, f.head, "", 10, [&] { return ++asked, Status::Ok(); });
  REQUIRE(diff.ok());
  CHECK(asked >= 3);
  CHECK(f.db->Diff("kb", before, f.head, "", 10, [&] { return late; }).status().code() ==
        StatusCode::kDeadlineExceeded);
}

// Once its collection is dropped, a retrieval's context is gone: replay says
// "collected" and reports nothing it did not compare; audit is
// FAILED_PRECONDITION, as for collected rows, not NOT_FOUND (the retrieval
// exists).
TEST_CASE("replay and audit of a retrieval whose collection was dropped", "[engine][log]") {
  LogFixture f;
  auto retrieved = f.db->Retrieve(f.Query(1, 5));
  REQUIRE(retrieved.ok());
  REQUIRE(f.db->RecordAnswer({retrieved->retrieval_id, "An answer.", "m", 0, 0}).ok());
  REQUIRE(f.db->DropCollection("kb").ok());
  for (ReplayMode mode : {ReplayMode::kContext, ReplayMode::kRetrieval, ReplayMode::kCounterfactual}) {
    ReplayRequest replay;
    replay.retrieval_id = retrieved->retrieval_id;
    replay.mode = mode;
    auto r = f.db->Replay(replay);
    REQUIRE(r.ok());
    CHECK(r->outcome == ReplayOutcome::kCollected);
    CHECK(r->detail.find("no longer exists") != std::string::npos);
  }
  AuditRequest audit;
  audit.retrieval_id = retrieved->retrieval_id;
  auto audited = f.db->Audit(audit);
  CHECK(audited.status().code() == StatusCode::kFailedPrecondition);
  CHECK(audited.status().message().find("was dropped") != std::string::npos);
}

// A Retrieve refused by its response bound pins nothing (a log pin goes only
// when a record of its version expires, and a refused call writes none), and
// the bound counts what a Retrieve response carries: each chunk's text twice,
// no metadata or vector.
TEST_CASE("a Retrieve over its response bound is refused before it pins or logs anything", "[engine][log]") {
  LogFixture f;
  const Version read_at = f.head;
  RetrieveRequest big = f.Query(2, 5);
  big.max_payload_bytes = 40;  // less than one chunk's text, twice
  auto refused = f.db->Retrieve(big);
  REQUIRE(refused.status().code() == StatusCode::kResourceExhausted);
  CHECK(refused.status().message().rfind("hits: ", 0) == 0);
  LogQuery everything;
  auto page = f.db->ListLog(everything);
  REQUIRE(page.ok());
  CHECK(page->records.empty());
  // Not pinned: once a newer version exists, GC (keep 1 version) collects it.
  f.Load(3000, 3010);
  REQUIRE(f.db->Gc("kb").ok());
  CHECK(f.db->Count("kb", read_at).status().code() == StatusCode::kFailedPrecondition);

  // What a Retrieve measures: 5 chunks of ~20-byte texts (~250 bytes with
  // ids, texts twice) fit 300 bytes, where the same records as a search
  // returns them (with metadata and vectors: ~380 bytes) do not.
  RetrieveRequest fits = f.Query(2, 5);
  fits.max_payload_bytes = 300;
  auto retrieved = f.db->Retrieve(fits);
  INFO(retrieved.status().ToString());
  REQUIRE(retrieved.ok());
  CHECK(retrieved->chunks.size() == 5);
  SearchRequest search;
  search.vector = fits.vector;
  search.k = 5;
  search.with_vectors = true;
  search.max_payload_bytes = 300;
  CHECK(f.db->Search("kb", search).status().code() == StatusCode::kResourceExhausted);
}

// Issue #23 item 11: a retrieval pins the version it read, for the log's
// retention. GC keeps those versions' rows on disk but drops the graph
// nodes only log-pinned versions need: the graph shrinks to what the head,
// the retention window and snapshots see, and searches, counts and replays
// at an old log-pinned version read the rows and still find exactly what
// that version held.
TEST_CASE("GC drops graph nodes only log pins need, and reads at those versions scan the rows", "[engine][log][gc]") {
  LogFixture f;  // 3,000 records; keep_versions 1, keep_seconds 0
  struct Pinned {
    Version version;
    std::string retrieval_id;
    std::set<std::string> exact;  // exact top-10 at the version, before GC
    ReplayResult replay;          // retrieval replay, before GC
  };
  std::vector<Pinned> pinned;
  constexpr int kRounds = 6;
  Version snapshot_version = 0;
  for (int round = 0; round < kRounds; ++round) {
    if (round > 0) f.Load(0, 3000);  // every id written again
    auto r = f.db->Retrieve(f.Query(static_cast<size_t>(round) * 7));
    REQUIRE(r.ok());
    REQUIRE(r->version == f.head);
    pinned.push_back({r->version, r->retrieval_id, {}, {}});
    if (round == 2) {
      REQUIRE(f.db->CreateSnapshot("kb", "kept", "", r->version).ok());
      snapshot_version = r->version;
    }
  }
  auto query = f.Query(123).vector;
  for (auto& p : pinned) {
    SearchRequest s;
    s.vector = query;
    s.k = 10;
    s.at = p.version;
    s.plan = SearchPlan::kExact;
    auto found = f.db->Search("kb", s);
    REQUIRE(found.ok());
    for (const auto& hit : found->hits) p.exact.insert(hit.id);
    auto model = f.model.TopK(p.version, query, 10);
    CHECK(p.exact == std::set<std::string>(model.begin(), model.end()));
    auto replay = f.db->Replay({p.retrieval_id, ReplayMode::kRetrieval, ReadPoint::Head()});
    REQUIRE(replay.ok());
    p.replay = *replay;
  }
  auto before = f.db->GetCollection("kb");
  REQUIRE(before.ok());
  CHECK(before->graph_nodes == 3000u * kRounds);

  auto gc = f.db->Gc("kb");
  REQUIRE(gc.ok());
  // Kept on disk for the log pins: every superseded row of rounds 0, 1, 3
  // and 4 (round 2's are the snapshot's, round 5's the head's).
  CHECK(gc->log_only_rows == 3000u * (kRounds - 2));
  CHECK(gc->rows_removed == 0);
  CHECK(gc->graph_rebuilt);

  auto check = [&](const char* when) {
    INFO(when);
    auto info = f.db->GetCollection("kb");
    REQUIRE(info.ok());
    // The head's rows and the snapshot's: not one node per retained version.
    CHECK(info->graph_nodes == 2 * 3000u);
    CHECK(info->live_records == 3000u);
    CHECK(info->log_only_rows == 3000u * (kRounds - 2));
    for (const auto& p : pinned) {
      INFO("version " << p.version);
      SearchRequest s;
      s.vector = query;
      s.k = 10;
      s.at = p.version;
      s.with_payload = true;
      auto found = f.db->Search("kb", s);
      REQUIRE(found.ok());
      std::set<std::string> ids;
      for (const auto& hit : found->hits) {
        ids.insert(hit.id);
        REQUIRE(hit.record.has_value());
        auto row = f.db->Get("kb", hit.id, p.version);
        REQUIRE(row.ok());
        CHECK(row->row_version == hit.row_version);
        CHECK(row->record.text == hit.record->text);
      }
      CHECK(ids == p.exact);
      auto counted = f.db->Count("kb", p.version);
      REQUIRE(counted.ok());
      CHECK(*counted == 3000u);
      auto replay = f.db->Replay({p.retrieval_id, ReplayMode::kRetrieval, ReadPoint::Head()});
      REQUIRE(replay.ok());
      CHECK(replay->outcome == p.replay.outcome);
      CHECK(replay->recall == p.replay.recall);
      CHECK(replay->missed == p.replay.missed);
      auto context = f.db->Replay({p.retrieval_id, ReplayMode::kContext, ReadPoint::Head()});
      REQUIRE(context.ok());
      CHECK(context->outcome == ReplayOutcome::kIdentical);
    }
    // A retrieval at an old log-pinned version reads the rows too.
    RetrieveRequest old = f.Query(5);
    old.at = pinned[0].version;
    auto r = f.db->Retrieve(old);
    REQUIRE(r.ok());
    CHECK(r->exact);
    auto model = f.model.TopK(pinned[0].version, old.vector, old.k);
    std::set<std::string> got;
    for (const auto& chunk : r->chunks) got.insert(chunk.id);
    CHECK(got == std::set<std::string>(model.begin(), model.end()));
    auto snapshot = f.db->GetSnapshot("kb", "kept");
    REQUIRE(snapshot.ok());
    CHECK(snapshot->version == snapshot_version);
    CHECK(snapshot->records == 3000u);
  };
  check("after GC");
  // A second GC keeps the same state; a restart rebuilds it from the rows
  // and pins (log-only rows get no node).
  REQUIRE(f.db->Gc("kb").ok());
  check("after a second GC");
  f.db.reset();
  f.Open(test::QuietOptions());
  check("after reopening");

  // A snapshot taken later at a rows-only version: counted and searched
  // from the rows until a restart gives its rows nodes again.
  const Pinned& late = pinned[1];
  auto snap = f.db->CreateSnapshot("kb", "late", "", late.version);
  REQUIRE(snap.ok());
  CHECK(snap->records == 3000u);
  auto search_late = [&] {
    SearchRequest s;
    s.vector = query;
    s.k = 10;
    s.at = late.version;
    auto found = f.db->Search("kb", s);
    REQUIRE(found.ok());
    std::set<std::string> ids;
    for (const auto& hit : found->hits) ids.insert(hit.id);
    CHECK(ids == late.exact);
  };
  search_late();
  REQUIRE(f.db->Gc("kb").ok());
  search_late();
  f.db.reset();
  f.Open(test::QuietOptions());
  auto info = f.db->GetCollection("kb");
  REQUIRE(info.ok());
  CHECK(info->graph_nodes == 3 * 3000u);
  CHECK(info->log_only_rows == 3000u * (kRounds - 3));
  search_late();
  auto listed = f.db->ListSnapshots("kb");
  REQUIRE(listed.ok());
  for (const auto& s : *listed) CHECK(s.records == 3000u);
}

TEST_CASE("a replay of a text retrieval logged under another analyzer says so", "[engine][log][text]") {
  // The rule alone: only a text leg counts, and either version differing.
  LogRecord logged;
  logged.analyzer_version = 1;
  logged.analyzer_code_version = 3;
  CHECK(context::AnalyzerChange(logged, 1, 4).empty());  // no text leg
  logged.text = "reset the router";
  CHECK(context::AnalyzerChange(logged, 1, 3).empty());
  CHECK_THAT(context::AnalyzerChange(logged, 1, 4),
             Catch::Contains("ran analyzer code version 4") && Catch::Contains("logged under code version 3"));
  CHECK_THAT(context::AnalyzerChange(logged, 2, 3), Catch::Contains("analyzer version 1,"));
  logged.analyzer_code_version = 0;
  CHECK_THAT(context::AnalyzerChange(logged, 1, 3), Catch::Contains("code version not recorded"));

  // Through Replay: a text retrieval whose log record is rewritten as if an
  // engine with the next analyzer code version had logged it.
  test::TempDir dir;
  std::string id;
  {
    auto db = Database::Open(dir.path(), test::QuietOptions());
    REQUIRE(db.ok());
    CollectionConfig config;
    config.name = "notes";
    config.text_index.enabled = true;
    config.text_index.analyzer.preset = "english";
    REQUIRE((*db)->CreateCollection(config).ok());
    std::vector<Record> records;
    for (const char* text : {"Reset the router when the network fails", "How to reset your router's password",
                             "Green tea and biscuits"}) {
      Record r;
      r.id = "n" + std::to_string(records.size());
      r.text = text;
      records.push_back(r);
    }
    REQUIRE((*db)->Upsert("notes", records).ok());
    RetrieveRequest retrieve;
    retrieve.collection = "notes";
    retrieve.text = "resetting routers";
    retrieve.k = 2;
    auto retrieved = (*db)->Retrieve(retrieve);
    REQUIRE(retrieved.ok());
    id = retrieved->retrieval_id;
    // Logged by this engine: no note.
    for (ReplayMode mode : {ReplayMode::kRetrieval, ReplayMode::kCounterfactual}) {
      auto replayed = (*db)->Replay({id, mode, {}});
      REQUIRE(replayed.ok());
      CHECK(replayed->outcome == ReplayOutcome::kIdentical);
      CHECK_FALSE(replayed->analyzer_changed);
      CHECK(replayed->detail.find("analyzer") == std::string::npos);
    }
  }
  int rewritten = 0;
  WithRawFamily(dir.path(), "log", [&](rocksdb::DB* raw, rocksdb::ColumnFamilyHandle* log) {
    std::unique_ptr<rocksdb::Iterator> it(raw->NewIterator(rocksdb::ReadOptions(), log));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string value = it->value().ToString();
      storage::LogEntry entry;
      REQUIRE(entry.ParseFromString(value.substr(32)));
      if (entry.retrieval_id() != id) continue;
      REQUIRE(entry.analyzer_code_version() == text::kAnalyzerCodeVersion);
      entry.set_analyzer_code_version(text::kAnalyzerCodeVersion + 1);
      REQUIRE(raw->Put(rocksdb::WriteOptions(), log, it->key(), value.substr(0, 32) + entry.SerializeAsString()).ok());
      ++rewritten;
    }
  });
  REQUIRE(rewritten == 1);
  auto db = Database::Open(dir.path(), test::QuietOptions());
  REQUIRE(db.ok());
  for (ReplayMode mode : {ReplayMode::kRetrieval, ReplayMode::kCounterfactual}) {
    auto replayed = (*db)->Replay({id, mode, {}});
    REQUIRE(replayed.ok());
    INFO(replayed->detail);
    CHECK(replayed->analyzer_changed);
    CHECK(replayed->outcome == ReplayOutcome::kIdentical);  // the ids still agree, and say only that
    CHECK_THAT(replayed->detail, Catch::Contains("logged under code version " +
                                                 std::to_string(text::kAnalyzerCodeVersion + 1)) &&
                                     Catch::Contains("not a bit-identical replay"));
  }
  // A context replay re-runs no search: the rows' hashes decide, no note.
  auto context = (*db)->Replay({id, ReplayMode::kContext, {}});
  REQUIRE(context.ok());
  CHECK(context->outcome == ReplayOutcome::kIdentical);
  CHECK_FALSE(context->analyzer_changed);
}

TEST_CASE("an annotation that does not parse is left out of reads, never fails them", "[engine][log]") {
  LogFixture f;
  auto r = f.db->Retrieve(f.Query(1));
  REQUIRE(r.ok());
  REQUIRE(f.db->RecordAnswer({r->retrieval_id, "An answer.", "", 0, 0}).ok());
  REQUIRE(f.db->Close().ok());
  WithRawFamily(f.dir.path(), "log_index", [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family) {
    REQUIRE(db->Put(rocksdb::WriteOptions(), family, "N" + r->retrieval_id, "\xff\xff not a protobuf").ok());
  });
  f.Open(test::QuietOptions());
  auto got = f.db->GetRetrieval(r->retrieval_id);
  REQUIRE(got.ok());
  REQUIRE(got->second.has_value());
  CHECK_FALSE(got->second->annotation.has_value());
  LogQuery query;
  auto listed = f.db->ListLog(query);
  REQUIRE(listed.ok());
  CHECK(listed->records.size() == 2);
  auto audit = f.db->Audit({r->retrieval_id, std::nullopt, std::nullopt});
  CHECK(audit.ok());
  // Rewritten by an admin's recompute.
  AnnotateLogRequest again;
  again.recompute = true;
  auto done = f.db->AnnotateLog(again);
  REQUIRE(done.ok());
  CHECK(done->annotated == 1);
  got = f.db->GetRetrieval(r->retrieval_id);
  REQUIRE(got.ok());
  CHECK(got->second->annotation.has_value());
}
