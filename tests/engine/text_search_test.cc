// Full-text, sparse and hybrid search through the Database (#26): BM25 at
// every version against a brute-force reference computed from the records
// valid then, across a restart and a GC that leaves a version to the rows
// alone; hybrid fusion against text::Fuse over the legs run one by one;
// sparse dot products; the retrieval log's text retrievals and their
// replays; restore; and the errors that name their field.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include "engine/test_data.h"
#include "text/analyzer.h"
#include "text/fusion.h"
#include "verity/filter_parser.h"

using namespace verity;

namespace {

const char* const kWords[] = {"alpha", "bravo",  "charlie", "delta",   "echo",  "foxtrot", "golf",   "hotel",
                              "india", "juliet", "kilo",    "lima",    "mike",  "november", "oscar", "papa",
                              "quebec", "romeo", "sierra",  "tango",   "uniform", "victor", "whiskey", "xray",
                              "yankee", "zulu",  "file",    "permission", "change", "mode", "owner", "group"};
constexpr size_t kWordCount = sizeof(kWords) / sizeof(kWords[0]);

// A text of `n` words drawn with a skew (low indexes are frequent).
std::string RandomText(std::mt19937_64& rng, size_t n) {
  std::string text;
  for (size_t i = 0; i < n; ++i) {
    const size_t a = rng() % kWordCount, b = rng() % kWordCount;
    text += (i ? " " : "") + std::string(kWords[std::min(a, b)]);
    if (rng() % 7 == 0) text += ",";
  }
  return text;
}

CollectionConfig TextConfig(const std::string& name, uint32_t dimension, const std::string& preset = "standard") {
  CollectionConfig config;
  config.name = name;
  config.dimension = dimension;
  config.text_index.enabled = true;
  config.text_index.analyzer.preset = preset;
  return config;
}

struct Scored {
  std::string id;
  double score;
};

// BM25 by brute force over `live` (the records valid at one version),
// written from the formula (docs/text-search.md), not from the index: the
// statistics count every live record; `accept` picks the candidates.
std::vector<Scored> ReferenceBm25(const std::map<std::string, Record>& live, const std::string& query, size_t k,
                                  const text::Analyzer& analyzer, const Filter* filter, double k1 = 1.2,
                                  double b = 0.75, const std::vector<TextFieldConfig>& fields = {}) {
  std::map<std::string, std::map<std::string, uint32_t>> tf;
  std::map<std::string, uint32_t> length;
  uint64_t total = 0;
  std::map<std::string, uint64_t> df;
  for (const auto& [id, r] : live) {
    // BM25F: a field's terms count `weight` times, in the frequencies and
    // in the length.
    auto add = [&](const std::string& value, uint32_t weight) {
      std::vector<std::string> terms;
      analyzer.Analyze(value, &terms);
      length[id] += static_cast<uint32_t>(terms.size()) * weight;
      total += terms.size() * weight;
      for (const auto& t : terms) tf[id][t] += weight;
    };
    length[id] = 0;
    add(r.text, 1);
    for (const TextFieldConfig& field : fields) {
      auto it = r.metadata.find(field.name);
      if (it == r.metadata.end()) continue;
      if (auto* s = std::get_if<std::string>(&it->second)) add(*s, field.weight);
      if (auto* list = std::get_if<std::vector<std::string>>(&it->second)) {
        for (const auto& s : *list) add(s, field.weight);
      }
    }
    for (const auto& [t, n] : tf[id]) ++df[t];
  }
  std::vector<std::string> qterms;
  analyzer.Analyze(query, &qterms);
  std::map<std::string, int> qcount;
  for (const auto& t : qterms) ++qcount[t];
  const double n = static_cast<double>(live.size());
  const double avg = live.empty() ? 1.0 : static_cast<double>(total) / n;
  std::vector<Scored> out;
  for (const auto& [id, r] : live) {
    if (filter && !filter->Matches(FilterFields(r.metadata, id, r.document_id))) continue;
    double score = 0;
    bool any = false;
    for (const auto& [t, count] : qcount) {
      auto it = tf[id].find(t);
      if (it == tf[id].end()) continue;
      any = true;
      const double d = static_cast<double>(df[t]);
      const double idf = std::log(1.0 + (n - d + 0.5) / (d + 0.5));
      const double f = it->second;
      score += count * idf * f * (k1 + 1) / (f + k1 * (1 - b + b * length[id] / avg));
    }
    if (any) out.push_back({id, score});
  }
  std::sort(out.begin(), out.end(), [](const Scored& x, const Scored& y) { return x.score > y.score; });
  if (out.size() > k) out.resize(k);
  return out;
}

// The hits equal the reference: same scores to 1e-9 (relative), and the
// same ids except where scores tie at the cut.
void CheckAgainstReference(const SearchResult& got, const std::vector<Scored>& want) {
  REQUIRE(got.hits.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    CHECK(got.hits[i].score == Approx(want[i].score).epsilon(1e-6));
    if (got.hits[i].id != want[i].id) {
      // Only a tie may reorder: the reference's score for this id is the same.
      CHECK(std::fabs(got.hits[i].score - want[i].score) < 1e-6 * std::max(1.0, want[i].score));
    }
  }
}

std::unique_ptr<Database> OpenDb(const std::string& path) {
  DatabaseOptions options = test::QuietOptions();
  options.gc_interval_seconds = 0;
  auto opened = Database::Open(path, options);
  REQUIRE(opened.ok());
  return std::move(opened).value();
}

}  // namespace

TEST_CASE("text search at every version equals brute-force BM25 over the records valid then", "[text][engine]") {
  test::TempDir dir;
  auto db = OpenDb(dir.path());
  REQUIRE(db->CreateCollection(TextConfig("docs", 0)).ok());
  AnalyzerConfig standard;
  auto analyzer = text::Analyzer::Create(standard);
  REQUIRE(analyzer.ok());

  test::ReferenceModel model;
  std::mt19937_64 rng(26);
  std::vector<std::string> ever;
  Version head = 0;
  for (int step = 0; step < 24; ++step) {
    if (step % 5 == 4) {
      std::vector<std::string> ids;
      for (int i = 0; i < 8; ++i) ids.push_back(ever[rng() % ever.size()]);
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      auto w = db->Delete("docs", ids);
      REQUIRE(w.ok());
      for (const auto& id : ids) model.Delete(w->version, id);
      head = w->version;
      continue;
    }
    std::vector<Record> batch;
    std::set<std::string> used;
    for (int i = 0; i < 25; ++i) {
      Record r;
      r.id = (rng() % 3 == 0 && !ever.empty()) ? ever[rng() % ever.size()] : "d" + std::to_string(ever.size() + i);
      if (!used.insert(r.id).second) continue;
      r.text = RandomText(rng, 3 + rng() % 30);
      r.metadata["group"] = static_cast<int64_t>(rng() % 3);
      batch.push_back(std::move(r));
    }
    auto w = db->Upsert("docs", batch);
    REQUIRE(w.ok());
    for (const auto& r : batch) {
      model.Upsert(w->version, r);
      if (std::find(ever.begin(), ever.end(), r.id) == ever.end()) ever.push_back(r.id);
    }
    head = w->version;
  }
  auto filter = ParseFilter("group = 1");
  REQUIRE(filter.ok());
  const std::vector<std::string> queries = {"alpha", "charlie delta", "file permission change", "zulu zulu yankee",
                                            "golf, hotel! india?", "nothing-matches-this"};
  // Every version's results, to compare after the restart.
  std::map<std::pair<Version, size_t>, std::vector<std::pair<std::string, float>>> before;
  for (Version v = 1; v <= head; ++v) {
    const auto live = model.At(v);
    for (size_t q = 0; q < queries.size(); ++q) {
      for (uint32_t k : {1u, 10u, 1000u}) {
        SearchRequest request;
        request.text = queries[q];
        request.k = k;
        request.at = v;
        request.with_payload = false;
        auto got = db->Search("docs", request);
        REQUIRE(got.ok());
        CHECK(got->version == v);
        CheckAgainstReference(*got, ReferenceBm25(live, queries[q], k, **analyzer, nullptr));
        if (k == 1000) {
          for (const auto& hit : got->hits) before[{v, q}].emplace_back(hit.id, hit.score);
        }
        request.filter = *filter;
        auto filtered = db->Search("docs", request);
        REQUIRE(filtered.ok());
        CheckAgainstReference(*filtered, ReferenceBm25(live, queries[q], k, **analyzer, &*filter));
      }
    }
  }

  // After a restart the index is built from its stored documents: the same
  // hits with bit-identical scores at every version.
  db.reset();
  db = OpenDb(dir.path());
  for (Version v = 1; v <= head; ++v) {
    for (size_t q = 0; q < queries.size(); ++q) {
      SearchRequest request;
      request.text = queries[q];
      request.k = 1000;
      request.at = v;
      auto got = db->Search("docs", request);
      REQUIRE(got.ok());
      std::vector<std::pair<std::string, float>> now;
      for (const auto& hit : got->hits) now.emplace_back(hit.id, hit.score);
      CHECK(now == before[{v, q}]);
    }
  }
}

TEST_CASE("a text retrieval is logged and replays identically, also from the rows after GC", "[text][engine]") {
  test::TempDir dir;
  auto db = OpenDb(dir.path());
  CollectionConfig config = TextConfig("kb", 0, "english");
  config.retention = RetentionPolicy{1, 0};
  REQUIRE(db->CreateCollection(config).ok());
  std::mt19937_64 rng(7);
  auto write = [&](int round) {
    std::vector<Record> records;
    for (int i = 0; i < 40; ++i) {
      Record r;
      r.id = "c" + std::to_string(i);
      r.text = RandomText(rng, 5 + rng() % 20) + (round == 0 ? " changing permissions of files" : "");
      r.document_id = "doc" + std::to_string(i % 4);
      records.push_back(std::move(r));
    }
    auto w = db->Upsert("kb", records);
    REQUIRE(w.ok());
    return w->version;
  };
  const Version v1 = write(0);
  RetrieveRequest retrieve;
  retrieve.collection = "kb";
  retrieve.text = "change the permission of a file";
  retrieve.k = 5;
  auto retrieved = db->Retrieve(retrieve);
  REQUIRE(retrieved.ok());
  REQUIRE(retrieved->version == v1);
  REQUIRE(retrieved->chunks.size() == 5);
  for (size_t i = 1; i < retrieved->chunks.size(); ++i) {
    CHECK(retrieved->chunks[i - 1].score >= retrieved->chunks[i].score);
  }
  auto logged = db->GetRetrieval(retrieved->retrieval_id);
  REQUIRE(logged.ok());
  CHECK(logged->first.text == retrieve.text);
  CHECK(logged->first.query_text == retrieve.text);
  CHECK(logged->first.analyzer_version == 1);
  CHECK(logged->first.analyzer_code_version == text::kAnalyzerCodeVersion);
  REQUIRE(logged->first.chunks.size() == 5);
  CHECK(logged->first.chunks[0].score == retrieved->chunks[0].score);

  for (ReplayMode mode : {ReplayMode::kContext, ReplayMode::kRetrieval, ReplayMode::kCounterfactual}) {
    ReplayRequest replay{retrieved->retrieval_id, mode, {}};
    auto replayed = db->Replay(replay);
    REQUIRE(replayed.ok());
    INFO(ReplayModeName(mode) << ": " << replayed->detail);
    CHECK(replayed->outcome == ReplayOutcome::kIdentical);
  }

  // Every record written again: the head no longer holds the phrase, and
  // GC leaves version 1 to the log pin alone, read from the rows.
  write(1);
  auto gc = db->Gc("kb");
  REQUIRE(gc.ok());
  REQUIRE(gc->log_only_rows == 40);
  SearchRequest at_v1;
  at_v1.text = retrieve.text;
  at_v1.k = 5;
  at_v1.at = v1;
  auto from_rows = db->Search("kb", at_v1);
  REQUIRE(from_rows.ok());
  REQUIRE(from_rows->hits.size() == 5);
  for (size_t i = 0; i < 5; ++i) {
    CHECK(from_rows->hits[i].id == retrieved->chunks[i].id);
    CHECK(from_rows->hits[i].score == retrieved->chunks[i].score);  // bit for bit
  }
  ReplayRequest again{retrieved->retrieval_id, ReplayMode::kRetrieval, {}};
  auto replayed = db->Replay(again);
  REQUIRE(replayed.ok());
  CHECK(replayed->outcome == ReplayOutcome::kIdentical);
  ReplayRequest now{retrieved->retrieval_id, ReplayMode::kCounterfactual, {}};
  auto moved = db->Replay(now);
  REQUIRE(moved.ok());
  CHECK(moved->outcome == ReplayOutcome::kDiffers);
}

TEST_CASE("hybrid search fuses its legs as text::Fuse does over each leg run alone", "[text][engine]") {
  test::TempDir dir;
  auto db = OpenDb(dir.path());
  constexpr uint32_t kDim = 6;
  REQUIRE(db->CreateCollection(TextConfig("h", kDim)).ok());
  std::mt19937_64 rng(11);
  auto vectors = test::ClusteredVectors(300, kDim, 5, 3);
  std::vector<Record> records;
  for (size_t i = 0; i < 300; ++i) {
    Record r = test::MakeRecord(i, vectors.data() + i * kDim, kDim);
    r.text = RandomText(rng, 4 + rng() % 12);
    records.push_back(std::move(r));
  }
  REQUIRE(db->Upsert("h", records).ok());
  for (FusionMethod method : {FusionMethod::kRrf, FusionMethod::kConvex}) {
    for (int q = 0; q < 5; ++q) {
      SearchRequest hybrid;
      hybrid.vector.assign(vectors.begin() + q * 7 * kDim, vectors.begin() + (q * 7 + 1) * kDim);
      hybrid.text = RandomText(rng, 2);
      hybrid.k = 10;
      hybrid.plan = SearchPlan::kExact;
      hybrid.with_payload = false;
      hybrid.fusion.method = method;
      hybrid.fusion.leg_limit = 50;
      hybrid.fusion.dense_weight = 0.7f;
      hybrid.fusion.text_weight = 1.3f;
      auto got = db->Search("h", hybrid);
      REQUIRE(got.ok());

      SearchRequest dense = hybrid;
      dense.text.clear();
      dense.k = 50;
      SearchRequest text = hybrid;
      text.vector.clear();
      text.k = 50;
      auto dense_hits = db->Search("h", dense);
      auto text_hits = db->Search("h", text);
      REQUIRE(dense_hits.ok());
      REQUIRE(text_hits.ok());
      std::vector<text::LegRanking> legs(2);
      legs[0].higher_is_better = false;
      legs[0].weight = 0.7f;
      for (const auto& h : dense_hits->hits) legs[0].hits.emplace_back(h.id, h.distance);
      legs[1].weight = 1.3f;
      for (const auto& h : text_hits->hits) legs[1].hits.emplace_back(h.id, h.score);
      const auto want = text::Fuse(legs, method, 60, 10);
      REQUIRE(got->hits.size() == want.size());
      for (size_t i = 0; i < want.size(); ++i) {
        CHECK(got->hits[i].id == want[i].id);
        CHECK(got->hits[i].score == static_cast<float>(want[i].score));
        CHECK(got->hits[i].dense.rank == want[i].legs[0].rank);
        CHECK(got->hits[i].text.rank == want[i].legs[1].rank);
        if (got->hits[i].dense.found()) CHECK(got->hits[i].distance == got->hits[i].dense.score);
      }
    }
  }
}

TEST_CASE("sparse vectors are searched by dot product at every version", "[text][engine]") {
  test::TempDir dir;
  auto db = OpenDb(dir.path());
  CollectionConfig config;
  config.name = "sp";
  config.dimension = 0;
  config.sparse_fields.push_back({"splade", 1000});
  REQUIRE(db->CreateCollection(config).ok());
  std::mt19937_64 rng(3);
  test::ReferenceModel model;
  auto random_sparse = [&](size_t n) {
    std::set<uint32_t> indices;
    while (indices.size() < n) indices.insert(static_cast<uint32_t>(rng() % 60));
    SparseVector v;
    for (uint32_t i : indices) {
      v.indices.push_back(i);
      v.values.push_back(static_cast<float>(rng() % 1000) / 250.0f);
    }
    return v;
  };
  std::map<Version, std::map<std::string, SparseVector>> at;
  std::map<std::string, SparseVector> live;
  Version head = 0;
  for (int step = 0; step < 6; ++step) {
    std::vector<Record> batch;
    for (int i = 0; i < 40; ++i) {
      Record r;
      r.id = "s" + std::to_string(rng() % 100);
      if (std::any_of(batch.begin(), batch.end(), [&](const Record& x) { return x.id == r.id; })) continue;
      r.sparse["splade"] = random_sparse(1 + rng() % 8);
      batch.push_back(std::move(r));
    }
    auto w = db->Upsert("sp", batch);
    REQUIRE(w.ok());
    for (const auto& r : batch) live[r.id] = r.sparse.at("splade");
    head = w->version;
    at[head] = live;
  }
  for (const auto& [v, records] : at) {
    for (int q = 0; q < 5; ++q) {
      SearchRequest request;
      request.sparse_field = "splade";
      request.sparse = random_sparse(3);
      request.k = 10;
      request.at = v;
      auto got = db->Search("sp", request);
      REQUIRE(got.ok());
      std::vector<Scored> want;
      for (const auto& [id, doc] : records) {
        double dot = 0;
        bool any = false;
        for (size_t i = 0; i < request.sparse.indices.size(); ++i) {
          auto it = std::find(doc.indices.begin(), doc.indices.end(), request.sparse.indices[i]);
          if (it == doc.indices.end()) continue;
          any = true;
          dot += static_cast<double>(request.sparse.values[i]) * doc.values[it - doc.indices.begin()];
        }
        if (any) want.push_back({id, dot});
      }
      std::sort(want.begin(), want.end(), [](const Scored& x, const Scored& y) { return x.score > y.score; });
      if (want.size() > 10) want.resize(10);
      CheckAgainstReference(*got, want);
    }
  }
  auto stored = db->Get("sp", at.rbegin()->second.begin()->first);
  REQUIRE(stored.ok());
  CHECK(stored->record.sparse.at("splade") == at.rbegin()->second.begin()->second);
}

TEST_CASE("restore brings the text index back to the restored version", "[text][engine]") {
  test::TempDir dir;
  auto db = OpenDb(dir.path());
  REQUIRE(db->CreateCollection(TextConfig("r", 0, "english")).ok());
  std::mt19937_64 rng(19);
  Version first = 0;
  for (int round = 0; round < 3; ++round) {
    std::vector<Record> records;
    for (int i = 0; i < 30; ++i) {
      Record r;
      r.id = "x" + std::to_string((i + round * 10) % 40);
      r.text = RandomText(rng, 6 + rng() % 10);
      records.push_back(std::move(r));
    }
    auto w = db->Upsert("r", records);
    REQUIRE(w.ok());
    if (round == 0) first = w->version;
  }
  auto restored = db->Restore("r", first);
  REQUIRE(restored.ok());
  for (const char* query : {"alpha bravo", "file owner", "tango"}) {
    SearchRequest then;
    then.text = query;
    then.k = 50;
    then.at = first;
    SearchRequest now = then;
    now.at = ReadPoint::Head();
    auto a = db->Search("r", then), b = db->Search("r", now);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    REQUIRE(a->hits.size() == b->hits.size());
    for (size_t i = 0; i < a->hits.size(); ++i) {
      CHECK(a->hits[i].id == b->hits[i].id);
      CHECK(a->hits[i].score == b->hits[i].score);
    }
  }
}

TEST_CASE("text search errors name their field", "[text][engine]") {
  test::TempDir dir;
  auto db = OpenDb(dir.path());
  REQUIRE(db->CreateCollection(test::MakeConfig("plain", 2)).ok());
  CollectionConfig sparse_only;
  sparse_only.name = "sparse";
  sparse_only.sparse_fields.push_back({"s", 10});
  REQUIRE(db->CreateCollection(sparse_only).ok());
  REQUIRE(db->CreateCollection(TextConfig("words", 0)).ok());

  SearchRequest by_text;
  by_text.text = "hello";
  auto no_index = db->Search("plain", by_text);
  CHECK(no_index.status().code() == StatusCode::kFailedPrecondition);
  CHECK(no_index.status().field() == "text");

  CollectionConfig bad = TextConfig("bad", 0, "klingon");
  auto bad_preset = db->CreateCollection(bad);
  CHECK(bad_preset.status().code() == StatusCode::kInvalidArgument);
  CHECK(bad_preset.status().field() == "text_index.analyzer.preset");

  CollectionConfig nothing;
  nothing.name = "nothing";
  nothing.dimension = 0;
  CHECK(db->CreateCollection(nothing).status().field() == "dimension");

  SearchRequest vector_query;
  vector_query.vector = {1, 2};
  CHECK(db->Search("words", vector_query).status().field() == "vector");
  CHECK(db->Search("words", SearchRequest{}).status().field() == "text");

  Record r;
  r.id = "a";
  r.sparse["s"] = SparseVector{{3, 10}, {1.0f, 2.0f}};
  auto out_of_range = db->Upsert("sparse", {r});
  CHECK(out_of_range.status().code() == StatusCode::kInvalidArgument);
  CHECK(out_of_range.status().field() == "records[0].sparse[\"s\"].indices[1]");
  r.sparse.clear();
  r.sparse["other"] = SparseVector{{1}, {1.0f}};
  CHECK(db->Upsert("sparse", {r}).status().field() == "records[0].sparse[\"other\"]");

  SearchRequest hybrid;
  hybrid.text = "x";
  hybrid.fusion.rrf_k = 0;
  CHECK(db->Search("words", hybrid).status().field() == "fusion.rrf_k");
  SearchRequest sparse_query;
  sparse_query.sparse_field = "s";
  sparse_query.sparse = SparseVector{{11}, {1.0f}};
  CHECK(db->Search("sparse", sparse_query).status().field() == "sparse.indices[0]");
  sparse_query.sparse_field = "nope";
  CHECK(db->Search("sparse", sparse_query).status().field() == "sparse_field");
}

TEST_CASE("BM25F: metadata fields weighted beside the text equal the reference at every version", "[text][engine]") {
  test::TempDir dir;
  auto db = OpenDb(dir.path());
  CollectionConfig config = TextConfig("f", 0);
  config.text_index.fields = {{"title", 3}, {"tags", 2}};
  REQUIRE(db->CreateCollection(config).ok());
  auto info = db->GetCollection("f");
  REQUIRE(info.ok());
  REQUIRE(info->config.text_index.fields == config.text_index.fields);
  AnalyzerConfig standard;
  auto analyzer = text::Analyzer::Create(standard);
  REQUIRE(analyzer.ok());
  test::ReferenceModel model;
  std::mt19937_64 rng(31);
  std::vector<Version> versions;
  for (int round = 0; round < 6; ++round) {
    std::vector<Record> batch;
    for (int i = 0; i < 20; ++i) {
      Record r;
      r.id = "d" + std::to_string((round * 13 + i) % 50);
      r.text = RandomText(rng, 4 + rng() % 20);
      if (rng() % 4 != 0) r.metadata["title"] = RandomText(rng, 1 + rng() % 4);
      if (rng() % 3 == 0) r.metadata["tags"] = std::vector<std::string>{RandomText(rng, 1), RandomText(rng, 2)};
      if (rng() % 5 == 0) r.metadata["title2"] = RandomText(rng, 3);  // not indexed
      if (rng() % 7 == 0) r.metadata["title"] = static_cast<int64_t>(5);  // not a string: adds nothing
      batch.push_back(std::move(r));
    }
    std::sort(batch.begin(), batch.end(), [](const Record& a, const Record& b) { return a.id < b.id; });
    batch.erase(std::unique(batch.begin(), batch.end(), [](const Record& a, const Record& b) { return a.id == b.id; }),
                batch.end());
    auto w = db->Upsert("f", batch);
    REQUIRE(w.ok());
    for (const auto& r : batch) model.Upsert(w->version, r);
    versions.push_back(w->version);
  }
  const std::vector<std::string> queries = {"alpha", "bravo charlie", "file permission owner", "zulu"};
  auto check = [&](Database& d) {
    for (Version v : versions) {
      for (const std::string& q : queries) {
        SearchRequest request;
        request.text = q;
        request.k = 20;
        request.at = v;
        auto got = d.Search("f", request);
        REQUIRE(got.ok());
        INFO("version " << v << " query " << q);
        CheckAgainstReference(*got, ReferenceBm25(model.At(v), q, 20, **analyzer, nullptr, 1.2, 0.75,
                                                  config.text_index.fields));
      }
    }
  };
  check(*db);
  db.reset();
  db = OpenDb(dir.path());  // the documents as stored
  check(*db);
}
