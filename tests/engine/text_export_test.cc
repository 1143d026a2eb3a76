// Export and import of collections with a text index and sparse fields
// (#26): the settings travel with the archive, the records' text and sparse
// vectors too, and the imported collection answers text, sparse and hybrid
// searches as the exported one did at the exported version (its text
// documents are rebuilt from the rows at import).
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

CollectionConfig Config(const std::string& name, uint32_t dimension) {
  CollectionConfig config;
  config.name = name;
  config.dimension = dimension;
  config.metric = Metric::kCosine;
  config.text_index.enabled = true;
  config.text_index.analyzer.preset = "english";
  config.text_index.k1 = 1.5f;
  config.text_index.b = 0.5f;
  config.sparse_fields.push_back({"splade", 1000});
  return config;
}

std::vector<Record> Records(uint32_t dimension, int round) {
  const char* texts[] = {"Change the permissions of a file", "Running foxes jump over lazy dogs",
                         "Reset the router and reconnect", "The file owner and group of a path",
                         "Permissions, owners and modes of files", "Dogs and foxes in the garden"};
  std::vector<Record> records;
  for (int i = 0; i < 6; ++i) {
    Record r;
    r.id = "n" + std::to_string(i);
    r.text = texts[(i + round) % 6];
    r.document_id = "doc" + std::to_string(i % 2);
    for (uint32_t d = 0; d < dimension; ++d) r.vector.push_back(static_cast<float>((i + 1) * (d + 1 + round) % 7) + 1);
    r.sparse["splade"] = SparseVector{{static_cast<uint32_t>(i), 500u + static_cast<uint32_t>(round)},
                                      {1.0f + static_cast<float>(i), 0.5f}};
    records.push_back(std::move(r));
  }
  return records;
}

std::vector<std::pair<std::string, float>> Hits(Database& db, const std::string& name, SearchRequest request) {
  auto result = db.Search(name, request);
  REQUIRE(result.ok());
  std::vector<std::pair<std::string, float>> hits;
  for (const SearchHit& hit : result->hits) hits.emplace_back(hit.id, hit.score);
  return hits;
}

}  // namespace

TEST_CASE("export and import carry the text index, sparse fields and records: searches answer alike", "[text][engine]") {
  for (uint32_t dimension : {0u, 3u}) {
    INFO("dimension " << dimension);
    test::TempDir dir;
    auto db = Open(dir.Sub("db"));
    REQUIRE(db->CreateCollection(Config("src", dimension)).ok());
    auto first = db->Upsert("src", Records(dimension, 0));
    REQUIRE(first.ok());
    REQUIRE(db->Upsert("src", Records(dimension, 1)).ok());  // later writes: the export is of `first`
    REQUIRE(db->Export("src", first->version, dir.Sub("src.export")).ok());
    auto imported = db->Import(dir.Sub("src.export"), "copy");
    REQUIRE(imported.ok());
    auto info = db->GetCollection("copy");
    REQUIRE(info.ok());
    CHECK(info->config.dimension == dimension);
    CHECK(info->config.text_index.enabled);
    CHECK(info->config.text_index.analyzer.stemmer == "english");
    CHECK(info->config.text_index.k1 == 1.5f);
    CHECK(info->config.text_index.b == 0.5f);
    REQUIRE(info->config.sparse_fields.size() == 1);
    CHECK(info->config.sparse_fields[0].name == "splade");
    CHECK(info->config.sparse_fields[0].dimension == 1000u);
    auto record = db->Get("copy", "n3");
    REQUIRE(record.ok());
    CHECK(record->record.sparse.at("splade").indices == std::vector<uint32_t>{3, 500});

    SearchRequest text;
    text.text = "permission of files";
    text.at = first->version;
    SearchRequest sparse;
    sparse.sparse_field = "splade";
    sparse.sparse = SparseVector{{2, 3, 500}, {1.0f, 2.0f, 1.0f}};
    sparse.at = first->version;
    std::vector<SearchRequest> requests = {text, sparse};
    if (dimension > 0) {
      SearchRequest hybrid = text;
      hybrid.vector = {1, 2, 3};
      hybrid.sparse_field = "splade";
      hybrid.sparse = sparse.sparse;
      requests.push_back(hybrid);
    }
    for (const SearchRequest& request : requests) {
      const auto want = Hits(*db, "src", request);
      REQUIRE(!want.empty());
      SearchRequest at_head = request;
      at_head.at = ReadPoint::Head();
      CHECK(Hits(*db, "copy", at_head) == want);
    }
    // And after a restart, from the text documents written at import.
    db.reset();
    db = Open(dir.Sub("db"));
    SearchRequest at_head = text;
    at_head.at = ReadPoint::Head();
    CHECK(Hits(*db, "copy", at_head) == Hits(*db, "src", text));
  }
}
