// PostingIndex (engine/src/text/posting_index.h) against a brute-force
// reference computed from the raw documents: BM25 and dot-product scores,
// MVCC-exact statistics at every version, pruned == exhaustive, Load ==
// incremental adds, pruning actually skipping postings, and searches beside
// a writer.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "text/posting_index.h"

using namespace verity;
using namespace verity::text;

namespace Catch {
template <>
struct StringMaker<ScoredDoc> {
  static std::string convert(const ScoredDoc& d) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%u:%.17g", d.doc, d.score);
    return buf;
  }
};
}  // namespace Catch

namespace {

// The raw documents and their ranges, mirrored by every index update.
struct RefDoc {
  DocRanges ranges;
  DocTerms content;
  bool collected = false;
};

class Model {
 public:
  std::map<DocId, RefDoc> docs;

  bool Visible(const RefDoc& d, Version v) const { return !d.collected && d.ranges.VisibleAt(v); }

  CorpusStats Stats(Version v) const {
    CorpusStats s;
    for (const auto& [id, d] : docs) {
      if (!Visible(d, v)) continue;
      ++s.docs;
      s.total_length += d.content.length;
    }
    return s;
  }

  uint64_t Df(const std::string& term, Version v) const {
    uint64_t df = 0;
    for (const auto& [id, d] : docs) {
      if (Visible(d, v) && Find(d, term) != nullptr) ++df;
    }
    return df;
  }

  static const float* Find(const RefDoc& d, const std::string& term) {
    for (const auto& [t, w] : d.content.terms) {
      if (t == term) return &w;
    }
    return nullptr;
  }

  // Every visible document, scored term by term in query order.
  std::vector<ScoredDoc> Search(PostingIndex::Kind kind, const Bm25Params& params, const std::vector<QueryTerm>& query,
                                Version v, uint32_t k, const DocAccept& accept) const {
    const CorpusStats stats = Stats(v);
    const double avg = stats.docs == 0 || stats.total_length == 0
                           ? 1.0
                           : static_cast<double>(stats.total_length) / static_cast<double>(stats.docs);
    std::vector<double> idf;
    for (const QueryTerm& t : query) idf.push_back(Bm25Idf(stats.docs, Df(t.term, v)));
    std::vector<ScoredDoc> all;
    for (const auto& [id, d] : docs) {
      if (!Visible(d, v) || (accept && !accept(id))) continue;
      double score = 0.0;
      bool matched = false;
      for (size_t i = 0; i < query.size(); ++i) {
        const float* w = Find(d, query[i].term);
        if (w == nullptr) continue;
        matched = true;
        const double qw = static_cast<double>(query[i].weight);
        score += kind == PostingIndex::Kind::kDot
                     ? qw * static_cast<double>(*w)
                     : qw * Bm25TermScore(idf[i], static_cast<uint32_t>(*w), d.content.length, avg, params);
      }
      if (matched) all.push_back(ScoredDoc{id, score});
    }
    std::sort(all.begin(), all.end(), [](const ScoredDoc& a, const ScoredDoc& b) {
      return a.score > b.score || (a.score == b.score && a.doc < b.doc);
    });
    if (all.size() > k) all.resize(k);
    return all;
  }
};

std::string Word(size_t i) { return "w" + std::to_string(i); }

// A skewed pick from [0, n): low indices far more often (frequent terms).
size_t Skewed(std::mt19937& rng, size_t n) {
  const double u = std::uniform_real_distribution<double>(0, 1)(rng);
  return std::min(n - 1, static_cast<size_t>(static_cast<double>(n) * u * u * u));
}

DocTerms TextContent(std::mt19937& rng, size_t vocab) {
  std::map<std::string, float> counts;
  const int words = std::uniform_int_distribution<int>(1, 12)(rng);
  for (int i = 0; i < words; ++i) counts[Word(Skewed(rng, vocab))] += 1;
  DocTerms content;
  for (const auto& [t, c] : counts) content.terms.emplace_back(t, c);
  content.length = static_cast<uint32_t>(words);
  std::shuffle(content.terms.begin(), content.terms.end(), rng);
  return content;
}

DocTerms SparseContent(std::mt19937& rng, size_t dims, bool negatives) {
  std::map<uint32_t, float> values;
  const int n = std::uniform_int_distribution<int>(1, 8)(rng);
  std::uniform_real_distribution<float> value(negatives ? -1.0f : 0.0f, 1.0f);
  // Few distinct values, so that equal scores (ties) happen.
  for (int i = 0; i < n; ++i) values[static_cast<uint32_t>(Skewed(rng, dims))] = std::round(value(rng) * 8) / 8;
  DocTerms content;
  for (const auto& [index, v] : values) content.terms.emplace_back(SparseTerm(index), v);
  return content;
}

// A random history applied to an index and the model alike: adds,
// replaces and deletes (Close), revives, and collects below a horizon.
struct History {
  PostingIndex::Kind kind = PostingIndex::Kind::kBm25;
  size_t vocab = 40;
  bool negatives = false;
  Model model;
  Version head = 0;
  Version horizon = 0;  // versions below it may have lost collected documents
  DocId next = 0;
  int max_ops = 30;  // per commit: enough documents for lists of several 128-posting blocks
  bool collect = true;  // GC every 8 commits

  DocTerms Content(std::mt19937& rng) const {
    return kind == PostingIndex::Kind::kBm25 ? TextContent(rng, vocab) : SparseContent(rng, vocab, negatives);
  }
  bool Open(const RefDoc& d) const {
    return !d.collected && ((d.ranges.from2 != kOpen && d.ranges.to2 == kOpen) ||
                            (d.ranges.from2 == kOpen && d.ranges.to == kOpen));
  }
  void Add(PostingIndex& index, std::mt19937& rng, Version v) {
    RefDoc d;
    d.content = Content(rng);
    d.ranges.from = v;
    index.Add(next, v, d.content);
    model.docs[next++] = d;
  }
  void Close(PostingIndex& index, DocId id, Version v) {
    RefDoc& d = model.docs[id];
    (d.ranges.from2 != kOpen ? d.ranges.to2 : d.ranges.to) = v;
    index.Close(id, v);
  }
  DocId Pick(std::mt19937& rng) const {
    auto it = model.docs.begin();
    std::advance(it, std::uniform_int_distribution<size_t>(0, model.docs.size() - 1)(rng));
    return it->first;
  }
  void Commit(PostingIndex& index, std::mt19937& rng) {
    const Version v = ++head;
    const int ops = std::uniform_int_distribution<int>(1, max_ops)(rng);
    for (int i = 0; i < ops; ++i) {
      const int op = std::uniform_int_distribution<int>(0, 99)(rng);
      if (op < 40 || model.docs.empty()) {
        Add(index, rng, v);
        continue;
      }
      const DocId id = Pick(rng);
      RefDoc& d = model.docs[id];
      if (op < 75 && Open(d)) {  // replace or delete
        Close(index, id, v);
        if (op < 55) Add(index, rng, v);
      } else if (op >= 75 && !d.collected && d.ranges.to != kOpen && d.ranges.from2 == kOpen) {
        d.ranges.from2 = v;  // Restore
        index.Revive(id, v);
      }
    }
    if (collect && head % 8 == 0) CollectBelow(index, head - 4);
  }
  // GC: versions below h are gone; documents no version >= h sees go.
  void CollectBelow(PostingIndex& index, Version h) {
    horizon = h;
    for (auto& [id, d] : model.docs) {
      if (d.collected || Open(d)) continue;
      const Version end = d.ranges.from2 != kOpen ? d.ranges.to2 : d.ranges.to;
      if (end <= h) {
        d.collected = true;
        index.Collect(id);
      }
    }
  }
};

std::vector<QueryTerm> RandomQuery(std::mt19937& rng, const History& h) {
  std::vector<QueryTerm> q;
  const int n = std::uniform_int_distribution<int>(1, 4)(rng);
  for (int i = 0; i < n; ++i) {
    const size_t t = Skewed(rng, h.vocab + 3);  // sometimes a term no document has
    QueryTerm term;
    term.term = h.kind == PostingIndex::Kind::kBm25 ? Word(t) : SparseTerm(static_cast<uint32_t>(t));
    term.weight = h.kind == PostingIndex::Kind::kBm25
                      ? static_cast<float>(std::uniform_int_distribution<int>(1, 3)(rng))
                      : std::round(std::uniform_real_distribution<float>(h.negatives ? -1.0f : 0.0f, 1.0f)(rng) * 4) / 4;
    q.push_back(term);
  }
  return q;
}

uint32_t Mix(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  return x ^ (x >> 16);
}

// A pre-filter taking about `per_mille` / 1000 of the documents.
DocAccept Filter(uint32_t per_mille, uint32_t seed) {
  if (per_mille >= 1000) return nullptr;
  return [per_mille, seed](DocId d) { return Mix(d ^ seed) % 1000 < per_mille; };
}

// Search, SearchExhaustive and the reference agree exactly at version v.
void CheckSearches(const PostingIndex& index, const History& h, std::mt19937& rng, Version v, int queries) {
  for (int i = 0; i < queries; ++i) {
    const std::vector<QueryTerm> q = RandomQuery(rng, h);
    for (uint32_t k : {1u, 10u, 100u, 100000u}) {
      for (uint32_t per_mille : {1000u, 500u, 100u, 10u}) {
        const DocAccept accept = Filter(per_mille, static_cast<uint32_t>(rng()));
        INFO("version " << v << " k " << k << " filter " << per_mille << " query of " << q.size() << " terms, first "
                        << q[0].term << " x" << q[0].weight);
        const auto expected = h.model.Search(index.kind(), index.params(), q, v, k, accept);
        REQUIRE(index.SearchExhaustive(q, v, k, accept) == expected);
        REQUIRE(index.Search(q, v, k, accept) == expected);
      }
    }
  }
}

void CheckStats(const PostingIndex& index, const History& h, Version v) {
  const CorpusStats expected = h.model.Stats(v);
  const CorpusStats got = index.StatsAt(v);
  INFO("version " << v);
  REQUIRE(got.docs == expected.docs);
  REQUIRE(got.total_length == expected.total_length);
  for (size_t t = 0; t < h.vocab + 2; ++t) {
    const std::string term = h.kind == PostingIndex::Kind::kBm25 ? Word(t) : SparseTerm(static_cast<uint32_t>(t));
    REQUIRE(index.DocFrequencyAt(term, v) == h.model.Df(term, v));
  }
}

}  // namespace

TEST_CASE("BM25 scores and stats equal the reference at every version of a random history", "[text]") {
  for (uint32_t seed : {1u, 2u, 3u}) {
    std::mt19937 rng(seed);
    History h;
    h.vocab = seed == 3 ? 8 : 40;  // a tiny vocabulary: many equal scores
    PostingIndex index(PostingIndex::Kind::kBm25, seed == 2 ? Bm25Params{0.0, 0.0} : Bm25Params{});
    for (int c = 0; c < 60; ++c) h.Commit(index, rng);
    CHECK(h.model.Df(Word(0), h.head) > 128);  // lists of several blocks
    for (Version v = h.horizon; v <= h.head + 1; ++v) {
      CheckStats(index, h, v);
      CheckSearches(index, h, rng, v, 3);
    }
  }
}

TEST_CASE("BM25 with b = 1 and a large k1 keeps Search equal to SearchExhaustive", "[text]") {
  std::mt19937 rng(7);
  History h;
  PostingIndex index(PostingIndex::Kind::kBm25, Bm25Params{5.0, 1.0});
  for (int c = 0; c < 80; ++c) h.Commit(index, rng);
  for (Version v = h.horizon; v <= h.head; v += 7) CheckSearches(index, h, rng, v, 5);
}

TEST_CASE("Load in shuffled order gives the index that incremental adds give", "[text]") {
  std::mt19937 rng(11);
  History h;
  PostingIndex incremental(PostingIndex::Kind::kBm25);
  for (int c = 0; c < 50; ++c) h.Commit(incremental, rng);

  PostingIndex loaded(PostingIndex::Kind::kBm25);
  std::vector<DocId> ids;
  uint64_t seen_by_some_version = 0;
  for (const auto& [id, d] : h.model.docs) {
    if (d.collected) continue;
    ids.push_back(id);
    const DocRanges& r = d.ranges;
    seen_by_some_version += r.from < r.to || (r.from2 != kOpen && r.from2 < r.to2);
  }
  std::shuffle(ids.begin(), ids.end(), rng);
  for (DocId id : ids) loaded.Load(id, h.model.docs[id].ranges, h.model.docs[id].content);
  // A document no version sees (added and closed by one commit) is skipped.
  loaded.Load(h.next + 100, DocRanges{5, 5, kOpen, kOpen}, DocTerms{{{"w1", 1}}, 1});
  CHECK_FALSE(loaded.Contains(h.next + 100));
  CHECK(loaded.documents() == seen_by_some_version);

  for (Version v = h.horizon; v <= h.head; ++v) {
    CHECK(loaded.StatsAt(v).docs == incremental.StatsAt(v).docs);
    CHECK(loaded.StatsAt(v).total_length == incremental.StatsAt(v).total_length);
    CheckStats(loaded, h, v);
    CheckSearches(loaded, h, rng, v, 2);
    for (int i = 0; i < 5; ++i) {
      const auto q = RandomQuery(rng, h);
      REQUIRE(loaded.Search(q, v, 10, nullptr) == incremental.Search(q, v, 10, nullptr));
    }
  }
  // Run-time updates after the load go on from there.
  for (int c = 0; c < 20; ++c) h.Commit(loaded, rng);
  for (Version v = h.horizon; v <= h.head; ++v) {
    CheckStats(loaded, h, v);
    CheckSearches(loaded, h, rng, v, 2);
  }
}

TEST_CASE("dot-product search equals the reference, with and without negative values", "[text]") {
  for (bool negatives : {false, true}) {
    std::mt19937 rng(negatives ? 21 : 20);
    History h;
    h.kind = PostingIndex::Kind::kDot;
    h.vocab = 30;
    h.negatives = negatives;
    PostingIndex index(PostingIndex::Kind::kDot);
    for (int c = 0; c < 50; ++c) h.Commit(index, rng);
    for (Version v = h.horizon; v <= h.head; v += 3) {
      CheckStats(index, h, v);
      CheckSearches(index, h, rng, v, 4);
    }
  }
  // By hand: a negative query value ranks the document holding it last.
  PostingIndex index(PostingIndex::Kind::kDot);
  index.Add(0, 1, DocTerms{{{SparseTerm(7), 2.0f}, {SparseTerm(9), 1.0f}}, 0});
  index.Add(1, 1, DocTerms{{{SparseTerm(7), 1.0f}}, 0});
  index.Add(2, 1, DocTerms{{{SparseTerm(3), 5.0f}}, 0});  // no query term: never matches
  const std::vector<QueryTerm> q{{SparseTerm(7), 1.0f}, {SparseTerm(9), -4.0f}};
  const std::vector<ScoredDoc> expected{{1, 1.0}, {0, -2.0}};
  CHECK(index.Search(q, 1, 10, nullptr) == expected);
  CHECK(index.SearchExhaustive(q, 1, 10, nullptr) == expected);
  CHECK(SparseTerm(0x01020304) == std::string("\x01\x02\x03\x04", 4));
}

TEST_CASE("Search scores far fewer documents than the query's postings on a skewed corpus", "[text]") {
  // "common" in every document, "rare" in 1 of 100: k = 10 needs only the
  // rare term's postings once ten of them are in the heap.
  PostingIndex index(PostingIndex::Kind::kBm25);
  const DocId n = 100000;
  for (DocId d = 0; d < n; ++d) {
    DocTerms content;
    content.terms.emplace_back("common", static_cast<float>(1 + d % 3));
    uint32_t length = 1 + d % 3;
    if (d % 100 == 37) {
      content.terms.emplace_back("rare", static_cast<float>(1 + d % 2));
      length += 1 + d % 2;
    }
    content.terms.emplace_back("filler" + std::to_string(d % 50), 5.0f);
    content.length = length + 5;
    index.Add(d, 1 + d / 1000, content);  // 100 commits
  }
  const std::vector<QueryTerm> q{{"common", 1}, {"rare", 1}};
  const uint64_t postings = 101000;  // of the query's two terms
  // accept is called on candidates only: after the bounds, before scoring.
  for (Version v : {Version{100}, Version{40}}) {
    uint64_t pruned_calls = 0;
    uint64_t exhaustive_calls = 0;
    const auto pruned = index.Search(q, v, 10, [&](DocId) { return ++pruned_calls, true; });
    const auto exhaustive = index.SearchExhaustive(q, v, 10, [&](DocId) { return ++exhaustive_calls, true; });
    INFO("version " << v << ": candidates " << pruned_calls << " pruned, " << exhaustive_calls << " exhaustive");
    CHECK(pruned == exhaustive);
    CHECK(exhaustive_calls == v * 1000);
    CHECK(pruned_calls * 10 < postings);
  }
}

TEST_CASE("searches at a published version beside a writer see exactly that version", "[text][concurrency]") {
  PostingIndex index(PostingIndex::Kind::kBm25);
  History h;
  h.vocab = 30;
  h.collect = false;  // GC removes only versions no reader reads; these readers may lag
  std::mt19937 writer_rng(5);
  std::atomic<Version> published{0};
  std::atomic<bool> stop{false};
  struct Seen {
    Version v;
    std::vector<QueryTerm> q;
    std::vector<ScoredDoc> result;
  };
  std::vector<std::vector<Seen>> seen(2);
  std::atomic<int> mismatches{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      std::mt19937 rng(100 + r);
      while (!stop.load()) {
        const Version v = published.load();
        Seen s{v, RandomQuery(rng, h), {}};
        s.result = index.Search(s.q, v, 10, nullptr);
        if (s.result != index.SearchExhaustive(s.q, v, 10, nullptr)) ++mismatches;
        if (seen[r].size() < 300) seen[r].push_back(std::move(s));
      }
    });
  }
  for (int c = 0; c < 150; ++c) {
    h.Commit(index, writer_rng);  // applied before the version is published
    published.store(h.head);
  }
  stop.store(true);
  for (auto& t : readers) t.join();
  CHECK(mismatches.load() == 0);
  // MVCC-exact: the same search now, after all the later commits, gives
  // the same floats.
  for (const auto& list : seen) {
    for (const Seen& s : list) {
      if (s.v < h.horizon) continue;
      REQUIRE(index.Search(s.q, s.v, 10, nullptr) == s.result);
      REQUIRE(h.model.Search(index.kind(), index.params(), s.q, s.v, 10, nullptr) == s.result);
    }
  }
}

TEST_CASE("Close, Revive and Collect change what a version sees", "[text]") {
  PostingIndex index(PostingIndex::Kind::kBm25);
  index.Add(0, 1, DocTerms{{{"a", 2}, {"b", 1}}, 3});
  index.Add(1, 2, DocTerms{{{"a", 1}}, 1});
  index.Close(0, 3);   // deleted at 3
  index.Revive(0, 5);  // restored at 5
  index.Close(1, 6);
  CHECK(index.StatsAt(0).docs == 0);
  CHECK(index.StatsAt(1).docs == 1);
  CHECK(index.StatsAt(2).docs == 2);
  CHECK(index.StatsAt(2).total_length == 4);
  CHECK(index.StatsAt(3).docs == 1);
  CHECK(index.StatsAt(5).docs == 2);
  CHECK(index.StatsAt(6).docs == 1);
  CHECK(index.DocFrequencyAt("a", 4) == 1);
  CHECK(index.DocFrequencyAt("b", 4) == 0);
  CHECK(index.DocFrequencyAt("b", 5) == 1);
  CHECK(index.DocFrequencyAt("zzz", 5) == 0);
  const std::vector<QueryTerm> q{{"a", 1}};
  CHECK(index.Search(q, 4, 10, nullptr).size() == 1);
  CHECK(index.Search(q, 5, 10, nullptr).size() == 2);
  index.Collect(1);  // no version can see it any more: never returned
  CHECK(index.Search(q, 5, 10, nullptr).size() == 1);
  CHECK(index.Contains(1));
  CHECK(index.documents() == 2);
  CHECK(index.postings() == 3);
  CHECK(index.memory_bytes() > 0);
  CHECK(index.Search(q, 5, 0, nullptr).empty());
  CHECK(index.Search({}, 5, 10, nullptr).empty());
}
