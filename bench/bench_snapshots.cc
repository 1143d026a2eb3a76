// verity_bench_snapshots: the costs of issue #4's operations on real data
// (Fashion-MNIST-784, 60,000 records with text and metadata), one JSON
// object per line:
//   - snapshot create time at 1,000 and 60,000 records (should be flat);
//   - restore time for 60,000 records (every record rewritten by a "bad
//     ingest", then restored), and for 1,000 changed records out of 60,000;
//   - export and import throughput (MB/s; import includes verification and
//     building the graph);
//   - storage of the collection before and after GC.
//   verity_bench_snapshots [--dir DIR]   (default: a fresh directory under /tmp)
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "fashion_mnist.h"
#include "verity/database.h"

namespace verity::bench {
namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

std::vector<Record> Records(const ImageSet& images, size_t begin, size_t end, const std::string& text, float shift) {
  std::vector<Record> out;
  for (size_t i = begin; i < end; ++i) {
    Record r;
    r.id = "img" + std::to_string(i);
    r.vector.assign(images.row(i), images.row(i) + images.dim);
    for (auto& x : r.vector) x += shift;
    r.text = text + " " + std::to_string(i);
    r.metadata["part"] = static_cast<int64_t>(i % 10);
    out.push_back(std::move(r));
  }
  return out;
}

Status Load(Database& db, const std::string& name, const ImageSet& images, size_t n, const std::string& text,
            float shift) {
  for (size_t start = 0; start < n; start += 5000) {
    VERITY_RETURN_IF_ERROR(db.Upsert(name, Records(images, start, std::min(n, start + 5000), text, shift)).status());
  }
  return Status::Ok();
}

// Median time of `runs` snapshot creations, in microseconds.
Result<double> SnapshotCreateUs(Database& db, const std::string& name, int runs) {
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    const auto t = Clock::now();
    VERITY_RETURN_IF_ERROR(db.CreateSnapshot(name, "bench" + std::to_string(i), "").status());
    times.push_back(Seconds(t) * 1e6);
  }
  for (int i = 0; i < runs; ++i) VERITY_RETURN_IF_ERROR(db.DeleteSnapshot(name, "bench" + std::to_string(i)));
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

uint64_t DirectoryBytes(const std::string& path) {
  uint64_t total = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(path)) {
    if (e.is_regular_file()) total += e.file_size();
  }
  return total;
}

Status Run(const std::string& dir) {
  VERITY_ASSIGN_OR_RETURN(ImageSet images, LoadFashionMnistBase());
  DatabaseOptions options;
  options.gc_interval_seconds = 0;
  options.log = [](LogLevel, const std::string&) {};
  VERITY_ASSIGN_OR_RETURN(auto db, Database::Open(dir + "/db", options));
  CollectionConfig config;
  config.dimension = static_cast<uint32_t>(images.dim);
  config.retention = RetentionPolicy{1, 0};

  // Snapshot create at 1k and 60k records.
  for (size_t n : {size_t{1000}, size_t{60000}}) {
    config.name = "fm" + std::to_string(n);
    VERITY_RETURN_IF_ERROR(db->CreateCollection(config).status());
    const auto t = Clock::now();
    VERITY_RETURN_IF_ERROR(Load(*db, config.name, images, n, "original", 0));
    std::fprintf(stderr, "loaded %zu records in %.1f s\n", n, Seconds(t));
    VERITY_ASSIGN_OR_RETURN(double us, SnapshotCreateUs(*db, config.name, 101));
    std::printf("{\"bench\": \"snapshot_create\", \"records\": %zu, \"median_us\": %.1f}\n", n, us);
    std::fflush(stdout);
  }
  const std::string big = "fm60000";

  // Restore: 1,000 records changed, then all 60,000.
  VERITY_ASSIGN_OR_RETURN(auto good, db->CreateSnapshot(big, "good", ""));
  VERITY_RETURN_IF_ERROR(db->Upsert(big, Records(images, 0, 1000, "bad", 1.0f)).status());
  auto t = Clock::now();
  VERITY_ASSIGN_OR_RETURN(auto small_restore, db->Restore(big, good.version));
  std::printf("{\"bench\": \"restore\", \"records\": 60000, \"changed\": %u, \"seconds\": %.2f}\n",
              small_restore.upserted + small_restore.deleted, Seconds(t));
  std::fflush(stdout);
  VERITY_RETURN_IF_ERROR(Load(*db, big, images, 60000, "bad", 1.0f));
  t = Clock::now();
  VERITY_ASSIGN_OR_RETURN(auto full_restore, db->Restore(big, good.version));
  std::printf("{\"bench\": \"restore\", \"records\": 60000, \"changed\": %u, \"seconds\": %.2f}\n",
              full_restore.upserted + full_restore.deleted, Seconds(t));
  std::fflush(stdout);

  // Export and import.
  t = Clock::now();
  VERITY_ASSIGN_OR_RETURN(auto exported, db->Export(big, good.version, dir + "/export"));
  const double export_s = Seconds(t);
  const double mb = static_cast<double>(exported.bytes) / 1e6;
  std::printf("{\"bench\": \"export\", \"records\": 60000, \"mb\": %.1f, \"seconds\": %.2f, \"mb_per_s\": %.1f}\n", mb,
              export_s, mb / export_s);
  std::fflush(stdout);
  t = Clock::now();
  VERITY_RETURN_IF_ERROR(db->Import(dir + "/export", "imported").status());
  const double import_s = Seconds(t);
  std::printf("{\"bench\": \"import\", \"records\": 60000, \"mb\": %.1f, \"seconds\": %.2f, \"mb_per_s\": %.1f, "
              "\"note\": \"includes verification and the graph build\"}\n",
              mb, import_s, mb / import_s);
  std::fflush(stdout);

  // GC: the history of fm60000 is three full copies; keep only the head.
  VERITY_RETURN_IF_ERROR(db->DeleteSnapshot(big, "good"));
  VERITY_RETURN_IF_ERROR(db->PersistGraphs());
  const uint64_t dir_before = DirectoryBytes(dir + "/db");
  t = Clock::now();
  VERITY_ASSIGN_OR_RETURN(auto gc, db->Gc(big));
  const double gc_s = Seconds(t);
  const uint64_t dir_after = DirectoryBytes(dir + "/db");
  std::printf("{\"bench\": \"gc\", \"rows_removed\": %llu, \"nodes_dropped\": %llu, \"graph_rebuilt\": %s, "
              "\"collection_bytes_before\": %llu, \"collection_bytes_after\": %llu, \"data_dir_bytes_before\": %llu, "
              "\"data_dir_bytes_after\": %llu, \"seconds\": %.2f}\n",
              static_cast<unsigned long long>(gc.rows_removed), static_cast<unsigned long long>(gc.nodes_dropped),
              gc.graph_rebuilt ? "true" : "false", static_cast<unsigned long long>(gc.bytes_before),
              static_cast<unsigned long long>(gc.bytes_after), static_cast<unsigned long long>(dir_before),
              static_cast<unsigned long long>(dir_after), gc_s);
  std::fflush(stdout);
  return db->Close();
}

}  // namespace
}  // namespace verity::bench

int main(int argc, char** argv) {
  std::string dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--dir") dir = argv[i + 1];
  }
  const bool temporary = dir.empty();
  if (temporary) dir = "/tmp/verity-bench-snapshots-" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  verity::Status s = verity::bench::Run(dir);
  if (temporary) std::filesystem::remove_all(dir);
  if (!s.ok()) {
    std::fprintf(stderr, "verity_bench_snapshots: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
