// The compiled, columnar filter must agree with Filter::Matches — the
// reference semantics — on every record, for random filters.
#include <catch2/catch.hpp>

#include <random>

#include "index/metadata_columns.h"

using namespace verity;

namespace {

const std::vector<std::string> kFields = {"a", "b", "c", "d"};
const std::vector<std::string> kWords = {"x", "y", "z", "w"};

MetadataValue RandomValue(std::mt19937& rng, bool allow_list) {
  switch (rng() % (allow_list ? 5 : 4)) {
    case 0: return kWords[rng() % kWords.size()];
    case 1: return static_cast<int64_t>(rng() % 5);
    case 2: return static_cast<double>(rng() % 5) + ((rng() % 2) ? 0.5 : 0.0);
    case 3: return rng() % 2 == 0;
    default: {
      std::vector<std::string> list;
      for (size_t i = rng() % 3; i > 0; --i) list.push_back(kWords[rng() % kWords.size()]);
      return list;
    }
  }
}

Filter RandomFilter(std::mt19937& rng, int depth) {
  const std::string field = kFields[rng() % kFields.size()];
  const int choice = static_cast<int>(rng() % (depth > 2 ? 10 : 13));
  switch (choice) {
    case 0: return Filter::Eq(field, RandomValue(rng, false));
    case 1: return Filter::Ne(field, RandomValue(rng, false));
    case 2: return Filter::In(field, {RandomValue(rng, false), RandomValue(rng, false)});
    case 3: return Filter::NotIn(field, {RandomValue(rng, false)});
    case 4: return Filter::Lt(field, static_cast<int64_t>(rng() % 5));
    case 5: return Filter::Le(field, 2.5);
    case 6: return Filter::Gt(field, static_cast<double>(rng() % 5));
    case 7: return Filter::Ge(field, static_cast<int64_t>(rng() % 5));
    case 8: return Filter::Exists(field);
    case 9: return Filter::AnyOf(field, {kWords[rng() % kWords.size()], "never"});
    case 10: return Filter::And({RandomFilter(rng, depth + 1), RandomFilter(rng, depth + 1)});
    case 11: return Filter::Or({RandomFilter(rng, depth + 1), RandomFilter(rng, depth + 1)});
    default: return Filter::Not(RandomFilter(rng, depth + 1));
  }
}

}  // namespace

TEST_CASE("compiled column filters agree with Filter::Matches", "[engine][filter]") {
  std::mt19937 rng(17);
  std::vector<Metadata> rows(500);
  MetadataColumns columns;
  for (uint32_t label = 0; label < rows.size(); ++label) {
    for (const auto& field : kFields) {
      if (rng() % 4 != 0) rows[label][field] = RandomValue(rng, true);
    }
    columns.Set(label, rows[label]);
  }
  size_t matched = 0, total = 0;
  for (int i = 0; i < 400; ++i) {
    Filter f = RandomFilter(rng, 0);
    REQUIRE(f.Validate().ok());
    auto compiled = columns.Compile(f);
    for (uint32_t label = 0; label < rows.size(); ++label) {
      INFO(f.ToString() << " on row " << label);
      const bool expected = f.Matches(rows[label]);
      REQUIRE(compiled->Matches(label) == expected);
      matched += expected;
      ++total;
    }
    // A label never set has no fields at all.
    Metadata empty;
    REQUIRE(compiled->Matches(100000) == f.Matches(empty));
  }
  // Both outcomes occur often enough for the comparison to mean something.
  REQUIRE(matched > total / 10);
  REQUIRE(matched < total * 9 / 10);
}
