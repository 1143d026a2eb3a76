// The text analyzer (engine/src/text/analyzer.h, docs/text-search.md
// "Analyzer"): word breaks in several scripts, case and ASCII folding,
// stopwords, stemming, presets and their validation, max_term_bytes,
// invalid UTF-8, determinism and concurrent use.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "text/analyzer.h"
#include "text/analyzer_internal.h"

using namespace verity;
using verity::text::Analyzer;
using Terms = std::vector<std::string>;

namespace {

AnalyzerConfig Preset(const std::string& name) {
  Result<AnalyzerConfig> config = text::PresetConfig(name, "analyzer.preset");
  REQUIRE(config.ok());
  return *config;
}

std::unique_ptr<Analyzer> Make(const AnalyzerConfig& config) {
  Result<std::unique_ptr<Analyzer>> analyzer = Analyzer::Create(config);
  INFO(analyzer.status().ToString());
  REQUIRE(analyzer.ok());
  return std::move(analyzer).value();
}

Terms Run(const Analyzer& analyzer, std::string_view text) {
  Terms terms;
  const size_t n = analyzer.Analyze(text, &terms);
  CHECK(n == terms.size());
  return terms;
}

Terms Standard(std::string_view text) { return Run(*Make(Preset("standard")), text); }
Terms English(std::string_view text) { return Run(*Make(Preset("english")), text); }

bool ValidUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t len = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

}  // namespace

TEST_CASE("analyzer: English words, punctuation, apostrophes and numbers", "[analyzer]") {
  CHECK(Standard("Hello, world! It's 3.14 and the U.S.A. (e-mail: foo_bar) 1,000.5") ==
        Terms{"hello", "world", "it's", "3.14", "and", "the", "u.s.a", "e", "mail", "foo_bar", "1,000.5"});
  // ICU 72's root rules read "@" as a letter: e-mail addresses stay whole
  // (but "@" alone is no term: it is not a letter in the check).
  CHECK(Standard("mail User@Example.com @ @@ now") == Terms{"mail", "user@example.com", "now"});
  // The typographic apostrophe (U+2019) is written as U+0027.
  CHECK(Standard("don\u2019t DON'T") == Terms{"don't", "don't"});
  // Only segments with a letter or a digit are terms (ICU calls "__" a
  // word; it is not a term).
  CHECK(Standard(" -- ... !!! \t\n \u2014 \U0001F600 __ _ ").empty());
  CHECK(Standard("__ a__b _1 x:y a.b.c. 1.a a.1 1;2,3 a''b 'q'") ==
        Terms{"a__b", "_1", "x", "y", "a.b.c", "1", "a", "a", "1", "1;2,3", "a", "b", "q"});
  CHECK(Standard("").empty());
  // Appends, with repeats, in text order.
  const auto analyzer = Make(Preset("standard"));
  Terms terms{"kept"};
  CHECK(analyzer->Analyze("b a b", &terms) == 3);
  CHECK(terms == Terms{"kept", "b", "a", "b"});
}

TEST_CASE("analyzer: German, Russian and Greek words", "[analyzer]") {
  CHECK(Standard("Größere Äpfel schmecken übermäßig gut.") ==
        Terms{"grössere", "äpfel", "schmecken", "übermässig", "gut"});
  CHECK(Standard("Москва — столица России. Я люблю ёжиков!") ==
        Terms{"москва", "столица", "россии", "я", "люблю", "ёжиков"});
  CHECK(Standard("Η Αθήνα είναι η πρωτεύουσα.") == Terms{"η", "αθήνα", "είναι", "η", "πρωτεύουσα"});
}

TEST_CASE("analyzer: Chinese, Japanese and Thai are broken into dictionary words", "[analyzer]") {
  // ICU's dictionaries split runs of ideographs, kana and Thai letters,
  // which have no spaces between words.
  CHECK(Standard("我喜欢北京天安门。") == Terms{"我", "喜欢", "北京", "天安门"});
  CHECK(Standard("東京都に住んでいます。カタカナ語テスト") ==
        Terms{"東京", "都", "に", "住", "んで", "い", "ます", "カタカナ", "語", "テスト"});
  CHECK(Standard("ภาษาไทยเป็นภาษาที่สวยงาม") == Terms{"ภาษา", "ไทย", "เป็น", "ภาษา", "ที่", "สวยงาม"});
}

TEST_CASE("analyzer: full Unicode case folding", "[analyzer]") {
  CHECK(Standard("Straße STRASSE strasse") == Terms{"strasse", "strasse", "strasse"});
  // Final sigma folds like sigma, so the three spellings meet.
  CHECK(Standard("ΣΊΣΥΦΟΣ σίσυφος Σίσυφος") == Terms{"σίσυφοσ", "σίσυφοσ", "σίσυφοσ"});
  CHECK(Standard("ПРИВЕТ Привет") == Terms{"привет", "привет"});
  CHECK(Standard("ﬁle") == Terms{"file"});  // the ligature folds to two letters
  AnalyzerConfig keep_case = Preset("standard");
  keep_case.case_fold = false;
  CHECK(Run(*Make(keep_case), "Straße ΣΊΣΥΦΟΣ Hello") == Terms{"Straße", "ΣΊΣΥΦΟΣ", "Hello"});
}

TEST_CASE("analyzer: ASCII folding strips Latin accents and spells undecomposable letters", "[analyzer]") {
  AnalyzerConfig config = Preset("standard");
  config.ascii_fold = true;
  const auto analyzer = Make(config);
  CHECK(Run(*analyzer, "Crème Brûlée naïve façade Ångström") ==
        Terms{"creme", "brulee", "naive", "facade", "angstrom"});
  CHECK(Run(*analyzer, "Straße Æsir Øresund Łódź Þór œuvre Đakovo ħ ı") ==
        Terms{"strasse", "aesir", "oresund", "lodz", "thor", "oeuvre", "dakovo", "h", "i"});
  // Decomposed input folds like precomposed input.
  CHECK(Run(*analyzer, "cafe\u0301 caf\u00e9") == Terms{"cafe", "cafe"});
  // Other scripts keep their letters and marks.
  CHECK(Run(*analyzer, "й ёж ά が") == Terms{"й", "ёж", "ά", "が"});
  // What it does not fold.
  CHECK(Run(*analyzer, "ŋ ə Ａ") == Terms{"ŋ", "ə", "ａ"});
  // Without case folding the table keeps the case.
  config.case_fold = false;
  CHECK(Run(*Make(config), "Æsir ÉCOLE Øl") == Terms{"AEsir", "ECOLE", "Ol"});
}

TEST_CASE("analyzer: English stopwords are removed after folding, before stemming", "[analyzer]") {
  AnalyzerConfig config = Preset("standard");
  config.stopwords = "english";
  const auto analyzer = Make(config);
  CHECK(Run(*analyzer, "The cat and THE hat are on a mat, don\u2019t they?") == Terms{"cat", "hat", "mat"});
  // Case folding off: only lower-case stopwords match.
  config.case_fold = false;
  CHECK(Run(*Make(config), "The cat the") == Terms{"The", "cat"});
  // The english preset: "having" is a stopword, so it is not stemmed to "have".
  CHECK(English("having the permissions") == Terms{"permiss"});
}

TEST_CASE("analyzer: Snowball stemming", "[analyzer]") {
  CHECK(English("running runs ran permissions John's cats' caresses") ==
        Terms{"run", "run", "ran", "permiss", "john", "cat", "caress"});
  AnalyzerConfig config = Preset("standard");
  config.stemmer = "porter";
  CHECK(Run(*Make(config), "generalizations") == Terms{"gener"});
  config.stemmer = "russian";
  CHECK(Run(*Make(config), "книгами") == Terms{"книг"});
  config.stemmer = "german";
  config.ascii_fold = true;
  CHECK(Run(*Make(config), "Häuser") == Terms{"haus"});
}

TEST_CASE("analyzer: presets", "[analyzer]") {
  const AnalyzerConfig standard = Preset("standard");
  CHECK(standard.preset == "standard");
  CHECK(standard.case_fold);
  CHECK_FALSE(standard.ascii_fold);
  CHECK(standard.stopwords.empty());
  CHECK(standard.stemmer.empty());
  CHECK(standard.max_term_bytes == 255);
  const AnalyzerConfig empty = Preset("");
  CHECK(empty.preset == "standard");
  CHECK(empty.stopwords.empty());
  CHECK(empty.stemmer.empty());
  const AnalyzerConfig english = Preset("english");
  CHECK(english.preset == "english");
  CHECK(english.case_fold);
  CHECK_FALSE(english.ascii_fold);
  CHECK(english.stopwords == "english");
  CHECK(english.stemmer == "english");

  const Result<AnalyzerConfig> unknown = text::PresetConfig("klingon", "text_index.analyzer.preset");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().code() == StatusCode::kInvalidArgument);
  CHECK(unknown.status().field() == "text_index.analyzer.preset");
  CHECK(unknown.status().message() ==
        "text_index.analyzer.preset: unknown analyzer preset \"klingon\"; known: standard, english (\"\" = standard)");
}

TEST_CASE("analyzer: validation names the field and the accepted values", "[analyzer]") {
  const std::string field = "text_index.analyzer";
  AnalyzerConfig config = Preset("english");
  CHECK(text::ValidateAnalyzerConfig(config, field).ok());
  for (const std::string& name : text::StemmerNames()) {
    config.stemmer = name;
    CHECK(text::ValidateAnalyzerConfig(config, field).ok());
    CHECK(Analyzer::Create(config).ok());
  }

  config = Preset("english");
  config.stemmer = "klingon";
  Status status = text::ValidateAnalyzerConfig(config, field);
  CHECK(status.code() == StatusCode::kInvalidArgument);
  CHECK(status.field() == "text_index.analyzer.stemmer");
  CHECK_THAT(status.message(), Catch::StartsWith("text_index.analyzer.stemmer: unknown Snowball algorithm "
                                                 "\"klingon\"; known: \"\" (none), arabic, "));
  CHECK_THAT(status.message(), Catch::Contains("english") && Catch::Contains("porter"));
  const Result<std::unique_ptr<Analyzer>> created = Analyzer::Create(config);
  REQUIRE_FALSE(created.ok());
  CHECK(created.status().code() == StatusCode::kInvalidArgument);
  CHECK(created.status().field() == "analyzer.stemmer");

  config = Preset("standard");
  config.stopwords = "french";
  status = text::ValidateAnalyzerConfig(config, field);
  CHECK(status.field() == "text_index.analyzer.stopwords");
  CHECK(status.message() ==
        "text_index.analyzer.stopwords: unknown stopword language \"french\"; known: \"\" (none), english");

  config = Preset("standard");
  config.preset = "fancy";
  status = text::ValidateAnalyzerConfig(config, field);
  CHECK(status.field() == "text_index.analyzer.preset");

  for (const uint32_t bad : {0u, 1025u}) {
    config = Preset("standard");
    config.max_term_bytes = bad;
    status = text::ValidateAnalyzerConfig(config, field);
    CHECK(status.field() == "text_index.analyzer.max_term_bytes");
    CHECK(status.message() ==
          "text_index.analyzer.max_term_bytes: is " + std::to_string(bad) + "; it must be 1..1024");
  }
  config.max_term_bytes = 1024;
  CHECK(text::ValidateAnalyzerConfig(config, field).ok());
  config.max_term_bytes = 1;
  CHECK(text::ValidateAnalyzerConfig(config, field).ok());
}

TEST_CASE("analyzer: terms longer than max_term_bytes after folding are dropped", "[analyzer]") {
  AnalyzerConfig config = Preset("standard");
  config.max_term_bytes = 5;
  const auto analyzer = Make(config);
  // Folded "strasse" is 7 bytes: dropped; "über" is 5: kept. "ΐ" is 2
  // bytes but folds to 3 code points, 6 bytes: dropped.
  CHECK(Run(*analyzer, "abcde abcdef straße über ÜBER ΐ") == Terms{"abcde", "über", "über"});
  config.max_term_bytes = 6;
  CHECK(Run(*Make(config), "ΐ") == Terms{"\u03b9\u0308\u0301"});
  config.max_term_bytes = 5;
  // Stemming first: "running" (7 bytes) stems to "run", which is kept.
  config.stemmer = "english";
  CHECK(Run(*Make(config), "running runner") == Terms{"run"});
  // The default bound.
  const std::string long_word(256, 'x');
  CHECK(Standard(long_word + " " + long_word.substr(0, 255)) == Terms{long_word.substr(0, 255)});
}

TEST_CASE("analyzer: invalid UTF-8 is read as U+FFFD, never an error", "[analyzer]") {
  CHECK(Standard("ab\xff\xfe" "cd \xc3 x \xe2\x82 y \xed\xa0\x80 z \xc0\xaf w") ==
        Terms{"ab", "cd", "x", "y", "z", "w"});
  std::string bytes;
  for (int b = 0; b < 256; ++b) bytes.push_back(static_cast<char>(b));
  for (const auto& term : English(bytes + bytes)) {
    CHECK_FALSE(term.empty());
    CHECK(ValidUtf8(term));
  }
  // Embedded NUL separates words.
  CHECK(Standard(std::string("one\0two", 7)) == Terms{"one", "two"});
}

TEST_CASE("analyzer: long texts give the same terms as their parts", "[analyzer]") {
  // Texts over 64 KiB are analyzed in pieces cut at spaces and newlines.
  const std::string paragraph = "Größere Äpfel, 3.14 und der U.S.A. läuft. 北京天安门 running\n";
  std::string text;
  while (text.size() < 300000) text += paragraph;
  const auto analyzer = Make(Preset("english"));
  const Terms one = Run(*analyzer, paragraph);
  const Terms all = Run(*analyzer, text);
  REQUIRE(all.size() == one.size() * (text.size() / paragraph.size()));
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i] != one[i % one.size()]) FAIL("term " << i << ": " << all[i] << " != " << one[i % one.size()]);
  }
  // A run without spaces longer than a piece is still analyzed, never crashes.
  AnalyzerConfig config = Preset("standard");
  config.max_term_bytes = 1024;
  CHECK(Run(*Make(config), std::string(200000, 'a') + " tail").back() == "tail");
}

TEST_CASE("analyzer: deterministic, and the same from several threads at once", "[analyzer]") {
  const std::vector<std::string> texts = {
      "The quick brown fox jumps over the lazy dog's back, 3 times.",
      "Größere Äpfel schmecken übermäßig gut. Crème brûlée!",
      "Москва — столица России. Η Αθήνα είναι η πρωτεύουσα.",
      "我喜欢北京天安门。東京都に住んでいます。ภาษาไทยเป็นภาษาที่สวยงาม",
      "ab\xff\xfe" "cd running permissions Straße ΣΊΣΥΦΟΣ",
  };
  AnalyzerConfig folded = Preset("english");
  folded.ascii_fold = true;
  AnalyzerConfig french = Preset("standard");
  french.stemmer = "french";
  const std::vector<AnalyzerConfig> configs = {Preset("standard"), Preset("english"), folded, french};
  std::vector<std::unique_ptr<Analyzer>> analyzers;
  std::vector<std::vector<Terms>> expected(configs.size());
  for (size_t c = 0; c < configs.size(); ++c) {
    analyzers.push_back(Make(configs[c]));
    for (const auto& text : texts) {
      expected[c].push_back(Run(*analyzers[c], text));
      CHECK(Run(*analyzers[c], text) == expected[c].back());  // the same twice
      // A second analyzer of the same config gives the same terms.
      CHECK(Run(*Make(configs[c]), text) == expected[c].back());
    }
  }

  constexpr int kThreads = 8;
  constexpr int kRounds = 200;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Terms terms;
      for (int r = 0; r < kRounds; ++r) {
        const size_t c = static_cast<size_t>(t + r) % configs.size();
        const size_t i = static_cast<size_t>(r) % texts.size();
        terms.clear();
        analyzers[c]->Analyze(texts[i], &terms);
        if (terms != expected[c][i]) ++mismatches[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) CHECK(mismatches[t] == 0);
}

TEST_CASE("analyzer: the fuzz target's seed corpus keeps the invariants", "[analyzer]") {
  // The same checks as tests/fuzz/fuzz_analyzer.cc, on its seeds (and on
  // every input that once crashed it), without the fuzz build.
  const std::filesystem::path dir = std::filesystem::path(VERITY_FUZZ_CORPUS) / "fuzz_analyzer";
  AnalyzerConfig small = Preset("english");
  small.ascii_fold = true;
  small.max_term_bytes = 8;
  const std::vector<std::unique_ptr<Analyzer>> analyzers = [&] {
    std::vector<std::unique_ptr<Analyzer>> v;
    v.push_back(Make(Preset("standard")));
    v.push_back(Make(Preset("english")));
    v.push_back(Make(small));
    return v;
  }();
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    INFO(entry.path().string());
    ++files;
    for (const auto& analyzer : analyzers) {
      const Terms terms = Run(*analyzer, text);
      for (const auto& term : terms) {
        CHECK_FALSE(term.empty());
        CHECK(term.size() <= analyzer->config().max_term_bytes);
        CHECK(ValidUtf8(term));
      }
      CHECK(Run(*analyzer, text) == terms);
    }
  }
  CHECK(files >= 4);
}

TEST_CASE("analyzer: the ASCII fast path gives the terms ICU gives", "[analyzer]") {
  // Pure-ASCII text skips ICU's BreakIterator; ICU decides what is right.
  struct Restore {
    ~Restore() { text::SetAsciiFastPathForTesting(true); }
  } restore;
  AnalyzerConfig keep_case = Preset("standard");
  keep_case.case_fold = false;
  const std::vector<std::unique_ptr<Analyzer>> analyzers = [&] {
    std::vector<std::unique_ptr<Analyzer>> v;
    v.push_back(Make(Preset("standard")));
    v.push_back(Make(Preset("english")));
    v.push_back(Make(keep_case));
    return v;
  }();
  const auto both = [&](const Analyzer& analyzer, const std::string& text) {
    text::SetAsciiFastPathForTesting(true);
    const Terms fast = Run(analyzer, text);
    text::SetAsciiFastPathForTesting(false);
    const Terms icu = Run(analyzer, text);
    return std::make_pair(fast, icu);
  };
  for (const std::string text :
       {"Hello, world! It's 3.14 and the U.S.A. (e-mail: foo_bar) 1,000.5", "__ a__b _1 x:y a.b.c. 1.a a.1 @'A @.a a.@ @ @@ 1@.2 user@example.com",
        "1;2,3 a''b 'q' _._ a_.b 1_.2 a._b \"quoted\" tab\there\r\nCRLF\x0bvt\x0c x\x7f", ".,;'_"}) {
    for (const auto& analyzer : analyzers) {
      const auto [fast, icu] = both(*analyzer, text);
      CHECK(fast == icu);
    }
  }
  // Random strings over the characters the word rules treat apart.
  // (Half of them over every ASCII character: that is how "@" was found.)
  const std::string alphabet = "aZq09_.',;:@\" -\n\r\t\x0b/!";
  std::mt19937 random(26);
  int mismatches = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text(random() % 24, ' ');
    for (char& c : text) {
      c = round % 2 == 0 ? alphabet[random() % alphabet.size()] : static_cast<char>(random() % 128);
    }
    const auto [fast, icu] = both(*analyzers[round % 3], text);
    if (fast != icu && ++mismatches <= 5) {
      INFO("text: \"" << text << "\"");
      CHECK(fast == icu);
    }
  }
  CHECK(mismatches == 0);

  // Mixed text: ASCII pieces go the fast way, the rest to ICU; the terms
  // must be those ICU gives for the whole text.
  const std::vector<std::string> parts = {"word", "x", "3.14", "a.b", "_", "'", ".", ",", "@", " ", " ", "\n",
                                          "\t", "-", "é", "Straße", "中文", "ภาษา", "\u0301", "\u2019", "\xff",
                                          "\u200d", "カタカナ", "ü", "\U0001F600"};
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    const size_t n = random() % 200;
    for (size_t i = 0; i < n; ++i) text += parts[random() % parts.size()];
    if (round % 3 == 0) text += std::string(300, 'a') + " " + text;  // past kMinAsciiRun
    const auto [fast, icu] = both(*analyzers[round % 3], text);
    if (fast != icu && ++mismatches <= 5) {
      INFO("text: \"" << text << "\"");
      CHECK(fast == icu);
    }
  }
  CHECK(mismatches == 0);
}
