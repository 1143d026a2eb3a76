// The Monitor subsystem through the Database: annotations written when an
// answer is recorded (and on demand), the live counters, the report.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <random>
#include <thread>

#include "engine/test_data.h"
#include "verity/database.h"

using namespace verity;

namespace {

// A collection "kb" of dimension 4: 40 rows near the unit diagonal, with
// texts; a prompt "qa" (production = 1).
std::unique_ptr<Database> OpenKb(const test::TempDir& dir, DatabaseOptions options = test::QuietOptions()) {
  options.monitor.weak_reference_size = 20;
  options.monitor.toxicity_languages = {"en"};
  auto db = Database::Open(dir.path(), options);
  REQUIRE(db.ok());
  CollectionConfig config;
  config.name = "kb";
  config.dimension = 4;
  REQUIRE((*db)->CreateCollection(config).ok());
  std::vector<Record> records;
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0, 0.05f);
  for (int i = 0; i < 40; ++i) {
    Record r;
    r.id = "d" + std::to_string(i);
    r.vector = {1 + noise(rng), 1 + noise(rng), 1 + noise(rng), 1 + noise(rng)};
    r.text = "The blue pump number " + std::to_string(i) + " moves " + std::to_string(10 * i) + " litres per hour.";
    records.push_back(r);
  }
  REQUIRE((*db)->Upsert("kb", records).ok());
  REQUIRE((*db)->CreatePromptVersion({"qa", "Context:\n{{context}}\nQuestion: {{question}}", "", "", "", {"production"}}).ok());
  return std::move(*db);
}

RetrieveResult Ask(Database& db, std::vector<float> v, const std::string& prompt = "") {
  RetrieveRequest request;
  request.collection = "kb";
  request.vector = std::move(v);
  request.query_text = "How much does the blue pump move?";
  request.k = 2;
  request.prompt = prompt;
  auto r = db.Retrieve(request);
  REQUIRE(r.ok());
  return *r;
}

std::vector<float> Near(int i) { return {1.f + 0.01f * (i % 5), 1.f, 1.f - 0.01f * (i % 3), 1.f}; }

bool HasFlag(const Annotation& a, MonitorFlag f) { return std::find(a.flags.begin(), a.flags.end(), f) != a.flags.end(); }

}  // namespace

TEST_CASE("an answer is annotated when recorded: toxicity, groundedness, tokens", "[monitor]") {
  test::TempDir dir;
  auto db = OpenKb(dir);
  const RetrieveResult r = Ask(*db, Near(0), "qa");
  const std::string answer = "The blue pump moves litres per hour. What the fuck.";
  REQUIRE(db->RecordAnswer({r.retrieval_id, answer, "m", 0, 0}).ok());

  auto got = db->GetRetrieval(r.retrieval_id);
  REQUIRE(got.ok());
  REQUIRE(got->second);
  REQUIRE(got->second->annotation);
  const Annotation& a = *got->second->annotation;
  CHECK(a.version == kAnnotationVersion);
  CHECK_FALSE(a.on_demand);
  CHECK(a.collection == "kb");
  CHECK(a.prompt == "qa@1");
  CHECK(a.record_seq == got->second->seq);
  // Toxicity: the listed word, at its byte span.
  CHECK(a.toxic);
  REQUIRE(a.toxicity_matches.size() == 1);
  CHECK(a.toxicity_matches[0].term == "fuck");
  CHECK(answer.substr(a.toxicity_matches[0].begin, a.toxicity_matches[0].end - a.toxicity_matches[0].begin) == "fuck");
  CHECK(HasFlag(a, MonitorFlag::kToxicity));
  // Groundedness: the same score as an audit.
  auto audit = db->Audit({r.retrieval_id, std::nullopt, std::nullopt});
  REQUIRE(audit.ok());
  CHECK(a.groundedness_scored);
  CHECK(a.g == audit->result.g);
  CHECK(a.sentences == audit->result.scored);
  CHECK(a.groundedness_version == audit->result.scorer_version);
  // Tokens: the prompt rendered from the registry with the context and question.
  std::string context;
  for (const SourceChunk& c : audit->chunks) context += (context.empty() ? "" : "\n\n") + c.text;
  auto rendered = db->RenderPrompt({"qa", 1, ""}, {{"context", context}, {"question", "How much does the blue pump move?"}});
  REQUIRE(rendered.ok());
  CHECK(a.prompt_tokens_source == "rendered");
  CHECK(a.prompt_tokens == EstimateTokens(*rendered));
  CHECK(a.answer_tokens == EstimateTokens(answer));
  CHECK(a.answer_tokens_source == "counted");
  CHECK(a.context_tokens == r.context_tokens);
  CHECK(a.chunks == 2);
  CHECK_FALSE(a.empty_context);

  // A clean, client-counted answer: no toxicity flag, reported tokens.
  const RetrieveResult r2 = Ask(*db, Near(1));
  REQUIRE(db->RecordAnswer({r2.retrieval_id, "The blue pump number 1 moves 10 litres per hour.", "m", 90, 12}).ok());
  auto a2 = db->Annotate(r2.retrieval_id);
  REQUIRE(a2.ok());
  CHECK_FALSE(a2->toxic);
  CHECK_FALSE(a2->on_demand);  // the stored one
  CHECK(a2->answer_tokens == 12);
  CHECK(a2->answer_tokens_source == "reported");
  CHECK(a2->prompt_tokens == 90);
  CHECK(a2->prompt_tokens_source == "reported");

  // The live counters.
  auto stats = db->GetMonitorStats();
  REQUIRE(stats.size() == 1);
  CHECK(stats[0].answers_annotated == 2);
  CHECK(stats[0].flags[static_cast<size_t>(MonitorFlag::kToxicity)] == 1);
  CHECK(stats[0].g_count == 2);
}

TEST_CASE("a weak retrieval is flagged against the collection's own top-1 reference", "[monitor]") {
  test::TempDir dir;
  auto db = OpenKb(dir);
  for (int i = 0; i < 20; ++i) Ask(*db, Near(i));  // fills the reference (20)
  const RetrieveResult near = Ask(*db, Near(3));
  const RetrieveResult far = Ask(*db, {-5, 4, -3, 9});
  REQUIRE(db->RecordAnswer({near.retrieval_id, "The blue pump number 3 moves 30 litres per hour.", "", 0, 0}).ok());
  REQUIRE(db->RecordAnswer({far.retrieval_id, "Nothing relevant.", "", 0, 0}).ok());
  auto a_near = db->Annotate(near.retrieval_id);
  auto a_far = db->Annotate(far.retrieval_id);
  REQUIRE(a_near.ok());
  REQUIRE(a_far.ok());
  CHECK(a_far->leg == "dense");
  CHECK(a_far->reference_ready);
  CHECK(a_far->weak_retrieval);
  CHECK(HasFlag(*a_far, MonitorFlag::kWeakRetrieval));
  CHECK(a_far->top1 > a_far->weak_threshold);
  CHECK_FALSE(a_near->weak_retrieval);
  auto stats = db->GetMonitorStats();
  REQUIRE(stats.size() == 1);
  REQUIRE_FALSE(stats[0].legs.empty());
  CHECK(stats[0].legs[0].leg == "dense");
  CHECK(stats[0].legs[0].weak == 1);
  CHECK(stats[0].legs[0].observed == 2);
  CHECK(stats[0].legs[0].weak_reference_frozen);
  // Reset forgets the reference: the next retrieval is not judged (the
  // counters stay, as Prometheus counters do).
  REQUIRE(db->ResetMonitorReference("kb").ok());
  CHECK(db->ResetMonitorReference("nope").code() == StatusCode::kNotFound);
  Ask(*db, {-5, 4, -3, 9});
  stats = db->GetMonitorStats();
  REQUIRE(stats.size() == 1);
  CHECK(stats[0].legs[0].observed == 2);
  CHECK(stats[0].legs[0].weak == 1);
  CHECK_FALSE(stats[0].legs[0].weak_reference_frozen);
  CHECK(stats[0].legs[0].reference_count == 0);
}

TEST_CASE("a collection dropped and created again under its name starts a new monitor state", "[monitor]") {
  test::TempDir dir;
  auto db = OpenKb(dir);
  for (int i = 0; i < 25; ++i) Ask(*db, Near(i));
  auto stats = db->GetMonitorStats();
  REQUIRE(stats.size() == 1);
  REQUIRE(stats[0].legs[0].weak_reference_frozen);
  REQUIRE(stats[0].legs[0].observed == 5);  // judged after the 20 of the reference
  REQUIRE(db->DropCollection("kb").ok());
  CHECK(db->GetMonitorStats().empty());  // a dropped collection's series go
  CollectionConfig config;
  config.name = "kb";
  config.dimension = 2;  // another dimension: the old state's centroids would not fit
  REQUIRE(db->CreateCollection(config).ok());
  REQUIRE(db->Upsert("kb", {Record{"a", {1, 0}, "A.", "", {}, {}}, Record{"b", {0, 1}, "B.", "", {}, {}}}).ok());
  RetrieveRequest request;
  request.collection = "kb";
  request.vector = {1, 0.1f};
  request.k = 1;
  REQUIRE(db->Retrieve(request).ok());
  stats = db->GetMonitorStats();
  REQUIRE(stats.size() == 1);
  REQUIRE(stats[0].legs.size() == 1);
  CHECK(stats[0].legs[0].observed == 0);  // a new state: nothing judged yet
  CHECK_FALSE(stats[0].legs[0].weak_reference_frozen);
}

TEST_CASE("report times and bucket lengths that would overflow are refused, naming the field", "[monitor]") {
  test::TempDir dir;
  auto db = OpenKb(dir);
  Ask(*db, Near(0));
  MonitorReportRequest request;
  request.collection = "kb";
  request.bucket_seconds = 10'000'000'000'000;
  auto r = db->GetMonitorReport(request);
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(r.status().message().find("bucket_seconds") != std::string::npos);
  request.bucket_seconds = kMaxMonitorBucketSeconds;  // the longest: one bucket
  auto one = db->GetMonitorReport(request);
  REQUIRE(one.ok());
  CHECK(one->buckets.size() == 1);
  CHECK(one->totals.retrievals == 1);
  request.bucket_seconds = 0;
  request.since_us = 1;
  request.until_us = INT64_MAX;
  r = db->GetMonitorReport(request);
  CHECK(r.status().message().find("until_us") != std::string::npos);
  request.until_us = kMaxMonitorTimeUs;  // the widest range: 60 buckets
  auto wide = db->GetMonitorReport(request);
  REQUIRE(wide.ok());
  CHECK(wide->buckets.size() == 60);
  CHECK(wide->totals.retrievals == 1);
}

TEST_CASE("recompute returns a fresh annotation and keeps the one stored when the answer was recorded",
          "[monitor]") {
  test::TempDir dir;
  auto db = OpenKb(dir);
  const RetrieveResult r = Ask(*db, Near(0));
  REQUIRE(db->RecordAnswer({r.retrieval_id, "The blue pump moves litres.", "", 0, 0}).ok());
  auto stored = db->Annotate(r.retrieval_id);
  REQUIRE(stored.ok());
  CHECK_FALSE(stored->on_demand);
  auto fresh = db->Annotate(r.retrieval_id, true);
  REQUIRE(fresh.ok());
  CHECK(fresh->on_demand);
  CHECK(fresh->g == stored->g);
  auto again = db->GetRetrieval(r.retrieval_id);
  REQUIRE(again.ok());
  REQUIRE(again->second->annotation);
  CHECK_FALSE(again->second->annotation->on_demand);  // not overwritten
}

TEST_CASE("annotations are computed on demand for answers recorded without them", "[monitor]") {
  test::TempDir dir;
  DatabaseOptions options = test::QuietOptions();
  options.monitor.annotate_answers = false;
  std::vector<std::string> ids;
  {
    auto db = OpenKb(dir, options);
    for (int i = 0; i < 3; ++i) {
      ids.push_back(Ask(*db, Near(i)).retrieval_id);
      REQUIRE(db->RecordAnswer({ids.back(), "Pump " + std::to_string(i) + " is blue.", "", 0, 0}).ok());
    }
    auto got = db->GetRetrieval(ids[0]);
    REQUIRE(got.ok());
    CHECK_FALSE(got->second->annotation);
    AnnotateLogRequest request;
    request.collection = "kb";
    auto done = db->AnnotateLog(request);
    REQUIRE(done.ok());
    CHECK(done->annotated == 3);
    CHECK(done->failed == 0);
    CHECK(done->examined == 6);
    // A second pass finds them.
    done = db->AnnotateLog(request);
    REQUIRE(done.ok());
    CHECK(done->annotated == 0);
    CHECK(done->existing == 3);
    request.max_records = 0;
    CHECK(db->AnnotateLog(request).status().code() == StatusCode::kInvalidArgument);
  }
  // Stored: they survive a reopen, marked on demand.
  auto db = Database::Open(dir.path(), options);
  REQUIRE(db.ok());
  auto got = (*db)->GetRetrieval(ids[1]);
  REQUIRE(got.ok());
  REQUIRE(got->second->annotation);
  CHECK(got->second->annotation->on_demand);
  CHECK((*db)->Annotate("rtv-00000000000000000000000000000000").status().code() == StatusCode::kNotFound);
  // A retrieval without an answer cannot be annotated.
  RetrieveRequest request;
  request.collection = "kb";
  request.vector = Near(0);
  auto r = (*db)->Retrieve(request);
  REQUIRE(r.ok());
  CHECK((*db)->Annotate(r->retrieval_id).status().code() == StatusCode::kFailedPrecondition);
}

TEST_CASE("the monitor report buckets the signals and marks version changes", "[monitor]") {
  test::TempDir dir;
  auto db = OpenKb(dir);
  std::string toxic_id;
  for (int i = 0; i < 30; ++i) {
    const RetrieveResult r = Ask(*db, Near(i), i < 15 ? "" : "qa");
    const std::string answer = i == 20 ? "Damn, the pump is shit." : "The blue pump number " + std::to_string(i) + " moves litres.";
    if (i == 20) toxic_id = r.retrieval_id;
    REQUIRE(db->RecordAnswer({r.retrieval_id, answer, "", 0, 0}).ok());
    if (i == 10) REQUIRE(db->Upsert("kb", {Record{"new", {1, 1, 1, 1}, "A new pump.", "", {}, {}}}).ok());
  }
  MonitorReportRequest request;
  request.collection = "kb";
  auto report = db->GetMonitorReport(request);
  REQUIRE(report.ok());
  CHECK(report->totals.retrievals == 30);
  CHECK(report->totals.answers == 30);
  CHECK(report->totals.annotated == 30);
  CHECK(report->totals.toxic == 1);
  CHECK(report->buckets.size() <= 60);
  uint64_t sum = 0;
  for (const MonitorBucket& b : report->buckets) {
    sum += b.retrievals;
    // Each id once, though a retrieval and its answer both name it.
    std::vector<std::string> ids = b.retrieval_ids;
    std::sort(ids.begin(), ids.end());
    CHECK(std::adjacent_find(ids.begin(), ids.end()) == ids.end());
  }
  CHECK(sum == 30);
  // The toxic answer's bucket lists it among its flagged ids, which come
  // first: before it, at most the bucket's other flag-raising records. (Its
  // retrieval may fall in an earlier bucket, listed there as unflagged.)
  bool listed = false;
  for (const MonitorBucket& b : report->buckets) {
    auto at = std::find(b.retrieval_ids.begin(), b.retrieval_ids.end(), toxic_id);
    if (at == b.retrieval_ids.end() || b.toxic == 0) continue;
    listed = true;
    const uint64_t flagged_records = b.weak + b.empty_context + b.truncated_context + b.low_g + b.toxic;
    CHECK(static_cast<uint64_t>(at - b.retrieval_ids.begin()) < flagged_records);
  }
  CHECK(listed);
  // Markers: the first version, the upsert's, and the prompt.
  int kb = 0, prompt = 0;
  for (const MonitorMarker& m : report->markers) {
    kb += m.kind == "kb_version";
    if (m.kind == "prompt") {
      ++prompt;
      CHECK(m.value == "qa@1");
    }
  }
  CHECK(kb == 2);
  CHECK(prompt == 1);
  bool found = false;
  for (const FlaggedAnswer& f : report->flagged) {
    if (f.retrieval_id != toxic_id) continue;
    found = true;
    CHECK(std::find(f.flags.begin(), f.flags.end(), MonitorFlag::kToxicity) != f.flags.end());
    CHECK(std::find(f.toxicity_terms.begin(), f.toxicity_terms.end(), "shit") != f.toxicity_terms.end());
  }
  CHECK(found);
  // Per prompt: "" and "qa@1".
  REQUIRE(report->prompts.size() == 2);
  CHECK(report->prompts[1].prompt == "qa@1");
  CHECK(report->prompts[1].answers == 15);
  // Bad input names the field.
  request.bucket_seconds = -1;
  auto bad = db->GetMonitorReport(request);
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
  CHECK(bad.status().message().find("bucket_seconds") != std::string::npos);
  request.bucket_seconds = 0;
  request.low_g = 2;
  CHECK(db->GetMonitorReport(request).status().message().find("low_g") != std::string::npos);
  request.low_g = 0.6;
  request.collection = "nope";
  CHECK(db->GetMonitorReport(request).status().code() == StatusCode::kNotFound);
}

TEST_CASE("monitor options out of range are refused at open", "[monitor]") {
  test::TempDir dir;
  DatabaseOptions options = test::QuietOptions();
  options.monitor.weak_percentile = 60;
  auto db = Database::Open(dir.path(), options);
  REQUIRE_FALSE(db.ok());
  CHECK(db.status().message().find("weak_percentile") != std::string::npos);
  options = test::QuietOptions();
  options.monitor.toxicity_languages = {"xx"};
  db = Database::Open(dir.path(), options);
  REQUIRE_FALSE(db.ok());
  CHECK(db.status().message().find("languages[0]") != std::string::npos);
}

TEST_CASE("a cache hit is annotated with the tokens it saved", "[monitor]") {
  test::TempDir dir;
  auto db = OpenKb(dir);
  const RetrieveResult r = Ask(*db, Near(2), "qa");
  const std::string answer = "The blue pump number 2 moves 20 litres per hour.";
  REQUIRE(db->RecordAnswer({r.retrieval_id, answer, "m", 0, 25}).ok());
  REQUIRE(db->CacheStore({r.retrieval_id, "", "m", ""}).ok());
  CacheLookupRequest q;
  q.collection = "kb";
  q.vector = Near(2);
  q.query_text = "How much does the blue pump move?";
  q.prompt = "qa";
  q.model = "m";
  auto hit = db->CacheLookup(q);
  REQUIRE(hit.ok());
  REQUIRE(hit->match != CacheMatch::kMiss);
  auto got = db->GetRetrieval(hit->retrieval_id);
  REQUIRE(got.ok());
  CHECK(got->first.kind == LogKind::kCacheHit);
  REQUIRE(got->first.annotation);
  const Annotation& a = *got->first.annotation;
  CHECK(a.cache_hit);
  CHECK(a.retrieval_id == hit->retrieval_id);
  auto source = db->Annotate(r.retrieval_id);
  REQUIRE(source.ok());
  CHECK(a.answer_tokens == 25);  // the source's reported completion
  CHECK(a.prompt_tokens == source->prompt_tokens);
  CHECK(a.tokens_saved == source->prompt_tokens + 25);
  CHECK(a.g == source->g);  // the same answer against the same context
  auto stats = db->GetMonitorStats();
  REQUIRE(stats.size() == 1);
  CHECK(stats[0].cache_hits_annotated == 1);
  CHECK(stats[0].tokens_saved == a.tokens_saved);
  MonitorReportRequest request;
  request.collection = "kb";
  auto report = db->GetMonitorReport(request);
  REQUIRE(report.ok());
  CHECK(report->totals.cache_hits == 1);
  CHECK(report->totals.tokens_saved == a.tokens_saved);
}

TEST_CASE("with flag_queries the query's toxicity is recorded apart from the answer's", "[monitor]") {
  test::TempDir dir;
  DatabaseOptions options = test::QuietOptions();
  options.monitor.flag_queries = true;
  auto db = OpenKb(dir, options);
  RetrieveRequest request;
  request.collection = "kb";
  request.vector = Near(0);
  request.query_text = "Which shit pump moves most?";
  request.k = 2;
  auto r = db->Retrieve(request);
  REQUIRE(r.ok());
  REQUIRE(db->RecordAnswer({r->retrieval_id, "The blue pump number 1 moves 10 litres per hour.", "", 0, 0}).ok());
  auto a = db->Annotate(r->retrieval_id);
  REQUIRE(a.ok());
  CHECK_FALSE(a->toxic);
  REQUIRE(a->query_toxicity_matches.size() == 1);
  CHECK(a->query_toxicity_matches[0].term == "shit");
  CHECK(request.query_text.substr(a->query_toxicity_matches[0].begin, 4) == "shit");
  // Off (the default): not computed.
  test::TempDir dir2;
  auto plain = OpenKb(dir2);
  auto r2 = plain->Retrieve(request);
  REQUIRE(r2.ok());
  REQUIRE(plain->RecordAnswer({r2->retrieval_id, "Pump 1.", "", 0, 0}).ok());
  auto a2 = plain->Annotate(r2->retrieval_id);
  REQUIRE(a2.ok());
  CHECK(a2->query_toxicity_matches.empty());
}

TEST_CASE("retrievals, answers, resets, stats and reports run concurrently, safely", "[monitor][concurrency]") {
  test::TempDir dir;
  DatabaseOptions options = test::QuietOptions();
  options.monitor.drift_centroids = 8;  // the kb's 40 rows: the trainer runs
  options.monitor.centroid_sample = 40;
  options.monitor.drift_reference_size = 100;
  options.monitor.drift_current_size = 100;
  auto db = OpenKb(dir, options);
  constexpr int kPerThread = 150;
  std::atomic<int> answered{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        RetrieveRequest request;
        request.collection = "kb";
        request.vector = Near(i + t);
        request.query_text = "How much does the blue pump move?";
        request.k = 2;
        auto r = db->Retrieve(request);
        if (!r.ok()) continue;
        if (i % 5 == 0 && db->RecordAnswer({r->retrieval_id, "The blue pump moves litres.", "", 0, 0}).ok()) ++answered;
      }
    });
  }
  threads.emplace_back([&] {
    MonitorReportRequest request;
    request.collection = "kb";
    for (int i = 0; !done.load(); ++i) {
      if (i % 7 == 0) CHECK(db->ResetMonitorReference("kb").ok());
      (void)db->GetMonitorStats();
      CHECK(db->GetMonitorReport(request).ok());
    }
  });
  threads[0].join();
  threads[1].join();
  done = true;
  threads[2].join();
  MonitorReportRequest request;
  request.collection = "kb";
  auto report = db->GetMonitorReport(request);
  REQUIRE(report.ok());
  CHECK(report->totals.retrievals == 2 * kPerThread);
  CHECK(report->totals.answers == static_cast<uint64_t>(answered.load()));
  CHECK(report->totals.annotated == report->totals.answers);
  auto stats = db->GetMonitorStats();
  REQUIRE(stats.size() == 1);
  CHECK(stats[0].answers_annotated == static_cast<uint64_t>(answered.load()));
}
