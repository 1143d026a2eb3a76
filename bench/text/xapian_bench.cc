// Xapian 1.4 (Debian's libxapian-dev) as the text benchmark's reference
// (issue #26; docs/benchmarks.md, "Text retrieval (issue #26) — baselines").
// In C++ so that the timings are Xapian's, not an interpreter's.
//
//   verity_bench_xapian known-item --docs docs.jsonl --queries queries.tsv
//       --run OUT.run [--stem english|none] [--depth 100] [--tag NAME]
//     indexes the known-item documents (bench/text/manpages.py) in memory and
//     writes a TREC run file (qid Q0 docid rank score tag) of each query's top
//     --depth, for bench/text/evaluate.py.
//
//   verity_bench_xapian speed --passages passages.jsonl --queries queries.txt
//       --db DIR [--stem english|none] [--k 10] [--repeat 1]
//     builds an on-disk (glass) database of the passages (bench/text/
//     scale_corpus.py), then runs every query single-threaded (parse +
//     get_mset(0, k)): one untimed pass to warm the page cache, then --repeat
//     timed passes. Prints one JSON line: passages, text MB, build seconds,
//     passages/s, MB/s, bytes on disk, bytes per passage, queries, QPS, p50 and
//     p99 latency in µs.
//
// Both modes: Xapian's TermGenerator and QueryParser with the same Stem
// (none, or Snowball "english" with STEM_SOME), default operator OR, the
// parser's default flags (a query it refuses is parsed again with no flags),
// BM25Weight with its defaults (k1 1, k2 0, k3 1, b 0.5, min_normlen 0.5)
// unless --k1 / --b are given; with --stopwords english, Lucene's English
// stopword list is left out of the index and of the queries.
#include <xapian.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "speed_stats.h"

namespace {

using verity::bench::DirectoryBytes;
using verity::bench::Percentile;

using Clock = std::chrono::steady_clock;

struct Options {
  std::string mode, docs, queries, run, db, tag = "xapian";
  std::string stem = "english";
  bool stopwords = false;
  int depth = 100, k = 10, repeat = 1;
  double k1 = 1, b = 0.5;
};

[[noreturn]] void Usage(const std::string& why) {
  std::cerr << "verity_bench_xapian: " << why
            << "\nusage: verity_bench_xapian known-item --docs F --queries F --run F [--stem english|none]"
               " [--depth N] [--tag T] [--k1 X] [--b X] [--stopwords english|none]\n"
               "       verity_bench_xapian speed --passages F --queries F --db DIR [--stem english|none]"
               " [--k N] [--repeat N] [--k1 X] [--b X] [--stopwords english|none]\n";
  std::exit(2);
}

Options ParseArgs(int argc, char** argv) {
  if (argc < 2) Usage("missing the mode (known-item or speed)");
  Options o;
  o.mode = argv[1];
  if (o.mode != "known-item" && o.mode != "speed") Usage("unknown mode " + o.mode);
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) Usage(a + " needs a value");
    const std::string v = argv[++i];
    if (a == "--docs" || a == "--passages") o.docs = v;
    else if (a == "--queries") o.queries = v;
    else if (a == "--run") o.run = v;
    else if (a == "--db") o.db = v;
    else if (a == "--tag") o.tag = v;
    else if (a == "--stem") o.stem = v;
    else if (a == "--stopwords" && (v == "english" || v == "none")) o.stopwords = v == "english";
    else if (a == "--stopwords") Usage("--stopwords: english or none, not " + v);
    else if (a == "--depth") o.depth = std::stoi(v);
    else if (a == "--k") o.k = std::stoi(v);
    else if (a == "--repeat") o.repeat = std::stoi(v);
    else if (a == "--k1") o.k1 = std::stod(v);
    else if (a == "--b") o.b = std::stod(v);
    else Usage("unknown option " + a);
  }
  if (o.stem != "english" && o.stem != "none") Usage("--stem: english or none, not " + o.stem);
  if (o.docs.empty() || o.queries.empty()) Usage("--docs/--passages and --queries are required");
  if (o.mode == "known-item" && o.run.empty()) Usage("--run is required");
  if (o.mode == "speed" && o.db.empty()) Usage("--db is required");
  if (o.depth < 1 || o.k < 1 || o.repeat < 1) Usage("--depth, --k and --repeat must be >= 1");
  return o;
}

Xapian::Stem MakeStem(const Options& o) { return o.stem == "none" ? Xapian::Stem() : Xapian::Stem("english"); }

// --stopwords english: Lucene's EnglishAnalyzer list (33 words), left out of
// the index and of queries, so that Xapian and Lucene skip the same words.
const Xapian::Stopper* EnglishStopper() {
  static const Xapian::SimpleStopper* stopper = [] {
    auto* s = new Xapian::SimpleStopper();
    for (const char* w : {"a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into",
                          "is", "it", "no", "not", "of", "on", "or", "such", "that", "the", "their", "then",
                          "there", "these", "they", "this", "to", "was", "will", "with"}) {
      s->add(w);
    }
    return s;
  }();
  return stopper;
}

std::string SystemName(const Options& o) { return "xapian-" + o.stem + (o.stopwords ? "-stop" : ""); }

// Indexes the JSON Lines records {"id", "text"} of `path`: the text is
// indexed with positions, the id is the document data. Returns the text bytes.
uint64_t IndexJsonLines(const std::string& path, const Options& o, Xapian::WritableDatabase* db) {
  std::ifstream in(path);
  if (!in) Usage("cannot open " + path);
  Xapian::TermGenerator gen;
  gen.set_stemmer(MakeStem(o));
  gen.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
  if (o.stopwords) {
    gen.set_stopper(EnglishStopper());
    gen.set_stopper_strategy(Xapian::TermGenerator::STOP_ALL);
  }
  uint64_t bytes = 0;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const nlohmann::json j = nlohmann::json::parse(line);
    const std::string text = j.at("text").get<std::string>();
    bytes += text.size();
    Xapian::Document doc;
    gen.set_document(doc);
    gen.index_text(text);
    doc.set_data(j.at("id").is_string() ? j.at("id").get<std::string>() : j.at("id").dump());
    db->add_document(doc);
  }
  return bytes;
}

// Lines of `path`; a line "qid TAB text" keeps both, a line without a tab is
// its own text (qid = its 1-based number).
std::vector<std::pair<std::string, std::string>> ReadQueries(const std::string& path) {
  std::ifstream in(path);
  if (!in) Usage("cannot open " + path);
  std::vector<std::pair<std::string, std::string>> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const size_t tab = line.find('\t');
    if (tab == std::string::npos) out.emplace_back(std::to_string(out.size() + 1), line);
    else out.emplace_back(line.substr(0, tab), line.substr(tab + 1));
  }
  return out;
}

class Searcher {
 public:
  Searcher(const Xapian::Database& db, const Options& o) : enquire_(db) {
    parser_.set_database(db);
    parser_.set_stemmer(MakeStem(o));
    parser_.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
    parser_.set_default_op(Xapian::Query::OP_OR);
    if (o.stopwords) parser_.set_stopper(EnglishStopper());
    enquire_.set_weighting_scheme(Xapian::BM25Weight(o.k1, 0, 1, o.b, 0.5));
  }
  Xapian::MSet Search(const std::string& text, int k) {
    Xapian::Query query;
    try {
      query = parser_.parse_query(text);
    } catch (const Xapian::QueryParserError&) {
      query = parser_.parse_query(text, 0);
    }
    enquire_.set_query(query);
    return enquire_.get_mset(0, static_cast<Xapian::doccount>(k));
  }

 private:
  Xapian::QueryParser parser_;
  Xapian::Enquire enquire_;
};

int KnownItem(const Options& o) {
  Xapian::WritableDatabase db(std::string(), Xapian::DB_BACKEND_INMEMORY);
  IndexJsonLines(o.docs, o, &db);
  Searcher searcher(db, o);
  std::ofstream out(o.run);
  if (!out) Usage("cannot write " + o.run);
  size_t n = 0;
  for (const auto& [qid, text] : ReadQueries(o.queries)) {
    const Xapian::MSet mset = searcher.Search(text, o.depth);
    int rank = 1;
    for (auto it = mset.begin(); it != mset.end(); ++it, ++rank) {
      char score[32];
      std::snprintf(score, sizeof(score), "%.17g", it.get_weight());
      out << qid << " Q0 " << it.get_document().get_data() << ' ' << rank << ' ' << score << ' ' << o.tag << '\n';
    }
    ++n;
  }
  std::cerr << "verity_bench_xapian: " << n << " queries -> " << o.run << '\n';
  return 0;
}

int Speed(const Options& o) {
  std::filesystem::remove_all(o.db);
  const auto t0 = Clock::now();
  uint64_t bytes = 0;
  Xapian::doccount passages = 0;
  {
    Xapian::WritableDatabase db(o.db, Xapian::DB_CREATE_OR_OVERWRITE | Xapian::DB_BACKEND_GLASS);
    bytes = IndexJsonLines(o.docs, o, &db);
    db.commit();
    passages = db.get_doccount();
  }
  const double build_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const uint64_t disk = DirectoryBytes(o.db);

  Xapian::Database db(o.db);
  Searcher searcher(db, o);
  const auto queries = ReadQueries(o.queries);
  uint64_t hits = 0;
  for (const auto& q : queries) hits += searcher.Search(q.second, o.k).size();  // warm-up, untimed
  std::vector<double> us;
  us.reserve(queries.size() * static_cast<size_t>(o.repeat));
  const auto s0 = Clock::now();
  for (int r = 0; r < o.repeat; ++r) {
    for (const auto& q : queries) {
      const auto a = Clock::now();
      hits += searcher.Search(q.second, o.k).size();
      us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - a).count());
    }
  }
  const double search_s = std::chrono::duration<double>(Clock::now() - s0).count();
  nlohmann::json j = {{"system", SystemName(o)}, {"xapian", Xapian::version_string()},
                      {"passages", passages}, {"text_mb", static_cast<double>(bytes) / 1e6},
                      {"build_s", build_s}, {"passages_per_s", passages / build_s},
                      {"mb_per_s", static_cast<double>(bytes) / 1e6 / build_s}, {"disk_bytes", disk},
                      {"bytes_per_passage", static_cast<double>(disk) / passages},
                      {"queries", us.size()}, {"k", o.k}, {"qps", static_cast<double>(us.size()) / search_s},
                      {"p50_us", Percentile(us, 0.50)}, {"p99_us", Percentile(us, 0.99)},
                      {"hits", hits}};
  std::cout << j.dump() << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = ParseArgs(argc, argv);
  try {
    return o.mode == "known-item" ? KnownItem(o) : Speed(o);
  } catch (const Xapian::Error& e) {
    std::cerr << "verity_bench_xapian: " << e.get_description() << '\n';
    return 1;
  } catch (const nlohmann::json::exception& e) {
    std::cerr << "verity_bench_xapian: bad JSON Lines input: " << e.what() << '\n';
    return 1;
  }
}
