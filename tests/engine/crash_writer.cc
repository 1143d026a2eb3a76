// Child process of the crash test: opens DIR, continues the deterministic
// workload from the collection's head, and prints "ACK <version>" after each
// batch the engine acknowledged. Runs until killed (or --batches N done).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "engine/crash_batches.h"
#include "verity/database.h"

using namespace verity;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: verity_crash_writer DIR [MAX_BATCHES]\n");
    return 2;
  }
  const long max_batches = argc > 2 ? std::atol(argv[2]) : 1000000;
  DatabaseOptions options;
  options.log = [](LogLevel, const std::string&) {};
  auto db = Database::Open(argv[1], options);
  if (!db.ok()) {
    std::fprintf(stderr, "open: %s\n", db.status().ToString().c_str());
    return 1;
  }
  auto info = (*db)->GetCollection("crash");
  if (!info.ok()) {
    CollectionConfig config;
    config.name = "crash";
    config.dimension = test::kCrashDim;
    config.m = 8;
    config.ef_construction = 64;
    info = (*db)->CreateCollection(config);
    if (!info.ok()) {
      std::fprintf(stderr, "create: %s\n", info.status().ToString().c_str());
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
      std::fprintf(stderr, "write %llu: %s\n", static_cast<unsigned long long>(next), w.status().ToString().c_str());
      return 1;
    }
    std::printf("ACK %llu\n", static_cast<unsigned long long>(w->version));
    std::fflush(stdout);
  }
  return (*db)->Close().ok() ? 0 : 1;
}
