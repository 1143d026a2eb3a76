// verity_bench_retrieval: what the retrieval log costs. On Fashion-MNIST
// (the first 20,000 training images, text = class name, k = 10, ef = 64),
// in one process:
//   - plain Search (with payload) vs Retrieve (search + a durable,
//     hash-chained log record, group-committed) at 1 and 8 threads,
//     alternating half-second windows of each, with the process's CPU
//     time, busy share and context switches per call;
//   - log size per retrieval (data directory growth, after a flush);
//   - audit throughput (answers scored per second), when the scorer exists.
// One JSON object per line.
//   verity_bench_retrieval [--seconds 5] [--dir DIR] [--only search|retrieve [--threads 8]]
//   verity_bench_retrieval --only log-reads [--records 20000]: time-range
//     reads (ListLog with since) and VerifyLog on a log of that many records.
//   verity_bench_retrieval --only write-mix [--threads 8] [--seconds 5]:
//     upserts and retrievals at once, then GC; RSS and graph nodes before
//     and after, and the disk a row kept for the log's pins takes.
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "fashion_mnist.h"
#include "verity/database.h"

namespace verity::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kClasses[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

// CPU time of the whole process (every thread, user + system), seconds,
// and its context switches (voluntary and involuntary).
struct ProcessUsage {
  double cpu_seconds = 0;
  double switches = 0;
};
ProcessUsage Usage() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return {static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
              static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6,
          static_cast<double>(u.ru_nvcsw + u.ru_nivcsw)};
}

// Calls per second, and the process's CPU time per call: a gap between two
// workloads' QPS is CPU the slower one spends (cpu_us) or time its threads
// wait with a CPU idle (busy below 1).
struct Rate {
  double qps = 0;
  double cpu_us = 0;  // process CPU microseconds per completed call
  double busy = 0;    // CPU time / (wall time x online CPUs)
  double switches = 0;  // process context switches per completed call
};

template <typename Fn>
Rate Throughput(int threads, double seconds, Fn one) {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> done{0};
  std::vector<std::thread> pool;
  const ProcessUsage usage_start = Usage();
  const auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (size_t i = static_cast<size_t>(t); !stop.load(std::memory_order_relaxed); i += static_cast<size_t>(threads)) {
        if (one(i)) done.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& th : pool) th.join();
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  const ProcessUsage usage_end = Usage();
  const double cpu = usage_end.cpu_seconds - usage_start.cpu_seconds;
  const double calls = static_cast<double>(std::max<uint64_t>(done.load(), 1));
  const double cpus = static_cast<double>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
  return {static_cast<double>(done.load()) / wall, cpu / calls * 1e6, cpu / (wall * cpus),
          (usage_end.switches - usage_start.switches) / calls};
}

uint64_t DirectoryBytes(const std::string& path) {
  uint64_t total = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(path)) {
    if (e.is_regular_file()) total += e.file_size();
  }
  return total;
}

double MicrosSince(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

// --only log-reads: appends `records` retrievals (8 threads), reopens the
// database (records in table files, as in a long-running log), then times
// a page of 10 records starting at a time (`since`) spread over the log,
// the same page from the start (no `since`: what the search for the
// range's first record adds), and a full VerifyLog.
Status LogReads(std::unique_ptr<Database>& db, size_t records, const std::function<bool(size_t)>& retrieve,
                const std::function<Status()>& reopen) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&] {
      for (size_t i = next++; i < records && !failed; i = next++) {
        if (!retrieve(i)) failed = true;
      }
    });
  }
  for (auto& w : writers) w.join();
  if (failed) return Status::Internal("retrieve failed");
  VERITY_RETURN_IF_ERROR(reopen());
  Database& log = *db;
  VERITY_ASSIGN_OR_RETURN(LogStats stats, log.GetLogStats());
  LogQuery first_query;
  first_query.limit = 1;
  VERITY_ASSIGN_OR_RETURN(LogPage first, log.ListLog(first_query));
  first_query.start_after = stats.last_seq - 1;
  VERITY_ASSIGN_OR_RETURN(LogPage last, log.ListLog(first_query));
  if (first.records.empty() || last.records.empty()) return Status::Internal("empty log");
  const int64_t t0 = first.records[0].time_us, t1 = last.records[0].time_us;
  constexpr int kQueries = 500;
  auto page_at = [&](int64_t since_us, double* micros) -> Status {
    LogQuery q;
    q.since_us = since_us;
    q.limit = 10;
    const auto start = Clock::now();
    VERITY_ASSIGN_OR_RETURN(LogPage page, log.ListLog(q));
    *micros += MicrosSince(start);
    if (since_us > 0 && !page.records.empty() && page.records[0].time_us < since_us) {
      return Status::Internal("a page starts before its since");
    }
    return Status::Ok();
  };
  double since_us_total = 0, start_us_total = 0;
  for (int round = 0; round < 2; ++round) {  // the first round warms the block cache
    since_us_total = start_us_total = 0;
    for (int i = 0; i < kQueries; ++i) {
      const int64_t since = t0 + (t1 - t0) * (2 * i + 1) / (2 * kQueries);
      VERITY_RETURN_IF_ERROR(page_at(since, &since_us_total));
      VERITY_RETURN_IF_ERROR(page_at(0, &start_us_total));
    }
  }
  const auto verify_start = Clock::now();
  VERITY_ASSIGN_OR_RETURN(LogVerifyResult verified, log.VerifyLog());
  const double verify_s = MicrosSince(verify_start) / 1e6;
  if (!verified.ok) return Status::Internal("verify: " + verified.problem);
  std::printf("{\"bench\": \"log_reads\", \"records\": %llu, \"page_since_us\": %.1f, \"page_from_start_us\": %.1f, "
              "\"verify_s\": %.3f, \"verify_records_per_s\": %.0f}\n",
              static_cast<unsigned long long>(stats.records), since_us_total / kQueries, start_us_total / kQueries,
              verify_s, static_cast<double>(verified.records) / verify_s);
  std::fflush(stdout);
  return Status::Ok();
}

// Resident set size of this process, MB.
double RssMb() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE)) / 1e6;
}

// --only write-mix: `threads` clients for `seconds`, each repeating one
// upsert of 10 records (existing ids, another image's vector) and three
// retrievals (each pins the version it read, for the log's retention).
// Then, as an operator would, retention to keep_versions=1,
// keep_seconds=0 and a GC: RSS and graph nodes before and after. Last, the
// disk cost of the rows kept for log pins: the log's records are expired
// (a reopen with log_retention_seconds=1, GcLog), a second GC removes those
// rows, and the size they took over their count is the bytes per row.
Status WriteMix(std::unique_ptr<Database>& db, const std::string& dir, DatabaseOptions options, int threads,
                double seconds, const ImageSet& images, const std::function<bool(size_t)>& retrieve) {
  std::printf("{\"bench\": \"write_mix\", \"phase\": \"loaded\", \"rss_mb\": %.1f}\n", RssMb());
  std::atomic<bool> stop{false}, failed{false};
  std::atomic<uint64_t> writes{0}, retrievals{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < threads; ++t) {
    clients.emplace_back([&, t] {
      uint64_t x = 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(t + 1);
      auto next = [&x] {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x;
      };
      while (!stop && !failed) {
        std::vector<Record> batch;
        const size_t base = next() % images.n;
        for (int i = 0; i < 10; ++i) {
          Record r;
          // Ten consecutive ids from a random start: no duplicate in a batch.
          const size_t id = (base + static_cast<size_t>(i)) % images.n, from = next() % images.n;
          r.id = std::to_string(id);
          r.vector.assign(images.row(from), images.row(from) + images.dim);
          r.text = "record " + r.id + " rewritten";
          batch.push_back(std::move(r));
        }
        auto w = db->Upsert("fm", std::move(batch));
        if (!w.ok()) {
          std::fprintf(stderr, "upsert: %s\n", w.status().ToString().c_str());
          failed = true;
        }
        ++writes;
        for (int i = 0; i < 3 && !failed; ++i) {
          if (!retrieve(next())) failed = true;
          ++retrievals;
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& c : clients) c.join();
  if (failed) return Status::Internal("write or retrieve failed");
  auto print = [&](const char* phase, const CollectionInfo& info) {
    std::printf("{\"bench\": \"write_mix\", \"phase\": \"%s\", \"rss_mb\": %.1f, \"graph_nodes\": %llu, "
                "\"live_records\": %llu, \"log_only_rows\": %llu, \"readable_versions\": %llu}\n",
                phase, RssMb(), static_cast<unsigned long long>(info.graph_nodes),
                static_cast<unsigned long long>(info.live_records),
                static_cast<unsigned long long>(info.log_only_rows),
                static_cast<unsigned long long>(info.retained_versions));
    std::fflush(stdout);
  };
  std::printf("{\"bench\": \"write_mix\", \"threads\": %d, \"seconds\": %.0f, \"upserts\": %llu, "
              "\"retrievals\": %llu}\n",
              threads, seconds, static_cast<unsigned long long>(writes.load()),
              static_cast<unsigned long long>(retrievals.load()));
  VERITY_ASSIGN_OR_RETURN(CollectionInfo info, db->GetCollection("fm"));
  print("after the mix", info);
  VERITY_RETURN_IF_ERROR(db->SetRetention("fm", RetentionPolicy{1, 0}));
  VERITY_ASSIGN_OR_RETURN(GcResult gc, db->Gc("fm"));
  VERITY_ASSIGN_OR_RETURN(info, db->GetCollection("fm"));
  print("after GC (keep_versions=1, keep_seconds=0)", info);
  malloc_trim(0);
  print("after GC and malloc_trim", info);
  std::printf("{\"bench\": \"write_mix_gc\", \"rows_removed\": %llu, \"nodes_dropped\": %llu, "
              "\"log_only_rows\": %llu, \"graph_rebuilt\": %s}\n",
              static_cast<unsigned long long>(gc.rows_removed), static_cast<unsigned long long>(gc.nodes_dropped),
              static_cast<unsigned long long>(gc.log_only_rows), gc.graph_rebuilt ? "true" : "false");
  // The disk the log-only rows take: expire the log, GC again.
  const uint64_t kept = gc.log_only_rows;
  const uint64_t bytes_kept = gc.bytes_after;
  VERITY_RETURN_IF_ERROR(db->Close());
  db.reset();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  options.log_retention_seconds = 1;
  VERITY_ASSIGN_OR_RETURN(db, Database::Open(dir, options));
  VERITY_ASSIGN_OR_RETURN(info, db->GetCollection("fm"));
  print("reopened", info);
  VERITY_ASSIGN_OR_RETURN(uint64_t expired, db->GcLog());
  VERITY_ASSIGN_OR_RETURN(GcResult gc2, db->Gc("fm"));
  std::printf("{\"bench\": \"write_mix_disk\", \"log_records_expired\": %llu, \"log_only_rows\": %llu, "
              "\"rows_removed\": %llu, \"collection_bytes_with\": %llu, \"collection_bytes_without\": %llu, "
              "\"bytes_per_log_only_row\": %.0f, \"dimension\": %zu}\n",
              static_cast<unsigned long long>(expired), static_cast<unsigned long long>(kept),
              static_cast<unsigned long long>(gc2.rows_removed), static_cast<unsigned long long>(bytes_kept),
              static_cast<unsigned long long>(gc2.bytes_after),
              gc2.rows_removed > 0 ? static_cast<double>(bytes_kept - std::min(bytes_kept, gc2.bytes_after)) /
                                         static_cast<double>(gc2.rows_removed)
                                   : 0.0,
              images.dim);
  std::fflush(stdout);
  return Status::Ok();
}

// `only` = "search" or "retrieve": run just that at `threads` for
// `seconds` and print its rate (for a profiler: perf record -p PID);
// "log-reads": LogReads.
Status Run(const std::string& dir, double seconds, const std::string& only, int only_threads, size_t records) {
  VERITY_ASSIGN_OR_RETURN(ImageSet images, LoadFashionMnistBase(kFashionMnistDir, 20000));
  VERITY_ASSIGN_OR_RETURN(std::vector<uint8_t> labels, LoadFashionMnistTrainLabels(kFashionMnistDir, 20000));
  VERITY_ASSIGN_OR_RETURN(ImageSet queries, LoadFashionMnistQueries(kFashionMnistDir, 1000));
  DatabaseOptions options;
  options.gc_interval_seconds = 0;
  options.log = [](LogLevel, const std::string&) {};
  auto opened = Database::Open(dir, options);
  if (!opened.ok()) return opened.status();
  std::unique_ptr<Database> db = std::move(opened).value();
  CollectionConfig config;
  config.name = "fm";
  config.dimension = static_cast<uint32_t>(images.dim);
  VERITY_RETURN_IF_ERROR(db->CreateCollection(config).status());
  for (size_t start = 0; start < images.n; start += 5000) {
    std::vector<Record> batch;
    for (size_t i = start; i < std::min(images.n, start + 5000); ++i) {
      Record r;
      r.id = std::to_string(i);
      r.vector.assign(images.row(i), images.row(i) + images.dim);
      r.text = std::string("A photo of a ") + kClasses[labels[i]] + ", image " + std::to_string(i) +
               " of the Fashion-MNIST training set.";
      r.metadata["class"] = std::string(kClasses[labels[i]]);
      batch.push_back(std::move(r));
    }
    VERITY_RETURN_IF_ERROR(db->Upsert("fm", std::move(batch)).status());
  }
  auto search = [&](size_t i) {
    SearchRequest r;
    r.vector.assign(queries.row(i % queries.n), queries.row(i % queries.n) + queries.dim);
    r.k = 10;
    return db->Search("fm", r).ok();
  };
  auto retrieve = [&](size_t i) {
    RetrieveRequest r;
    r.collection = "fm";
    r.vector.assign(queries.row(i % queries.n), queries.row(i % queries.n) + queries.dim);
    r.k = 10;
    r.query_text = "which garment is this? query " + std::to_string(i % queries.n);
    auto got = db->Retrieve(r);
    if (!got.ok()) std::fprintf(stderr, "retrieve: %s\n", got.status().ToString().c_str());
    return got.ok();
  };
  if (only == "log-reads") {
    auto reopen = [&]() -> Status {
      VERITY_RETURN_IF_ERROR(db->Close());
      db.reset();
      VERITY_ASSIGN_OR_RETURN(db, Database::Open(dir, options));
      return Status::Ok();
    };
    VERITY_RETURN_IF_ERROR(LogReads(db, records, retrieve, reopen));
    return db->Close();
  }
  if (only == "write-mix") {
    VERITY_RETURN_IF_ERROR(WriteMix(db, dir, options, only_threads, seconds, images, retrieve));
    return db->Close();
  }
  if (!only.empty()) {
    if (only != "search" && only != "retrieve") {
      return Status::InvalidArgument("--only: search, retrieve, log-reads or write-mix");
    }
    const Rate rate =
        only == "search" ? Throughput(only_threads, seconds, search) : Throughput(only_threads, seconds, retrieve);
    std::printf(
        "{\"bench\": \"%s_only\", \"threads\": %d, \"qps\": %.1f, \"cpu_us\": %.1f, \"busy\": %.2f, "
        "\"switches_per_call\": %.2f}\n",
        only.c_str(), only_threads, rate.qps, rate.cpu_us, rate.busy, rate.switches);
    return db->Close();
  }
  // Search and retrieve alternate in windows of half a second, so that a
  // change in the machine's speed (a shared VM) affects both alike.
  for (int threads : {1, 8}) {
    Rate s, r;
    const int windows = std::max(1, static_cast<int>(seconds * 2));
    auto add = [windows](Rate* sum, const Rate& one) {
      sum->qps += one.qps / windows;
      sum->cpu_us += one.cpu_us / windows;
      sum->busy += one.busy / windows;
      sum->switches += one.switches / windows;
    };
    for (int w = 0; w < windows; ++w) {
      add(&s, Throughput(threads, 0.5, search));
      add(&r, Throughput(threads, 0.5, retrieve));
    }
    std::printf(
        "{\"bench\": \"retrieve_vs_search\", \"threads\": %d, \"search_qps\": %.1f, \"retrieve_qps\": %.1f, "
        "\"logging_cost\": %.3f, \"search_cpu_us\": %.1f, \"retrieve_cpu_us\": %.1f, "
        "\"search_busy\": %.2f, \"retrieve_busy\": %.2f, \"search_switches_per_call\": %.2f, "
        "\"retrieve_switches_per_call\": %.2f}\n",
        threads, s.qps, r.qps, 1.0 - r.qps / s.qps, s.cpu_us, r.cpu_us, s.busy, r.busy, s.switches, r.switches);
    std::fflush(stdout);
  }
  // Log size per retrieval: data directory growth over N retrieves, after a flush.
  VERITY_RETURN_IF_ERROR(db->Close());
  const uint64_t before = DirectoryBytes(dir);
  VERITY_ASSIGN_OR_RETURN(db, Database::Open(dir, options));
  constexpr size_t kN = 2000;
  for (size_t i = 0; i < kN; ++i) {
    if (!retrieve(i)) return Status::Internal("retrieve failed");
  }
  VERITY_RETURN_IF_ERROR(db->Close());
  const uint64_t after = DirectoryBytes(dir);
  VERITY_ASSIGN_OR_RETURN(db, Database::Open(dir, options));
  // Audit throughput: answer 1,000 retrievals (the top chunk's text plus an
  // invented sentence), then audit them all.
  constexpr size_t kAudits = 1000;
  const int64_t answered_since = std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::system_clock::now().time_since_epoch()).count();
  for (size_t i = 0; i < kAudits; ++i) {
    RetrieveRequest r;
    r.collection = "fm";
    r.vector.assign(queries.row(i % queries.n), queries.row(i % queries.n) + queries.dim);
    r.k = 10;
    VERITY_ASSIGN_OR_RETURN(RetrieveResult got, db->Retrieve(r));
    AnswerRequest answer;
    answer.retrieval_id = got.retrieval_id;
    answer.answer = got.chunks[0].text + " It was designed by Coco Chanel in 1926, not in Paris.";
    VERITY_RETURN_IF_ERROR(db->RecordAnswer(answer).status());
  }
  BatchAuditRequest batch;
  batch.collection = "fm";
  batch.since_us = answered_since;  // the retrievals above, not the earlier unanswered ones
  const auto audit_start = Clock::now();
  VERITY_ASSIGN_OR_RETURN(BatchAuditResult audited, db->AuditCollection(batch));
  const double audit_s = std::chrono::duration<double>(Clock::now() - audit_start).count();
  std::printf("{\"bench\": \"audit\", \"retrievals\": %llu, \"audited\": %llu, \"seconds\": %.2f, "
              "\"answers_per_s\": %.1f, \"mean_g\": %.3f}\n",
              static_cast<unsigned long long>(audited.retrievals), static_cast<unsigned long long>(audited.audited),
              audit_s, static_cast<double>(audited.audited) / audit_s, audited.mean_g);
  std::fflush(stdout);
  VERITY_RETURN_IF_ERROR(db->Close());
  std::printf("{\"bench\": \"log_size\", \"retrievals\": %zu, \"bytes_per_retrieval\": %.0f, \"k\": 10, "
              "\"dimension\": %zu, \"note\": \"includes the logged query vector (%zu bytes)\"}\n",
              kN, static_cast<double>(after - before) / kN, images.dim, images.dim * 4);
  std::fflush(stdout);
  return Status::Ok();
}

}  // namespace
}  // namespace verity::bench

int main(int argc, char** argv) {
  std::string dir, only;
  double seconds = 5;
  int threads = 8;
  size_t records = 20000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--dir") {
      dir = argv[i + 1];
    } else if (a == "--seconds") {
      seconds = std::stod(argv[i + 1]);
    } else if (a == "--only") {
      only = argv[i + 1];
    } else if (a == "--threads") {
      threads = std::stoi(argv[i + 1]);
    } else if (a == "--records") {
      records = std::stoul(argv[i + 1]);
    }
  }
  const bool temporary = dir.empty();
  if (temporary) dir = "/tmp/verity-bench-retrieval-" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  verity::Status s = verity::bench::Run(dir, seconds, only, threads, records);
  if (temporary) std::filesystem::remove_all(dir);
  if (!s.ok()) {
    std::fprintf(stderr, "verity_bench_retrieval: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
