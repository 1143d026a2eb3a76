// Crash: a child process writes batches and reports each acknowledged
// version; the parent SIGKILLs it at random moments. After reopening, every
// acknowledged batch must be present and the state must be exactly the
// prefix of batches 1..head.
#include <catch2/catch.hpp>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <thread>

#include "engine/child_process.h"
#include "engine/crash_batches.h"
#include "engine/test_data.h"

using namespace verity;

namespace {

// The expected live records after batches 1..head.
std::map<std::string, Record> Expected(Version head) {
  std::map<std::string, Record> live;
  for (Version v = 1; v <= head; ++v) {
    test::CrashBatch b = test::MakeCrashBatch(v);
    for (auto& r : b.upserts) live[r.id] = r;
    for (auto& id : b.deletes) live.erase(id);
  }
  return live;
}

}  // namespace

TEST_CASE("SIGKILL at random moments loses no acknowledged batch and leaves a prefix", "[engine][crash]") {
  test::TempDir dir;
  std::mt19937 rng(static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count()));
  Version acked = 0;
  constexpr int kRounds = 24;
  for (int round = 0; round < kRounds; ++round) {
    test::ChildProcess writer;
    REQUIRE(writer.Start(VERITY_CRASH_WRITER, {dir.path()}));
    FILE* out = writer.output();
    char line[128];
    REQUIRE(std::fgets(line, sizeof(line), out) != nullptr);  // READY
    REQUIRE(std::string(line).rfind("READY", 0) == 0);
    // Let it write for a random while (sometimes not at all), then kill it
    // while a reader thread keeps draining its acknowledgements.
    std::thread reader([&] {
      while (std::fgets(line, sizeof(line), out) != nullptr) {
        unsigned long long v;
        if (std::sscanf(line, "ACK %llu", &v) == 1) acked = v;
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 400));
    writer.Kill();
    const int status = writer.Wait().value_or(0);
    reader.join();
    writer.CloseOutput();
    REQUIRE(WIFSIGNALED(status));

    auto db = Database::Open(dir.path(), test::QuietOptions());
    REQUIRE(db.ok());
    auto info = (*db)->GetCollection("crash");
    REQUIRE(info.ok());
    const Version head = info->head_version;
    INFO("round " << round << ": acknowledged " << acked << ", head after restart " << head);
    REQUIRE(head >= acked);       // nothing acknowledged was lost
    REQUIRE(head <= acked + 1);   // at most the one batch in flight survived
    const auto expected = Expected(head);
    REQUIRE(*(*db)->Count("crash") == expected.size());
    ScrollRequest sr;
    sr.limit = 10000;
    auto page = (*db)->Scroll("crash", sr);
    REQUIRE(page.ok());
    REQUIRE(page->records.size() == expected.size());
    for (const auto& stored : page->records) {
      auto it = expected.find(stored.record.id);
      REQUIRE(it != expected.end());
      REQUIRE(stored.record.vector == it->second.vector);
      REQUIRE(stored.record.text == it->second.text);
    }
    // Graph and rows agree: each probed record finds itself, and no search
    // returns a deleted id.
    int probes = 0;
    for (const auto& [id, record] : expected) {
      if (probes++ % 10 != 0) continue;
      SearchRequest request;
      request.vector = record.vector;
      request.k = 3;
      auto r = (*db)->Search("crash", request);
      REQUIRE(r.ok());
      REQUIRE_FALSE(r->hits.empty());
      REQUIRE(r->hits[0].distance == 0.0f);
      for (const auto& hit : r->hits) REQUIRE(expected.count(hit.id) == 1);
    }
    // The text index and the rows agree: every record's own key term finds
    // it, and the term all records share finds exactly the live ones.
    probes = 0;
    for (const auto& [id, record] : expected) {
      if (probes++ % 10 != 0) continue;
      SearchRequest request;
      request.text = id;
      request.k = 3;
      auto r = (*db)->Search("crash", request);
      REQUIRE(r.ok());
      REQUIRE(r->hits.size() == 1);
      REQUIRE(r->hits[0].id == id);
      REQUIRE(r->hits[0].record->text == record.text);
    }
    SearchRequest every;
    every.text = "batch";
    every.k = 10000;
    every.with_payload = false;
    auto all = (*db)->Search("crash", every);
    REQUIRE(all.ok());
    REQUIRE(all->hits.size() == expected.size());
    for (const auto& hit : all->hits) REQUIRE(expected.count(hit.id) == 1);
    acked = head;
  }
  INFO("final version " << acked);
  REQUIRE(acked > 0);
}
