// Verity's runner for the text-retrieval benchmark of issue #26
// (scripts/bench_text.sh; docs/benchmarks.md, "Text retrieval"): the engine
// in-process, on the same files as the reference systems.
//
//   verity_bench_text known-item --docs docs.jsonl --queries queries.tsv
//       --data DIR --out-dir RUNS [--presets standard,english] [--depth 100]
//       [--vectors lsa/docs.jsonl --query-vectors lsa/queries.jsonl
//        --convex-weights 0.5,...]
//     One text-only collection per preset: RUNS/verity-PRESET.run (TREC run,
//     best first, --depth per query). With --vectors, one collection with the
//     LSA vectors (cosine) and the english text index, and the runs of its
//     dense leg alone (verity-lsa.run), of RRF (verity-rrf.run, k 60) and of
//     the convex fusion per dense weight W (verity-convex-W.run, text weight
//     1 - W), each leg's top 100, all from one server-side hybrid search.
//
//   verity_bench_text speed --passages passages.jsonl --queries queries.txt
//       --data DIR [--preset english] [--stopwords none] [--batch 5000]
//       [--repeat 1] [--k 10]
//     Builds a text-only collection (timed: upserts of --batch records), then
//     one untimed pass over the queries and --repeat timed ones, one thread,
//     at the head; then replaces 10% of the passages and deletes 5% (two new
//     versions) and times the queries at the build's version (an old one)
//     and at the new head. Prints one JSON line per measurement, with the
//     keys of verity_bench_xapian's. --stopwords none: the preset's stemmer
//     without its stopwords (what xapian-english does).
//
// Errors go to stderr with exit status 1; usage errors exit 2.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "text/speed_stats.h"
#include "text/text_corpus.h"
#include "verity/database.h"

namespace verity::bench {
namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;
using Queries = std::vector<std::pair<std::string, std::string>>;

struct Options {
  std::string mode;
  std::string docs, queries, data, out_dir, vectors, query_vectors;
  std::vector<std::string> presets{"standard", "english"};
  std::vector<float> convex_weights{0.5f};
  std::string preset = "english";
  bool no_stopwords = false;  // speed: the preset's stemmer, no stopwords (as xapian-english)
  uint32_t depth = 100;
  uint32_t k = 10;
  size_t batch = 5000;
  int repeat = 1;
};

[[noreturn]] void Usage(const std::string& why) {
  std::cerr << "verity_bench_text: " << why
            << "\nusage: verity_bench_text known-item --docs F --queries F --data DIR --out-dir DIR "
               "[--presets a,b] [--depth N] [--vectors F --query-vectors F --convex-weights w,...]\n"
               "       verity_bench_text speed --passages F --queries F --data DIR [--preset P] "
               "[--stopwords none] [--batch N] [--repeat N] [--k N]\n";
  std::exit(2);
}

std::vector<std::string> Split(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

Options ParseOptions(int argc, char** argv) {
  if (argc < 2) Usage("no mode");
  Options o;
  o.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) Usage(flag + ": missing value");
    const std::string value = argv[++i];
    if (flag == "--docs" || flag == "--passages") o.docs = value;
    else if (flag == "--queries") o.queries = value;
    else if (flag == "--data") o.data = value;
    else if (flag == "--out-dir") o.out_dir = value;
    else if (flag == "--vectors") o.vectors = value;
    else if (flag == "--query-vectors") o.query_vectors = value;
    else if (flag == "--presets") o.presets = Split(value);
    else if (flag == "--preset") o.preset = value;
    else if (flag == "--stopwords") o.no_stopwords = (value == "none");
    else if (flag == "--depth") o.depth = static_cast<uint32_t>(std::stoul(value));
    else if (flag == "--k") o.k = static_cast<uint32_t>(std::stoul(value));
    else if (flag == "--batch") o.batch = std::stoul(value);
    else if (flag == "--repeat") o.repeat = std::stoi(value);
    else if (flag == "--convex-weights") {
      o.convex_weights.clear();
      for (const std::string& w : Split(value)) o.convex_weights.push_back(std::stof(w));
    } else {
      Usage("unknown flag " + flag);
    }
  }
  if (o.docs.empty() || o.queries.empty() || o.data.empty()) Usage("--docs/--passages, --queries and --data are needed");
  return o;
}

template <typename T>
T OrDie(Result<T> result, const std::string& what) {
  if (!result.ok()) {
    std::cerr << "verity_bench_text: " << what << ": " << result.status().ToString() << "\n";
    std::exit(1);
  }
  return std::move(*result);
}

void OrDie(const Status& status, const std::string& what) {
  if (!status.ok()) {
    std::cerr << "verity_bench_text: " << what << ": " << status.ToString() << "\n";
    std::exit(1);
  }
}

CollectionConfig TextCollection(const std::string& name, const std::string& preset, uint32_t dimension) {
  CollectionConfig config;
  config.name = name;
  config.dimension = dimension;
  config.metric = Metric::kCosine;
  config.text_index.enabled = true;
  config.text_index.analyzer.preset = preset;
  return config;
}

// A TREC run: "qid Q0 docid rank score tag". Records are documents or chunks
// of them: a document appears once, at its best chunk's rank.
class RunWriter {
 public:
  RunWriter(const std::string& path, std::string tag) : out_(path), tag_(std::move(tag)) {
    if (!out_) Usage("cannot write " + path);
  }
  void Write(const std::string& qid, const std::vector<SearchHit>& hits, bool negate_distance) {
    std::map<std::string, bool> seen;
    int rank = 0;
    for (const SearchHit& hit : hits) {
      const std::string doc = hit.record && !hit.record->document_id.empty() ? hit.record->document_id : hit.id;
      if (!seen.emplace(doc, true).second) continue;
      const double score = negate_distance ? -static_cast<double>(hit.distance) : static_cast<double>(hit.score);
      out_ << qid << " Q0 " << doc << " " << ++rank << " " << score << " " << tag_ << "\n";
    }
  }

 private:
  std::ofstream out_;
  std::string tag_;
};

std::vector<SearchHit> SearchOrDie(const Database& db, const std::string& collection, const SearchRequest& request) {
  return OrDie(db.Search(collection, request), "search " + collection).hits;
}

void KnownItemText(Database& db, const Options& o, const std::vector<Record>& docs, const Queries& queries) {
  for (const std::string& preset : o.presets) {
    const std::string name = "knownitem-" + preset;
    const auto start = Clock::now();
    OrDie(LoadTextCollection(db, TextCollection(name, preset, 0), docs, 2000), "load " + name);
    const double load_s = std::chrono::duration<double>(Clock::now() - start).count();
    RunWriter run(o.out_dir + "/verity-" + preset + ".run", "verity-" + preset);
    SearchRequest request;
    request.k = o.depth;
    for (const auto& [qid, text] : queries) {
      request.text = text;
      run.Write(qid, SearchOrDie(db, name, request), false);
    }
    std::cout << Json{{"system", "verity-" + preset}, {"docs", docs.size()}, {"load_s", load_s}}.dump() << std::endl;
  }
}

struct QueryVector {
  std::string qid, text;
  std::vector<float> vector;
};

std::vector<QueryVector> ReadQueryVectors(const std::string& path) {
  std::ifstream in(path);
  if (!in) Usage("cannot open " + path);
  std::vector<QueryVector> out;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const Json j = Json::parse(line);
    out.push_back({j.at("qid").get<std::string>(), j.at("text").get<std::string>(),
                   j.at("vector").get<std::vector<float>>()});
  }
  return out;
}

void KnownItemHybrid(Database& db, const Options& o) {
  std::vector<Record> docs = OrDie(ReadTextRecords(o.vectors), "read " + o.vectors);
  const std::vector<QueryVector> queries = ReadQueryVectors(o.query_vectors);
  if (docs.empty() || queries.empty()) Usage("no documents or query vectors");
  const std::string name = "knownitem-hybrid";
  const auto dim = static_cast<uint32_t>(docs[0].vector.size());
  OrDie(LoadTextCollection(db, TextCollection(name, "english", dim), std::move(docs), 2000), "load " + name);

  RunWriter dense(o.out_dir + "/verity-lsa.run", "verity-lsa");
  RunWriter rrf(o.out_dir + "/verity-rrf.run", "verity-rrf");
  std::vector<RunWriter> convex;
  convex.reserve(o.convex_weights.size());
  for (float w : o.convex_weights) {
    char label[32];
    std::snprintf(label, sizeof(label), "verity-convex-%.2f", static_cast<double>(w));
    convex.emplace_back(o.out_dir + "/" + label + ".run", label);
  }
  SearchRequest request;
  request.k = o.depth;
  request.plan = SearchPlan::kExact;  // as the LSA reference: exact cosine, no HNSW recall loss
  for (const QueryVector& q : queries) {
    request.vector = q.vector;
    request.text.clear();
    dense.Write(q.qid, SearchOrDie(db, name, request), true);
    request.text = q.text;
    request.fusion = FusionConfig{};
    rrf.Write(q.qid, SearchOrDie(db, name, request), false);
    request.fusion.method = FusionMethod::kConvex;
    for (size_t i = 0; i < convex.size(); ++i) {
      request.fusion.dense_weight = o.convex_weights[i];
      request.fusion.text_weight = 1.0f - o.convex_weights[i];
      convex[i].Write(q.qid, SearchOrDie(db, name, request), false);
    }
  }
}

int KnownItem(const Options& o) {
  if (o.out_dir.empty()) Usage("--out-dir is needed");
  std::filesystem::remove_all(o.data);
  std::filesystem::create_directories(o.out_dir);
  std::unique_ptr<Database> db = OrDie(Database::Open(o.data), "open " + o.data);
  const std::vector<Record> docs = OrDie(ReadTextRecords(o.docs), "read " + o.docs);
  const Queries queries = OrDie(ReadQueries(o.queries), "read " + o.queries);
  KnownItemText(*db, o, docs, queries);
  if (!o.vectors.empty()) KnownItemHybrid(*db, o);
  OrDie(db->Close(), "close");
  std::filesystem::remove_all(o.data);
  return 0;
}

// One untimed pass, then `repeat` timed ones: QPS, p50, p99 in µs.
Json TimeQueries(const Database& db, const std::string& name, const Queries& queries, const ReadPoint& at,
                 const Options& o) {
  SearchRequest request;
  request.k = o.k;
  request.at = at;
  request.with_payload = false;
  uint64_t hits = 0;
  for (const auto& q : queries) {
    request.text = q.second;
    hits += SearchOrDie(db, name, request).size();
  }
  std::vector<double> us;
  const auto start = Clock::now();
  for (int r = 0; r < o.repeat; ++r) {
    for (const auto& q : queries) {
      request.text = q.second;
      const auto a = Clock::now();
      hits += SearchOrDie(db, name, request).size();
      us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - a).count());
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return {{"queries", us.size()}, {"k", o.k}, {"qps", static_cast<double>(us.size()) / seconds},
          {"p50_us", Percentile(us, 0.50)}, {"p99_us", Percentile(us, 0.99)}, {"hits", hits}};
}

// Rewrites every 10th passage (same id and text: a new row version, the old
// one closed) and deletes every 20th, in new versions after the build's.
Version Churn(Database& db, const std::string& name, const std::vector<Record>& passages, size_t batch) {
  std::vector<Record> replaced;
  std::vector<std::string> deleted;
  for (size_t i = 0; i < passages.size(); ++i) {
    if (i % 10 == 3) replaced.push_back(passages[i]);
    if (i % 20 == 7) deleted.push_back(passages[i].id);
  }
  for (size_t first = 0; first < replaced.size(); first += batch) {
    std::vector<Record> chunk(replaced.begin() + static_cast<std::ptrdiff_t>(first),
                              replaced.begin() + static_cast<std::ptrdiff_t>(std::min(replaced.size(), first + batch)));
    OrDie(db.Upsert(name, std::move(chunk)), "churn upsert");
  }
  return OrDie(db.Delete(name, deleted), "churn delete").version;
}

int Speed(const Options& o) {
  std::filesystem::remove_all(o.data);
  const auto start = Clock::now();  // the build reads the JSON lines too, as verity_bench_xapian's does
  const std::vector<Record> passages = OrDie(ReadTextRecords(o.docs), "read " + o.docs);
  const Queries queries = OrDie(ReadQueries(o.queries), "read " + o.queries);
  uint64_t text_bytes = 0;
  for (const Record& r : passages) text_bytes += r.text.size();
  const std::string name = "passages";
  const std::string system = "verity-" + o.preset + (o.no_stopwords ? "-nostop" : "");
  CollectionConfig config = TextCollection(name, o.preset, 0);
  if (o.no_stopwords) {  // a preset fills an empty stopword list: name the stemmer on "standard"
    config.text_index.analyzer.preset = "standard";
    config.text_index.analyzer.stemmer = o.preset;
  }

  std::unique_ptr<Database> db = OrDie(Database::Open(o.data), "open " + o.data);
  const CollectionInfo built =
      OrDie(LoadTextCollection(*db, config, passages, o.batch), "build");
  const double build_s = std::chrono::duration<double>(Clock::now() - start).count();
  OrDie(db->Close(), "close");
  const uint64_t disk = DirectoryBytes(o.data);
  db = OrDie(Database::Open(o.data), "reopen " + o.data);

  Json head = TimeQueries(*db, name, queries, ReadPoint{}, o);
  head.update({{"system", system}, {"passages", passages.size()}, {"text_mb", static_cast<double>(text_bytes) / 1e6},
               {"build_s", build_s}, {"passages_per_s", static_cast<double>(passages.size()) / build_s},
               {"mb_per_s", static_cast<double>(text_bytes) / 1e6 / build_s}, {"disk_bytes", disk},
               {"bytes_per_passage", static_cast<double>(disk) / static_cast<double>(passages.size())}});
  std::cout << head.dump() << std::endl;

  const Version old_version = built.head_version;
  const Version new_head = Churn(*db, name, passages, o.batch);
  Json at_old = TimeQueries(*db, name, queries, ReadPoint::AtVersion(old_version), o);
  at_old.update({{"system", system + "@old"}, {"version", old_version}, {"head", new_head}});
  std::cout << at_old.dump() << std::endl;
  Json at_head = TimeQueries(*db, name, queries, ReadPoint{}, o);
  at_head.update({{"system", system + "@head-after-churn"}, {"version", new_head}});
  std::cout << at_head.dump() << std::endl;
  OrDie(db->Close(), "close");
  std::filesystem::remove_all(o.data);
  return 0;
}

}  // namespace
}  // namespace verity::bench

int main(int argc, char** argv) {
  const verity::bench::Options o = verity::bench::ParseOptions(argc, argv);
  if (o.mode == "known-item") return verity::bench::KnownItem(o);
  if (o.mode == "speed") return verity::bench::Speed(o);
  verity::bench::Usage("unknown mode " + o.mode);
}
