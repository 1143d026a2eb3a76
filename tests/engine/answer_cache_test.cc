#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <thread>

#include "cache/answer_cache.h"
#include "index/distance.h"
#include "index/hnsw_graph.h"
#include "engine/test_data.h"
#include "verity/database.h"

using namespace verity;

namespace {

// A collection "docs" of dimension 4 with a few texts, and a registered
// prompt "qa" (production = 1).
std::unique_ptr<Database> OpenWithDocs(const test::TempDir& dir, DatabaseOptions options = test::QuietOptions()) {
  auto db = Database::Open(dir.path(), options);
  REQUIRE(db.ok());
  CollectionConfig config;
  config.name = "docs";
  config.dimension = 4;
  REQUIRE((*db)->CreateCollection(config).ok());
  std::vector<Record> records;
  for (int i = 0; i < 6; ++i) {
    Record r;
    r.id = "r" + std::to_string(i);
    r.vector = {float(i), 1, 0.5f, 0};
    r.text = "In " + std::to_string(2018 + i) + " revenue was " + std::to_string(10 + i) + " million.";
    records.push_back(r);
  }
  REQUIRE((*db)->Upsert("docs", records).ok());
  REQUIRE((*db)->CreatePromptVersion({"qa", "Answer {{question}} from {{context}}.", "", "", "", {"production"}}).ok());
  return std::move(*db);
}

// Retrieves for `question` (vector `v`), records `answer` and caches it.
std::string Answered(Database& db, const std::vector<float>& v, const std::string& question, const std::string& answer,
                     const std::string& model = "m1", const std::string& params = R"({"temperature": 0})") {
  RetrieveRequest request;
  request.collection = "docs";
  request.vector = v;
  request.query_text = question;
  request.k = 2;
  request.prompt = "qa";
  auto r = db.Retrieve(request);
  REQUIRE(r.ok());
  REQUIRE(db.RecordAnswer({r->retrieval_id, answer, model, 0, 0}).ok());
  REQUIRE(db.CacheStore({r->retrieval_id, "", model, params}).ok());
  return r->retrieval_id;
}

CacheLookupRequest Ask(const std::vector<float>& v, const std::string& question, const std::string& model = "m1",
                       const std::string& params = R"({"temperature": 0})") {
  CacheLookupRequest q;
  q.collection = "docs";
  q.vector = v;
  q.query_text = question;
  q.prompt = "qa";
  q.model = model;
  q.params_json = params;
  return q;
}

}  // namespace

TEST_CASE("answer cache: exact and semantic hits, refused when numbers or negations differ", "[engine][cache]") {
  test::TempDir dir;
  auto db = OpenWithDocs(dir);
  const std::vector<float> v = {2, 1, 0.5f, 0};
  const std::string source = Answered(*db, v, "What was the revenue in 2020?", "12 million.");

  // Exact: the same question; parameters compared canonically (key order, spaces).
  auto exact = db->CacheLookup(Ask(v, "What was the revenue in 2020?", "m1", R"({ "temperature" : 0 })"));
  REQUIRE(exact.ok());
  CHECK(exact->match == CacheMatch::kExact);
  CHECK(exact->answer == "12 million.");
  CHECK(exact->source_retrieval_id == source);
  CHECK(exact->prompt == "qa@1");

  // Semantic: a paraphrase with a close vector and the same critical tokens.
  const std::vector<float> close = {2.02f, 1, 0.49f, 0.01f};
  auto paraphrase = db->CacheLookup(Ask(close, "How much revenue was there in 2020?"));
  REQUIRE(paraphrase.ok());
  CHECK(paraphrase->match == CacheMatch::kSemantic);
  CHECK(paraphrase->similarity >= 0.95);
  CHECK(paraphrase->answer == "12 million.");

  // A changed number or a negation: refused, never served.
  auto year = db->CacheLookup(Ask(close, "What was the revenue in 2021?"));
  REQUIRE(year.ok());
  CHECK(year->match == CacheMatch::kMiss);
  CHECK(year->refused == 1);
  CHECK(year->refused_reason.find("2020") != std::string::npos);
  auto negated = db->CacheLookup(Ask(close, "What was not the revenue in 2020?"));
  CHECK(negated->match == CacheMatch::kMiss);
  CHECK(negated->refused == 1);
  // Too far away: a plain miss. Semantic off: only exact.
  auto far = db->CacheLookup(Ask({0, 0, 0, 1}, "How much revenue was there in 2020?"));
  CHECK((far->match == CacheMatch::kMiss && far->refused == 0));
  CacheLookupRequest exact_only = Ask(close, "How much revenue was there in 2020?");
  exact_only.semantic = false;
  CHECK(db->CacheLookup(exact_only)->match == CacheMatch::kMiss);

  const CacheStats stats = db->GetCacheStats();
  CHECK(stats.entries == 1);
  CHECK(stats.stores == 1);
  CHECK(stats.exact_hits == 1);
  CHECK(stats.semantic_hits == 1);
  CHECK(stats.misses == 4);
  CHECK(stats.refused_false_hits == 2);
}

TEST_CASE("answer cache: min_similarity 0 is 0, unset is the default 0.95 (#25)", "[engine][cache]") {
  test::TempDir dir;
  auto db = OpenWithDocs(dir);
  Answered(*db, {2, 1, 0.5f, 0}, "What was the revenue in 2020?", "12 million.");
  // Cosine similarity about 0.62 to the cached question's vector.
  CacheLookupRequest ask = Ask({1, 0, 0, 1}, "How much revenue was there in 2020?");
  CHECK(db->CacheLookup(ask)->match == CacheMatch::kMiss);
  ask.min_similarity = 0;
  auto any = db->CacheLookup(ask);
  REQUIRE(any.ok());
  CHECK(any->match == CacheMatch::kSemantic);
  CHECK(any->similarity == Approx(0.617).epsilon(0.01));
  ask.min_similarity = 0.7;
  CHECK(db->CacheLookup(ask)->match == CacheMatch::kMiss);
  ask.min_similarity = -0.1;
  CHECK(db->CacheLookup(ask).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("answer cache: a write, a moved prompt label or another model makes entries unreachable",
          "[engine][cache]") {
  test::TempDir dir;
  auto db = OpenWithDocs(dir);
  const std::vector<float> v = {3, 1, 0.5f, 0};
  const std::string question = "What was the revenue in 2021?";
  Answered(*db, v, question, "13 million.");
  CHECK(db->CacheLookup(Ask(v, question))->match == CacheMatch::kExact);
  CHECK(db->CacheLookup(Ask(v, question, "m2"))->match == CacheMatch::kMiss);
  CHECK(db->CacheLookup(Ask(v, question, "m1", R"({"temperature": 1})"))->match == CacheMatch::kMiss);

  // A new prompt version under the production label: unreachable; moving
  // the label back makes the entry reachable again (it was made under qa@1).
  REQUIRE(db->CreatePromptVersion({"qa", "Answer {{question}} briefly from {{context}}.", "", "", "", {"production"}})
              .ok());
  auto moved = db->CacheLookup(Ask(v, question));
  CHECK(moved->match == CacheMatch::kMiss);
  CHECK(moved->prompt == "qa@2");
  REQUIRE(db->SetPromptLabel("qa", "production", 1, "ops").ok());
  CHECK(db->CacheLookup(Ask(v, question))->match == CacheMatch::kExact);

  // A write to the collection: the head moved, the entry is never served
  // at head again, and still is at the version it was made at.
  const Version before = db->GetCollection("docs")->head_version;
  Record changed;
  changed.id = "r3";
  changed.vector = {3, 1, 0.5f, 0};
  changed.text = "In 2021 revenue was 14 million (restated).";
  REQUIRE(db->Upsert("docs", {changed}).ok());
  auto stale = db->CacheLookup(Ask(v, question));
  CHECK(stale->match == CacheMatch::kMiss);
  CHECK(stale->version == before + 1);
  CacheLookupRequest at_before = Ask(v, question);
  at_before.at = before;
  CHECK(db->CacheLookup(at_before)->match == CacheMatch::kExact);
}

TEST_CASE("answer cache: the LRU bound holds, and bad input changes nothing", "[engine][cache]") {
  test::TempDir dir;
  DatabaseOptions options = test::QuietOptions();
  options.answer_cache_entries = 3;
  auto db = OpenWithDocs(dir, options);
  std::vector<std::vector<float>> vectors = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}};
  for (int i = 0; i < 3; ++i) Answered(*db, vectors[i], "question " + std::to_string(i), "answer " + std::to_string(i));
  // Touch question 0: question 1 is now the least recently used.
  CHECK(db->CacheLookup(Ask(vectors[0], "question 0"))->match == CacheMatch::kExact);
  Answered(*db, vectors[3], "question 3", "answer 3");
  CacheStats stats = db->GetCacheStats();
  CHECK(stats.entries == 3);
  CHECK(stats.evictions == 1);
  CHECK(db->CacheLookup(Ask(vectors[1], "question 1"))->match == CacheMatch::kMiss);
  for (int i : {0, 2, 3}) {
    CHECK(db->CacheLookup(Ask(vectors[i], "question " + std::to_string(i)))->match == CacheMatch::kExact);
  }

  // Bad input: clear errors, no entry added.
  const CacheStats before_bad = db->GetCacheStats();
  CHECK(db->CacheStore({"rtv-" + std::string(32, '0'), "x", "m1", ""}).code() == StatusCode::kNotFound);
  RetrieveRequest unanswered;
  unanswered.collection = "docs";
  unanswered.vector = {1, 1, 1, 1};
  auto r = db->Retrieve(unanswered);
  REQUIRE(r.ok());
  CHECK(db->CacheStore({r->retrieval_id, "", "m1", ""}).code() == StatusCode::kFailedPrecondition);
  CHECK(db->CacheStore({r->retrieval_id, "x", "m1", "[1]"}).code() == StatusCode::kInvalidArgument);
  // params_json is bounded in size and nesting before it is parsed (printed
  // back canonically it recursed once per level: 100,000 levels overflowed
  // the stack). Brackets inside strings do not count.
  auto nested = [](size_t levels) {
    return "{\"a\":" + std::string(levels - 1, '[') + std::string(levels - 1, ']') + "}";
  };
  const Status deep = db->CacheStore({r->retrieval_id, "x", "m1", nested(100000)});
  CHECK(deep.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(deep.message(), Catch::StartsWith("params_json:") && Catch::Contains("the limit is 65536"));
  const Status levels = db->CacheStore({r->retrieval_id, "x", "m1", nested(33)});
  CHECK(levels.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(levels.message(), Catch::Contains("nested 33 levels deep; the limit is 32"));
  CHECK(db->CacheLookup(Ask(vectors[0], "question 0", "m1", nested(33))).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(db->GetCacheStats().stores == before_bad.stores);  // every store above was refused
  CHECK(db->GetCacheStats().evictions == before_bad.evictions);
  CHECK(db->GetCacheStats().entries == before_bad.entries);
  CHECK(db->CacheStore({r->retrieval_id, "x", "m1", nested(32)}).ok());
  CHECK(db->GetCacheStats().stores == before_bad.stores + 1);
  CHECK(db->CacheStore({r->retrieval_id, "x", "m1", R"({"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"]]"})"}).ok());
  stats = db->GetCacheStats();
  CHECK(db->CacheLookup(Ask({1, 2}, "q")).status().code() == StatusCode::kInvalidArgument);
  CacheLookupRequest unknown_label = Ask(vectors[0], "question 0");
  unknown_label.prompt = "qa@canary";
  CHECK(db->CacheLookup(unknown_label).status().code() == StatusCode::kNotFound);
  CHECK(db->GetCacheStats().stores == stats.stores);
  CHECK(db->GetCacheStats().entries == 3);
  db->ClearCache();
  CHECK(db->GetCacheStats().entries == 0);
}

TEST_CASE("answer cache: a swapped name is refused, a name on one side only is not", "[engine][cache]") {
  test::TempDir dir;
  auto db = OpenWithDocs(dir);
  const std::vector<float> v = {1, 1, 0.5f, 0};
  Answered(*db, v, "What was the revenue in Berlin in 2019?", "11 million.");
  const std::vector<float> close = {1.01f, 1, 0.5f, 0.01f};
  auto swapped = db->CacheLookup(Ask(close, "What was the revenue in Lisbon in 2019?"));
  CHECK(swapped->match == CacheMatch::kMiss);
  CHECK(swapped->refused == 1);
  // "Tell" (a capitalised first word) counts as a name; only one side has it.
  auto imperative = db->CacheLookup(Ask(close, "Tell me the revenue in Berlin in 2019."));
  CHECK(imperative->match == CacheMatch::kSemantic);
  CHECK(imperative->answer == "11 million.");
}

TEST_CASE("answer cache: each hit is a log record of its own that audit and replay follow to the source",
          "[engine][cache][log]") {
  test::TempDir dir;
  auto db = OpenWithDocs(dir);
  const std::vector<float> v = {2, 1, 0.5f, 0};
  const std::string source = Answered(*db, v, "What was the revenue in 2020?", "In 2020 revenue was 12 million.");
  auto source_record = db->GetRetrieval(source);
  REQUIRE(source_record.ok());

  CacheLookupRequest ask = Ask({2.02f, 1, 0.49f, 0.01f}, "How much revenue was there in 2020?");
  ask.client_trace_id = "trace-7";
  ask.client_id = "app-1";
  auto hit = db->CacheLookup(ask);
  REQUIRE(hit.ok());
  REQUIRE(hit->match == CacheMatch::kSemantic);
  REQUIRE(hit->retrieval_id.rfind("rtv-", 0) == 0);
  CHECK(hit->retrieval_id != source);
  CHECK(hit->context_sha256 == source_record->first.context_sha256);

  // The record: durable, chained, pointing at the source.
  auto logged = db->GetRetrieval(hit->retrieval_id);
  REQUIRE(logged.ok());
  const LogRecord& r = logged->first;
  CHECK(r.kind == LogKind::kCacheHit);
  CHECK(r.seq == hit->log_seq);
  CHECK(r.source_retrieval_id == source);
  CHECK(r.cache_match == CacheMatch::kSemantic);
  CHECK(r.similarity == Approx(hit->similarity));
  CHECK(r.answer == "In 2020 revenue was 12 million.");
  CHECK(r.query_text == "How much revenue was there in 2020?");
  CHECK(r.query_vector == ask.vector);
  CHECK(r.prompt == "qa@1");
  CHECK(r.model == "m1");
  CHECK(r.client_trace_id == "trace-7");
  CHECK(r.client_id == "app-1");
  CHECK(r.context_sha256 == source_record->first.context_sha256);
  CHECK(r.version == source_record->first.version);
  CHECK_FALSE(logged->second.has_value());

  // A miss logs nothing.
  auto before = db->ListLog({});
  REQUIRE(before.ok());
  auto miss = db->CacheLookup(Ask({0, 0, 0, 1}, "Who founded the company?"));
  REQUIRE(miss.ok());
  CHECK(miss->match == CacheMatch::kMiss);
  CHECK(miss->retrieval_id.empty());
  auto after = db->ListLog({});
  REQUIRE(after.ok());
  CHECK(after->records.size() == before->records.size());

  LogQuery hits_only;
  hits_only.kind = LogKind::kCacheHit;
  auto listed = db->ListLog(hits_only);
  REQUIRE(listed.ok());
  REQUIRE(listed->records.size() == 1);
  CHECK(listed->records[0].retrieval_id == hit->retrieval_id);

  // Audit: the served answer against the source's context.
  auto audit = db->Audit({hit->retrieval_id, std::nullopt, std::nullopt});
  REQUIRE(audit.ok());
  CHECK(audit->retrieval_id == hit->retrieval_id);
  CHECK(audit->source_retrieval_id == source);
  CHECK(audit->answer == "In 2020 revenue was 12 million.");
  CHECK(audit->answer_recorded);
  CHECK(audit->chunks.size() == source_record->first.chunks.size());
  CHECK(audit->result.g == 1.0);

  // Replay follows it to the source.
  auto replay = db->Replay({hit->retrieval_id, ReplayMode::kContext, ReadPoint::Head()});
  REQUIRE(replay.ok());
  CHECK(replay->outcome == ReplayOutcome::kIdentical);
  CHECK(replay->retrieval_id == source);
  CHECK(replay->detail.find(hit->retrieval_id) != std::string::npos);

  // A batch audit counts the hit as an answer served.
  BatchAuditRequest batch;
  batch.collection = "docs";
  auto all = db->AuditCollection(batch);
  REQUIRE(all.ok());
  CHECK(all->retrievals == 2);
  CHECK(all->audited == 2);

  // A hit takes no answer of its own and is not a cache source; nothing changes.
  auto answer = db->RecordAnswer({hit->retrieval_id, "another answer", "m1", 0, 0});
  CHECK(answer.status().code() == StatusCode::kFailedPrecondition);
  CHECK(answer.status().message().find(source) != std::string::npos);
  auto store = db->CacheStore({hit->retrieval_id, "", "m1", ""});
  CHECK(store.code() == StatusCode::kFailedPrecondition);
  auto unchanged = db->ListLog({});
  REQUIRE(unchanged.ok());
  CHECK(unchanged->records.size() == after->records.size());

  // The chain still verifies, and survives a restart with the hit in it.
  auto verified = db->VerifyLog();
  REQUIRE(verified.ok());
  CHECK(verified->ok);
  db.reset();
  auto reopened = Database::Open(dir.path(), test::QuietOptions());
  REQUIRE(reopened.ok());
  auto again = (*reopened)->GetRetrieval(hit->retrieval_id);
  REQUIRE(again.ok());
  CHECK(again->first.source_retrieval_id == source);
  auto reverified = (*reopened)->VerifyLog();
  REQUIRE(reverified.ok());
  CHECK(reverified->ok);
}

TEST_CASE("answer cache: the code pre-filter never misses an entry the floats accept", "[engine][cache]") {
  // Entries and questions whose similarities straddle the threshold; every
  // lookup must find exactly the entry a float scan of all entries finds.
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  auto unit = [](std::vector<float> v) {
    PrepareVector(Metric::kCosine, v.data(), v.size());
    return v;
  };
  for (const size_t dim : {8, 96, 768}) {
    AnswerCache cache(100000, size_t{1} << 30);
    const std::string fence = AnswerCache::Fence(1, 1, "", "m", "");
    std::vector<std::vector<float>> stored;
    for (int i = 0; i < 500; ++i) {
      std::vector<float> v(dim);
      for (float& x : v) x = normal(rng);
      stored.push_back(unit(v));
      cache.Store({fence, "", stored.back(), {}, "answer " + std::to_string(i), "rtv-" + std::to_string(i), ""});
    }
    const DistanceKernel dot = SelectedDotKernel();
    int hits = 0, misses = 0;
    for (int q = 0; q < 400; ++q) {
      // A stored vector plus noise scaled so the cosine lands around 0.95.
      const std::vector<float>& base = stored[rng() % stored.size()];
      const float scale = 0.25f + 0.15f * static_cast<float>(q % 7) / 6.0f;
      std::vector<float> v(dim);
      for (size_t d = 0; d < dim; ++d) v[d] = base[d] + scale * normal(rng) / std::sqrt(static_cast<float>(dim));
      v = unit(v);
      double best = -2;
      for (const auto& s : stored) best = std::max(best, static_cast<double>(dot(v.data(), s.data(), dim)));
      const CacheLookupResult r = cache.Lookup(fence, "", v, 0.95, true);
      if (best >= 0.95) {
        REQUIRE(r.match == CacheMatch::kSemantic);
        CHECK(r.similarity == best);
        ++hits;
      } else {
        REQUIRE(r.match == CacheMatch::kMiss);
        ++misses;
      }
    }
    // The noise levels put questions on both sides of the threshold.
    CHECK(hits > 40);
    CHECK(misses > 40);
  }
}

TEST_CASE("answer cache: an entry whose source retrieval expired from the log is not served and is dropped",
          "[engine][cache][log]") {
  test::TempDir dir;
  DatabaseOptions options = test::QuietOptions();
  options.log_retention_seconds = 1;
  auto db = OpenWithDocs(dir, options);
  const std::vector<float> v = {2, 1, 0.5f, 0};
  const std::string source = Answered(*db, v, "What was the revenue in 2020?", "12 million.");
  REQUIRE(db->CacheLookup(Ask(v, "What was the revenue in 2020?"))->match == CacheMatch::kExact);
  const CacheStats before = db->GetCacheStats();
  CHECK(before.exact_hits == 1);
  CHECK(before.entries == 1);

  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto expired = db->GcLog();  // the retrieval record goes (the newest record, the head, stays)
  REQUIRE(expired.ok());
  REQUIRE(*expired >= 1);
  REQUIRE(db->GetRetrieval(source).status().code() == StatusCode::kNotFound);

  auto after = db->CacheLookup(Ask(v, "What was the revenue in 2020?"));
  REQUIRE(after.ok());
  CHECK(after->match == CacheMatch::kMiss);
  CHECK(after->retrieval_id.empty());
  const CacheStats stats = db->GetCacheStats();
  CHECK(stats.entries == 0);
  CHECK(stats.exact_hits == 1);
  CHECK(stats.misses == before.misses + 1);
}

namespace {

// A hybrid collection "hy" (dimension 4, an English text index, a sparse
// field "splade") and a text-only one "notes" (dimension 0), both with the
// same texts, and the prompt "qa".
std::unique_ptr<Database> OpenWithTextCollections(const test::TempDir& dir) {
  auto db = OpenWithDocs(dir);
  const std::vector<std::string> texts = {"Reset the router when the network fails.",
                                          "In 2020 revenue was 12 million.", "Green tea and biscuits."};
  for (const std::string name : {"hy", "notes"}) {
    CollectionConfig config;
    config.name = name;
    config.dimension = name == "hy" ? 4 : 0;
    config.text_index.enabled = true;
    config.text_index.analyzer.preset = "english";
    config.sparse_fields.push_back({"splade", 100});
    REQUIRE(db->CreateCollection(config).ok());
    std::vector<Record> records;
    for (size_t i = 0; i < texts.size(); ++i) {
      Record r;
      r.id = "t" + std::to_string(i);
      if (config.dimension > 0) r.vector = {float(i), 1, 0.5f, 0};
      r.text = texts[i];
      r.sparse["splade"] = {{static_cast<uint32_t>(i)}, {1}};
      records.push_back(r);
    }
    REQUIRE(db->Upsert(name, records).ok());
  }
  return db;
}

// Retrieves from `collection` by whichever of the legs are given, records
// `answer` and caches it; returns CacheStore's status.
Status StoreAnswered(Database& db, const std::string& collection, const std::vector<float>& v, const std::string& text,
                     const std::string& answer, bool sparse = false) {
  RetrieveRequest request;
  request.collection = collection;
  request.vector = v;
  request.text = text;
  if (sparse) {
    request.sparse_field = "splade";
    request.sparse = {{1}, {1}};
  }
  request.k = 2;
  request.prompt = "qa";
  auto r = db.Retrieve(request);
  REQUIRE(r.ok());
  REQUIRE(db.RecordAnswer({r->retrieval_id, answer, "m1", 0, 0}).ok());
  return db.CacheStore({r->retrieval_id, "", "m1", ""});
}

}  // namespace

TEST_CASE("answer cache: text and sparse retrievals are matched by their exact question only", "[engine][cache][text]") {
  test::TempDir dir;
  auto db = OpenWithTextCollections(dir);
  auto ask = [](const std::string& collection, const std::vector<float>& v, const std::string& question) {
    CacheLookupRequest q;
    q.collection = collection;
    q.vector = v;
    q.query_text = question;
    q.prompt = "qa";
    q.model = "m1";
    return q;
  };

  // In one fence (hy at its head, qa@1, m1): a text-only retrieval first,
  // then a dense one, then a hybrid one. Each is kept: an entry without a
  // query vector does not take part in the vector scan, and does not stop
  // dense entries from joining it.
  const std::vector<float> v = {1, 1, 0.5f, 0};
  REQUIRE(StoreAnswered(*db, "hy", {}, "How do I reset my router?", "Reset it.").ok());
  REQUIRE(StoreAnswered(*db, "hy", v, "What was the revenue in 2020?", "12 million.").ok());
  REQUIRE(StoreAnswered(*db, "hy", {2, 1, 0.5f, 0}, "Is green tea good?", "Yes.").ok());
  CHECK(db->GetCacheStats().entries == 3);

  // The text-only entry: by its exact question, with or without a vector.
  auto exact = db->CacheLookup(ask("hy", {}, "How do I reset my router?"));
  REQUIRE(exact.ok());
  CHECK(exact->match == CacheMatch::kExact);
  CHECK(exact->answer == "Reset it.");
  CHECK(db->CacheLookup(ask("hy", {0, 0, 0, 1}, "How do I reset my router?"))->match == CacheMatch::kExact);
  // A paraphrase has no vector to compare with the entry's: a miss, even
  // with min_similarity 0.
  CacheLookupRequest paraphrase = ask("hy", {0, 0, 0, 1}, "How can I reset the router?");
  paraphrase.min_similarity = 0;
  auto missed = db->CacheLookup(paraphrase);
  REQUIRE(missed.ok());
  CHECK(missed->match != CacheMatch::kMiss);  // a dense entry at similarity >= 0 answers it...
  CHECK(missed->answer != "Reset it.");      // ...never the text-only one
  // The dense entry: semantic hits as ever, with a vector; without one, only
  // its exact question.
  auto semantic = db->CacheLookup(ask("hy", {1.01f, 1, 0.5f, 0.01f}, "How much revenue was there in 2020?"));
  REQUIRE(semantic.ok());
  CHECK(semantic->match == CacheMatch::kSemantic);
  CHECK(semantic->answer == "12 million.");
  CHECK(db->CacheLookup(ask("hy", {}, "What was the revenue in 2020?"))->answer == "12 million.");
  CHECK(db->CacheLookup(ask("hy", {}, "How much revenue was there in 2020?"))->match == CacheMatch::kMiss);

  // A text-only collection: exact questions only; no vector, no scan, no
  // "semantic" hit at similarity 0.
  REQUIRE(StoreAnswered(*db, "notes", {}, "How do I reset my router?", "Reset it.").ok());
  CHECK(db->CacheLookup(ask("notes", {}, "How do I reset my router?"))->match == CacheMatch::kExact);
  CacheLookupRequest other = ask("notes", {}, "Is green tea good?");
  other.min_similarity = 0;
  auto none = db->CacheLookup(other);
  REQUIRE(none.ok());
  CHECK(none->match == CacheMatch::kMiss);
  CHECK(db->CacheLookup(ask("notes", {1}, "Is green tea good?")).status().code() == StatusCode::kInvalidArgument);

  // A retrieval with neither a question text nor a query vector (sparse
  // only) cannot be matched by anything a lookup carries: refused, and a
  // lookup with neither is refused too.
  const CacheStats before = db->GetCacheStats();
  const Status sparse_only = StoreAnswered(*db, "notes", {}, "", "One.", /*sparse=*/true);
  CHECK(sparse_only.code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(sparse_only.message(), Catch::Contains("no query text and no query vector"));
  CHECK(db->GetCacheStats().entries == before.entries);
  const auto empty = db->CacheLookup(ask("notes", {}, ""));
  CHECK(empty.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(empty.status().message(), Catch::StartsWith("vector: empty"));
  // A sparse + dense retrieval keeps its vector: cached, matched by it.
  REQUIRE(StoreAnswered(*db, "hy", {0, 1, 0.5f, 0}, "", "Zero.", /*sparse=*/true).ok());
  CHECK(db->CacheLookup(ask("hy", {0, 1, 0.5f, 0}, ""))->answer == "Zero.");
}
