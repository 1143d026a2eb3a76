// Audit usability (#25): filters read the record fields `id` and
// `document_id` on every read path, and a retrieval never hands out (or
// logs) an empty context.
#include <catch2/catch.hpp>

#include <set>

#include "engine/test_data.h"
#include "verity/database.h"
#include "verity/filter_parser.h"

using namespace verity;

namespace {

// A collection whose versions 1 (every id) and 2 (every id written again)
// are both readable after GC: version 1 only through a log pin, so from the
// rows alone (keep_versions 1), version 2 through the graph.
struct RecordFieldsFixture {
  test::TempDir dir;
  std::unique_ptr<Database> db;
  std::string retrieval_at_1;

  RecordFieldsFixture() {
    Open();
    CollectionConfig config;
    config.name = "kb";
    config.dimension = 2;
    config.retention = RetentionPolicy{1, 0};
    REQUIRE(db->CreateCollection(config).ok());
    Write();
    RetrieveRequest r;
    r.collection = "kb";
    r.vector = {1, 0};
    r.k = 2;
    auto retrieved = db->Retrieve(r);  // pins version 1 for the log
    REQUIRE(retrieved.ok());
    retrieval_at_1 = retrieved->retrieval_id;
    Write();
    REQUIRE(db->Gc("kb").ok());
    auto info = db->GetCollection("kb");
    REQUIRE(info.ok());
    REQUIRE(info->log_only_rows == 5);  // version 1's rows: read from the rows only
  }
  void Open() {
    DatabaseOptions options = test::QuietOptions();
    options.gc_interval_seconds = 0;
    auto opened = Database::Open(dir.path(), options);
    REQUIRE(opened.ok());
    db = std::move(opened).value();
  }
  // a1, a2 in document "A" (a1 also has a metadata key "document_id"), b1 in
  // "B", n1 and n2 in none (n2 has a metadata key "id").
  void Write() {
    std::vector<Record> records(5);
    const char* ids[] = {"a1", "a2", "b1", "n1", "n2"};
    const char* docs[] = {"A", "A", "B", "", ""};
    for (size_t i = 0; i < records.size(); ++i) {
      records[i].id = ids[i];
      records[i].vector = {1.0f, static_cast<float>(i)};
      records[i].text = std::string("text of ") + ids[i];
      records[i].document_id = docs[i];
    }
    records[0].metadata["document_id"] = std::string("shadowed");
    records[4].metadata["id"] = std::string("shadowed");
    records[4].metadata["lang"] = std::string("en");
    auto written = db->Upsert("kb", records);
    REQUIRE(written.ok());
  }
};

Filter Parse(const std::string& text) {
  auto f = ParseFilter(text);
  REQUIRE(f.ok());
  return *f;
}

// The ids `filter` selects at `version`, through every read path.
std::set<std::string> Selected(Database& db, Version version, const std::string& text) {
  const Filter filter = Parse(text);
  std::set<std::string> by_path[4];
  const SearchPlan plans[] = {SearchPlan::kAuto, SearchPlan::kExact, SearchPlan::kGraph};
  for (int p = 0; p < 3; ++p) {
    SearchRequest s;
    s.vector = {1, 2};
    s.k = 10;
    s.at = version;
    s.filter = filter;
    s.plan = plans[p];
    auto found = db.Search("kb", s);
    REQUIRE(found.ok());
    for (const auto& hit : found->hits) by_path[p].insert(hit.id);
  }
  ScrollRequest scroll;
  scroll.at = version;
  scroll.filter = filter;
  auto page = db.Scroll("kb", scroll);
  REQUIRE(page.ok());
  for (const auto& r : page->records) by_path[3].insert(r.record.id);
  INFO("filter " << text << " at version " << version);
  CHECK(by_path[1] == by_path[0]);
  CHECK(by_path[2] == by_path[0]);
  CHECK(by_path[3] == by_path[0]);
  auto counted = db.Count("kb", version, &filter);
  REQUIRE(counted.ok());
  CHECK(*counted == by_path[0].size());
  return by_path[0];
}

void CheckRecordFields(Database& db) {
  using Ids = std::set<std::string>;
  for (Version v : {Version{1}, Version{2}}) {
    INFO("version " << v);
    CHECK(Selected(db, v, R"(document_id = "A")") == Ids{"a1", "a2"});
    CHECK(Selected(db, v, R"(document_id in ["A", "B"])") == Ids{"a1", "a2", "b1"});
    CHECK(Selected(db, v, R"(document_id != "A")") == Ids{"b1", "n1", "n2"});
    CHECK(Selected(db, v, R"(not document_id exists)") == Ids{"n1", "n2"});
    CHECK(Selected(db, v, R"(id = "b1")") == Ids{"b1"});
    CHECK(Selected(db, v, R"(id in ["a2", "n2"] and lang = "en")") == Ids{"n2"});
    // A metadata key of the same name is shadowed by the record field.
    CHECK(Selected(db, v, R"(document_id = "shadowed")").empty());
    CHECK(Selected(db, v, R"(id = "shadowed")").empty());
  }
}

}  // namespace

TEST_CASE("filters read id and document_id on every read path, at graph and rows-only versions",
          "[engine][filter][audit]") {
  RecordFieldsFixture f;
  CheckRecordFields(*f.db);
  // After a restart the graph's metadata columns are rebuilt from the rows.
  f.db.reset();
  f.Open();
  CheckRecordFields(*f.db);
}

TEST_CASE("a retrieval with an empty context is refused, and nothing is logged", "[engine][log][audit]") {
  RecordFieldsFixture f;
  auto before = f.db->VerifyLog();
  REQUIRE(before.ok());
  RetrieveRequest r;
  r.collection = "kb";
  r.vector = {1, 0};
  r.k = 3;
  r.filter = R"(document_id = "nowhere")";
  auto none = f.db->Retrieve(r);
  REQUIRE(none.status().code() == StatusCode::kFailedPrecondition);
  CHECK(none.status().message().find("the filter matched no record at version 2") != std::string::npos);
  CHECK(none.status().message().find("nowhere") != std::string::npos);
  // A token budget that fits not even the best chunk ("text of a1": 3 tokens).
  r.filter = R"(document_id = "A")";
  r.token_budget = 2;
  auto budget = f.db->Retrieve(r);
  REQUIRE(budget.status().code() == StatusCode::kInvalidArgument);
  CHECK(budget.status().message().find("token_budget: 2") != std::string::npos);
  // An empty collection.
  CollectionConfig empty;
  empty.name = "empty";
  empty.dimension = 2;
  REQUIRE(f.db->CreateCollection(empty).ok());
  r.collection = "empty";
  r.filter.clear();
  r.token_budget = 0;
  auto nothing = f.db->Retrieve(r);
  REQUIRE(nothing.status().code() == StatusCode::kFailedPrecondition);
  CHECK(nothing.status().message().find("no record at version 0 of collection \"empty\"") != std::string::npos);
  auto after = f.db->VerifyLog();
  REQUIRE(after.ok());
  CHECK(after->records == before->records);
  // The filter on document_id finds the document's chunks.
  r.collection = "kb";
  r.filter = R"(document_id = "A")";
  auto found = f.db->Retrieve(r);
  REQUIRE(found.ok());
  REQUIRE(found->chunks.size() == 2);
  for (const auto& c : found->chunks) CHECK(c.document_id == "A");
}

TEST_CASE("a retrieval by filter alone: every match in document order, logged, replayed, audited",
          "[engine][log][audit]") {
  RecordFieldsFixture f;  // the head is version 2
  RetrieveRequest r;
  r.collection = "kb";
  r.filter = R"(document_id in ["B", "A"] or id = "n1")";
  r.k = 100;
  r.query_text = "the sources";
  auto got = f.db->Retrieve(r);
  REQUIRE(got.ok());
  CHECK(got->version == 2);
  CHECK(got->exact);
  std::vector<std::string> ids;
  for (const auto& c : got->chunks) {
    ids.push_back(c.id);
    CHECK(c.distance == 0);
    CHECK(c.in_context);
    CHECK(c.row_version == 2);
  }
  // Document order: the document id ("" first), then the id.
  CHECK(ids == std::vector<std::string>{"n1", "a1", "a2", "b1"});
  CHECK(got->context == "text of n1\n\ntext of a1\n\ntext of a2\n\ntext of b1");

  // Logged as it was returned: no vector, the filter, the chunks in order.
  auto logged = f.db->GetRetrieval(got->retrieval_id);
  REQUIRE(logged.ok());
  CHECK(logged->first.query_vector.empty());
  CHECK(logged->first.filter == r.filter);
  REQUIRE(logged->first.chunks.size() == 4);
  CHECK(logged->first.chunks[1].id == "a1");
  CHECK(logged->first.context_sha256 == got->context_sha256);

  // The token budget keeps a prefix in document order.
  RetrieveRequest budgeted = r;
  budgeted.token_budget = got->chunks[0].tokens + got->chunks[1].tokens;
  auto cut = f.db->Retrieve(budgeted);
  REQUIRE(cut.ok());
  CHECK(cut->chunks.size() == 4);
  CHECK(cut->context == "text of n1\n\ntext of a1");
  CHECK_FALSE(cut->chunks[2].in_context);

  // More matches than k: refused, not cut. No vector and no filter: refused as before.
  RetrieveRequest small = r;
  small.k = 3;
  auto refused = f.db->Retrieve(small);
  REQUIRE(refused.status().code() == StatusCode::kFailedPrecondition);
  CHECK(refused.status().message().find("more than 3 records") != std::string::npos);
  RetrieveRequest nothing;
  nothing.collection = "kb";
  CHECK(f.db->Retrieve(nothing).status().code() == StatusCode::kInvalidArgument);

  // Replays: the context from the logged rows; the filter run again at the
  // logged version; and at the head after a new chunk of document A.
  auto context = f.db->Replay({got->retrieval_id, ReplayMode::kContext, ReadPoint::Head()});
  REQUIRE(context.ok());
  CHECK(context->outcome == ReplayOutcome::kIdentical);
  auto again = f.db->Replay({got->retrieval_id, ReplayMode::kRetrieval, ReadPoint::Head()});
  REQUIRE(again.ok());
  CHECK(again->outcome == ReplayOutcome::kIdentical);
  CHECK(again->recall == 1.0);
  CHECK(again->detail.find("filter") != std::string::npos);
  Record a0;
  a0.id = "a0";
  a0.vector = {5, 5};
  a0.text = "text of a0";
  a0.document_id = "A";
  REQUIRE(f.db->Upsert("kb", {a0}).ok());
  auto now = f.db->Replay({got->retrieval_id, ReplayMode::kCounterfactual, ReadPoint::Head()});
  REQUIRE(now.ok());
  CHECK(now->outcome == ReplayOutcome::kDiffers);
  CHECK(now->version == 3);
  CHECK(now->added == std::vector<std::string>{"a0"});
  CHECK(now->rank_changes.size() == 3);  // a1, a2 and b1 moved down one place

  // An audit scores an answer against the filtered context.
  REQUIRE(f.db->RecordAnswer({got->retrieval_id, "Text of b1.", "m", 0, 0}).ok());
  auto audit = f.db->Audit({got->retrieval_id, std::nullopt, std::nullopt});
  REQUIRE(audit.ok());
  CHECK(audit->chunks.size() == 4);
  CHECK(audit->result.sentences.size() == 1);
}
