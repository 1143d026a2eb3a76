// Full-text (BM25), sparse-vector and hybrid search over the wire (#26): the
// real verityd driven through the generated stubs (exact codes and field
// names), the C++ client library, and the `verity` CLI. Tagged [text].
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/test_data.h"
#include "server/server_helpers.h"
#include "server/server_process.h"
#include "server/stubs.h"
#include "verity/client.h"

using namespace verity;
namespace v1 = verity::v1;
using Json = nlohmann::json;

namespace {

using test::ExpectError;
using test::Stubs;

// Texts about foxes, routers and tea: a query names one topic.
const std::vector<std::pair<std::string, std::string>> kNotes = {
    {"n1", "The quick brown fox jumps over the lazy dog"},
    {"n2", "Foxes are running through the forest at night"},
    {"n3", "A lazy afternoon with green tea and biscuits"},
    {"n4", "Routers need a reset when the network fails"},
    {"n5", "How to reset the password of your router"},
    {"n6", "Tea ceremonies of Japan and their history"},
};

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Creates `name` with `dimension`, an analyzer preset ("" = no text index)
// and one sparse field "splade" of dimension 1000 when `sparse`.
v1::CreateCollectionResponse CreateTextCollection(Stubs& s, const std::string& name, uint32_t dimension,
                                                  const std::string& preset, bool sparse) {
  v1::CreateCollectionRequest create;
  create.mutable_config()->set_name(name);
  create.mutable_config()->set_dimension(dimension);
  if (!preset.empty()) create.mutable_config()->mutable_text_index()->mutable_analyzer()->set_preset(preset);
  if (sparse) {
    auto* f = create.mutable_config()->add_sparse_fields();
    f->set_name("splade");
    f->set_dimension(1000);
  }
  v1::CreateCollectionResponse created;
  const grpc::Status status = CALL(s.collections, CreateCollection, create, &created);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return created;
}

// Upserts kNotes: text only (dimension 0), or also a 2-d vector (note i at
// (i, 1)) and a sparse vector {i: 1, 100 + i: 0.5} in "splade".
void UpsertNotes(Stubs& s, const std::string& name, bool dense_and_sparse) {
  v1::UpsertRequest upsert;
  upsert.set_collection(name);
  for (size_t i = 0; i < kNotes.size(); ++i) {
    v1::Record* r = upsert.add_records();
    r->set_id(kNotes[i].first);
    r->set_text(kNotes[i].second);
    r->set_document_id("notes");
    if (dense_and_sparse) {
      r->add_vector(static_cast<float>(i));
      r->add_vector(1);
      v1::SparseVector& v = (*r->mutable_sparse())["splade"];
      v.add_indices(static_cast<uint32_t>(i));
      v.add_indices(static_cast<uint32_t>(100 + i));
      v.add_values(1);
      v.add_values(0.5f);
    }
  }
  v1::WriteResponse written;
  const grpc::Status status = CALL(s.records, Upsert, upsert, &written);
  INFO(status.error_message());
  REQUIRE(status.ok());
  REQUIRE(written.applied() == kNotes.size());
}

v1::SearchRequest TextQuery(const std::string& collection, const std::string& text, uint32_t k) {
  v1::SearchRequest req;
  req.set_collection(collection);
  req.mutable_query()->set_text(text);
  req.mutable_query()->set_k(k);
  req.mutable_query()->set_with_payload(true);
  return req;
}

std::vector<std::string> Ids(const v1::SearchResponse& resp) {
  std::vector<std::string> ids;
  for (const auto& h : resp.hits()) ids.push_back(h.id());
  return ids;
}

std::set<std::string> IdSet(const v1::SearchResponse& resp) {
  const std::vector<std::string> ids = Ids(resp);
  return {ids.begin(), ids.end()};
}

void RequireByScore(const v1::SearchResponse& resp) {
  for (int i = 1; i < resp.hits_size(); ++i) REQUIRE(resp.hits(i - 1).score() >= resp.hits(i).score());
}

}  // namespace

TEST_CASE("text search over the wire: a text-only collection, BM25 hits by score", "[server][text]") {
  test::TempDir dir;
  auto server = test::StartServer(dir);
  Stubs s(server->channel());

  const v1::CreateCollectionResponse created = CreateTextCollection(s, "notes", 0, "english", false);
  const v1::CollectionConfig& config = created.collection().config();
  REQUIRE(config.dimension() == 0);
  REQUIRE(config.has_text_index());
  REQUIRE(config.text_index().analyzer().preset() == "english");
  REQUIRE(config.text_index().analyzer().stopwords() == "english");
  REQUIRE(config.text_index().analyzer().stemmer() == "english");
  REQUIRE(config.text_index().analyzer().case_fold());
  REQUIRE(config.text_index().k1() == Approx(1.2));
  REQUIRE(config.text_index().b() == Approx(0.75));
  REQUIRE(config.text_index().analyzer_version() >= 1);
  v1::GetCollectionRequest get;
  get.set_name("notes");
  v1::GetCollectionResponse got;
  REQUIRE(CALL(s.collections, GetCollection, get, &got).ok());
  REQUIRE(got.collection().config().text_index().analyzer().preset() == "english");
  v1::ListCollectionsResponse listed;
  REQUIRE(CALL(s.collections, ListCollections, v1::ListCollectionsRequest(), &listed).ok());
  REQUIRE(listed.collections(0).config().has_text_index());

  UpsertNotes(s, "notes", /*dense_and_sparse=*/false);

  // "running foxes": stemmed to run / fox, which n1 and n2 hold and no other.
  v1::SearchResponse found;
  REQUIRE(CALL(s.search, Search, TextQuery("notes", "running foxes", 10), &found).ok());
  REQUIRE(IdSet(found) == std::set<std::string>{"n1", "n2"});
  REQUIRE(found.hits(0).id() == "n2");  // both words
  RequireByScore(found);
  for (const auto& h : found.hits()) {
    REQUIRE(h.score() > 0);
    REQUIRE_FALSE(h.has_dense());  // legs only for hybrid searches
    REQUIRE_FALSE(h.has_text());
    REQUIRE(Lower(h.record().text()).find("fox") != std::string::npos);
  }

  REQUIRE(CALL(s.search, Search, TextQuery("notes", "reset the router", 2), &found).ok());
  REQUIRE(IdSet(found) == std::set<std::string>{"n4", "n5"});
  RequireByScore(found);

  // With a filter.
  v1::SearchRequest filtered = TextQuery("notes", "tea", 10);
  filtered.mutable_query()->set_filter("id = \"n6\"");
  REQUIRE(CALL(s.search, Search, filtered, &found).ok());
  REQUIRE(Ids(found) == std::vector<std::string>{"n6"});

  // BatchSearch carries the text too.
  v1::BatchSearchRequest batch;
  batch.set_collection("notes");
  *batch.add_queries() = TextQuery("notes", "fox", 5).query();
  *batch.add_queries() = TextQuery("notes", "tea", 5).query();
  v1::BatchSearchResponse answers;
  REQUIRE(CALL(s.search, BatchSearch, batch, &answers).ok());
  REQUIRE(answers.results_size() == 2);
  REQUIRE(answers.results(1).hits_size() == 2);  // n3, n6
}

TEST_CASE("hybrid search over the wire: legs fused, each hit with its legs' ranks", "[server][text]") {
  test::TempDir dir;
  auto server = test::StartServer(dir);
  Stubs s(server->channel());
  CreateTextCollection(s, "hy", 2, "standard", /*sparse=*/true);
  UpsertNotes(s, "hy", /*dense_and_sparse=*/true);

  // The sparse vector round-trips.
  v1::GetRequest get;
  get.set_collection("hy");
  get.set_id("n3");
  v1::GetResponse got;
  REQUIRE(CALL(s.records, Get, get, &got).ok());
  REQUIRE(got.record().record().sparse().count("splade") == 1);
  const v1::SparseVector& stored = got.record().record().sparse().at("splade");
  REQUIRE(std::vector<uint32_t>(stored.indices().begin(), stored.indices().end()) == std::vector<uint32_t>{2, 102});
  REQUIRE(std::vector<float>(stored.values().begin(), stored.values().end()) == std::vector<float>{1, 0.5f});

  // Dense + text: near (5, 1) is n6 (tea), the text is about foxes.
  v1::SearchRequest req = TextQuery("hy", "fox", 6);
  req.mutable_query()->add_vector(5);
  req.mutable_query()->add_vector(1);
  v1::SearchResponse found;
  REQUIRE(CALL(s.search, Search, req, &found).ok());
  REQUIRE(found.hits_size() == 6);
  RequireByScore(found);
  std::set<std::string> text_found;
  for (const auto& h : found.hits()) {
    REQUIRE(h.has_dense());
    REQUIRE(h.has_text());
    REQUIRE_FALSE(h.has_sparse());  // no sparse leg in this query
    REQUIRE((h.dense().rank() >= 0 || h.text().rank() >= 0));
    REQUIRE(h.score() > 0);
    if (h.text().rank() >= 0) text_found.insert(h.id());
    if (h.dense().rank() >= 0) REQUIRE(h.distance() == Approx(h.dense().score()));
  }
  REQUIRE(text_found == std::set<std::string>{"n1"});  // "standard": no stemming, so not "Foxes"
  const auto n6 = std::find_if(found.hits().begin(), found.hits().end(), [](const auto& h) { return h.id() == "n6"; });
  REQUIRE(n6->dense().rank() == 0);
  REQUIRE(n6->text().rank() == -1);

  // All three legs, convex fusion with weights.
  req.mutable_query()->set_sparse_field("splade");
  req.mutable_query()->mutable_sparse()->add_indices(3);
  req.mutable_query()->mutable_sparse()->add_values(2);
  auto* fusion = req.mutable_query()->mutable_fusion();
  fusion->set_method(v1::FUSION_METHOD_CONVEX);
  fusion->set_dense_weight(0.5f);
  fusion->set_text_weight(1);
  fusion->set_sparse_weight(2);
  REQUIRE(CALL(s.search, Search, req, &found).ok());
  RequireByScore(found);
  for (const auto& h : found.hits()) REQUIRE((h.has_dense() && h.has_text() && h.has_sparse()));
  const auto n4 = std::find_if(found.hits().begin(), found.hits().end(), [](const auto& h) { return h.id() == "n4"; });
  REQUIRE(n4 != found.hits().end());
  REQUIRE(n4->sparse().rank() == 0);
  REQUIRE(n4->sparse().score() == Approx(2.0));

  // Sparse alone: scores are dot products, legs unset.
  v1::SearchRequest sparse_only;
  sparse_only.set_collection("hy");
  sparse_only.mutable_query()->set_sparse_field("splade");
  for (uint32_t i : {1u, 101u, 104u}) sparse_only.mutable_query()->mutable_sparse()->add_indices(i);
  for (float v : {1.0f, 2.0f, 6.0f}) sparse_only.mutable_query()->mutable_sparse()->add_values(v);
  REQUIRE(CALL(s.search, Search, sparse_only, &found).ok());
  REQUIRE(Ids(found) == std::vector<std::string>{"n5", "n2"});  // 0.5 * 6 = 3; 1 * 1 + 0.5 * 2 = 2
  REQUIRE(found.hits(0).score() == Approx(3.0));
  REQUIRE(found.hits(1).score() == Approx(2.0));
  REQUIRE_FALSE(found.hits(0).has_sparse());

  // The C++ client carries the legs too.
  Client client(test::ClientOptionsFor(*server));
  ClientSearch query;
  query.vector = {5, 1};
  query.text = "fox";
  query.k = 3;
  auto result = client.Search("hy", query);
  REQUIRE(result.ok());
  REQUIRE(result->hits.size() == 3);
  REQUIRE(result->hits[0].score > 0);
  for (const auto& h : result->hits) REQUIRE((h.dense.found() || h.text.found()));
  REQUIRE_FALSE(result->hits[0].sparse.found());
}

// The hits of one answer, field by field: what BatchSearch and SearchStream
// must give for a query that Search answered with `want`.
void RequireSameHits(const v1::SearchResponse& got, const v1::SearchResponse& want) {
  REQUIRE(got.version() == want.version());
  REQUIRE(got.hits_size() == want.hits_size());
  for (int i = 0; i < want.hits_size(); ++i) {
    INFO("hit " << i);
    const v1::SearchHit& g = got.hits(i);
    const v1::SearchHit& w = want.hits(i);
    REQUIRE(g.id() == w.id());
    REQUIRE(g.score() == w.score());  // bit for bit: the same search
    REQUIRE(g.distance() == w.distance());
    for (auto leg : {&v1::SearchHit::dense, &v1::SearchHit::text, &v1::SearchHit::sparse}) {
      REQUIRE((g.*leg)().rank() == (w.*leg)().rank());
      REQUIRE((g.*leg)().score() == (w.*leg)().score());
    }
    REQUIRE(g.has_dense() == w.has_dense());
    REQUIRE(g.has_text() == w.has_text());
    REQUIRE(g.has_sparse() == w.has_sparse());
    REQUIRE(g.record().text() == w.record().text());
  }
}

TEST_CASE("BatchSearch and SearchStream carry text, sparse and fusion as Search does", "[server][text]") {
  test::TempDir dir;
  auto server = test::StartServer(dir);
  Stubs s(server->channel());
  CreateTextCollection(s, "hy", 2, "english", /*sparse=*/true);
  UpsertNotes(s, "hy", /*dense_and_sparse=*/true);
  test::CreateCollection(s, "plain", 2);

  // A text query; dense + text (RRF, its k and leg limit); all three legs
  // fused by convex weights; sparse alone.
  std::vector<v1::SearchRequest> queries;
  queries.push_back(TextQuery("hy", "running foxes", 4));
  v1::SearchRequest hybrid = TextQuery("hy", "reset the router", 5);
  hybrid.mutable_query()->add_vector(5);
  hybrid.mutable_query()->add_vector(1);
  hybrid.mutable_query()->mutable_fusion()->set_method(v1::FUSION_METHOD_RRF);
  hybrid.mutable_query()->mutable_fusion()->set_rrf_k(7);
  hybrid.mutable_query()->mutable_fusion()->set_leg_limit(4);
  queries.push_back(hybrid);
  v1::SearchRequest convex = hybrid;
  convex.mutable_query()->set_sparse_field("splade");
  convex.mutable_query()->mutable_sparse()->add_indices(3);
  convex.mutable_query()->mutable_sparse()->add_values(2);
  auto* fusion = convex.mutable_query()->mutable_fusion();
  fusion->set_method(v1::FUSION_METHOD_CONVEX);
  fusion->set_dense_weight(0.5f);
  fusion->set_text_weight(1);
  fusion->set_sparse_weight(2);
  fusion->set_leg_limit(0);
  queries.push_back(convex);
  v1::SearchRequest sparse_only;
  sparse_only.set_collection("hy");
  sparse_only.mutable_query()->set_k(3);
  sparse_only.mutable_query()->set_sparse_field("splade");
  sparse_only.mutable_query()->mutable_sparse()->add_indices(104);
  sparse_only.mutable_query()->mutable_sparse()->add_values(6);
  queries.push_back(sparse_only);

  std::vector<v1::SearchResponse> wanted(queries.size());
  for (size_t i = 0; i < queries.size(); ++i) {
    const grpc::Status status = CALL(s.search, Search, queries[i], &wanted[i]);
    INFO(status.error_message());
    REQUIRE(status.ok());
    REQUIRE(wanted[i].hits_size() > 0);
  }
  // The fused answers have legs, and the RRF parameters changed them: with
  // rrf_k 7 a first-ranked leg hit scores 1/8.
  REQUIRE(wanted[1].hits(0).has_text());
  REQUIRE((wanted[1].hits(0).dense().rank() == 0 || wanted[1].hits(0).text().rank() == 0));
  REQUIRE(wanted[1].hits(0).score() >= Approx(1.0 / 8));
  REQUIRE(wanted[2].hits(0).has_sparse());
  REQUIRE(wanted[3].hits(0).id() == "n5");

  SECTION("BatchSearch") {
    v1::BatchSearchRequest batch;
    batch.set_collection("hy");
    for (const auto& q : queries) *batch.add_queries() = q.query();
    v1::BatchSearchResponse answers;
    const grpc::Status status = CALL(s.search, BatchSearch, batch, &answers);
    INFO(status.error_message());
    REQUIRE(status.ok());
    REQUIRE(answers.results_size() == static_cast<int>(queries.size()));
    for (size_t i = 0; i < queries.size(); ++i) {
      INFO("query " << i);
      RequireSameHits(answers.results(static_cast<int>(i)), wanted[i]);
    }
    // A refusal names the query (the engine's form for a batch: "queries[1]:
    // text: ...", field queries[1].text): a text query where there is no
    // text index.
    batch.set_collection("plain");
    batch.clear_queries();
    v1::SearchQuery dense;
    dense.add_vector(0);
    dense.add_vector(1);
    *batch.add_queries() = dense;
    dense.set_text("fox");
    *batch.add_queries() = dense;
    ExpectError(CALL(s.search, BatchSearch, batch, &answers), grpc::StatusCode::FAILED_PRECONDITION,
                "queries[1]: text: the collection \"plain\" has no text index");
  }

  SECTION("SearchStream") {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auto stream = s.search->SearchStream(&ctx);
    for (const auto& q : queries) REQUIRE(stream->Write(q));
    v1::SearchRequest no_index = TextQuery("plain", "fox", 3);
    REQUIRE(stream->Write(no_index));
    REQUIRE(stream->WritesDone());
    v1::SearchStreamResponse answer;
    for (size_t i = 0; i < queries.size(); ++i) {
      INFO("query " << i);
      REQUIRE(stream->Read(&answer));
      INFO(answer.message());
      REQUIRE(answer.code() == 0);
      RequireSameHits(answer.response(), wanted[i]);
    }
    REQUIRE(stream->Read(&answer));
    REQUIRE(answer.code() == grpc::StatusCode::FAILED_PRECONDITION);
    REQUIRE(answer.message().find("query.text: the collection \"plain\" has no text index") != std::string::npos);
    REQUIRE_FALSE(stream->Read(&answer));
    REQUIRE(stream->Finish().ok());
  }
}

TEST_CASE("text retrieval over the wire: retrieve by text, then replay it", "[server][text]") {
  test::TempDir dir;
  auto server = test::StartServer(dir);
  Stubs s(server->channel());
  CreateTextCollection(s, "notes", 0, "english", false);
  UpsertNotes(s, "notes", false);

  v1::RetrieveRequest retrieve;
  retrieve.set_collection("notes");
  retrieve.set_text("how do I reset my router?");
  retrieve.set_k(2);
  v1::RetrieveResponse retrieved;
  const grpc::Status status = CALL(s.context, Retrieve, retrieve, &retrieved);
  INFO(status.error_message());
  REQUIRE(status.ok());
  REQUIRE(retrieved.chunks_size() == 2);
  std::set<std::string> ids;
  for (const auto& c : retrieved.chunks()) {
    ids.insert(c.id());
    REQUIRE(c.score() > 0);
    REQUIRE_FALSE(c.has_text_leg());
  }
  REQUIRE(ids == std::set<std::string>{"n4", "n5"});
  REQUIRE(retrieved.chunks(0).score() >= retrieved.chunks(1).score());
  REQUIRE(retrieved.context().find("reset") != std::string::npos);

  // The log keeps the text as the query text.
  v1::GetRetrievalRequest get;
  get.set_retrieval_id(retrieved.retrieval_id());
  v1::GetRetrievalResponse logged;
  REQUIRE(CALL(s.log, GetRetrieval, get, &logged).ok());
  REQUIRE(logged.retrieval().query_text() == "how do I reset my router?");

  // Replays: the context, and the text search re-run at the logged version.
  v1::ReplayRequest replay;
  replay.set_retrieval_id(retrieved.retrieval_id());
  v1::ReplayResponse replayed;
  REQUIRE(CALL(s.log, Replay, replay, &replayed).ok());
  REQUIRE(replayed.outcome() == "identical");
  replay.set_mode(v1::REPLAY_MODE_RETRIEVAL);
  REQUIRE(CALL(s.log, Replay, replay, &replayed).ok());
  INFO(replayed.detail());
  REQUIRE(replayed.outcome() == "identical");
  REQUIRE(replayed.recall() == 1.0);

  // A new note about routers: a counterfactual replay at head differs.
  v1::UpsertRequest upsert;
  upsert.set_collection("notes");
  v1::Record* r = upsert.add_records();
  r->set_id("n7");
  r->set_text("Reset the router, then reset the router again: router reset");
  v1::WriteResponse written;
  REQUIRE(CALL(s.records, Upsert, upsert, &written).ok());
  replay.set_mode(v1::REPLAY_MODE_COUNTERFACTUAL);
  REQUIRE(CALL(s.log, Replay, replay, &replayed).ok());
  REQUIRE(replayed.outcome() == "differs");
  REQUIRE(std::set<std::string>(replayed.added().begin(), replayed.added().end()).count("n7") == 1);
}

TEST_CASE("text search errors name the field", "[server][text]") {
  test::TempDir dir;
  auto server = test::StartServer(dir, {"--max-k", "50"});
  Stubs s(server->channel());
  test::CreateCollection(s, "plain", 2);
  CreateTextCollection(s, "hy", 2, "english", /*sparse=*/true);

  // Collections: an unknown preset, BM25 parameters out of range, dimension
  // 0 without a text index or sparse field, a bad sparse field.
  v1::CreateCollectionRequest create;
  create.mutable_config()->set_name("bad");
  create.mutable_config()->set_dimension(0);
  create.mutable_config()->mutable_text_index()->mutable_analyzer()->set_preset("klingon");
  v1::CreateCollectionResponse created;
  ExpectError(CALL(s.collections, CreateCollection, create, &created), grpc::StatusCode::INVALID_ARGUMENT,
              "config.text_index.analyzer.preset: unknown analyzer preset \"klingon\"");
  create.mutable_config()->mutable_text_index()->mutable_analyzer()->set_preset("english");
  create.mutable_config()->mutable_text_index()->set_k1(5);
  ExpectError(CALL(s.collections, CreateCollection, create, &created), grpc::StatusCode::INVALID_ARGUMENT,
              "config.text_index.k1");
  create.mutable_config()->clear_text_index();
  ExpectError(CALL(s.collections, CreateCollection, create, &created), grpc::StatusCode::INVALID_ARGUMENT,
              "config.dimension");
  create.mutable_config()->add_sparse_fields()->set_name("has space");
  ExpectError(CALL(s.collections, CreateCollection, create, &created), grpc::StatusCode::INVALID_ARGUMENT,
              "config.sparse_fields[0].name");

  // Records: an unknown sparse field, an index beyond the field's dimension.
  v1::UpsertRequest upsert;
  upsert.set_collection("hy");
  for (int i = 0; i < 2; ++i) {
    v1::Record* r = upsert.add_records();
    r->set_id("r" + std::to_string(i));
    r->add_vector(0);
    r->add_vector(1);
  }
  v1::SparseVector& unknown = (*upsert.mutable_records(0)->mutable_sparse())["nope"];
  unknown.add_indices(1);
  unknown.add_values(1);
  v1::WriteResponse written;
  ExpectError(CALL(s.records, Upsert, upsert, &written), grpc::StatusCode::INVALID_ARGUMENT,
              "records[0].sparse[\"nope\"]");
  upsert.mutable_records(0)->clear_sparse();
  v1::SparseVector& far = (*upsert.mutable_records(1)->mutable_sparse())["splade"];
  for (uint32_t i : {1u, 2u, 5000u}) far.add_indices(i);
  for (int i = 0; i < 3; ++i) far.add_values(1);
  ExpectError(CALL(s.records, Upsert, upsert, &written), grpc::StatusCode::INVALID_ARGUMENT,
              "records[1].sparse[\"splade\"].indices[2]");

  v1::SearchResponse found;
  // A text query where there is no text index (the collection's state:
  // FAILED_PRECONDITION, as the engine says).
  ExpectError(CALL(s.search, Search, TextQuery("plain", "fox", 3), &found), grpc::StatusCode::FAILED_PRECONDITION,
              "query.text: the collection \"plain\" has no text index");
  // No leg at all.
  v1::SearchRequest empty;
  empty.set_collection("hy");
  ExpectError(CALL(s.search, Search, empty, &found), grpc::StatusCode::INVALID_ARGUMENT, "query.vector: empty");
  // Sparse: an index out of range, a vector without its field and the reverse.
  v1::SearchRequest sparse;
  sparse.set_collection("hy");
  sparse.mutable_query()->set_sparse_field("splade");
  sparse.mutable_query()->mutable_sparse()->add_indices(1000);
  sparse.mutable_query()->mutable_sparse()->add_values(1);
  ExpectError(CALL(s.search, Search, sparse, &found), grpc::StatusCode::INVALID_ARGUMENT, "query.sparse.indices[0]");
  sparse.mutable_query()->clear_sparse_field();
  ExpectError(CALL(s.search, Search, sparse, &found), grpc::StatusCode::INVALID_ARGUMENT, "query.sparse_field");
  sparse.mutable_query()->set_sparse_field("splade");
  sparse.mutable_query()->clear_sparse();
  ExpectError(CALL(s.search, Search, sparse, &found), grpc::StatusCode::INVALID_ARGUMENT, "query.sparse: empty");
  // Fusion: an unknown method, a leg_limit over --max-k.
  v1::SearchRequest hybrid = TextQuery("hy", "fox", 3);
  hybrid.mutable_query()->add_vector(0);
  hybrid.mutable_query()->add_vector(1);
  hybrid.mutable_query()->mutable_fusion()->set_method(static_cast<v1::FusionMethod>(7));
  ExpectError(CALL(s.search, Search, hybrid, &found), grpc::StatusCode::INVALID_ARGUMENT,
              "query.fusion.method: unknown value 7");
  hybrid.mutable_query()->mutable_fusion()->set_method(v1::FUSION_METHOD_RRF);
  hybrid.mutable_query()->mutable_fusion()->set_leg_limit(51);
  ExpectError(CALL(s.search, Search, hybrid, &found), grpc::StatusCode::INVALID_ARGUMENT,
              "query.fusion.leg_limit: 51 exceeds the server limit --max-k=50");
  // Unset, the leg limit (100) is lowered to --max-k, not refused.
  hybrid.mutable_query()->mutable_fusion()->set_leg_limit(0);
  const grpc::Status lowered = CALL(s.search, Search, hybrid, &found);
  INFO(lowered.error_message());
  REQUIRE(lowered.ok());
  // In a batch, the query's index.
  v1::BatchSearchRequest batch;
  batch.set_collection("plain");
  *batch.add_queries() = TextQuery("plain", "", 3).query();
  batch.mutable_queries(0)->add_vector(0);
  batch.mutable_queries(0)->add_vector(1);
  *batch.add_queries() = v1::SearchQuery();
  v1::BatchSearchResponse answers;
  ExpectError(CALL(s.search, BatchSearch, batch, &answers), grpc::StatusCode::INVALID_ARGUMENT,
              "queries[1].vector: empty");

  // Retrieve: no leg and no filter; a text query without a text index.
  v1::RetrieveRequest retrieve;
  retrieve.set_collection("hy");
  v1::RetrieveResponse retrieved;
  ExpectError(CALL(s.context, Retrieve, retrieve, &retrieved), grpc::StatusCode::INVALID_ARGUMENT, "vector: empty");
  retrieve.set_collection("plain");
  retrieve.set_text("fox");
  ExpectError(CALL(s.context, Retrieve, retrieve, &retrieved), grpc::StatusCode::FAILED_PRECONDITION,
              "text: the collection \"plain\" has no text index");
  retrieve.mutable_fusion()->set_method(static_cast<v1::FusionMethod>(9));
  ExpectError(CALL(s.context, Retrieve, retrieve, &retrieved), grpc::StatusCode::INVALID_ARGUMENT,
              "fusion.method: unknown value 9");
  REQUIRE(s.Serving());
}

TEST_CASE("the verity CLI: a text collection, text-only import, search and retrieve by text",
          "[server][text][cli]") {
  test::TempDir dir;
  auto server = test::StartServer(dir);
  const std::string addr = server->address();

  test::CliRun r = test::RunCliOk(dir, addr, "collection create notes --dim 0 --text-index english --json");
  Json created = Json::parse(r.out)[0];
  REQUIRE(created["dimension"] == 0);
  REQUIRE(created["text_index"]["analyzer"]["preset"] == "english");
  REQUIRE(created["text_index"]["analyzer"]["stemmer"] == "english");
  r = test::RunCliOk(dir, addr, "collection list");
  REQUIRE(r.out.find("TEXT_INDEX") != std::string::npos);
  REQUIRE(r.out.find("english") != std::string::npos);

  {
    std::ofstream f(dir.Sub("notes.jsonl"));
    for (const auto& [id, text] : kNotes) f << Json{{"id", id}, {"text", text}, {"document_id", "notes"}}.dump() << "\n";
  }
  r = test::RunCliOk(dir, addr, "import notes " + dir.Sub("notes.jsonl") + " --json");
  REQUIRE(Json::parse(r.out)["records"] == kNotes.size());

  r = test::RunCliOk(dir, addr, "search notes --text 'running foxes' --json");
  Json found = Json::parse(r.out);
  REQUIRE(found["hits"].size() == 2);
  REQUIRE(found["hits"][0]["id"] == "n2");
  REQUIRE(found["hits"][0]["score"].get<double>() >= found["hits"][1]["score"].get<double>());
  REQUIRE_FALSE(found["hits"][0].contains("text_leg"));
  r = test::RunCliOk(dir, addr, "search notes --text 'reset the router' -k 2");
  REQUIRE(r.out.find("SCORE") != std::string::npos);
  REQUIRE(r.out.find("DISTANCE") == std::string::npos);
  REQUIRE(r.out.find("n4") != std::string::npos);

  r = test::RunCliOk(dir, addr, "retrieve notes --text 'how do I reset my router?' -k 2 --json");
  Json retrieved = Json::parse(r.out);
  REQUIRE(retrieved["chunks"].size() == 2);
  REQUIRE(retrieved["chunks"][0]["score"].get<double>() > 0);
  const std::string id = retrieved["retrieval_id"];
  r = test::RunCliOk(dir, addr, "replay " + id + " --mode retrieval --json");
  REQUIRE(Json::parse(r.out)["outcome"] == "identical");

  // A new analyzer: version 2, and the replay of the retrieval above says
  // it ran under another analyzer version.
  r = test::RunCliOk(dir, addr, "collection text-index notes --text-index standard --k1 1.5 --text-field title=2 --json");
  const Json changed = Json::parse(r.out)[0];
  REQUIRE(changed["text_index"]["analyzer_version"] == 2);
  REQUIRE(changed["text_index"]["analyzer"]["stemmer"] == "");
  REQUIRE(changed["text_index"]["fields"] == Json{{"title", 2}});
  r = test::RunCliOk(dir, addr, "replay " + id + " --mode retrieval --json");
  REQUIRE(Json::parse(r.out)["detail"].get<std::string>().find("analyzer version 1") != std::string::npos);
  r = test::RunCli(dir, addr, "collection text-index notes --text-index standard --k1 7");
  REQUIRE(r.code == 1);
  REQUIRE(r.err.find("text_index.k1") != std::string::npos);

  // A hybrid collection: vectors, text and a sparse field from one file.
  test::RunCliOk(dir, addr, "collection create hy --dim 2 --text-index standard --sparse-field splade:1000 "
                            "--sparse-field other");
  {
    std::ofstream f(dir.Sub("hy.jsonl"));
    for (size_t i = 0; i < kNotes.size(); ++i) {
      f << Json{{"id", kNotes[i].first},
                {"vector", {i, 1}},
                {"text", kNotes[i].second},
                {"sparse", {{"splade", {{"indices", {i, 100 + i}}, {"values", {1, 0.5}}}}}}}
               .dump()
        << "\n";
    }
  }
  test::RunCliOk(dir, addr, "import hy " + dir.Sub("hy.jsonl"));
  r = test::RunCliOk(dir, addr, "get hy n3 --json");
  REQUIRE(Json::parse(r.out)["sparse"]["splade"]["indices"] == Json::array({2, 102}));
  r = test::RunCliOk(dir, addr,
                     "search hy --vector '[5, 1]' --text fox --sparse-field splade --sparse "
                     "'{\"indices\": [3], \"values\": [2]}' --fusion convex --weights dense=0.5,sparse=2 -k 6 --json");
  found = Json::parse(r.out);
  REQUIRE(found["hits"].size() == 6);
  for (const auto& hit : found["hits"]) {
    REQUIRE(hit.contains("dense"));
    REQUIRE(hit.contains("text_leg"));
    REQUIRE(hit.contains("sparse"));
    if (hit["id"] == "n6") REQUIRE(hit["dense"]["rank"] == 1);  // ranks from 1
    if (hit["id"] == "n6") REQUIRE(hit["text_leg"]["rank"].is_null());
  }
  r = test::RunCliOk(dir, addr, "search hy --vector '[5, 1]' --text fox -k 3");
  REQUIRE(r.out.find("DENSE") != std::string::npos);
  REQUIRE(r.out.find("BM25") != std::string::npos);
  REQUIRE(r.out.find("SPARSE") == std::string::npos);
  r = test::RunCliOk(dir, addr, "retrieve hy --vector '[5, 1]' --text fox -k 3 --rrf-k 10 --leg-limit 20 --json");
  REQUIRE(Json::parse(r.out)["chunks"][0].contains("text_leg"));

  // Bad flags: exit 2, naming the flag.
  struct Bad {
    std::string args;
    std::string message;
  };
  for (const Bad& bad : std::vector<Bad>{
           {"collection create x --text-index klingon", "--text-index: expected standard or english, got \"klingon\""},
           {"collection create x --dim 2 --k1 1.5", "--k1 needs --text-index"},
           {"collection create x --text-index english --b nope", "--b: \"nope\" is not a finite number"},
           {"collection create x --sparse-field splade:0", "--sparse-field splade: dimension 0"},
           {"search hy --text fox --weights dense", "--weights"},
           {"search hy --text fox --weights bm25=2", "--weights: unknown leg \"bm25\""},
           {"search hy --text fox --fusion max", "--fusion: expected rrf or convex, got \"max\""},
           {"search hy --sparse-field splade", "--sparse-field needs --sparse"},
           {"search hy --sparse-field splade --sparse '{\"indices\": [-1], \"values\": [1]}'",
            "--sparse: indices[0]: -1 is not an integer"},
           {"search hy -k 3", "search needs --vector"},
           {"retrieve hy -k 3", "retrieve needs --vector"},
       }) {
    r = test::RunCli(dir, addr, bad.args);
    INFO(bad.args << "\n" << r.err);
    REQUIRE(r.code == 2);
    REQUIRE(r.err.find(bad.message) != std::string::npos);
  }
  // The server's refusal: a text query on a collection without a text index.
  test::RunCliOk(dir, addr, "collection create plain --dim 2");
  r = test::RunCli(dir, addr, "search plain --text fox");
  REQUIRE(r.code == 1);
  REQUIRE(r.err.find("query.text") != std::string::npos);
}
