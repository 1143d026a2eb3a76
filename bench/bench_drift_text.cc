// Retrieval drift on the text leg (issue #28): a man-page section shift.
// The collection is Debian's man pages (bench/text/manpages.py), loaded into
// a real Database collection with a text index (english analyzer); the
// queries are the known-item set's NAME descriptions (knownitem/queries.tsv),
// drawn from the pages of one manual section (2: system calls), then from
// another (3: library functions). Each retrieval is a BM25 text Search
// (k = 1); the tracker observes (top-1 BM25 score, TextRegion(top-1
// document_id, 64)), as the engine's Monitor does for a text retrieval.
// Prints, per shift and mix, the detection delay (shifted queries until the
// tracker alarms) and the false-alarm rate of the stable phase over several
// seeds (query draws), and the cost of TextRegion + Observe per retrieval.
// Exits 1 if the corpus cannot be loaded or a search fails; the figures are
// printed, not asserted (the text shift's detection was not known in
// advance: docs/monitoring.md says what was measured).
//
//   /usr/bin/python3 bench/text/manpages.py --out build/text-corpus/manpages
//   verity_bench_drift_text [--corpus DIR] [--data DIR] [--seeds S] [--first-seed F]
// --corpus: manpages.py's output (default build/text-corpus/manpages); the
// collection holds its knownitem/chunks.jsonl (every chunk but the NAME
// ones, so a query, a NAME description, does not find its own words
// verbatim). --data: the database directory (default
// build/drift-text-data; a second run finds the collection loaded).
// Seeds F..F+S-1 (default 1..S). Seeds 1..20 were looked at while the
// benchmark was written; --first-seed 101 is the held-out check.
//
// Every distinct query is searched once (a search is deterministic for a
// fixed collection version), and each seed replays its own random draws of
// those results through a fresh tracker: the same observations as searching
// each draw, at a fraction of the time.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "drift_phases.h"
#include "monitor/drift.h"
#include "text/text_corpus.h"
#include "verity/database.h"

using namespace verity;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kRef = 1000, kCur = 500, kStable = 4000, kShift = 1000, kRegions = 64;
constexpr const char* kCollection = "manpages-drift";

// One distinct query's retrieval: its top-1 BM25 score and region.
struct Retrieval {
  std::string qid;
  float score = 0;
  int region = 0;
  std::string document_id;
};

// The manual section of a known-item qid ("chmod.2" -> '2', "EOF.3const" -> '3').
char SectionOf(const std::string& qid) {
  const size_t dot = qid.rfind('.');
  return dot == std::string::npos || dot + 1 >= qid.size() ? '?' : qid[dot + 1];
}

Result<std::unique_ptr<Database>> OpenLoaded(const std::string& data, const std::string& chunks) {
  VERITY_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::Open(data));
  VERITY_ASSIGN_OR_RETURN(std::vector<Record> records, bench::ReadTextRecords(chunks));
  CollectionConfig config;
  config.name = kCollection;
  config.dimension = 0;
  config.text_index.enabled = true;
  config.text_index.analyzer.preset = "english";
  const auto start = Clock::now();
  const size_t n = records.size();
  VERITY_ASSIGN_OR_RETURN(CollectionInfo info, bench::LoadTextCollection(*db, config, std::move(records), 2000));
  std::printf("collection \"%s\": %llu chunks (of %zu in %s), head version %llu, load or check %.1f s\n", kCollection,
              static_cast<unsigned long long>(info.live_records), n, chunks.c_str(),
              static_cast<unsigned long long>(info.head_version),
              std::chrono::duration<double>(Clock::now() - start).count());
  return db;
}

// One BM25 search per query of `section`; queries with no hit are left out
// (the Monitor does not observe them either) and counted.
Result<std::vector<Retrieval>> SearchSection(const Database& db,
                                             const std::vector<std::pair<std::string, std::string>>& queries,
                                             char section, double* search_us) {
  std::vector<Retrieval> out;
  size_t no_hit = 0, asked = 0;
  SearchRequest request;
  request.k = 1;
  const auto start = Clock::now();
  for (const auto& [qid, text] : queries) {
    if (SectionOf(qid) != section) continue;
    ++asked;
    request.text = text;
    VERITY_ASSIGN_OR_RETURN(SearchResult result, db.Search(kCollection, request));
    if (result.hits.empty()) {
      ++no_hit;
      continue;
    }
    const SearchHit& top = result.hits[0];
    const std::string doc = top.record && !top.record->document_id.empty() ? top.record->document_id : top.id;
    out.push_back({qid, top.score, TextRegion(doc, kRegions), doc});
  }
  *search_us = std::chrono::duration<double, std::micro>(Clock::now() - start).count() / static_cast<double>(asked);
  size_t same_section = 0;
  std::vector<int> regions(kRegions, 0);
  for (const Retrieval& r : out) {
    same_section += SectionOf(r.document_id) == section;
    ++regions[static_cast<size_t>(r.region)];
  }
  std::printf(
      "section %c: %zu queries, %zu with no hit (not observed), top-1 page in section %c for %zu; %zu of %zu "
      "regions answer\n",
      section, asked, no_hit, section, same_section,
      static_cast<size_t>(std::count_if(regions.begin(), regions.end(), [](int c) { return c > 0; })), kRegions);
  return out;
}

using SeedResult = bench::ShiftResult;

SeedResult RunSeed(const std::vector<Retrieval>& before, const std::vector<Retrieval>& after, uint32_t seed,
                   double mix) {
  std::mt19937_64 rng(seed);
  DriftOptions o;
  o.reference_size = kRef;
  o.current_size = kCur;
  o.num_centroids = kRegions;
  auto tracker = std::move(DriftTracker::Create(o)).value();
  auto observe = [&](bool shifted) {
    const auto& pool = shifted ? after : before;
    const Retrieval& r = pool[rng() % pool.size()];
    if (!tracker->Observe(r.score, r.region).ok()) std::abort();
  };
  return bench::RunShiftPhases(*tracker, kRef + kStable, kShift, mix, rng, observe);
}

std::string Delay(long d) { return d < 0 ? std::string(">") + std::to_string(kShift) : std::to_string(d); }

// "median / max (missed m)" of delays; a missed detection (-1) ranks last.
std::string MedianMax(const std::vector<long>& delays) {
  std::vector<long> d;
  for (long v : delays) d.push_back(v < 0 ? static_cast<long>(kShift) + 1 : v);
  std::sort(d.begin(), d.end());
  const size_t missed = static_cast<size_t>(std::count(delays.begin(), delays.end(), -1L));
  auto show = [](long v) {
    return v > static_cast<long>(kShift) ? std::string(">") + std::to_string(kShift) : std::to_string(v);
  };
  return show(d[d.size() / 2]) + " / " + show(d.back()) + " (missed " + std::to_string(missed) + ")";
}

// The region PSI the two windows would show without sampling noise: each
// window's bin counts replaced by their expectations (window size times the
// pool's region proportions, mixed), smoothed as the tracker smooths them.
double ExpectedRegionPsi(const std::vector<Retrieval>& before, const std::vector<Retrieval>& after, double mix) {
  std::vector<double> p(kRegions, 0), q(kRegions, 0);
  for (const Retrieval& r : before) p[static_cast<size_t>(r.region)] += 1.0 / static_cast<double>(before.size());
  for (const Retrieval& r : after) q[static_cast<size_t>(r.region)] += 1.0 / static_cast<double>(after.size());
  const double a = kPsiPseudoCount, bins = static_cast<double>(kRegions);
  double psi = 0;
  for (size_t i = 0; i < kRegions; ++i) {
    const double r = (static_cast<double>(kRef) * p[i] + a) / (static_cast<double>(kRef) + a * bins);
    const double c =
        (static_cast<double>(kCur) * ((1 - mix) * p[i] + mix * q[i]) + a) / (static_cast<double>(kCur) + a * bins);
    psi += (c - r) * std::log(c / r);
  }
  return psi;
}

void RunShift(const char* name, const std::vector<Retrieval>& before, const std::vector<Retrieval>& after,
              int first_seed, int seeds) {
  for (double mix : {1.0, 0.5, 0.25}) {
    std::printf("\n[%s] mix %.2f (reference %zu, current window %zu, %zu regions)\n", name, mix, kRef, kCur, kRegions);
    std::printf("  region PSI without sampling noise %.4f (threshold %.4f)\n", ExpectedRegionPsi(before, after, mix),
                kDefaultPsiThreshold + ExpectedNullPsi(kRegions, kRef, kCur));
    std::printf(
        "  seed  false-alarm(score/region/any)  max-stable-PSI(score/region)  end-PSI(score/region)  "
        "delay(score/region/any)\n");
    size_t evals = 0, fa = 0;
    std::vector<long> any, score, region;
    for (int seed = first_seed; seed < first_seed + seeds; ++seed) {
      const SeedResult r = RunSeed(before, after, static_cast<uint32_t>(seed), mix);
      std::printf("  %4d  %5zu/%5zu/%5zu of %zu       %.4f / %.4f              %.4f / %.4f       %s / %s / %s\n", seed,
                  r.false_score, r.false_region, r.false_any, r.stable_evals, r.max_stable_score_psi,
                  r.max_stable_region_psi, r.final_score_psi, r.final_region_psi, Delay(r.delay_score).c_str(),
                  Delay(r.delay_region).c_str(), Delay(r.delay_any).c_str());
      evals += r.stable_evals;
      fa += r.false_any;
      any.push_back(r.delay_any);
      score.push_back(r.delay_score);
      region.push_back(r.delay_region);
    }
    std::printf(
        "  => false-alarm rate %.4f (%zu of %zu sliding-window evaluations); delay median / max: any %s, "
        "score %s, region %s\n",
        static_cast<double>(fa) / static_cast<double>(evals), fa, evals, MedianMax(any).c_str(),
        MedianMax(score).c_str(), MedianMax(region).c_str());
  }
}

// TextRegion + Observe per retrieval, on the documents the searches returned.
void MeasureCost(const std::vector<Retrieval>& all, double search_us) {
  DriftOptions o;
  o.num_centroids = kRegions;
  auto tracker = std::move(DriftTracker::Create(o)).value();
  const int reps = 50;
  int sink = 0;
  auto t0 = Clock::now();
  for (int r = 0; r < reps; ++r) {
    for (const Retrieval& x : all) sink += TextRegion(x.document_id, kRegions);
  }
  auto t1 = Clock::now();
  for (int r = 0; r < reps; ++r) {
    for (const Retrieval& x : all) {
      const int region = TextRegion(x.document_id, kRegions);
      if (!tracker->Observe(x.score, region).ok()) std::abort();
    }
  }
  auto t2 = Clock::now();
  const double n = static_cast<double>(all.size()) * reps;
  auto us = [n](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::micro>(b - a).count() / n;
  };
  std::printf("\ncost per retrieval (one thread, %zu document ids x %d):\n", all.size(), reps);
  std::printf("  TextRegion               %8.3f us\n", us(t0, t1));
  std::printf("  TextRegion + Observe     %8.3f us\n", us(t1, t2));
  std::printf("  for scale: BM25 search (k = 1, with payload) %.1f us   (%d)\n", search_us, sink * 0);
}

}  // namespace

int main(int argc, char** argv) {
  std::string corpus = "build/text-corpus/manpages", data = "build/drift-text-data";
  int seeds = 10, first_seed = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--corpus"))
      corpus = argv[i + 1];
    else if (!std::strcmp(argv[i], "--data"))
      data = argv[i + 1];
    else if (!std::strcmp(argv[i], "--seeds"))
      seeds = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--first-seed"))
      first_seed = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  auto db = OpenLoaded(data, corpus + "/knownitem/chunks.jsonl");
  auto queries = bench::ReadQueries(corpus + "/knownitem/queries.tsv");
  if (!db.ok() || !queries.ok()) {
    std::fprintf(stderr, "%s\n", (!db.ok() ? db.status() : queries.status()).message().c_str());
    return 1;
  }
  std::printf("drift version %d: %zu known-item queries, %d seeds from %d\n", kDriftVersion, queries->size(), seeds,
              first_seed);
  double us2 = 0, us3 = 0;
  auto s2 = SearchSection(**db, *queries, '2', &us2);
  auto s3 = SearchSection(**db, *queries, '3', &us3);
  if (!s2.ok() || !s3.ok()) {
    std::fprintf(stderr, "%s\n", (!s2.ok() ? s2.status() : s3.status()).message().c_str());
    return 1;
  }
  RunShift("section 2 -> 3", *s2, *s3, first_seed, seeds);
  RunShift("section 3 -> 2", *s3, *s2, first_seed, seeds);
  std::vector<Retrieval> all = *s2;
  all.insert(all.end(), s3->begin(), s3->end());
  MeasureCost(all, (us2 * static_cast<double>(s2->size()) + us3 * static_cast<double>(s3->size())) /
                       static_cast<double>(all.size()));
  return 0;
}
