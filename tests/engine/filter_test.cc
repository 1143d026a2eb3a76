#include <catch2/catch.hpp>

#include "engine/test_data.h"
#include "verity/filter.h"

using namespace verity;

TEST_CASE("leaf operators follow the documented semantics", "[engine][filter]") {
  const Metadata m = test::SampleMetadata();
  CHECK(Filter::Eq("lang", std::string("en")).Matches(m));
  CHECK_FALSE(Filter::Eq("lang", std::string("de")).Matches(m));
  CHECK(Filter::Eq("year", 2021.0).Matches(m));  // numbers compare by value
  CHECK_FALSE(Filter::Eq("year", std::string("2021")).Matches(m));
  CHECK(Filter::Eq("draft", false).Matches(m));
  CHECK(Filter::Ne("lang", std::string("de")).Matches(m));
  CHECK(Filter::Ne("missing", std::string("x")).Matches(m));  // NOT eq
  CHECK(Filter::In("year", {int64_t{2020}, int64_t{2021}}).Matches(m));
  CHECK_FALSE(Filter::NotIn("year", {int64_t{2020}, int64_t{2021}}).Matches(m));
  CHECK(Filter::NotIn("missing", {int64_t{1}}).Matches(m));
  CHECK(Filter::Ge("year", int64_t{2021}).Matches(m));
  CHECK_FALSE(Filter::Gt("year", int64_t{2021}).Matches(m));
  CHECK(Filter::Lt("score", 1.0).Matches(m));
  CHECK(Filter::Le("score", 0.75).Matches(m));
  CHECK_FALSE(Filter::Lt("lang", int64_t{5}).Matches(m));  // non-numeric field fails ranges
  CHECK_FALSE(Filter::Gt("missing", int64_t{0}).Matches(m));
  CHECK(Filter::Exists("tags").Matches(m));
  CHECK_FALSE(Filter::Exists("nope").Matches(m));
  CHECK(Filter::AnyOf("tags", {"x", "b"}).Matches(m));
  CHECK_FALSE(Filter::AnyOf("tags", {"x", "y"}).Matches(m));
  CHECK(Filter::AnyOf("lang", {"fr", "en"}).Matches(m));
}

TEST_CASE("combinators", "[engine][filter]") {
  const Metadata m = test::SampleMetadata();
  auto en = Filter::Eq("lang", std::string("en"));
  auto old = Filter::Lt("year", int64_t{2000});
  CHECK_FALSE(Filter::And({en, old}).Matches(m));
  CHECK(Filter::Or({en, old}).Matches(m));
  CHECK(Filter::Not(old).Matches(m));
  CHECK(Filter::And({en, Filter::Not(old), Filter::AnyOf("tags", {"a"})}).Matches(m));
  CHECK(Filter::And({en, old}).ToString() == "(lang = \"en\" and year < 2000)");
}

TEST_CASE("malformed filters are rejected with the path of the bad node", "[engine][filter]") {
  Filter no_field = Filter::Eq("", int64_t{1});
  REQUIRE(no_field.Validate().code() == StatusCode::kInvalidArgument);
  REQUIRE(no_field.Validate().message().find("filter.field") != std::string::npos);

  Filter range_on_string = Filter::And({Filter::Exists("a"), Filter::Lt("year", std::string("x"))});
  Status s = range_on_string.Validate();
  REQUIRE(s.code() == StatusCode::kInvalidArgument);
  REQUIRE(s.message().find("filter.children[1].values") != std::string::npos);
  // The path is also the status's field, and the rule its detail.
  CHECK(s.message() == "filter.children[1].values: '<' needs exactly 1 numeric value");
  CHECK(s.field() == "filter.children[1].values");
  CHECK(s.detail() == "'<' needs exactly 1 numeric value");
  CHECK(Filter::In("a", {int64_t{1}, std::vector<std::string>{"x"}}).Validate().field() == "filter.values[1]");

  Filter empty_and = Filter::And({});
  REQUIRE_FALSE(empty_and.Validate().ok());
  Filter not_two{Filter::Op::kNot, "", {}, {Filter::Exists("a"), Filter::Exists("b")}};
  REQUIRE_FALSE(not_two.Validate().ok());
  REQUIRE_FALSE(Filter::In("a", {}).Validate().ok());
  REQUIRE_FALSE(Filter::Eq("a", std::vector<std::string>{"x"}).Validate().ok());

  Filter deep = Filter::Exists("a");
  for (int i = 0; i < 40; ++i) deep = Filter::Not(deep);
  REQUIRE(deep.Validate().message().find("deeper than 32") != std::string::npos);
  REQUIRE(Filter::And({Filter::Exists("a"), Filter::Ge("year", 3.5)}).Validate().ok());
}
