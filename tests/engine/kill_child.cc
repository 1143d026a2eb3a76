// Child process of the kill-point test: runs one long operation on DIR and
// exits 0; the test arms a kill point (VERITY_KILL_POINT) so that the engine
// SIGKILLs this process in the middle of it.
//   verity_kill_child DIR restore VERSION
//   verity_kill_child DIR export VERSION PATH
//   verity_kill_child DIR import PATH NAME
//   verity_kill_child DIR gc            (deletes snapshot "good" first)
//   verity_kill_child DIR retrieve-loop (retrieves from "kb" until killed,
//                                        printing "ACK <retrieval id>" for each)
//   verity_kill_child DIR wal-writes    (creates "c", dimension 32, upserts
//                                        3,000 records (about 650 KB) in
//                                        batches of 100 and exits without
//                                        closing; a 64 MiB memtable budget, so
//                                        nothing is flushed and every write
//                                        is only in the one write-ahead log)
//   verity_kill_child DIR checkpoint-crash N NODES
//       upserts N records (dimension 8) into "c" with background graph
//       checkpoints every NODES unsaved nodes (0: none), waits until fewer
//       than NODES are unsaved, prints "UNSAVED <n>" and SIGKILLs itself
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "verity/database.h"

using namespace verity;

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  DatabaseOptions options;
  options.gc_interval_seconds = 0;
  options.log = [](LogLevel, const std::string&) {};
  const std::string op = argv[2];
  if (op == "wal-writes") options.memtable_budget_bytes = 64 << 20;
  const bool checkpoint_crash = op == "checkpoint-crash" && argc == 5;
  if (checkpoint_crash) {
    options.graph_checkpoint_nodes = std::strtoull(argv[4], nullptr, 10);
    options.graph_checkpoint_fraction = 0;
    options.graph_checkpoint_seconds = 0;
  }
  auto db = Database::Open(argv[1], options);
  if (!db.ok()) {
    std::fprintf(stderr, "open: %s\n", db.status().ToString().c_str());
    return 1;
  }
  Status s;
  if (op == "restore" && argc == 4) {
    s = (*db)->Restore("c", std::strtoull(argv[3], nullptr, 10)).status();
  } else if (op == "export" && argc == 5) {
    s = (*db)->Export("c", std::strtoull(argv[3], nullptr, 10), argv[4]).status();
  } else if (op == "import" && argc == 5) {
    s = (*db)->Import(argv[3], argv[4]).status();
  } else if (op == "retrieve-loop" && argc == 3) {
    for (unsigned i = 0;; ++i) {
      RetrieveRequest r;
      r.collection = "kb";
      r.vector.assign(8, static_cast<float>(i % 97));
      r.query_text = "question " + std::to_string(i);
      auto got = (*db)->Retrieve(r);
      if (!got.ok()) {
        std::fprintf(stderr, "retrieve: %s\n", got.status().ToString().c_str());
        return 1;
      }
      std::printf("ACK %s\n", got->retrieval_id.c_str());
      std::fflush(stdout);
    }
  } else if (checkpoint_crash) {
    const size_t n = std::strtoull(argv[3], nullptr, 10);
    const uint64_t nodes = options.graph_checkpoint_nodes;
    CollectionConfig config;
    config.name = "c";
    config.dimension = 8;
    s = (*db)->CreateCollection(config).status();
    for (size_t from = 0; s.ok() && from < n; from += 100) {
      std::vector<Record> batch;
      for (size_t i = from; i < std::min(n, from + 100); ++i) {
        Record r;
        r.id = "r" + std::to_string(i);
        for (int d = 0; d < 8; ++d) r.vector.push_back(static_cast<float>((i * 31 + d * 7) % 101));
        batch.push_back(std::move(r));
      }
      s = (*db)->Upsert("c", batch).status();
    }
    uint64_t unsaved = 0;
    for (int tries = 0; s.ok() && tries < 600; ++tries) {  // up to 60 s for the checkpointer
      auto info = (*db)->GetCollection("c");
      if (!info.ok()) {
        s = info.status();
        break;
      }
      unsaved = info->unsaved_graph_nodes;
      if (nodes == 0 || unsaved < nodes) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (s.ok()) {
      std::printf("UNSAVED %llu\n", static_cast<unsigned long long>(unsaved));
      std::fflush(stdout);
      kill(getpid(), SIGKILL);  // a crash: nothing saved at close
    }
  } else if (op == "wal-writes" && argc == 3) {
    CollectionConfig config;
    config.name = "c";
    config.dimension = 32;
    s = (*db)->CreateCollection(config).status();
    for (unsigned batch = 0; batch < 30 && s.ok(); ++batch) {
      std::vector<Record> records(100);
      for (unsigned i = 0; i < 100; ++i) {
        const unsigned n = batch * 100 + i;
        records[i].id = "r" + std::to_string(n);
        records[i].text = "record " + std::to_string(n);
        records[i].vector.resize(32);
        for (unsigned d = 0; d < 32; ++d) records[i].vector[d] = static_cast<float>((n * 31 + d * 7) % 101);
      }
      s = (*db)->Upsert("c", std::move(records)).status();
    }
    if (s.ok()) {
      std::fflush(stdout);
      std::_Exit(0);  // as a crash: no close, no flush
    }
  } else if (op == "gc" && argc == 3) {
    s = (*db)->DeleteSnapshot("c", "good");
    if (s.ok()) s = (*db)->Gc("c").status();
  } else {
    return 2;
  }
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", op.c_str(), s.ToString().c_str());
    return 1;
  }
  return (*db)->Close().ok() ? 0 : 1;
}
