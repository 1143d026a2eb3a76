// Child process of the crash test: opens DIR, continues the deterministic
// workload from the collection's head, and prints "ACK <version>" after each
// batch the engine acknowledged. Runs until killed (or MAX_BATCHES done).
//
// With POWER_CUT_MS (the disk-fault test), RocksDB runs on a FaultFs: after
// that many milliseconds the "power goes": nothing more reaches the disk,
// every file is cut back to what was synced, and the process exits at once
// ("CUT <bytes dropped>"). In that mode each batch is followed by a
// retrieval ("RTV <retrieval id>" once it is acknowledged).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "engine/crash_batches.h"
#include "engine/fault_fs.h"
#include "verity/database.h"

using namespace verity;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: verity_crash_writer DIR [MAX_BATCHES [POWER_CUT_MS]]\n");
    return 2;
  }
  const long max_batches = argc > 2 ? std::atol(argv[2]) : 1000000;
  const long power_cut_ms = argc > 3 ? std::atol(argv[3]) : -1;
  DatabaseOptions options;
  options.log = [](LogLevel, const std::string&) {};
  std::shared_ptr<test::FaultFs> fault_fs;
  if (power_cut_ms >= 0) {
    auto [fs, env] = test::FaultFs::Make();
    fault_fs = fs;
    options.env = env;
    std::thread([fs = fs, power_cut_ms] {
      std::this_thread::sleep_for(std::chrono::milliseconds(power_cut_ms));
      fs->SetActive(false);
      // Calls already past their last write finish (or fail) meanwhile.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      const uint64_t dropped = fs->DropUnsyncedData();
      std::printf("CUT %llu\n", static_cast<unsigned long long>(dropped));
      std::fflush(stdout);
      _exit(0);
    }).detach();
  }
  auto db = Database::Open(argv[1], options);
  if (!db.ok()) {
    std::fprintf(stderr, "open: %s\n", db.status().ToString().c_str());
    while (fault_fs) std::this_thread::sleep_for(std::chrono::seconds(1));  // cut during the open
    return 1;
  }
  auto info = (*db)->GetCollection("crash");
  if (!info.ok()) {
    CollectionConfig config;
    config.name = "crash";
    config.dimension = test::kCrashDim;
    config.m = 8;
    config.ef_construction = 64;
    config.text_index.enabled = true;  // text-indexed writes: the index must survive the kill too
    info = (*db)->CreateCollection(config);
    if (!info.ok()) {
      std::fprintf(stderr, "create: %s\n", info.status().ToString().c_str());
      while (fault_fs) std::this_thread::sleep_for(std::chrono::seconds(1));
      return 1;
    }
  }
  std::printf("READY %llu\n", static_cast<unsigned long long>(info->head_version));
  std::fflush(stdout);
  for (long i = 0; i < max_batches; ++i) {
    const Version next = info->head_version + 1 + static_cast<Version>(i);
    test::CrashBatch batch = test::MakeCrashBatch(next);
    Result<WriteResult> w = batch.is_delete ? (*db)->Delete("crash", batch.deletes)
                                            : (*db)->Upsert("crash", batch.upserts);
    if (!w.ok() || w->version != next) {
      // After a power cut writes fail: wait for the cut to end the process.
      while (fault_fs) std::this_thread::sleep_for(std::chrono::seconds(1));
      std::fprintf(stderr, "write %llu: %s\n", static_cast<unsigned long long>(next), w.status().ToString().c_str());
      return 1;
    }
    std::printf("ACK %llu\n", static_cast<unsigned long long>(w->version));
    std::fflush(stdout);
    if (fault_fs) {
      RetrieveRequest retrieve;
      retrieve.collection = "crash";
      retrieve.vector.assign(test::kCrashDim, static_cast<float>(i % 100));
      retrieve.k = 3;
      auto r = (*db)->Retrieve(retrieve);
      if (r.ok()) {
        std::printf("RTV %s\n", r->retrieval_id.c_str());
        std::fflush(stdout);
      }
    }
  }
  while (fault_fs) std::this_thread::sleep_for(std::chrono::seconds(1));  // the cut ends the process
  return (*db)->Close().ok() ? 0 : 1;
}
