#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "engine/test_data.h"
#include "verity/filter.h"
#include "verity/filter_parser.h"

using namespace verity;

namespace {

using Op = Filter::Op;

// Exact structural equality: same ops, fields, value types and values.
bool SameFilter(const Filter& a, const Filter& b) {
  if (a.op != b.op || a.field != b.field || a.values.size() != b.values.size() ||
      a.children.size() != b.children.size()) {
    return false;
  }
  for (size_t i = 0; i < a.values.size(); ++i) {
    if (a.values[i].index() != b.values[i].index()) return false;
    const auto* da = std::get_if<double>(&a.values[i]);
    const auto* db = std::get_if<double>(&b.values[i]);
    if (da != nullptr && std::isnan(*da) && std::isnan(*db)) continue;
    if (!(a.values[i] == b.values[i])) return false;
  }
  for (size_t i = 0; i < a.children.size(); ++i) {
    if (!SameFilter(a.children[i], b.children[i])) return false;
  }
  return true;
}

// What ParseFilter(f.ToString()) is documented to give back for f: a
// one-child kAnd/kOr is its child; everything else exactly (ToString prints
// doubles in their shortest exact form, always as doubles).
Filter Normalise(const Filter& f) {
  if ((f.op == Op::kAnd || f.op == Op::kOr) && f.children.size() == 1) return Normalise(f.children[0]);
  Filter out = f;
  for (auto& c : out.children) c = Normalise(c);
  return out;
}

Filter Parse(const std::string& text) {
  INFO("text: " << text);
  Result<Filter> r = ParseFilter(text);
  INFO("status: " << r.status().ToString());
  REQUIRE(r.ok());
  return std::move(r).value();
}

void CheckParsesTo(const std::string& text, const Filter& expected) {
  const Filter got = Parse(text);
  INFO("text: " << text << "\nexpected: " << expected.ToString() << "\ngot: " << got.ToString());
  CHECK(SameFilter(got, expected));
}

MetadataValue Str(const char* s) { return std::string(s); }

}  // namespace

TEST_CASE("filter text: the issue's example", "[engine][filter]") {
  const Filter f = Parse(R"(lang = "en" and year >= 2020 and tags any ["a", "b"])");
  REQUIRE(f.op == Op::kAnd);
  REQUIRE(f.children.size() == 3);
  CHECK(SameFilter(f.children[0], Filter::Eq("lang", Str("en"))));
  CHECK(SameFilter(f.children[1], Filter::Ge("year", int64_t{2020})));
  CHECK(SameFilter(f.children[2], Filter::AnyOf("tags", {"a", "b"})));

  Metadata m = test::SampleMetadata();
  CHECK(f.Matches(m));
  m["year"] = int64_t{2019};
  CHECK_FALSE(f.Matches(m));
  m = test::SampleMetadata();
  m["tags"] = std::vector<std::string>{"c", "b"};
  CHECK(f.Matches(m));
  m["tags"] = std::vector<std::string>{"c"};
  CHECK_FALSE(f.Matches(m));
  m = test::SampleMetadata();
  m["lang"] = std::string("de");
  CHECK_FALSE(f.Matches(m));
  m = test::SampleMetadata();
  m.erase("year");
  CHECK_FALSE(f.Matches(m));
}

TEST_CASE("filter text: every operator", "[engine][filter]") {
  CheckParsesTo("a = 1", Filter::Eq("a", int64_t{1}));
  CheckParsesTo(R"(a != "x")", Filter::Ne("a", Str("x")));
  CheckParsesTo("a < 1.5", Filter::Lt("a", 1.5));
  CheckParsesTo("a <= -2", Filter::Le("a", int64_t{-2}));
  CheckParsesTo("a > 0", Filter::Gt("a", int64_t{0}));
  CheckParsesTo("a >= 1e3", Filter::Ge("a", 1000.0));
  CheckParsesTo(R"(a in [1, "x", true, 2.5])", Filter::In("a", {int64_t{1}, Str("x"), true, 2.5}));
  CheckParsesTo(R"(a not in ["x"])", Filter::NotIn("a", {Str("x")}));
  CheckParsesTo("a exists", Filter::Exists("a"));
  CheckParsesTo(R"(a any ["x", "y"])", Filter::AnyOf("a", {"x", "y"}));
  CheckParsesTo("a = false", Filter::Eq("a", false));
  CheckParsesTo("a = true", Filter::Eq("a", true));

  SECTION("keywords are case-insensitive, field names are not") {
    CheckParsesTo("A NOT IN [1]", Filter::NotIn("A", {int64_t{1}}));
    CheckParsesTo("a In [1]", Filter::In("a", {int64_t{1}}));
    CheckParsesTo("a EXISTS", Filter::Exists("a"));
    CheckParsesTo(R"(a ANY ["x"])", Filter::AnyOf("a", {"x"}));
    CheckParsesTo("a = TRUE", Filter::Eq("a", true));
    CheckParsesTo(
        "NOT a exists AND b exists OR c exists",
        Filter::Or({Filter::And({Filter::Not(Filter::Exists("a")), Filter::Exists("b")}), Filter::Exists("c")}));
  }
  SECTION("whitespace is optional around symbols and may be any of space, tab, CR, LF") {
    CheckParsesTo("a=1", Filter::Eq("a", int64_t{1}));
    CheckParsesTo("a!=1", Filter::Ne("a", int64_t{1}));
    CheckParsesTo("a<=-1", Filter::Le("a", int64_t{-1}));
    CheckParsesTo("a>-1", Filter::Gt("a", int64_t{-1}));
    CheckParsesTo("a in[1,2]", Filter::In("a", {int64_t{1}, int64_t{2}}));
    CheckParsesTo("(a exists)and(b=1)", Filter::And({Filter::Exists("a"), Filter::Eq("b", int64_t{1})}));
    CheckParsesTo("\t a\r\n=\n1  ", Filter::Eq("a", int64_t{1}));
  }
  SECTION("operators match the documented semantics on sample metadata") {
    const Metadata m = test::SampleMetadata();
    CHECK(Parse(R"(lang = "en")").Matches(m));
    CHECK(Parse("year = 2021.0").Matches(m));
    CHECK_FALSE(Parse(R"(year = "2021")").Matches(m));
    CHECK(Parse(R"(missing != "x")").Matches(m));
    CHECK(Parse("year in [2020, 2021]").Matches(m));
    CHECK_FALSE(Parse("year not in [2020, 2021]").Matches(m));
    CHECK(Parse("missing not in [1]").Matches(m));
    CHECK(Parse("score < 1").Matches(m));
    CHECK(Parse("score <= 0.75").Matches(m));
    CHECK_FALSE(Parse("year > 2021").Matches(m));
    CHECK(Parse("draft = false").Matches(m));
    CHECK(Parse("tags exists").Matches(m));
    CHECK(Parse(R"(lang any ["fr", "en"])").Matches(m));
    CHECK_FALSE(Parse(R"(tags any ["x", "y"])").Matches(m));
  }
}

TEST_CASE("filter text: precedence, chains and parentheses", "[engine][filter]") {
  const Filter a = Filter::Exists("a");
  const Filter b = Filter::Exists("b");
  const Filter c = Filter::Exists("c");
  const Filter d = Filter::Exists("d");
  const Filter e = Filter::Exists("e");

  CheckParsesTo("a exists and b exists and c exists", Filter::And({a, b, c}));
  CheckParsesTo("a exists or b exists and c exists", Filter::Or({a, Filter::And({b, c})}));
  CheckParsesTo("a exists and b exists or c exists", Filter::Or({Filter::And({a, b}), c}));
  CheckParsesTo("a exists or b exists or c exists and d exists or e exists",
                Filter::Or({a, b, Filter::And({c, d}), e}));
  CheckParsesTo("not a exists and b exists", Filter::And({Filter::Not(a), b}));
  CheckParsesTo("not (a exists and b exists)", Filter::Not(Filter::And({a, b})));
  CheckParsesTo("(a exists or b exists) and c exists", Filter::And({Filter::Or({a, b}), c}));
  // Parentheses delimit a chain; redundant ones add no node.
  CheckParsesTo("(a exists and b exists) and c exists", Filter::And({Filter::And({a, b}), c}));
  CheckParsesTo("a exists and (b exists and c exists)", Filter::And({a, Filter::And({b, c})}));
  CheckParsesTo("((a exists))", a);
  CheckParsesTo("not not a exists", Filter::Not(Filter::Not(a)));
  CheckParsesTo("not a = 1", Filter::Not(Filter::Eq("a", int64_t{1})));

  // Precedence changes what matches: {a} only.
  Metadata m;
  m["a"] = int64_t{1};
  CHECK(Parse("a exists or b exists and c exists").Matches(m));
  CHECK_FALSE(Parse("(a exists or b exists) and c exists").Matches(m));
  CHECK_FALSE(Parse("not a exists or b exists").Matches(m));
  CHECK(Parse("not (b exists or c exists)").Matches(m));

  SECTION("nesting up to the limit parses") {
    std::string text = "a exists";
    for (int i = 0; i < kMaxFilterNesting; ++i) text = "not " + text;
    const Filter f = Parse(text);
    CHECK(f.Validate().ok());
    std::string parens = std::string(kMaxFilterNesting, '(') + "a exists" + std::string(kMaxFilterNesting, ')');
    CHECK(SameFilter(Parse(parens), a));
  }
}

TEST_CASE("filter text: the examples in docs/filters.md parse", "[engine][filter]") {
  for (const char* text : {
           R"(year >= 2020 and year < 2024)",
           R"(lang in ["en", "de"] and not draft = true)",
           R"((score > 0.5 or pinned = true) and "source file" exists)",
           R"(tags any ["news", "blog"] or category not in ["spam", "test"])",
           R"(title = "say \"hi\"\n")",
           R"(Lang = "en" AND NOT draft = true)",
           R"(a>=1)",
           R"(a in[1,2])",
       }) {
    INFO(text);
    Result<Filter> r = ParseFilter(text);
    INFO(r.status().ToString());
    CHECK(r.ok());
  }
  CheckParsesTo(R"(title = "say \"hi\"\n")", Filter::Eq("title", Str("say \"hi\"\n")));
}

TEST_CASE("filter text: strings and escapes", "[engine][filter]") {
  CheckParsesTo(R"(s = "q\"b\\s\nn\tt\rr")", Filter::Eq("s", Str("q\"b\\s\nn\tt\rr")));
  CheckParsesTo(R"(s = "\u0041\u00e9\u20AC")", Filter::Eq("s", Str("A\xC3\xA9\xE2\x82\xAC")));
  CheckParsesTo(R"(s = "\uD83D\uDE00")", Filter::Eq("s", Str("\xF0\x9F\x98\x80")));  // U+1F600
  CheckParsesTo(R"(s = "")", Filter::Eq("s", Str("")));
  CheckParsesTo("s = \"\xE6\x97\xA5\xE6\x9C\xAC\"", Filter::Eq("s", Str("\xE6\x97\xA5\xE6\x9C\xAC")));  // raw UTF-8
  CheckParsesTo("s = \"line\nbreak\"", Filter::Eq("s", Str("line\nbreak")));  // raw control characters
  CheckParsesTo(R"(s = "and or not ( ) [ ] ,")", Filter::Eq("s", Str("and or not ( ) [ ] ,")));
  const Filter nul = Parse(R"(s = "a\u0000b")");
  CHECK(std::get<std::string>(nul.values[0]) == std::string("a\0b", 3));
}

TEST_CASE("filter text: numbers", "[engine][filter]") {
  CheckParsesTo("a = 5", Filter::Eq("a", int64_t{5}));
  CheckParsesTo("a = -5", Filter::Eq("a", int64_t{-5}));
  CheckParsesTo("a = +5", Filter::Eq("a", int64_t{5}));
  CheckParsesTo("a = 007", Filter::Eq("a", int64_t{7}));
  CheckParsesTo("a = 5.0", Filter::Eq("a", 5.0));
  CheckParsesTo("a = 1e3", Filter::Eq("a", 1000.0));
  CheckParsesTo("a = -2.5E-2", Filter::Eq("a", -0.025));
  CheckParsesTo("a = 1.5e+10", Filter::Eq("a", 1.5e10));
  CheckParsesTo("a = 1e-310", Filter::Eq("a", 1e-310));  // subnormal
  CheckParsesTo("a = 9223372036854775807", Filter::Eq("a", std::numeric_limits<int64_t>::max()));
  CheckParsesTo("a = -9223372036854775808", Filter::Eq("a", std::numeric_limits<int64_t>::min()));
  CheckParsesTo("a < inf", Filter::Lt("a", std::numeric_limits<double>::infinity()));
  CheckParsesTo("a > -INF", Filter::Gt("a", -std::numeric_limits<double>::infinity()));
  CheckParsesTo("a = +inf", Filter::Eq("a", std::numeric_limits<double>::infinity()));
  CheckParsesTo("a != nan", Filter::Ne("a", std::numeric_limits<double>::quiet_NaN()));

  // 2^53 + 1 stays exact as an int64.
  Metadata m;
  m["a"] = int64_t{9007199254740993};
  CHECK(Parse("a = 9007199254740993").Matches(m));
  CHECK_FALSE(Parse("a = 9007199254740992").Matches(m));

  SECTION("out of range") {
    for (const char* text : {"a = 9223372036854775808", "a = -9223372036854775809", "a = 99999999999999999999"}) {
      Result<Filter> r = ParseFilter(text);
      INFO(text << " -> " << r.status().ToString());
      REQUIRE(r.status().code() == StatusCode::kInvalidArgument);
      CHECK(r.status().message().find("column 5: integer ") != std::string::npos);
      CHECK(r.status().message().find("out of the int64 range") != std::string::npos);
    }
    for (const char* text : {"a = 1e999", "a = -1.5e400", "a = 1e-999"}) {
      Result<Filter> r = ParseFilter(text);
      INFO(text << " -> " << r.status().ToString());
      REQUIRE(r.status().code() == StatusCode::kInvalidArgument);
      CHECK(r.status().message().find("column 5: number ") != std::string::npos);
      CHECK(r.status().message().find("out of the range of a double") != std::string::npos);
    }
  }
  SECTION("NaN in a range is refused by Validate") {
    Result<Filter> r = ParseFilter("a < nan");
    REQUIRE(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(r.status().message() == Filter::Lt("a", std::nan("")).Validate().message());
  }
}

TEST_CASE("filter text: field names", "[engine][filter]") {
  CheckParsesTo(R"("my key" = 1)", Filter::Eq("my key", int64_t{1}));
  CheckParsesTo(R"("and" exists)", Filter::Exists("and"));
  CheckParsesTo(R"("NOT" exists)", Filter::Exists("NOT"));
  CheckParsesTo(R"("k\"q\u00e9" = 1)", Filter::Eq("k\"q\xC3\xA9", int64_t{1}));
  CheckParsesTo("meta.lang-code = \"en\"", Filter::Eq("meta.lang-code", Str("en")));
  CheckParsesTo("_x9 exists", Filter::Exists("_x9"));
  // Keywords other than and/or/not can be bare field names: the position says
  // which is meant.
  CheckParsesTo("in in [1]", Filter::In("in", {int64_t{1}}));
  CheckParsesTo("exists exists", Filter::Exists("exists"));
  CheckParsesTo(R"(any any ["x"])", Filter::AnyOf("any", {"x"}));
  CheckParsesTo("true = false", Filter::Eq("true", false));
  CheckParsesTo("inf = inf", Filter::Eq("inf", std::numeric_limits<double>::infinity()));

  Metadata m;
  m["my key"] = int64_t{1};
  CHECK(Parse(R"("my key" = 1 and not "other key" exists)").Matches(m));

  // An empty field name parses but is refused by Validate.
  Result<Filter> r = ParseFilter(R"("" = 1)");
  REQUIRE(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(r.status().message() == Filter::Eq("", int64_t{1}).Validate().message());
}

TEST_CASE("filter text: parses what Filter::ToString prints", "[engine][filter]") {
  const std::vector<Filter> filters = {
      Filter::Eq("lang", Str("en")),
      Filter::Ne("lang", Str("de")),
      Filter::Lt("score", 0.75),
      Filter::Le("year", int64_t{-3}),
      Filter::Gt("ratio", 1.5e-7),
      Filter::Ge("big", 2.5e20),
      Filter::Ge("year", int64_t{2020}),
      Filter::Eq("min", std::numeric_limits<int64_t>::min()),
      Filter::Lt("x", std::numeric_limits<double>::infinity()),
      Filter::Gt("x", -std::numeric_limits<double>::infinity()),
      Filter::Eq("draft", true),
      Filter::In("year", {int64_t{2020}, int64_t{2021}, Str("2022"), false, 0.5}),
      Filter::NotIn("lang", {Str("fr")}),
      Filter::Exists("tags"),
      Filter::AnyOf("tags", {"a", "b", "with space", "\xE6\x97\xA5", "tab\there"}),
      Filter::And(
          {Filter::Eq("lang", Str("en")), Filter::Ge("year", int64_t{2020}), Filter::AnyOf("tags", {"a", "b"})}),
      Filter::Or({Filter::Exists("a"), Filter::And({Filter::Exists("b"), Filter::Not(Filter::Exists("c"))})}),
      Filter::And({Filter::And({Filter::Exists("a"), Filter::Exists("b")}), Filter::Exists("c")}),
      Filter::Not(Filter::Or({Filter::Eq("a", int64_t{1}), Filter::Eq("b", int64_t{2})})),
      Filter::Not(Filter::Not(Filter::Exists("a"))),
      Filter::And({Filter::Exists("single")}),
      Filter::Or({Filter::Not(Filter::Eq("score", 2.0))}),
  };
  for (const Filter& f : filters) {
    REQUIRE(f.Validate().ok());
    const std::string text = f.ToString();
    const Filter parsed = Parse(text);
    INFO("text: " << text << "\nparsed: " << parsed.ToString());
    CHECK(SameFilter(parsed, Normalise(f)));
    CHECK(parsed.ToString() == Normalise(f).ToString());
  }

  SECTION("strings are escaped, odd field names and keywords quoted, doubles kept exact") {
    // (Found by fuzz_filter_parser: ToString printed these unescaped.)
    const std::vector<Filter> odd = {
        Filter::Eq("a", Str("say \"hi\" \\ \n\t\x01")),
        Filter::Eq("my key", int64_t{1}),
        Filter::Exists("and"),
        Filter::Exists("Exists"),
        Filter::AnyOf("9lives", {"q\"", "\\"}),
        Filter::Eq("x", 2.0),
        Filter::Eq("x", 0.1 + 0.2),
        Filter::In("x", {1e300, -0.0, 123456789.123456789}),
        Filter::Eq("caf\xC3\xA9", Str("x")),  // not an identifier in ASCII: quoted, whatever the locale
    };
    for (const Filter& f : odd) {
      const std::string text = f.ToString();
      INFO("text: " << text);
      Result<Filter> r = ParseFilter(text);
      REQUIRE(r.ok());
      CHECK(SameFilter(*r, f));
      CHECK(r->ToString() == text);
    }
  }

  SECTION("what has no text form is refused when read back, never misread") {
    // Bytes that are not UTF-8 (the syntax has no escape for them), and text
    // over the parser's size limit.
    const Filter not_utf8 = Filter::Eq("a", Str("\xFF\xFE"));
    REQUIRE(not_utf8.Validate().ok());
    CHECK(ParseFilter(not_utf8.ToString()).status().code() == StatusCode::kInvalidArgument);
    const Filter huge = Filter::Eq("a", MetadataValue(std::string(70 * 1024, 'x')));
    CHECK(ParseFilter(huge.ToString()).status().code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("filter text: malformed input names the column", "[engine][filter]") {
  struct Case {
    std::string text;
    std::string where;     // "column N" (or "line L, column N")
    std::string fragment;  // part of what the message says was expected/found
  };
  const std::vector<Case> cases = {
      {"", "column 1", "expected a field name, '(' or 'not', found end of input"},
      {"   ", "column 4", "found end of input"},
      {R"(lang = "en" and year >=)", "column 24", "expected a value after '>=', found end of input"},
      {"lang = en", "column 8", "expected a value after '=', found 'en' (strings are double-quoted: \"en\")"},
      {R"(lang == "en")", "column 7", "expected a value after '=', found '='"},
      {"(a exists", "column 10",
       "expected 'and', 'or' or ')' after 'exists' to close the '(' at column 1, found end of input"},
      {"a exists)", "column 9", "expected 'and', 'or' or end of input after 'exists', found ')'"},
      {"a in 1", "column 6", "expected '[' after 'in', found '1'"},
      {"a in [1, 2", "column 11", "expected ',' or ']' after '2', found end of input"},
      {"a in []", "column 7", "expected a value after '[', found ']'"},
      {"a in [1,]", "column 9", "expected a value after ',', found ']'"},
      {"a not exists", "column 7", "expected 'in' after 'not', found 'exists'"},
      {"a exists and", "column 13", "expected a field name, '(' or 'not' after 'and', found end of input"},
      {"a exists and and b exists", "column 14", "must be quoted: \"and\""},
      {"a # 1", "column 3", "expected an operator (=, !=, <, <=, >, >=, in, not in, any or exists) after 'a'"},
      {"a ! 1", "column 3", "found '!'"},
      {"a", "column 2", "expected an operator"},
      {"= 1", "column 1", "expected a field name, '(' or 'not', found '='"},
      {"-foo = 1", "column 1", "found '-foo'"},
      {"a = -", "column 5", "expected a value after '=', found '-'"},
      {"a = 1.2.3", "column 5", "found '1.2.3'"},
      {"a = 1.", "column 5", "found '1.'"},
      {"a = 1e", "column 5", "found '1e'"},
      {"a = .5", "column 5", "found '.'"},
      {"a = 12abc", "column 5", "found '12abc'"},
      {"a = 1 b = 2", "column 7", "expected 'and', 'or' or end of input after '1', found 'b'"},
      {R"(a = "abc)", "column 5", "expected a closing '\"' for the string that starts here, found end of input"},
      {R"(a = "x\q")", "column 7", "expected an escape \\\" \\\\ \\n \\r \\t or \\uXXXX, found '\\q'"},
      {R"(a = "\u12")", "column 6", "expected 4 hex digits after '\\u', found '\\u12'"},
      {R"(a = "\uD800")", "column 6", "expected a low surrogate \\uDC00-\\uDFFF after the high surrogate"},
      {R"(a = "\uDE00x")", "column 6", "lone low surrogate"},
      {"a = \"\xFF\"", "column 6", "expected UTF-8 text, found the byte 0xFF"},
      {"a = 1 \x01", "column 7", "found character U+0001"},
      // Columns count code points: the two CJK characters are 3 bytes each.
      {"\"\xE6\x97\xA5\xE6\x9C\xAC\" = 1 and", "column 13", "found end of input"},
      {"a exists and\n  b = ", "line 2, column 7", "expected a value after '=', found end of input"},
      {"a = 9223372036854775808", "column 5", "out of the int64 range"},
  };
  for (const Case& c : cases) {
    Result<Filter> r = ParseFilter(c.text);
    INFO("text: [" << c.text << "] -> " << r.status().ToString());
    REQUIRE(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(r.status().message().rfind("filter: " + c.where + ": ", 0) == 0);
    CHECK(r.status().message().find(c.fragment) != std::string::npos);
    // The field is "filter"; the detail is where and what, which a request
    // field's name replaces "filter" before (wire::ParseFilterField).
    CHECK(r.status().field() == "filter");
    CHECK(r.status().detail().substr(0, c.where.size() + 2) == c.where + ": ");
  }

  SECTION("the whole message for a missing value") {
    Result<Filter> r = ParseFilter("year >= ");
    CHECK(r.status().message() == "filter: column 9: expected a value after '>=', found end of input");
  }
  SECTION("long tokens are shortened in messages") {
    const std::string word(100, 'w');
    Result<Filter> r = ParseFilter("a = " + word);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("found '" + word.substr(0, 40) + "...'") != std::string::npos);
  }
}

TEST_CASE("filter text: limits and Validate errors", "[engine][filter]") {
  SECTION("nesting deeper than the limit") {
    std::string parens = std::string(kMaxFilterNesting + 1, '(') + "a exists" + std::string(kMaxFilterNesting + 1, ')');
    Result<Filter> r = ParseFilter(parens);
    REQUIRE(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(r.status().message().find("column 33: ") != std::string::npos);
    CHECK(r.status().message().find("at most 32 levels") != std::string::npos);

    std::string nots = "a exists";
    for (int i = 0; i <= kMaxFilterNesting; ++i) nots = "not " + nots;
    r = ParseFilter(nots);
    REQUIRE(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(r.status().message().find("column 129: ") != std::string::npos);
    CHECK(r.status().message().find("at most 32 levels") != std::string::npos);

    // A deep right-leaning chain does not exhaust the stack: it is refused
    // at the limit.
    std::string deep;
    for (int i = 0; i < 20000; ++i) deep += "(";
    r = ParseFilter(deep);
    REQUIRE(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(r.status().message().find("at most 32 levels") != std::string::npos);
  }
  SECTION("a tree deeper than Validate allows, though within the text limit") {
    // The top-level 'and' adds a level that no parenthesis shows.
    std::string inner = "a exists";
    for (int i = 0; i < kMaxFilterNesting; ++i) inner = "not " + inner;
    Result<Filter> r = ParseFilter("b exists and " + inner);
    REQUIRE(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(r.status().message().find("deeper than 32") != std::string::npos);
  }
  SECTION("text longer than 64 KiB") {
    std::string text = "a in [1";
    while (text.size() < kMaxFilterTextBytes) text += ", 1";
    text += "]";
    REQUIRE(text.size() > kMaxFilterTextBytes);
    Result<Filter> r = ParseFilter(text);
    REQUIRE(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(r.status().message().find("limit of 65536 bytes") != std::string::npos);

    std::string at_limit(kMaxFilterTextBytes - 8, ' ');
    at_limit += "a exists";
    CHECK(ParseFilter(at_limit).ok());
  }
  SECTION("filters that parse but fail Validate return Validate's status") {
    Result<Filter> r = ParseFilter(R"(year < "x")");
    REQUIRE(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(r.status().message() == Filter::Lt("year", Str("x")).Validate().message());

    r = ParseFilter(R"(a exists and tags any ["a", 1])");
    REQUIRE(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(r.status().message() ==
          Filter::And({Filter::Exists("a"), Filter{Op::kAnyOf, "tags", {Str("a"), int64_t{1}}, {}}})
              .Validate()
              .message());

    std::string many = "a in [0";
    for (int i = 1; i <= 1024; ++i) many += ", " + std::to_string(i);
    many += "]";
    r = ParseFilter(many);
    REQUIRE(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(r.status().message().find("1..1024") != std::string::npos);

    const std::string long_field(300, 'k');
    r = ParseFilter(long_field + " exists");
    REQUIRE(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(r.status().message().find("256 bytes") != std::string::npos);
  }
}

namespace {

// Random filters whose ToString output the parser is documented to read back:
// identifier field names, strings without '"' or '\', doubles ToString prints
// exactly.
class RandomFilters {
 public:
  explicit RandomFilters(uint64_t seed) : rng_(seed) {}

  Filter Tree(int depth) {
    const int kind = Uniform(0, depth <= 0 ? 9 : 13);
    if (kind < 10) return Leaf();
    std::vector<Filter> children;
    if (kind == 13) return Filter::Not(Tree(depth - 1));
    const int n = Uniform(1, 4);
    for (int i = 0; i < n; ++i) children.push_back(Tree(depth - 1));
    return kind == 10 ? Filter::Or(std::move(children)) : Filter::And(std::move(children));
  }

  Metadata RandomMetadata() {
    Metadata m;
    for (const auto& field : fields_) {
      const int kind = Uniform(0, 5);
      if (kind == 0) continue;  // absent
      if (kind == 1) {
        std::vector<std::string> list;
        const int n = Uniform(0, 3);
        for (int i = 0; i < n; ++i) list.push_back(String());
        m[field] = std::move(list);
      } else {
        m[field] = Scalar();
      }
    }
    return m;
  }

 private:
  const std::vector<std::string> fields_ = {"a", "b", "lang", "year", "score", "x_1", "meta.k-v", "in"};
  const std::vector<std::string> strings_ = {
      "", "en", "de", "a", "b", "x y", "\xE6\x97\xA5\xE6\x9C\xAC", "tab\tin", "new\nline", "and", "(", "[1, 2]", "'"};

  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

  std::string Field() { return fields_[Uniform(0, static_cast<int>(fields_.size()) - 1)]; }
  std::string String() { return strings_[Uniform(0, static_cast<int>(strings_.size()) - 1)]; }

  MetadataValue Number() {
    switch (Uniform(0, 6)) {
      case 0:
        return int64_t{Uniform(-3, 3)};
      case 1:
        return std::numeric_limits<int64_t>::max();
      case 2:
        return std::numeric_limits<int64_t>::min();
      case 3:
        return static_cast<int64_t>(rng_());
      case 4:
        return Uniform(-400, 400) * 0.25;  // printed exactly by ToString
      case 5:
        return Uniform(-3, 3) * 1.0;  // integral double, read back as int64
      default:
        return Uniform(0, 1) ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
    }
  }

  MetadataValue Scalar() {
    switch (Uniform(0, 2)) {
      case 0:
        return String();
      case 1:
        return Number();
      default:
        return Uniform(0, 1) == 1;
    }
  }

  Filter Leaf() {
    const std::string field = Field();
    switch (Uniform(0, 9)) {
      case 0:
        return Filter::Eq(field, Scalar());
      case 1:
        return Filter::Ne(field, Scalar());
      case 2:
        return Filter::Lt(field, Number());
      case 3:
        return Filter::Le(field, Number());
      case 4:
        return Filter::Gt(field, Number());
      case 5:
        return Filter::Ge(field, Number());
      case 6:
        return Filter::Exists(field);
      case 7:
      case 8: {
        std::vector<MetadataValue> values;
        const int n = Uniform(1, 4);
        for (int i = 0; i < n; ++i) values.push_back(Scalar());
        return Uniform(0, 1) ? Filter::In(field, std::move(values)) : Filter::NotIn(field, std::move(values));
      }
      default: {
        std::vector<std::string> values;
        const int n = Uniform(1, 4);
        for (int i = 0; i < n; ++i) values.push_back(String());
        return Filter::AnyOf(field, std::move(values));
      }
    }
  }

  std::mt19937_64 rng_;
};

}  // namespace

TEST_CASE("filter text: random filters round-trip through ToString", "[engine][filter]") {
  for (uint64_t seed = 1; seed <= 2000; ++seed) {
    RandomFilters gen(seed);
    const Filter f = gen.Tree(static_cast<int>(seed % 6));
    REQUIRE(f.Validate().ok());
    const std::string text = f.ToString();
    INFO("seed " << seed << ": " << text);
    Result<Filter> r = ParseFilter(text);
    INFO("status: " << r.status().ToString());
    REQUIRE(r.ok());
    REQUIRE(SameFilter(*r, Normalise(f)));
    // Printing the parsed filter and parsing again changes nothing more.
    Result<Filter> again = ParseFilter(r->ToString());
    REQUIRE(again.ok());
    REQUIRE(SameFilter(*again, *r));
    for (int i = 0; i < 20; ++i) {
      const Metadata m = gen.RandomMetadata();
      REQUIRE(r->Matches(m) == f.Matches(m));
    }
  }
}
