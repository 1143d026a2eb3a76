// The fuzz target fuzz_text_query (tests/fuzz/text_query_target.h) without
// the fuzz build: its seed corpus (and every input that once crashed it),
// inputs built to hit each refusal, and deterministic random inputs, each
// searched as the target searches it.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>

#include "engine/test_data.h"
#include "fuzz/text_query_target.h"

using namespace verity;

namespace {

std::string Run(Database& db, const std::string& bytes) {
  return fuzz::RunTextQuery(db, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

// An input: the flags, k, rrf_k, leg limit and three weight bytes, then `more`.
std::string Input(uint8_t flags, uint8_t k, uint16_t rrf_k, uint8_t leg_limit, const std::string& more) {
  std::string s;
  s += static_cast<char>(flags);
  s += static_cast<char>(k);
  s += static_cast<char>(rrf_k & 0xff);
  s += static_cast<char>(rrf_k >> 8);
  s += static_cast<char>(leg_limit);
  s += std::string(3, static_cast<char>(32));  // weights 1, 1, 1
  return s + more;
}

}  // namespace

TEST_CASE("fuzz_text_query: the seed corpus, each refusal, and random inputs keep the invariants",
          "[text][engine][fuzz]") {
  test::TempDir dir;
  auto db = fuzz::OpenTextQueryDatabase(dir.Sub("db"));

  int files = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::filesystem::path(VERITY_FUZZ_CORPUS) / "fuzz_text_query")) {
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    INFO(entry.path().string());
    CHECK(Run(*db, bytes) == "");
    ++files;
  }
  CHECK(files >= 6);

  // A text query finds the foxes; the hybrid one fuses.
  const std::string text = Input(0x00, 5, 60, 10, "running foxes");
  SearchRequest request = fuzz::TextQueryFromBytes(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  CHECK(request.text == "running foxes");
  auto found = db->Search("c", request);
  REQUIRE(found.ok());
  CHECK_FALSE(found->hits.empty());
  CHECK(Run(*db, text) == "");
  CHECK(Run(*db, Input(0x03, 5, 60, 10, std::string("\x02\x01\x00\x10\x07\x00\x08", 7) + "\x10\x08\x00\xf0" + "tea")) ==
        "");

  // Each refusal is INVALID_ARGUMENT naming its field.
  struct Refused {
    std::string input;
    std::string field;
  };
  for (const Refused& bad : std::vector<Refused>{
           {Input(0x00, 0, 60, 10, "fox"), "k"},
           {Input(0x01, 5, 0, 10, std::string(4, '\x01') + "fox"), "fusion.rrf_k"},
           {Input(0x01, 5, 60, 0, std::string(4, '\x01') + "fox"), "fusion.leg_limit"},
           {Input(0x02, 5, 60, 10, std::string("\x01\x46\x00\x08", 4) + "fox"), "sparse.indices[0]"},  // 70 >= 64
           {Input(0x82, 5, 60, 10, std::string("\x01\x01\x00\x08", 4) + "fox"), "sparse_field"},
           {Input(0x10, 5, 60, 10, std::string("\x04", 1) + "fox"), "at"},  // version 5 does not exist yet
       }) {
    const SearchRequest r =
        fuzz::TextQueryFromBytes(reinterpret_cast<const uint8_t*>(bad.input.data()), bad.input.size());
    const auto refused = db->Search("c", r);
    INFO(bad.field << ": " << refused.status().ToString());
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().code() == StatusCode::kInvalidArgument);
    CHECK(refused.status().field().rfind(bad.field, 0) == 0);
    CHECK(Run(*db, bad.input) == "");
  }
  // Raw float weights: NaN is refused by name.
  std::string nan_weight = Input(0x41, 5, 60, 10, "");
  nan_weight.resize(5);
  const uint32_t nan_bits = 0x7fc00000u, one_bits = 0x3f800000u;
  for (uint32_t bits : {nan_bits, one_bits, one_bits}) nan_weight.append(reinterpret_cast<const char*>(&bits), 4);
  nan_weight += std::string(4, '\x01') + "fox";
  const SearchRequest nan_request =
      fuzz::TextQueryFromBytes(reinterpret_cast<const uint8_t*>(nan_weight.data()), nan_weight.size());
  const auto nan_refused = db->Search("c", nan_request);
  REQUIRE_FALSE(nan_refused.ok());
  CHECK(nan_refused.status().field() == "fusion.dense_weight");

  // Random inputs, the same every run.
  std::mt19937 rng(26);
  for (int i = 0; i < 3000; ++i) {
    std::string bytes(rng() % 64, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    if (i % 2) bytes += " fox tea router reset";
    INFO("random input " << i);
    REQUIRE(Run(*db, bytes) == "");
  }
}
