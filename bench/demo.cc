// verity_demo: the project's end-to-end job until the server exists.
//
//   verity_demo [--data DIR] [--load-only [--text-corpus CHUNKS.jsonl]]
//                                                   (default ./verity-data)
//
// --load-only: ingest if needed, write DIR/example-query.json (test image 0
// as a JSON array) and stop; scripts/run.sh uses it before starting verityd.
// --text-corpus: also load those records (bench/text/manpages.py's
// chunks.jsonl) into the text-only collection "manpages" (english analyzer),
// once: a second start finds them there.
//
// Opens the database in DIR. If the collection "fashion_mnist" does not exist
// it is created (784, l2) and the 60,000 Fashion-MNIST training images are
// ingested in batches of 5,000, each with a text and metadata
// {"label": int64, "class": string, "split": "train"}. A collection left
// incomplete by an interrupted run is completed (each batch is atomic, so
// the committed records are a prefix). A complete collection is used as is.
//
// Then 1,000 test images are searched, single-threaded, k=10, at the
// collection's default ef: once without a filter (recall@10 against
// verity::ExactKnn over the training images) and once with class = "Bag"
// (recall@10 against the engine's brute force, SearchRequest::exact). Prints
// QPS, p50/p99 latency, a sample hit, the record count and the versions, and
// closes the database.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fashion_mnist.h"
#include "text/text_corpus.h"
#include "verity/database.h"
#include "verity/exact_knn.h"
#include "verity/filter.h"
#include "verity/status.h"

namespace verity::bench {
namespace {

constexpr char kCollection[] = "fashion_mnist";
constexpr char kTextCollection[] = "manpages";
constexpr size_t kBatch = 5000;
constexpr size_t kQueries = 1000;
constexpr uint32_t kK = 10;
constexpr char kFilterClass[] = "Bag";

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string FormatTime(int64_t unix_us) {
  const time_t seconds = static_cast<time_t>(unix_us / 1000000);
  struct tm tm;
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string MetadataToString(const Metadata& metadata) {
  std::string out = "{";
  for (const auto& [key, value] : metadata) {
    if (out.size() > 1) out += ", ";
    out += "\"" + key + "\": ";
    if (const auto* s = std::get_if<std::string>(&value)) {
      out += "\"" + *s + "\"";
    } else if (const auto* i = std::get_if<int64_t>(&value)) {
      out += std::to_string(*i);
    } else if (const auto* d = std::get_if<double>(&value)) {
      out += std::to_string(*d);
    } else if (const auto* b = std::get_if<bool>(&value)) {
      out += *b ? "true" : "false";
    } else {
      out += "[...]";
    }
  }
  return out + "}";
}

// Ingests training images [first, n) in batches; prints progress.
Status Ingest(Database& db, const ImageSet& images, const std::vector<uint8_t>& labels, size_t first) {
  std::printf("ingest: %zu Fashion-MNIST training images into \"%s\" in batches of %zu (synced writes)\n",
              images.n - first, kCollection, kBatch);
  const auto start = Clock::now();
  for (size_t begin = first; begin < images.n; begin += kBatch) {
    const size_t end = std::min(images.n, begin + kBatch);
    std::vector<Record> records(end - begin);
    for (size_t i = begin; i < end; ++i) {
      Record& r = records[i - begin];
      const int label = labels[i];
      r.id = std::to_string(i);
      r.vector.assign(images.row(i), images.row(i) + images.dim);
      r.text = "fashion-mnist train image " + std::to_string(i) + ", label: " + FashionMnistClassName(label);
      r.metadata["label"] = int64_t{label};
      r.metadata["class"] = std::string(FashionMnistClassName(label));
      r.metadata["split"] = std::string("train");
    }
    Result<WriteResult> written = db.Upsert(kCollection, std::move(records));
    if (!written.ok()) {
      return written.status().WithPrefix("upsert of images " + std::to_string(begin) + ".." +
                                         std::to_string(end - 1));
    }
    const double elapsed = SecondsSince(start);
    std::printf("  %6zu / %zu  version %llu  %7.0f records/s\n", end, images.n,
                static_cast<unsigned long long>(written->version), static_cast<double>(end - first) / elapsed);
    std::fflush(stdout);
  }
  const double elapsed = SecondsSince(start);
  std::printf("ingest: done, %zu records in %.1f s (%.0f records/s)\n", images.n - first, elapsed,
              static_cast<double>(images.n - first) / elapsed);
  return Status::Ok();
}

struct PassReport {
  double recall = 0;
  double qps = 0;
  double p50_us = 0;
  double p99_us = 0;
  size_t exact_plans = 0;          // queries the planner answered by brute force
  size_t hits_outside_filter = 0;  // hits whose payload does not match the filter
  size_t same_class_top1 = 0;      // queries whose first hit has the query's class
  std::optional<SearchHit> sample;  // first hit of query 0
};

double Percentile(std::vector<double> sorted, double q) {
  std::sort(sorted.begin(), sorted.end());
  const size_t rank = std::clamp<size_t>(static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size()))), 1,
                                         sorted.size());
  return sorted[rank - 1];
}

// Runs every query single-threaded with payloads and scores it against
// `truth` (per query, the ids of its exact k nearest).
Result<PassReport> RunPass(const Database& db, const ImageSet& queries, const std::vector<uint8_t>& query_labels,
                           const std::optional<Filter>& filter, const std::vector<std::vector<std::string>>& truth) {
  PassReport report;
  SearchRequest request;
  request.k = kK;
  request.filter = filter;
  request.with_payload = true;
  std::vector<double> latencies_us;
  size_t true_hits = 0;
  const auto start = Clock::now();
  for (size_t q = 0; q < queries.n; ++q) {
    request.vector.assign(queries.row(q), queries.row(q) + queries.dim);
    const auto t0 = Clock::now();
    Result<SearchResult> result = db.Search(kCollection, request);
    latencies_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    if (!result.ok()) return result.status().WithPrefix("search of test image " + std::to_string(q));
    if (result->exact) ++report.exact_plans;
    for (const SearchHit& hit : result->hits) {
      if (std::find(truth[q].begin(), truth[q].end(), hit.id) != truth[q].end()) ++true_hits;
      if (filter && (!hit.record || !filter->Matches(hit.record->metadata))) ++report.hits_outside_filter;
    }
    if (!result->hits.empty() && result->hits[0].record) {
      const Metadata& md = result->hits[0].record->metadata;
      auto it = md.find("label");
      if (it != md.end() && std::holds_alternative<int64_t>(it->second) &&
          std::get<int64_t>(it->second) == query_labels[q]) {
        ++report.same_class_top1;
      }
    }
    if (q == 0 && !result->hits.empty()) report.sample = result->hits[0];
  }
  const double wall = SecondsSince(start);
  report.recall = static_cast<double>(true_hits) / static_cast<double>(queries.n * kK);
  report.qps = static_cast<double>(queries.n) / wall;
  report.p50_us = Percentile(latencies_us, 0.50);
  report.p99_us = Percentile(latencies_us, 0.99);
  return report;
}

void PrintPass(const char* title, const PassReport& r, size_t queries, const std::vector<uint8_t>& query_labels) {
  std::printf("%s\n", title);
  std::printf("  recall@10 %.4f   QPS %.1f   p50 %.1f us   p99 %.1f us   (%zu queries, single thread)\n", r.recall,
              r.qps, r.p50_us, r.p99_us, queries);
  std::printf("  planner: %zu of %zu queries by brute force, the rest by graph\n", r.exact_plans, queries);
  std::printf("  top-1 hit has the query's class for %zu of %zu queries\n", r.same_class_top1, queries);
  if (r.hits_outside_filter > 0) std::printf("  ERROR: %zu hits do not match the filter\n", r.hits_outside_filter);
  if (r.sample) {
    std::printf("  sample: test image 0 (%s) -> id %s, distance %.0f, text \"%s\", metadata %s\n",
                FashionMnistClassName(query_labels[0]), r.sample->id.c_str(), r.sample->distance,
                r.sample->record ? r.sample->record->text.c_str() : "",
                r.sample->record ? MetadataToString(r.sample->record->metadata).c_str() : "{}");
  }
}

// The man-page corpus (bench/text/manpages.py's chunks.jsonl: Debian's
// manpages and manpages-dev, chunked by section and paragraph) into a
// text-only collection with the english analyzer, for the text RAG demo.
Status LoadManPages(Database& db, const std::string& path) {
  const auto start = Clock::now();
  VERITY_ASSIGN_OR_RETURN(std::vector<Record> records, ReadTextRecords(path));
  CollectionConfig config;
  config.name = kTextCollection;
  config.dimension = 0;
  config.text_index.enabled = true;
  config.text_index.analyzer.preset = "english";
  const size_t chunks = records.size();
  VERITY_ASSIGN_OR_RETURN(CollectionInfo info, LoadTextCollection(db, config, std::move(records), 2000));
  std::printf("collection \"%s\": %llu man-page chunks (of %zu in %s), head version %llu, %.1f s\n", kTextCollection,
              static_cast<unsigned long long>(info.live_records), chunks, path.c_str(),
              static_cast<unsigned long long>(info.head_version), SecondsSince(start));
  return Status::Ok();
}

Status Run(const std::string& dir, bool load_only, const std::string& text_corpus) {
  const auto open_start = Clock::now();
  VERITY_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::Open(dir));
  std::printf("opened %s in %.2f s\n", dir.c_str(), SecondsSince(open_start));

  VERITY_ASSIGN_OR_RETURN(ImageSet train, LoadFashionMnistBase());
  Result<CollectionInfo> info = db->GetCollection(kCollection);
  if (!info.ok() && info.status().code() != StatusCode::kNotFound) return info.status();
  size_t present = 0;
  if (!info.ok()) {
    CollectionConfig config;
    config.name = kCollection;
    config.dimension = static_cast<uint32_t>(kFashionMnistDim);
    config.metric = Metric::kL2;
    VERITY_ASSIGN_OR_RETURN(info, db->CreateCollection(config));
    std::printf("created collection \"%s\" (dimension %u, %s, m %u, ef_construction %u)\n", kCollection,
                info->config.dimension, MetricName(info->config.metric), info->config.m,
                info->config.ef_construction);
  } else {
    present = info->live_records;
    std::printf("collection \"%s\" exists: %llu records, head version %llu\n", kCollection,
                static_cast<unsigned long long>(info->live_records),
                static_cast<unsigned long long>(info->head_version));
  }
  if (present < train.n) {
    if (present > 0) std::printf("collection is incomplete; resuming at image %zu\n", present);
    VERITY_ASSIGN_OR_RETURN(std::vector<uint8_t> train_labels, LoadFashionMnistTrainLabels());
    if (train_labels.size() != train.n) {
      return Status::DataLoss("train labels: " + std::to_string(train_labels.size()) + " labels for " +
                              std::to_string(train.n) + " images");
    }
    VERITY_RETURN_IF_ERROR(Ingest(*db, train, train_labels, present));
  } else {
    std::printf("all %zu training images present: skipping ingest\n", train.n);
  }
  VERITY_ASSIGN_OR_RETURN(info, db->GetCollection(kCollection));

  VERITY_ASSIGN_OR_RETURN(ImageSet queries, LoadFashionMnistQueries(kFashionMnistDir, kQueries));
  if (load_only) {
    // For the server's first start: leave a query (test image 0) to try.
    const std::string path = dir + "/example-query.json";
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) return Status::Unavailable("cannot write " + path);
    std::fputc('[', f);
    for (size_t d = 0; d < queries.dim; ++d) std::fprintf(f, d ? ",%g" : "%g", queries.row(0)[d]);
    std::fputs("]\n", f);
    std::fclose(f);
    if (!text_corpus.empty()) VERITY_RETURN_IF_ERROR(LoadManPages(*db, text_corpus));
    return db->Close().WithPrefix("close");
  }
  VERITY_ASSIGN_OR_RETURN(std::vector<uint8_t> query_labels, LoadFashionMnistTestLabels(kFashionMnistDir, kQueries));
  std::printf("\nsearching %zu test images, k=%u, ef=%u (the collection's default)\n", queries.n, kK,
              info->config.default_ef);

  // Unfiltered ground truth, independent of the engine: ExactKnn over the
  // training images (ids are the image indices).
  auto gt_start = Clock::now();
  std::vector<std::vector<std::string>> truth(queries.n);
  {
    auto exact = ExactKnn(train.pixels.data(), train.n, queries.pixels.data(), queries.n, train.dim, kK, Metric::kL2);
    for (size_t q = 0; q < queries.n; ++q) {
      for (const ExactNeighbor& nb : exact[q]) truth[q].push_back(std::to_string(nb.index));
    }
  }
  std::printf("ground truth (unfiltered): ExactKnn in %.2f s\n", SecondsSince(gt_start));
  VERITY_ASSIGN_OR_RETURN(PassReport plain, RunPass(*db, queries, query_labels, std::nullopt, truth));
  PrintPass("unfiltered:", plain, queries.n, query_labels);

  // Filtered ground truth from the engine's brute force.
  const Filter filter = Filter::Eq("class", std::string(kFilterClass));
  gt_start = Clock::now();
  {
    std::vector<SearchRequest> requests(queries.n);
    for (size_t q = 0; q < queries.n; ++q) {
      requests[q].vector.assign(queries.row(q), queries.row(q) + queries.dim);
      requests[q].k = kK;
      requests[q].filter = filter;
      requests[q].with_payload = false;
      requests[q].plan = SearchPlan::kExact;
    }
    VERITY_ASSIGN_OR_RETURN(std::vector<SearchResult> exact, db->SearchBatch(kCollection, requests));
    for (size_t q = 0; q < queries.n; ++q) {
      truth[q].clear();
      for (const SearchHit& hit : exact[q].hits) truth[q].push_back(hit.id);
    }
  }
  std::printf("\nground truth (filtered): SearchBatch with exact=true in %.2f s\n", SecondsSince(gt_start));
  VERITY_ASSIGN_OR_RETURN(PassReport filtered, RunPass(*db, queries, query_labels, filter, truth));
  PrintPass(("filter " + filter.ToString() + ":").c_str(), filtered, queries.n, query_labels);

  VERITY_ASSIGN_OR_RETURN(uint64_t count, db->Count(kCollection));
  VERITY_ASSIGN_OR_RETURN(uint64_t count_filtered, db->Count(kCollection, std::nullopt, &filter));
  VERITY_ASSIGN_OR_RETURN(std::vector<VersionInfo> versions, db->ListVersions(kCollection));
  std::printf("\ncount: %llu records, %llu with %s\n", static_cast<unsigned long long>(count),
              static_cast<unsigned long long>(count_filtered), filter.ToString().c_str());
  std::printf("versions: %zu (0..%llu), graph nodes %llu\n", versions.size(),
              static_cast<unsigned long long>(info->head_version),
              static_cast<unsigned long long>(info->graph_nodes));
  if (!versions.empty()) {
    const VersionInfo& last = versions.back();
    std::printf("  latest: version %llu committed %s, %u upserted, %u deleted\n",
                static_cast<unsigned long long>(last.version), FormatTime(last.committed_at_us).c_str(),
                last.upserted, last.deleted);
  }

  const auto close_start = Clock::now();
  VERITY_RETURN_IF_ERROR(db->Close().WithPrefix("close"));
  std::printf("closed in %.2f s\n", SecondsSince(close_start));
  return Status::Ok();
}

int Main(int argc, char** argv) {
  std::string dir = "./verity-data";
  bool load_only = false;
  std::string text_corpus;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--load-only") {
      load_only = true;
    } else if (arg == "--text-corpus" && i + 1 < argc) {
      text_corpus = argv[++i];
    } else if (arg == "--data" && i + 1 < argc) {
      dir = argv[++i];
    } else if (arg.rfind("--data=", 0) == 0 && arg.size() > 7) {
      dir = std::string(arg.substr(7));
    } else {
      std::fprintf(stderr, "usage: verity_demo [--data DIR] [--load-only [--text-corpus CHUNKS.jsonl]]   (default ./verity-data)\n");
      return arg == "--help" || arg == "-h" ? 0 : 2;
    }
  }
  Status status = Run(dir, load_only, text_corpus);
  if (!status.ok()) {
    std::fprintf(stderr, "verity_demo: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace verity::bench

int main(int argc, char** argv) { return verity::bench::Main(argc, argv); }
