// verity_bench_cache: the answer cache (docs/answer-cache.md, issue #8).
//
//   verity_bench_cache [--dim 384] [--queries 2000]
//
// 1. Lookup latency of the cache itself (AnswerCache, the structure behind
//    Database::CacheLookup) holding 10,000 and 100,000 entries: exact hits,
//    and semantic lookups that scan every entry of their fence (all entries
//    in one fence: the worst case) — p50 / p99 in microseconds.
// 2. A replayed query set against 10,000 cached questions: exact repeats,
//    paraphrases (a nearby vector, other words, the same numbers and
//    names), number changes (a nearly identical vector, another year: the
//    case an embedding cannot tell apart) and unrelated questions. Reports
//    the hit rate per kind, the refused false hits, and how many wrong
//    answers were served (number changes answered from the cache).
// 3. The full Database path (fence resolution, prompt lookup and, for each
//    hit, its durable cache-hit record in the retrieval log) at 10,000
//    entries, for comparison with (1).
// One JSON object per line on stdout.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "cache/answer_cache.h"
#include "verity/database.h"
#include "verity/groundedness.h"

namespace verity::bench {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<float> Unit(std::vector<float> v) {
  double n = 0;
  for (float x : v) n += double(x) * x;
  const float inv = static_cast<float>(1.0 / std::sqrt(n));
  for (float& x : v) x *= inv;
  return v;
}

std::vector<float> Noisy(const std::vector<float>& v, float sigma, std::mt19937& rng) {
  std::normal_distribution<float> noise(0, sigma);
  std::vector<float> out = v;
  for (float& x : out) x += noise(rng);
  return Unit(out);
}

const char* kTopics[] = {"revenue", "headcount", "churn", "latency", "uptime", "cost", "margin", "backlog"};
const char* kPlaces[] = {"Berlin", "Lisbon", "Osaka", "Denver", "Nairobi", "Quito", "Oslo", "Perth"};

// Question i: a topic, a place and a year; its paraphrase keeps the
// critical tokens (place, year) and changes the other words.
std::string Question(size_t i, int year_shift = 0) {
  return "What was the " + std::string(kTopics[i % 8]) + " in " + kPlaces[(i / 8) % 8] + " in " +
         std::to_string(2000 + (i / 64) % 25 + year_shift) + " for unit " + std::to_string(i) + "?";
}
std::string Paraphrase(size_t i) {
  return "Tell me the " + std::string(kTopics[i % 8]) + " figure of unit " + std::to_string(i) + " for " +
         kPlaces[(i / 8) % 8] + ", " + std::to_string(2000 + (i / 64) % 25) + ".";
}

// Random unit vectors for questions 0..n-1, each question stored with its answer.
std::vector<std::vector<float>> Fill(AnswerCache& cache, const std::string& fence, size_t n, size_t dim,
                                     std::mt19937& rng) {
  std::normal_distribution<float> unit(0, 1);
  std::vector<std::vector<float>> vectors(n);
  for (size_t i = 0; i < n; ++i) {
    std::vector<float> v(dim);
    for (float& x : v) x = unit(rng);
    vectors[i] = Unit(v);
    cache.Store({fence, Question(i), vectors[i], CriticalTokens(Question(i)), "answer " + std::to_string(i),
                 "rtv-" + std::to_string(i), ""});
  }
  return vectors;
}

struct Latency {
  std::vector<double> us;
  void Add(Clock::time_point t0) { us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count()); }
  double Percentile(double q) {
    std::sort(us.begin(), us.end());
    return us[std::min(us.size() - 1, static_cast<size_t>(q * static_cast<double>(us.size())))];
  }
};

int Main(int argc, char** argv) {
  size_t dim = 384, queries = 2000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--dim") dim = std::stoul(argv[i + 1]);
    else if (arg == "--queries") queries = std::stoul(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: verity_bench_cache [--dim 384] [--queries 2000]\n");
      return 2;
    }
  }
  std::mt19937 rng(8);
  std::normal_distribution<float> unit(0, 1);
  const std::string fence = AnswerCache::Fence(1, 7, "qa@3", "model", "{}");

  // 1. Latency at 10k and 100k entries.
  for (size_t n : {size_t{10000}, size_t{100000}}) {
    AnswerCache cache(n, size_t{4} << 30);
    const std::vector<std::vector<float>> vectors = Fill(cache, fence, n, dim, rng);
    Latency exact, semantic;
    size_t hits = 0;
    for (size_t q = 0; q < queries; ++q) {
      const size_t i = rng() % n;
      auto t0 = Clock::now();
      hits += cache.Lookup(fence, Question(i), vectors[i], 0, true).match == CacheMatch::kExact;
      exact.Add(t0);
      const std::vector<float> near = Noisy(vectors[i], 0.01f, rng);
      t0 = Clock::now();
      hits += cache.Lookup(fence, Paraphrase(i), near, 0, true).match == CacheMatch::kSemantic;
      semantic.Add(t0);
    }
    std::printf("{\"bench\": \"cache_lookup\", \"entries\": %zu, \"dim\": %zu, \"exact_p50_us\": %.1f, "
                "\"exact_p99_us\": %.1f, \"semantic_p50_us\": %.1f, \"semantic_p99_us\": %.1f, \"hit_fraction\": %.4f}\n",
                n, dim, exact.Percentile(0.5), exact.Percentile(0.99), semantic.Percentile(0.5),
                semantic.Percentile(0.99), static_cast<double>(hits) / (2.0 * queries));
    std::fflush(stdout);
  }

  // 2. A replayed query set against 10,000 cached questions.
  {
    const size_t n = 10000;
    AnswerCache cache(n, size_t{1} << 30);
    const std::vector<std::vector<float>> vectors = Fill(cache, fence, n, dim, rng);
    struct Kind {
      const char* name;
      size_t asked = 0, hits = 0, wrong = 0;
    } kinds[4] = {{"repeat"}, {"paraphrase"}, {"number_change"}, {"unrelated"}};
    uint64_t refused = 0;
    for (size_t q = 0; q < queries; ++q) {
      const size_t i = rng() % n;
      const int kind = static_cast<int>(q % 10 < 4 ? 0 : q % 10 < 7 ? 1 : q % 10 < 9 ? 2 : 3);
      std::string text;
      std::vector<float> v;
      switch (kind) {
        case 0: text = Question(i); v = vectors[i]; break;
        case 1: text = Paraphrase(i); v = Noisy(vectors[i], 0.01f, rng); break;
        case 2: text = Question(i, 1); v = Noisy(vectors[i], 0.002f, rng); break;
        default: {
          text = "Which colour is the sky over unit " + std::to_string(i) + "?";
          std::vector<float> r(dim);
          for (float& x : r) x = unit(rng);
          v = Unit(r);
        }
      }
      const CacheLookupResult r = cache.Lookup(fence, text, v, 0, true);
      cache.Count(r);
      Kind& k = kinds[kind];
      ++k.asked;
      if (r.match != CacheMatch::kMiss) {
        ++k.hits;
        if (kind >= 2) ++k.wrong;  // a changed number or another question must never be answered
      }
      refused += r.refused > 0;
    }
    for (const Kind& k : kinds) {
      std::printf("{\"bench\": \"cache_replay\", \"entries\": %zu, \"kind\": \"%s\", \"asked\": %zu, \"hits\": %zu, "
                  "\"hit_rate\": %.4f, \"wrong_answers_served\": %zu}\n",
                  n, k.name, k.asked, k.hits, k.asked ? double(k.hits) / double(k.asked) : 0.0, k.wrong);
    }
    const CacheStats s = cache.Stats();
    std::printf("{\"bench\": \"cache_replay_total\", \"entries\": %zu, \"lookups\": %zu, \"exact_hits\": %llu, "
                "\"semantic_hits\": %llu, \"misses\": %llu, \"refused_false_hits\": %llu}\n",
                n, queries, static_cast<unsigned long long>(s.exact_hits),
                static_cast<unsigned long long>(s.semantic_hits), static_cast<unsigned long long>(s.misses),
                static_cast<unsigned long long>(refused));
    std::fflush(stdout);
  }

  // 3. The Database path at 10,000 entries (each stored from a logged retrieval).
  {
    const std::string dir = "/tmp/verity-bench-cache-" + std::to_string(getpid());
    std::filesystem::remove_all(dir);
    DatabaseOptions options;
    options.log = [](LogLevel, const std::string&) {};
    auto db = Database::Open(dir, options);
    if (!db.ok()) {
      std::fprintf(stderr, "verity_bench_cache: %s\n", db.status().ToString().c_str());
      return 1;
    }
    CollectionConfig config;
    config.name = "docs";
    config.dimension = static_cast<uint32_t>(dim);
    (void)(*db)->CreateCollection(config);
    Record doc;
    doc.id = "d";
    doc.vector.assign(dim, 0.1f);
    doc.text = "the figures";
    (void)(*db)->Upsert("docs", {doc});
    const size_t n = 10000;
    std::vector<std::vector<float>> vectors(n);
    const auto fill_start = Clock::now();
    for (size_t i = 0; i < n; ++i) {
      std::vector<float> v(dim);
      for (float& x : v) x = unit(rng);
      vectors[i] = Unit(v);
      RetrieveRequest request;
      request.collection = "docs";
      request.vector = vectors[i];
      request.query_text = Question(i);
      request.k = 1;
      auto r = (*db)->Retrieve(request);
      if (!r.ok() || !(*db)->CacheStore({r->retrieval_id, "answer " + std::to_string(i), "model", ""}).ok()) {
        std::fprintf(stderr, "verity_bench_cache: fill failed at %zu\n", i);
        return 1;
      }
    }
    const double fill_s = std::chrono::duration<double>(Clock::now() - fill_start).count();
    Latency exact, semantic;
    for (size_t q = 0; q < queries; ++q) {
      const size_t i = rng() % n;
      CacheLookupRequest ask;
      ask.collection = "docs";
      ask.vector = vectors[i];
      ask.query_text = Question(i);
      ask.model = "model";
      auto t0 = Clock::now();
      (void)(*db)->CacheLookup(ask);
      exact.Add(t0);
      ask.vector = Noisy(vectors[i], 0.01f, rng);
      ask.query_text = Paraphrase(i);
      t0 = Clock::now();
      (void)(*db)->CacheLookup(ask);
      semantic.Add(t0);
    }
    std::printf("{\"bench\": \"database_cache_lookup\", \"entries\": %zu, \"dim\": %zu, \"fill_s\": %.2f, "
                "\"exact_p50_us\": %.1f, \"exact_p99_us\": %.1f, \"semantic_p50_us\": %.1f, \"semantic_p99_us\": %.1f}\n",
                n, dim, fill_s, exact.Percentile(0.5), exact.Percentile(0.99), semantic.Percentile(0.5),
                semantic.Percentile(0.99));
    (void)(*db)->Close();
    std::filesystem::remove_all(dir);
  }
  return 0;
}

}  // namespace
}  // namespace verity::bench

int main(int argc, char** argv) { return verity::bench::Main(argc, argv); }
