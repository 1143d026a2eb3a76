// Child process of the kill-point test: runs one long operation on DIR and
// exits 0; the test arms a kill point (VERITY_KILL_POINT) so that the engine
// SIGKILLs this process in the middle of it.
//   verity_kill_child DIR restore VERSION
//   verity_kill_child DIR export VERSION PATH
//   verity_kill_child DIR import PATH NAME
//   verity_kill_child DIR gc            (deletes snapshot "good" first)
//   verity_kill_child DIR retrieve-loop (retrieves from "kb" until killed,
//                                        printing "ACK <retrieval id>" for each)
//   verity_kill_child DIR wal-writes    (a small memtable budget; creates "c",
//                                        dimension 32, upserts 3,000 records
//                                        in batches of 100 and exits without
//                                        closing: the writes since the last
//                                        flush of each family are only in
//                                        the write-ahead log)
#include <cstdio>
#include <cstdlib>
#include <string>

#include "verity/database.h"

using namespace verity;

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  DatabaseOptions options;
  options.gc_interval_seconds = 0;
  options.log = [](LogLevel, const std::string&) {};
  const std::string op = argv[2];
  if (op == "wal-writes") options.memtable_budget_bytes = 128 << 10;
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
