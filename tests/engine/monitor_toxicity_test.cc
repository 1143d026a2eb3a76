// The toxicity flagger (engine/src/monitor/toxicity.h): a labelled sample
// drawn from the word lists in several languages, clean sentences (with
// Scunthorpe-style substrings), Unicode edge cases, the allow-list,
// language selection, bad configs; and a printed figure: µs per Flag call
// on a 1 KB answer (no timed assertion).
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "monitor/toxicity.h"
#include "monitor/toxicity_wordlists.h"

namespace verity::monitor {
namespace {

std::unique_ptr<ToxicityFlagger> Make(ToxicityConfig config = {}) {
  auto flagger = ToxicityFlagger::Create(config);
  REQUIRE(flagger.ok());
  return std::move(flagger).value();
}

std::vector<std::string> Terms(const ToxicityResult& result) {
  std::vector<std::string> terms;
  for (const ToxicityMatch& match : result.matches) terms.push_back(match.term);
  return terms;
}

struct Labelled {
  std::string language;
  std::string text;
  bool toxic;
};

// Sentences in the languages' own words; the toxic ones use terms of the
// language's list (en, de, fr, es, ru, ja, zh), the clean ones hold
// substrings of listed terms inside other words.
const std::vector<Labelled>& Sample() {
  static const std::vector<Labelled> sample = {
      {"en", "What an asshole thing to say.", true},
      {"en", "He called her a cunt in the meeting.", true},
      {"en", "Don't be such an ASS about it!", true},
      {"en", "The page showed 2 girls 1 cup, which is awful.", true},
      {"en", "Scunthorpe United won on Saturday.", false},
      {"en", "The class assessment was passed by Cassandra.", false},
      {"en", "Analysis of the analytic assay, with an assistant.", false},
      {"en", "Dickens wrote about Middlesex and Essex.", false},
      {"de", "Du bist ein Arschloch.", true},
      {"de", "So eine Scheiße!", true},
      {"de", "Ficken ist kein Wort für die Besprechung.", true},
      {"de", "Der Marsch durch die Stadt war lang.", false},
      {"de", "Die Fickerei-Gasse hat keinen Eintrag.", false},
      {"fr", "Quel enculé, celui-là.", true},
      {"fr", "Putain, c'est en retard !", true},
      {"fr", "Le bordel de la chambre.", true},
      {"fr", "La réputation de l'entreprise est bonne.", false},
      {"fr", "Nous avons embarqué à Bordeaux.", false},
      {"es", "Eres un cabrón.", true},
      {"es", "¡Qué coño pasa aquí!", true},
      {"es", "El bastardo se fue.", true},
      {"es", "La conchería del mercado abre temprano.", false},
      {"es", "Los bastardillas son un tipo de letra.", false},
      {"ru", "Он полный мудозвон.", true},
      {"ru", "Это говно, а не работа.", true},
      {"ru", "Это бздёнок.", true},
      {"ru", "Мы гуляли в парке весь день.", false},
      {"ja", "彼は アナル と言った。", true},
      {"ja", "彼はアナルと言った。", true},
      {"ja", "強姦犯は捕まった。", true},
      {"ja", "今日は いい 天気 です。", false},
      {"zh", "他说 你妈的 然后走了。", true},
      {"zh", "他说你妈的然后走了。", true},
      {"zh", "这部电影是三级片。", true},
      {"zh", "今天 天气 很好。", false},
  };
  return sample;
}

TEST_CASE("toxicity: the labelled sample, each with its language's list", "[monitor]") {
  size_t tp = 0, fp = 0, fn = 0, tn = 0;
  for (const Labelled& item : Sample()) {
    auto flagger = Make({.languages = {item.language}, .allow = {}});
    const ToxicityResult result = flagger->Flag(item.text);
    INFO(item.language << ": " << item.text);
    CHECK(result.flagged == item.toxic);
    if (result.flagged) {
      REQUIRE(!result.matches.empty());
      CHECK(result.matches[0].languages == std::vector<std::string>{item.language});
    }
    if (item.toxic) {
      result.flagged ? ++tp : ++fn;
    } else {
      result.flagged ? ++fp : ++tn;
    }
  }
  // The same sample with every language's list at once (the default): the
  // clean sentences of one language may hold a word another list has.
  size_t all_tp = 0, all_fp = 0, all_fn = 0;
  auto all = Make();
  for (const Labelled& item : Sample()) {
    const bool flagged = all->Flag(item.text).flagged;
    all_tp += flagged && item.toxic ? 1 : 0;
    all_fp += flagged && !item.toxic ? 1 : 0;
    all_fn += !flagged && item.toxic ? 1 : 0;
  }
  std::printf("toxicity sample with all languages' lists: tp %zu fp %zu fn %zu, precision %.3f, recall %.3f\n",
              all_tp, all_fp, all_fn, double(all_tp) / double(all_tp + all_fp),
              double(all_tp) / double(all_tp + all_fn));
  CHECK(all_fn == 0);
  const double precision = tp + fp == 0 ? 1.0 : double(tp) / double(tp + fp);
  const double recall = tp + fn == 0 ? 1.0 : double(tp) / double(tp + fn);
  std::printf("toxicity sample (%zu sentences, per-language lists): tp %zu fp %zu fn %zu tn %zu, "
              "precision %.3f, recall %.3f\n",
              Sample().size(), tp, fp, fn, tn, precision, recall);
}

// Every term of the listed languages, each in a sentence of its own with
// the term standing alone ("<< TERM >>."), must be flagged as that term in
// that language; the only ones left out are those without a letter ("13.").
TEST_CASE("toxicity: every listed term of en, de, fr, es, ru, ja, zh is found in a sentence", "[monitor]") {
  for (const std::string language : {"en", "de", "fr", "es", "ru", "ja", "zh"}) {
    auto flagger = Make({.languages = {language}, .allow = {}});
    size_t total = 0, found = 0;
    std::vector<std::string> missed;
    for (size_t i = 0; i < kWordListEntryCount; ++i) {
      if (language != kWordListEntries[i].language) continue;
      const std::string term = kWordListEntries[i].term;
      ++total;
      const std::string text = "Er sagte << " + term + " >>.";
      const ToxicityResult result = flagger->Flag(text);
      bool hit = false;
      for (const ToxicityMatch& match : result.matches) {
        hit = hit || (match.begin == 12 && match.end == 12 + term.size());
      }
      if (hit) {
        ++found;
      } else {
        missed.push_back(term);
      }
    }
    std::string missed_text;
    for (const std::string& term : missed) missed_text += " '" + term + "'";
    std::printf("toxicity list %s: %zu of %zu terms found standalone (recall %.3f); missed:%s\n",
                language.c_str(), found, total, double(found) / double(total), missed_text.c_str());
    CHECK(found + missed.size() == total);
    CHECK(double(found) / double(total) >= 0.95);
  }
}

TEST_CASE("toxicity: word boundaries, not substrings", "[monitor]") {
  auto flagger = Make({.languages = {"en"}, .allow = {}});
  CHECK_FALSE(flagger->Flag("Scunthorpe").flagged);
  CHECK_FALSE(flagger->Flag("classic passage assets").flagged);
  CHECK(flagger->Flag("ass-istant").flagged);  // "ass" is a word before the hyphen
  const ToxicityResult result = flagger->Flag("ASS");
  REQUIRE(result.flagged);
  CHECK(result.matches[0].term == "ass");
  CHECK(result.matches[0].begin == 0);
  CHECK(result.matches[0].end == 3);
}

TEST_CASE("toxicity: Unicode edge cases", "[monitor]") {
  auto flagger = Make({.languages = {"en", "de", "fr"}, .allow = {}});
  SECTION("upper case, at the start and the end, with punctuation around") {
    const ToxicityResult result = flagger->Flag("CUNT... you said (cunt)");
    REQUIRE(result.matches.size() == 2);
    CHECK(result.matches[0].begin == 0);
    CHECK(result.matches[0].end == 4);
    CHECK(result.matches[1].begin == 18);
    CHECK(result.matches[1].end == 22);
  }
  SECTION("full-width Latin") {
    const std::string text = "\xEF\xBC\xA1\xEF\xBC\xB3\xEF\xBC\xB3";  // ＡＳＳ
    const ToxicityResult result = flagger->Flag("x " + text + " y");
    REQUIRE(result.flagged);
    CHECK(result.matches[0].term == "ass");
    CHECK(result.matches[0].begin == 2);
    CHECK(result.matches[0].end == 2 + text.size());
  }
  SECTION("accents: precomposed, combining, and missing") {
    CHECK(Terms(flagger->Flag("quel encule")) == std::vector<std::string>{"enculé"});
    CHECK(Terms(flagger->Flag("quel ENCULÉ")) == std::vector<std::string>{"enculé"});
    CHECK(Terms(flagger->Flag("quel encule\xCC\x81")) == std::vector<std::string>{"enculé"});  // e + U+0301
    CHECK(Terms(flagger->Flag("SCHEISSE")) == std::vector<std::string>{"scheiße"});
    CHECK(flagger->Flag("Äss").flagged);
  }
  SECTION("a ligature folds") {
    // "ﬁck" with U+FB01 (fi ligature)
    CHECK(Terms(flagger->Flag("\xEF\xAC\x81" "ck dich")) == std::vector<std::string>{"fick"});
  }
  SECTION("multi-word terms match as word sequences") {
    const std::string text = "see: 2 Girls, 1 CUP!";
    const ToxicityResult result = flagger->Flag(text);
    REQUIRE(result.flagged);
    CHECK(result.matches[0].term == "2 girls 1 cup");
    CHECK(result.matches[0].begin == 5);
    CHECK(result.matches[0].end == text.size() - 1);
    CHECK_FALSE(flagger->Flag("2 girls and 1 cup").flagged);
  }
  SECTION("invalid UTF-8 is no error") {
    const ToxicityResult result = flagger->Flag("\xFF\xFE ass \xC3");
    REQUIRE(result.matches.size() == 1);
    CHECK(result.matches[0].begin == 3);
  }
  SECTION("an emoji term, with or without a skin tone") {
    auto en = Make({.languages = {"en"}, .allow = {}});
    CHECK(en->Flag("well \xF0\x9F\x96\x95").flagged);                  // U+1F595
    CHECK(en->Flag("well \xF0\x9F\x96\x95\xF0\x9F\x8F\xBD!").flagged);  // + U+1F3FD
    CHECK_FALSE(en->Flag("well \xF0\x9F\x91\x8D").flagged);            // U+1F44D thumbs up
  }
  SECTION("empty text") { CHECK_FALSE(flagger->Flag("").flagged); }
}

// The documented misses (docs/monitoring.md, "Limits"): a lexical flag
// does not see obfuscation, unlisted inflections or compounds.
TEST_CASE("toxicity: documented misses", "[monitor]") {
  auto flagger = Make({.languages = {"en", "de", "ru"}, .allow = {}});
  CHECK_FALSE(flagger->Flag("what an a$$").flagged);
  CHECK_FALSE(flagger->Flag("f*ck that").flagged);
  CHECK_FALSE(flagger->Flag("f u c k").flagged);
  CHECK_FALSE(flagger->Flag("he fucked up").flagged);      // "fucking" is listed, "fucked" is not
  CHECK_FALSE(flagger->Flag("ein Arschlochkind").flagged);  // "arschloch" is listed
  CHECK_FALSE(flagger->Flag("\xD0\xB5\xD0\xB1\xD0\xB0\xD1\x80\xD1\x8C").flagged);  // "ебарь"; "ёбарь" is listed
  CHECK(flagger->Flag("he is fucking late").flagged);
}

TEST_CASE("toxicity: result carries the versions", "[monitor]") {
  auto flagger = Make();
  const ToxicityResult result = flagger->Flag("hello");
  CHECK(result.scorer_version == kToxicityScorerVersion);
  CHECK(result.word_list_version == "1.2.0");
  CHECK(WordListVersion() == "1.2.0");
  CHECK(WordListPackage() == "naughty-words");
  CHECK(WordListLicense() == "CC-BY-4.0");
}

TEST_CASE("toxicity: the allow-list", "[monitor]") {
  auto plain = Make({.languages = {"en"}, .allow = {}});
  auto allowing = Make({.languages = {"en"}, .allow = {"ANUS", "2 girls 1 cup"}});
  CHECK(plain->Flag("the anus").flagged);
  CHECK_FALSE(allowing->Flag("the anus").flagged);
  CHECK_FALSE(allowing->Flag("2 girls 1 cup").flagged);
  CHECK(allowing->Flag("the asshole").flagged);
  CHECK(allowing->term_count() == plain->term_count() - 2);
}

TEST_CASE("toxicity: language selection", "[monitor]") {
  auto en = Make({.languages = {"en"}, .allow = {}});
  auto de = Make({.languages = {"de"}, .allow = {}});
  auto all = Make();
  CHECK_FALSE(en->Flag("Arschloch").flagged);
  CHECK(de->Flag("Arschloch").flagged);
  const ToxicityResult result = all->Flag("anus");  // in several lists
  REQUIRE(result.matches.size() == 1);
  CHECK(result.matches[0].languages.size() > 1);
  CHECK(std::is_sorted(result.matches[0].languages.begin(), result.matches[0].languages.end()));
  CHECK(all->term_count() > en->term_count() + de->term_count());
}

// What language selection is for: a common word of one language can be a
// listed term of another ("am" is on the Turkish list).
TEST_CASE("toxicity: cross-language hits with every list, none with the answer's language", "[monitor]") {
  auto en = Make({.languages = {"en"}, .allow = {}});
  auto all = Make();
  const ToxicityResult result = all->Flag("I am here.");
  REQUIRE(result.matches.size() == 1);
  CHECK(result.matches[0].term == "am");
  CHECK(result.matches[0].languages == std::vector<std::string>{"tr"});
  CHECK_FALSE(en->Flag("I am here.").flagged);
}

TEST_CASE("toxicity: bad config", "[monitor]") {
  auto unknown = ToxicityFlagger::Create({.languages = {"en", "xx"}, .allow = {}});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(unknown.status().message(), Catch::Contains("languages[1]") && Catch::Contains("'xx'") &&
                                             Catch::Contains("known: ar,"));
  auto empty = ToxicityFlagger::Create({.languages = {}, .allow = {"ok", " -- "}});
  REQUIRE_FALSE(empty.ok());
  CHECK_THAT(empty.status().message(), Catch::Contains("allow[1]"));
  auto long_entry = ToxicityFlagger::Create({.languages = {}, .allow = {std::string(300, 'a')}});
  REQUIRE_FALSE(long_entry.ok());
  CHECK_THAT(long_entry.status().message(), Catch::Contains("allow[0]") && Catch::Contains("256"));
}

TEST_CASE("toxicity: concurrent Flag calls agree", "[monitor]") {
  auto flagger = Make();
  const std::string text = "Du Arschloch, quel enculé, what an asshole.";
  const ToxicityResult expected = flagger->Flag(text);
  REQUIRE(expected.matches.size() >= 3);
  std::vector<std::thread> threads;
  std::vector<int> same(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) same[t] += flagger->Flag(text).matches == expected.matches ? 1 : 0;
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int count : same) CHECK(count == 200);
}

// A figure, not an assertion: µs per Flag call on a 1 KB answer, every
// language's list.
TEST_CASE("toxicity: cost of Flag on a 1 KB answer (printed)", "[monitor]") {
  auto flagger = Make();
  std::string answer;
  const std::string sentence =
      "The retrieval log keeps every answer with its context; Scunthorpe's café serves naïve "
      "customers, and the assistant’s assessment is classic. ";
  while (answer.size() < 1024) answer += sentence;
  answer.resize(1024);
  constexpr int kCalls = 2000;
  size_t flagged = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kCalls; ++i) flagged += flagger->Flag(answer).flagged ? 1 : 0;
  const double us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / kCalls;
  std::printf("toxicity: %.1f us per Flag call on a 1 KB answer (%zu terms, all languages; flagged %zu of %d)\n",
              us, flagger->term_count(), flagged, kCalls);
  CHECK(flagged == 0);
}

}  // namespace
}  // namespace verity::monitor
