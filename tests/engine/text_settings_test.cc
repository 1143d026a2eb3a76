// Changing a collection's text index (#26): Database::SetTextIndex makes a
// new analyzer version and analyses every row again, at every version; the
// change survives a restart; equal settings change nothing; bad settings
// are refused naming the field; a collection without a text index can be
// given one.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine/test_data.h"

using namespace verity;

namespace {

std::unique_ptr<Database> Open(const std::string& path) {
  DatabaseOptions options = test::QuietOptions();
  options.gc_interval_seconds = 0;
  auto opened = Database::Open(path, options);
  REQUIRE(opened.ok());
  return std::move(opened).value();
}

std::vector<std::string> TextHits(Database& db, const std::string& name, const std::string& text, ReadPoint at) {
  SearchRequest request;
  request.text = text;
  request.at = at;
  auto result = db.Search(name, request);
  REQUIRE(result.ok());
  std::vector<std::string> ids;
  for (const SearchHit& hit : result->hits) ids.push_back(hit.id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

TextIndexConfig Preset(const std::string& preset) {
  TextIndexConfig t;
  t.enabled = true;
  t.analyzer.preset = preset;
  return t;
}

}  // namespace

TEST_CASE("SetTextIndex: a new analyzer version, every row analysed again, at every version and after a restart",
          "[text][engine]") {
  test::TempDir dir;
  auto db = Open(dir.path());
  CollectionConfig config;
  config.name = "notes";
  config.dimension = 0;
  config.text_index = Preset("standard");
  REQUIRE(db->CreateCollection(config).ok());
  Record a, b, c;
  a.id = "a", a.text = "The fox is running";
  b.id = "b", b.text = "He runs every day";
  c.id = "c", c.text = "A run in the park";
  auto v1 = db->Upsert("notes", {a, b});
  REQUIRE(v1.ok());
  auto v2 = db->Upsert("notes", {c});
  REQUIRE(v2.ok());
  // standard: no stemming, "run" is only "run".
  CHECK(TextHits(*db, "notes", "run", ReadPoint::Head()) == std::vector<std::string>{"c"});
  CHECK(TextHits(*db, "notes", "run", v1->version).empty());

  RetrieveRequest retrieve;
  retrieve.collection = "notes";
  retrieve.text = "run";
  retrieve.k = 3;
  auto retrieved = db->Retrieve(retrieve);
  REQUIRE(retrieved.ok());
  ReplayRequest replay{retrieved->retrieval_id, ReplayMode::kRetrieval, {}};
  auto before = db->Replay(replay);
  REQUIRE(before.ok());
  CHECK_FALSE(before->analyzer_changed);

  auto changed = db->SetTextIndex("notes", Preset("english"));
  REQUIRE(changed.ok());
  CHECK(changed->config.text_index.analyzer_version == 2);
  CHECK(changed->config.text_index.analyzer.stemmer == "english");
  CHECK(changed->config.text_index.analyzer.stopwords == "english");
  CHECK(changed->head_version == v2->version);  // the data did not change
  const std::vector<std::string> all = {"a", "b", "c"};
  CHECK(TextHits(*db, "notes", "run", ReadPoint::Head()) == all);
  CHECK(TextHits(*db, "notes", "run", v1->version) == std::vector<std::string>{"a", "b"});
  // A retrieval logged under analyzer version 1 replays under version 2,
  // and the replay says so.
  auto after = db->Replay(replay);
  REQUIRE(after.ok());
  CHECK(after->analyzer_changed);
  CHECK(after->detail.find("analyzer version 1") != std::string::npos);
  CHECK(after->outcome != ReplayOutcome::kIdentical);  // "run" now finds a, b and c
  // Writes after the change are analysed with it.
  Record d;
  d.id = "d", d.text = "Runner's notes";
  REQUIRE(db->Upsert("notes", {d}).ok());
  CHECK(TextHits(*db, "notes", "runs", ReadPoint::Head()) == all);

  // The same settings again: nothing changes, no new version.
  auto same = db->SetTextIndex("notes", Preset("english"));
  REQUIRE(same.ok());
  CHECK(same->config.text_index.analyzer_version == 2);
  // k1 alone is a change too (scores move): version 3.
  TextIndexConfig k1 = Preset("english");
  k1.k1 = 2.0f;
  auto tuned = db->SetTextIndex("notes", k1);
  REQUIRE(tuned.ok());
  CHECK(tuned->config.text_index.analyzer_version == 3);

  db.reset();
  db = Open(dir.path());
  auto info = db->GetCollection("notes");
  REQUIRE(info.ok());
  CHECK(info->config.text_index.analyzer_version == 3);
  CHECK(info->config.text_index.k1 == 2.0f);
  CHECK(TextHits(*db, "notes", "run", v1->version) == std::vector<std::string>{"a", "b"});
  CHECK(TextHits(*db, "notes", "run", ReadPoint::Head()) == all);
}

TEST_CASE("SetTextIndex refuses bad settings naming the field, and gives a dense collection a text index",
          "[text][engine]") {
  test::TempDir dir;
  auto db = Open(dir.path());
  CollectionConfig config;
  config.name = "dense";
  config.dimension = 2;
  REQUIRE(db->CreateCollection(config).ok());
  Record r;
  r.id = "r1", r.text = "change the permissions of a file", r.vector = {1, 0};
  REQUIRE(db->Upsert("dense", {r}).ok());
  SearchRequest by_text;
  by_text.text = "permissions";
  CHECK(db->Search("dense", by_text).status().code() == StatusCode::kFailedPrecondition);

  TextIndexConfig bad = Preset("english");
  bad.analyzer.stemmer = "klingon";
  auto refused = db->SetTextIndex("dense", bad);
  CHECK(refused.status().code() == StatusCode::kInvalidArgument);
  CHECK(refused.status().message().find("text_index.analyzer.stemmer") != std::string::npos);
  TextIndexConfig off;
  refused = db->SetTextIndex("dense", off);
  CHECK(refused.status().code() == StatusCode::kInvalidArgument);
  CHECK(refused.status().message().find("text_index.enabled") != std::string::npos);
  TextIndexConfig k1 = Preset("standard");
  k1.k1 = 9;
  refused = db->SetTextIndex("dense", k1);
  CHECK(refused.status().code() == StatusCode::kInvalidArgument);
  CHECK(refused.status().message().find("text_index.k1") != std::string::npos);
  CHECK(db->SetTextIndex("nowhere", Preset("english")).status().code() == StatusCode::kNotFound);

  auto given = db->SetTextIndex("dense", Preset("english"));
  REQUIRE(given.ok());
  CHECK(given->config.text_index.analyzer_version == 1);
  CHECK(TextHits(*db, "dense", "permission", ReadPoint::Head()) == std::vector<std::string>{"r1"});
}
