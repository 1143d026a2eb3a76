// verity_bench_postings: the posting index (docs/text-search.md, "Index",
// issue #26) on a synthetic corpus.
//
//   verity_bench_postings [--docs 200000] [--terms 60] [--vocab 50000]
//                         [--queries 500] [--k 10] [--seed 1]
//
// Documents of `terms` words drawn from a Zipf(1) vocabulary, added in
// commits of 1,000; then a fifth of them replaced (closed, a new document
// added) in later commits, so that an old version sees another corpus than
// the head. Queries of 2-4 distinct Zipf words. Prints single-thread QPS and
// p50 / p99 latency of Search (block-max MaxScore) and SearchExhaustive at
// the head and at an old version, the candidates Search examined against the
// query's postings, and the index's bytes per posting. No assertions.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "text/posting_index.h"

namespace {

using Clock = std::chrono::steady_clock;
using verity::Version;
using namespace verity::text;

struct Options {
  uint32_t docs = 200000;
  uint32_t terms = 60;
  uint32_t vocab = 50000;
  uint32_t queries = 500;
  uint32_t k = 10;
  uint32_t seed = 1;
};

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const uint32_t value = static_cast<uint32_t>(std::strtoul(argv[i + 1], nullptr, 10));
    if (!std::strcmp(argv[i], "--docs"))
      o.docs = value;
    else if (!std::strcmp(argv[i], "--terms"))
      o.terms = value;
    else if (!std::strcmp(argv[i], "--vocab"))
      o.vocab = value;
    else if (!std::strcmp(argv[i], "--queries"))
      o.queries = value;
    else if (!std::strcmp(argv[i], "--k"))
      o.k = value;
    else if (!std::strcmp(argv[i], "--seed"))
      o.seed = value;
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      std::exit(2);
    }
  }
  return o;
}

class Zipf {
 public:
  explicit Zipf(uint32_t n) : cdf_(n) {
    double sum = 0;
    for (uint32_t i = 0; i < n; ++i) cdf_[i] = sum += 1.0 / (i + 1);
    for (double& c : cdf_) c /= sum;
  }
  uint32_t operator()(std::mt19937& rng) {
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    return static_cast<uint32_t>(std::lower_bound(cdf_.begin(), cdf_.end() - 1, u) - cdf_.begin());
  }

 private:
  std::vector<double> cdf_;
};

std::string Word(uint32_t i) { return "t" + std::to_string(i); }

// A document; its word ids are appended to `ids` (for the step count).
DocTerms Document(Zipf& zipf, std::mt19937& rng, uint32_t terms, std::vector<uint32_t>* ids) {
  std::map<uint32_t, float> counts;
  for (uint32_t i = 0; i < terms; ++i) counts[zipf(rng)] += 1;
  DocTerms doc;
  for (const auto& [t, c] : counts) {
    doc.terms.emplace_back(Word(t), c);
    ids->push_back(t);
  }
  doc.length = terms;
  return doc;
}

// The (term, version) pairs a commit changes: one df step each, at most.
size_t DistinctTerms(std::vector<uint32_t> ids) {  // a copy: sorted here
  std::sort(ids.begin(), ids.end());
  return static_cast<size_t>(std::unique(ids.begin(), ids.end()) - ids.begin());
}

struct Timing {
  double qps = 0, p50_us = 0, p99_us = 0, candidates = 0;
};

template <typename Run>
Timing Measure(const std::vector<std::vector<QueryTerm>>& queries, Run run) {
  std::vector<double> micros;
  uint64_t candidates = 0;
  const auto start = Clock::now();
  for (const auto& q : queries) {
    const auto t0 = Clock::now();
    run(q, [&](DocId) { return ++candidates, true; });
    micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(micros.begin(), micros.end());
  Timing t;
  t.qps = static_cast<double>(queries.size()) / seconds;
  t.p50_us = micros[micros.size() / 2];
  t.p99_us = micros[std::min(micros.size() - 1, micros.size() * 99 / 100)];
  t.candidates = static_cast<double>(candidates) / static_cast<double>(queries.size());
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = Parse(argc, argv);
  std::mt19937 rng(o.seed);
  Zipf zipf(o.vocab);
  PostingIndex index(PostingIndex::Kind::kBm25);

  const auto build_start = Clock::now();
  const uint32_t per_commit = 1000;
  Version version = 0;
  DocId next = 0;
  std::vector<std::vector<uint32_t>> doc_ids;  // each document's word ids
  std::vector<bool> closed(o.docs);
  std::vector<uint32_t> touched;  // the current commit's words
  uint64_t df_steps = 0;
  auto next_commit = [&] {
    df_steps += DistinctTerms(touched);
    touched.clear();
    ++version;
  };
  for (uint32_t d = 0; d < o.docs; ++d) {
    if (d % per_commit == 0) next_commit();
    doc_ids.emplace_back();
    index.Add(next++, version, Document(zipf, rng, o.terms, &doc_ids.back()));
    touched.insert(touched.end(), doc_ids.back().begin(), doc_ids.back().end());
  }
  const Version old_version = version / 2;
  for (uint32_t r = 0; r < o.docs / 5; ++r) {  // replace a fifth, 1,000 per commit
    if (r % per_commit == 0) next_commit();
    const DocId victim = std::uniform_int_distribution<DocId>(0, o.docs - 1)(rng);
    index.Close(victim, version);  // a no-op when replaced already
    if (!closed[victim]) touched.insert(touched.end(), doc_ids[victim].begin(), doc_ids[victim].end());
    closed[victim] = true;
    doc_ids.emplace_back();
    index.Add(next++, version, Document(zipf, rng, o.terms, &doc_ids.back()));
    touched.insert(touched.end(), doc_ids.back().begin(), doc_ids.back().end());
  }
  df_steps += DistinctTerms(touched);
  const double build_s = std::chrono::duration<double>(Clock::now() - build_start).count();

  std::vector<std::vector<QueryTerm>> queries(o.queries);
  uint64_t query_postings = 0;
  for (auto& q : queries) {
    const size_t n = 2 + rng() % 3;
    while (q.size() < n) {
      const std::string w = Word(zipf(rng));
      if (std::none_of(q.begin(), q.end(), [&](const QueryTerm& t) { return t.term == w; })) q.push_back({w, 1});
    }
    for (const auto& t : q) query_postings += index.DocFrequencyAt(t.term, version);
  }

  std::printf(
      "{\"docs\": %llu, \"postings\": %llu, \"bytes_per_posting\": %.2f, \"memory_mb\": %.1f, "
      "\"build_s\": %.2f, \"versions\": %llu, \"df_steps_at_most\": %llu}\n",
      static_cast<unsigned long long>(index.documents()), static_cast<unsigned long long>(index.postings()),
      static_cast<double>(index.memory_bytes()) / static_cast<double>(index.postings()),
      static_cast<double>(index.memory_bytes()) / 1e6, build_s, static_cast<unsigned long long>(version),
      static_cast<unsigned long long>(df_steps));
  std::printf("{\"queries\": %u, \"k\": %u, \"avg_query_df_at_head\": %.0f}\n", o.queries, o.k,
              static_cast<double>(query_postings) / o.queries);
  for (Version v : {version, old_version}) {
    const char* at = v == version ? "head" : "old";
    const Timing pruned =
        Measure(queries, [&](const auto& q, const DocAccept& a) { return index.Search(q, v, o.k, a); });
    const Timing full =
        Measure(queries, [&](const auto& q, const DocAccept& a) { return index.SearchExhaustive(q, v, o.k, a); });
    for (const auto& [name, t] : {std::pair{"Search", pruned}, std::pair{"SearchExhaustive", full}}) {
      std::printf(
          "{\"at\": \"%s\", \"version\": %llu, \"method\": \"%s\", \"qps\": %.0f, \"p50_us\": %.0f, "
          "\"p99_us\": %.0f, \"candidates_per_query\": %.0f}\n",
          at, static_cast<unsigned long long>(v), name, t.qps, t.p50_us, t.p99_us, t.candidates);
    }
  }
  // The two agree (spot check, not a test: the unit tests compare them).
  size_t differ = 0;
  for (const auto& q : queries)
    differ += index.Search(q, version, o.k, nullptr) != index.SearchExhaustive(q, version, o.k, nullptr);
  std::printf("{\"search_differs_from_exhaustive\": %zu}\n", differ);
  return 0;
}
