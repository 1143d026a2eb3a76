// The deterministic groundedness scorer: the fixtures of issue #5 (supported,
// invented, changed number, flipped negation, swapped name, paraphrase,
// empty inputs, chunks one at a time), byte offsets, determinism, UTF-8.
#include "verity/groundedness.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <iterator>
#include <random>
#include <string>
#include <vector>

using namespace verity;

namespace {

GroundednessResult Score(const std::string& answer, const std::vector<SourceChunk>& chunks,
                         GroundednessOptions options = {}) {
  Result<GroundednessResult> r = ScoreGroundedness(answer, chunks, options);
  REQUIRE(r.ok());
  return std::move(r).value();
}

// The one scored sentence of a single-sentence answer.
SentenceScore Only(const GroundednessResult& r) {
  REQUIRE(r.sentences.size() == 1);
  return r.sentences[0];
}

std::vector<std::string> Texts(const std::string& text) {
  std::vector<std::string> out;
  for (const ByteRange& r : SplitSentences(text)) out.push_back(text.substr(r.begin, r.end - r.begin));
  return out;
}

std::string SpanOf(const SourceChunk& chunk, const SentenceScore& s) {
  REQUIRE(s.span_begin <= s.span_end);
  REQUIRE(s.span_end <= chunk.text.size());
  return chunk.text.substr(s.span_begin, s.span_end - s.span_begin);
}

const std::vector<SourceChunk> kDocs = {
    {"doc-1#0", "Verity is a vector database. It keeps every context it hands to a model."},
    {"doc-1#1", "The retrieval log is append-only and hash-chained."},
};

}  // namespace

TEST_CASE("sentences split on . ! ? and line breaks, not on abbreviations or decimals", "[groundedness]") {
  CHECK(Texts("Dr. Smith measured 3.5 kg, e.g. on Monday. Is it done? Yes!\nNext line without stop") ==
        std::vector<std::string>{"Dr. Smith measured 3.5 kg, e.g. on Monday.", "Is it done?", "Yes!",
                                 "Next line without stop"});
  CHECK(Texts("J. R. R. Tolkien wrote it. Mr. Baggins did not.") ==
        std::vector<std::string>{"J. R. R. Tolkien wrote it.", "Mr. Baggins did not."});
  CHECK(Texts("Apples, pears, etc. are fruit. See example.com for more.") ==
        std::vector<std::string>{"Apples, pears, etc. are fruit.", "See example.com for more."});
  CHECK(Texts("He said \"stop.\" Then he left...  Really?!") ==
        std::vector<std::string>{"He said \"stop.\"", "Then he left...", "Really?!"});
  // List markers are not part of the sentence.
  CHECK(Texts("1. First item\n2) Second item\n- Third item\n## Heading") ==
        std::vector<std::string>{"First item", "Second item", "Third item", "Heading"});
  CHECK(Texts("").empty());
  CHECK(Texts(" \n\n \t").empty());
}

TEST_CASE("a sentence over kMaxSentenceBytes is cut at blanks into pieces scored as sentences", "[groundedness]") {
  // 3,000 words of 5 bytes with no full stop: ~15,000 bytes, one "sentence".
  std::string long_line;
  for (int i = 0; i < 3000; ++i) long_line += (i ? " w" : "w") + std::to_string(1000 + i);
  const std::vector<ByteRange> pieces = SplitSentences(long_line);
  REQUIRE(pieces.size() == (long_line.size() + kMaxSentenceBytes - 1) / kMaxSentenceBytes);
  size_t next = 0;
  for (const ByteRange& r : pieces) {
    CHECK(r.end - r.begin <= kMaxSentenceBytes);
    CHECK(r.begin == next);            // nothing lost between pieces but the blank
    CHECK(long_line[r.begin] == 'w');  // cut at a blank, not inside a word
    CHECK((r.end == long_line.size() || long_line[r.end] == ' '));
    next = r.end + 1;
  }
  CHECK(pieces.back().end == long_line.size());
  // No blank at all: cut at a code point boundary (é is 2 bytes).
  std::string no_blank;
  while (no_blank.size() < 2 * kMaxSentenceBytes + 100) no_blank += "a\xC3\xA9";
  for (const ByteRange& r : SplitSentences(no_blank)) {
    CHECK(r.end - r.begin <= kMaxSentenceBytes);
    CHECK((static_cast<unsigned char>(no_blank[r.begin]) & 0xC0) != 0x80);
  }
  // Invalid UTF-8 (continuation bytes only; the scorer tolerates invalid
  // bytes): still pieces of at most the limit, covering the text.
  const std::string invalid = "a" + std::string(5000, '\x80');
  const std::vector<ByteRange> invalid_pieces = SplitSentences(invalid);
  REQUIRE(invalid_pieces.size() == 2);
  CHECK(invalid_pieces[0].begin == 0);
  CHECK(invalid_pieces[0].end == kMaxSentenceBytes);
  CHECK(invalid_pieces[1].end == invalid.size());
  CHECK(SplitSentences(std::string(9000, '\x80')).size() == 3);
  // Scoring a long answer whose words the context holds: each piece is
  // supported, and the whole stays cheap (version 1 built a table of the
  // sentence's length squared).
  std::string answer;
  for (int i = 0; i < 20000; ++i) answer += (i ? " t" : "t") + std::to_string(i % 500);
  std::string context;
  for (int i = 0; i < 500; ++i) context += (i ? " t" : "t") + std::to_string(i);
  const GroundednessResult r = Score(answer, {{"c#0", context}});
  CHECK(r.sentences.size() == SplitSentences(answer).size());
  CHECK(r.sentences.size() > 20);
}

TEST_CASE("a fully supported answer has G = 1", "[groundedness]") {
  const std::string answer = "Verity is a vector database. The retrieval log is append-only and hash-chained.";
  GroundednessResult r = Score(answer, kDocs);
  CHECK(r.scorer_version == "verity-groundedness/3");
  CHECK(r.threshold == 0.6);
  REQUIRE(r.sentences.size() == 2);
  CHECK(r.scored == 2);
  CHECK(r.supported == 2);
  CHECK(r.g == 1.0);
  CHECK(r.sentences[0].verdict == SentenceVerdict::kSupported);
  CHECK(r.sentences[0].chunk_id == "doc-1#0");
  CHECK(r.sentences[0].support == 1.0);
  CHECK(SpanOf(kDocs[0], r.sentences[0]) == "Verity is a vector database");
  CHECK(r.sentences[1].chunk_index == 1);
  CHECK(r.sentences[1].chunk_id == "doc-1#1");
  CHECK(SpanOf(kDocs[1], r.sentences[1]) == "retrieval log is append-only and hash-chained");
  CHECK(r.sentences[1].missing_critical.empty());
}

TEST_CASE("an invented sentence is unsupported and cites nothing", "[groundedness]") {
  const std::string answer =
      "Verity is a vector database. It also offers quantum encryption of embeddings. "
      "The retrieval log is append-only and hash-chained.";
  GroundednessResult r = Score(answer, kDocs);
  REQUIRE(r.sentences.size() == 3);
  const SentenceScore& s = r.sentences[1];
  CHECK(s.text == "It also offers quantum encryption of embeddings.");
  CHECK(s.verdict == SentenceVerdict::kUnsupported);
  CHECK(s.support == 0.0);
  CHECK(s.chunk_index == -1);  // no chunk shares a content word
  CHECK(s.chunk_id.empty());
  CHECK(r.scored == 3);
  CHECK(r.supported == 2);
  CHECK(r.g == Approx(0.6667).margin(1e-9));
}

TEST_CASE("a changed number is caught as a missing critical token", "[groundedness]") {
  const std::vector<SourceChunk> chunks = {{"q3", "In 2021, revenue grew 15% to 3.5 billion dollars."}};
  SentenceScore wrong = Only(Score("Revenue grew 12% in 2021.", chunks));
  // The words alone would pass: support 0.625 >= 0.6 (P 3/4, ROUGE-L 2/4).
  CHECK(wrong.support == Approx(0.625));
  CHECK(wrong.support >= 0.6);
  CHECK(wrong.verdict == SentenceVerdict::kUnsupported);
  CHECK(wrong.missing_critical == std::vector<std::string>{"12%"});
  CHECK(wrong.chunk_id == "q3");

  SentenceScore right = Only(Score("Revenue grew 15% in 2021.", chunks));
  CHECK(right.verdict == SentenceVerdict::kSupported);
  CHECK(right.missing_critical.empty());
  CHECK(SpanOf(chunks[0], right) == "2021, revenue grew 15%");

  // Decimals are numbers too.
  CHECK(Only(Score("Revenue reached 3.5 billion dollars.", chunks)).verdict == SentenceVerdict::kSupported);
  SentenceScore decimal = Only(Score("Revenue reached 3.7 billion dollars.", chunks));
  CHECK(decimal.verdict == SentenceVerdict::kUnsupported);
  CHECK(decimal.missing_critical == std::vector<std::string>{"3.7"});
}

TEST_CASE("a flipped negation is unsupported in both directions", "[groundedness]") {
  const std::vector<SourceChunk> plain = {{"sec", "The backup service is encrypted at rest."}};
  const std::vector<SourceChunk> negated = {{"sec", "The backup service is not encrypted at rest."}};

  // The answer adds a negation the chunk does not have.
  SentenceScore added = Only(Score("The backup service is not encrypted at rest.", plain));
  CHECK(added.support >= 0.6);  // P = L = 4/5
  CHECK(added.verdict == SentenceVerdict::kUnsupported);
  CHECK(added.missing_critical == std::vector<std::string>{"not"});

  // The answer drops the chunk's negation: every word matches (support 1),
  // but the chunk's "not" negates a word of the sentence.
  SentenceScore dropped = Only(Score("The backup service is encrypted at rest.", negated));
  CHECK(dropped.support == 1.0);
  CHECK(dropped.missing_critical.empty());
  CHECK(dropped.conflicting_negations == std::vector<std::string>{"not"});
  CHECK(dropped.verdict == SentenceVerdict::kUnsupported);

  // Contractions are negations too, and match the spelled-out form.
  CHECK(Only(Score("The backup service isn't encrypted at rest.", negated)).verdict == SentenceVerdict::kSupported);
  SentenceScore contracted = Only(Score("The backup service isn't encrypted at rest.", plain));
  CHECK(contracted.verdict == SentenceVerdict::kUnsupported);
  CHECK(contracted.missing_critical == std::vector<std::string>{"isn't"});
  CHECK(Only(Score("The backup service is encrypted at rest.", plain)).verdict == SentenceVerdict::kSupported);
}

TEST_CASE("a swapped name is caught as a missing critical token", "[groundedness]") {
  const std::vector<SourceChunk> chunks = {{"hist", "Alice founded Acme in 2010 with a small loan."}};
  SentenceScore swapped = Only(Score("Bob founded Acme in 2010.", chunks));
  CHECK(swapped.support >= 0.6);  // 3 of 4 content words, in order
  CHECK(swapped.verdict == SentenceVerdict::kUnsupported);
  CHECK(swapped.missing_critical == std::vector<std::string>{"Bob"});

  CHECK(Only(Score("Alice founded Acme in 2010.", chunks)).verdict == SentenceVerdict::kSupported);
  // A sentence-initial common word is not a name: "However" need not be in the chunk.
  CHECK(Only(Score("However, Alice founded Acme in 2010.", chunks)).verdict == SentenceVerdict::kSupported);
  // A name inside the sentence must be there.
  SentenceScore inside = Only(Score("In 2010 Alice and Carol founded Acme.", chunks));
  CHECK(inside.verdict == SentenceVerdict::kUnsupported);
  CHECK(inside.missing_critical == std::vector<std::string>{"Carol"});
}

TEST_CASE("a paraphrase scores low: the documented limitation", "[groundedness]") {
  // LIMITATION: the scorer compares surface tokens (no stemming, synonyms or
  // meaning), so a faithful paraphrase of the chunk is judged unsupported.
  // These assertions record what it does, not what a reader would judge.
  const std::vector<SourceChunk> chunks = {{"fin", "The company's earnings increased sharply last year."}};
  SentenceScore synonyms = Only(Score("Profits rose steeply over the previous twelve months.", chunks));
  CHECK(synonyms.verdict == SentenceVerdict::kUnsupported);
  CHECK(synonyms.support == 0.0);

  // Same facts, reworded and reordered: 5 of 7 words present, but out of
  // order (ROUGE-L 3/7), so support (5/7 + 3/7) / 2 = 0.5714 < 0.6.
  SentenceScore reordered = Only(Score("Last year the company's earnings went up sharply.", chunks));
  CHECK(reordered.verdict == SentenceVerdict::kUnsupported);
  CHECK(reordered.support == Approx(0.5714).margin(1e-4));
  CHECK(reordered.chunk_id == "fin");
}

TEST_CASE("empty context: every scored sentence is unsupported", "[groundedness]") {
  GroundednessResult r = Score("Alice founded Acme in 2010. It is not public. Yes.", {});
  REQUIRE(r.sentences.size() == 3);
  CHECK(r.scored == 2);
  CHECK(r.supported == 0);
  CHECK(r.g == 0.0);
  CHECK(r.sentences[0].verdict == SentenceVerdict::kUnsupported);
  CHECK(r.sentences[0].chunk_index == -1);
  CHECK(r.sentences[0].missing_critical == std::vector<std::string>{"Alice", "Acme", "2010"});
  CHECK(r.sentences[1].missing_critical == std::vector<std::string>{"not"});
  CHECK(r.sentences[2].verdict == SentenceVerdict::kNotScored);
}

TEST_CASE("empty answer and answers without content words score nothing", "[groundedness]") {
  GroundednessResult empty = Score("", kDocs);
  CHECK(empty.sentences.empty());
  CHECK(empty.scored == 0);
  CHECK(empty.g == 0.0);

  GroundednessResult yes = Score("Yes. It is!", kDocs);
  REQUIRE(yes.sentences.size() == 2);
  CHECK(yes.scored == 0);
  CHECK(yes.g == 0.0);
  for (const SentenceScore& s : yes.sentences) {
    CHECK(s.verdict == SentenceVerdict::kNotScored);
    CHECK_FALSE(s.scored());
    CHECK(s.chunk_index == -1);
  }
  CHECK(ToJson(yes).find("\"verdict\":\"not_scored\"") != std::string::npos);
}

TEST_CASE("support is the best single chunk, never chunks concatenated", "[groundedness]") {
  const std::vector<SourceChunk> chunks = {
      {"a", "Alice founded Acme in 1999."},
      {"b", "Acme was sold to Globex in 2010."},
  };
  const std::string answer = "Alice founded Acme in 1999 and sold it to Globex in 2010.";
  SentenceScore split = Only(Score(answer, chunks));
  // Each chunk holds 4 of the 7 content words: support 4/7 from either.
  CHECK(split.verdict == SentenceVerdict::kUnsupported);
  CHECK(split.support == Approx(0.5714).margin(1e-4));
  CHECK(split.chunk_index == 0);  // tie: the lower index
  CHECK(split.missing_critical == std::vector<std::string>{"Globex", "2010"});

  // The same words in one chunk are supported: the split is what fails.
  const std::vector<SourceChunk> joined = {{"ab", chunks[0].text + " " + chunks[1].text}};
  CHECK(Only(Score(answer, joined)).verdict == SentenceVerdict::kSupported);

  // With a qualifying chunk among others, that chunk is cited.
  const std::vector<SourceChunk> many = {chunks[1], {"noise", "Acme sells anvils."}, chunks[0]};
  SentenceScore s = Only(Score("Alice founded Acme in 1999.", many));
  CHECK(s.verdict == SentenceVerdict::kSupported);
  CHECK(s.chunk_index == 2);
  CHECK(s.chunk_id == "a");
}

TEST_CASE("byte offsets point at the sentence and the matched span", "[groundedness]") {
  const std::vector<SourceChunk> chunks = {
      {"c0", "Background first. In 2021, revenue grew 15% to 3.5 billion dollars. Costs were flat."},
      {"c1", "Dr. Ruiz leads the cloud unit, which is not profitable yet."},
  };
  const std::string answer = "  Revenue grew 15% in 2021!\n\nDr. Ruiz leads the cloud unit.  Yes.";
  GroundednessResult r = Score(answer, chunks);
  REQUIRE(r.sentences.size() == 3);
  for (const SentenceScore& s : r.sentences) {
    CHECK(answer.substr(s.begin, s.end - s.begin) == s.text);
  }
  CHECK(r.sentences[0].text == "Revenue grew 15% in 2021!");
  CHECK(r.sentences[0].begin == 2);
  CHECK(r.sentences[1].text == "Dr. Ruiz leads the cloud unit.");
  CHECK(r.sentences[2].text == "Yes.");
  CHECK(SpanOf(chunks[0], r.sentences[0]) == "2021, revenue grew 15%");
  CHECK(r.sentences[1].chunk_id == "c1");
  CHECK(SpanOf(chunks[1], r.sentences[1]) == "Dr. Ruiz leads the cloud unit");
  // The cloud unit's negation ("not profitable") is outside the matched span.
  CHECK(r.sentences[1].verdict == SentenceVerdict::kSupported);
}

TEST_CASE("two runs give byte-identical canonical JSON", "[groundedness]") {
  const std::string answer =
      "Verity is a vector database. It is not a \"graph\" store.\nRevenue grew 12% in 2021. Yes.";
  std::vector<SourceChunk> chunks = kDocs;
  chunks.push_back({"q3", "In 2021, revenue grew 15% to 3.5 billion dollars."});
  const std::string a = ToJson(Score(answer, chunks));
  const std::string b = ToJson(Score(answer, chunks));
  CHECK(a == b);
  CHECK(a.rfind("{\"scorer\":\"verity-groundedness/3\",\"threshold\":0.6000,\"g\":0.3333,", 0) == 0);
  CHECK(a.find("\"text\":\"It is not a \\\"graph\\\" store.\"") != std::string::npos);

  // The exact bytes of a small result, to pin the format. Version 3 adds
  // its signals after "conflicting_negations"; "Hi" opening a sentence is a
  // known word capitalised nowhere else, so no longer a name (version 2
  // listed it as missing).
  const std::vector<SourceChunk> one = {{"c", "Alice founded Acme."}};
  CHECK(ToJson(Score("Alice founded Acme. Hi Bob.", one)) ==
        "{\"scorer\":\"verity-groundedness/3\",\"threshold\":0.6000,\"g\":0.5000,\"sentences_total\":2,"
        "\"scored\":2,\"supported\":1,\"sentences\":["
        "{\"index\":0,\"begin\":0,\"end\":19,\"text\":\"Alice founded Acme.\",\"verdict\":\"supported\","
        "\"support\":1.0000,\"token_precision\":1.0000,\"rouge_l_precision\":1.0000,\"trigram_containment\":1.0000,"
        "\"chunk_index\":0,\"chunk_id\":\"c\",\"span_begin\":0,\"span_end\":18,\"missing_critical\":[],"
        "\"conflicting_negations\":[],\"match_support\":1.0000,\"contradictions\":[],\"role_conflicts\":[],"
        "\"short_evidence\":false,\"second_chunk_index\":null,\"second_chunk_id\":null,"
        "\"second_span_begin\":null,\"second_span_end\":null},"
        "{\"index\":1,\"begin\":20,\"end\":27,\"text\":\"Hi Bob.\",\"verdict\":\"unsupported\","
        "\"support\":0.0000,\"token_precision\":0.0000,\"rouge_l_precision\":0.0000,\"trigram_containment\":0.0000,"
        "\"chunk_index\":null,\"chunk_id\":null,\"span_begin\":null,\"span_end\":null,\"missing_critical\":["
        "\"Bob\"],\"conflicting_negations\":[],\"match_support\":0.0000,\"contradictions\":[],"
        "\"role_conflicts\":[],\"short_evidence\":false,\"second_chunk_index\":null,\"second_chunk_id\":null,"
        "\"second_span_begin\":null,\"second_span_end\":null}]}");
}

TEST_CASE("UTF-8 text keeps offsets on the right bytes", "[groundedness]") {
  const std::vector<SourceChunk> chunks = {
      {"de\xC3\xA9",
       "Vorwort \xE2\x80\x94 Das Caf\xC3\xA9 Zo\xC3\xAB \xC3\xB6"
       "ffnete 1998 in Z\xC3\xBCrich."},
  };
  const std::string answer =
      "\xE2\x80\x9C"
      "Das Caf\xC3\xA9 Zo\xC3\xAB \xC3\xB6"
      "ffnete 1998 in Z\xC3\xBCrich.\xE2\x80\x9D "
      "\xF0\x9F\x98\x80 Es war 1999 in Z\xC3\xBCrich.";
  GroundednessResult r = Score(answer, chunks);
  REQUIRE(r.sentences.size() == 2);
  for (const SentenceScore& s : r.sentences) CHECK(answer.substr(s.begin, s.end - s.begin) == s.text);
  CHECK(r.sentences[0].text ==
        "\xE2\x80\x9C"
        "Das Caf\xC3\xA9 Zo\xC3\xAB \xC3\xB6"
        "ffnete 1998 in Z\xC3\xBCrich.\xE2\x80\x9D");
  CHECK(r.sentences[0].verdict == SentenceVerdict::kSupported);
  CHECK(SpanOf(chunks[0], r.sentences[0]) ==
        "Das Caf\xC3\xA9 Zo\xC3\xAB \xC3\xB6"
        "ffnete 1998 in Z\xC3\xBCrich");
  CHECK(r.sentences[1].text == "\xF0\x9F\x98\x80 Es war 1999 in Z\xC3\xBCrich.");
  CHECK(r.sentences[1].verdict == SentenceVerdict::kUnsupported);
  CHECK(r.sentences[1].missing_critical == std::vector<std::string>{"Es", "1999"});

  // Invalid UTF-8 does not break scoring, and JSON stays valid UTF-8.
  GroundednessResult bad = Score("Caf\xC3 grew \xFF 15%.", {{"x\xFE", "caf grew 15%"}});
  const std::string json = ToJson(bad);
  CHECK(json.find("\xEF\xBF\xBD") != std::string::npos);
  CHECK(json.find('\xFF') == std::string::npos);
  CHECK(json.find('\xFE') == std::string::npos);
}

TEST_CASE("threshold is validated and applied", "[groundedness]") {
  for (double bad : {-0.1, 1.5, std::nan("")}) {
    GroundednessOptions o;
    o.threshold = bad;
    Result<GroundednessResult> r = ScoreGroundedness("Anything.", {}, o);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(r.status().message().find("options.threshold") != std::string::npos);
  }
  const std::vector<SourceChunk> chunks = {{"fin", "The company's earnings increased sharply last year."}};
  GroundednessOptions lenient;
  lenient.threshold = 0.5;
  GroundednessResult r = Score("Last year the company's earnings went up sharply.", chunks, lenient);
  CHECK(r.threshold == 0.5);
  CHECK(Only(r).verdict == SentenceVerdict::kSupported);
}

TEST_CASE("random text never breaks offsets, spans or determinism", "[groundedness]") {
  // Pieces chosen to hit the splitter's and tokenizer's edge cases: joiners,
  // abbreviations, list markers, multi-byte and invalid UTF-8.
  const char* pieces[] = {"a",
                          "Alice",
                          " ",
                          ".",
                          "!",
                          "?",
                          "\n",
                          "3",
                          ".5",
                          ",000",
                          "%",
                          "'",
                          "\xE2\x80\x99",
                          "n't",
                          "e.g.",
                          "Dr.",
                          "\xC3\xA9",
                          "\xFF",
                          "\xC3",
                          "\xE2\x80\x94",
                          "not",
                          "the",
                          "1.",
                          "-",
                          "#",
                          "\"",
                          ")",
                          "Z",
                          "grew",
                          "\xF0\x9F\x98\x80",
                          "cannot",
                          "U.S."};
  std::mt19937_64 rng(20240605);
  auto text = [&](size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += pieces[rng() % std::size(pieces)];
    return s;
  };
  for (int iteration = 0; iteration < 2000; ++iteration) {
    const std::string answer = text(rng() % 60);
    std::vector<SourceChunk> chunks;
    for (size_t c = rng() % 4; c > 0; --c) chunks.push_back({text(2), text(rng() % 80)});
    Result<GroundednessResult> r = ScoreGroundedness(answer, chunks);
    REQUIRE(r.ok());
    size_t last_end = 0;
    for (const SentenceScore& s : r->sentences) {
      REQUIRE(s.begin >= last_end);
      REQUIRE(s.end <= answer.size());
      REQUIRE(answer.substr(s.begin, s.end - s.begin) == s.text);
      last_end = s.end;
      if (s.chunk_index >= 0) {
        REQUIRE(static_cast<size_t>(s.chunk_index) < chunks.size());
        REQUIRE(s.span_begin <= s.span_end);
        REQUIRE(s.span_end <= chunks[static_cast<size_t>(s.chunk_index)].text.size());
      }
      REQUIRE(s.support >= 0.0);
      REQUIRE(s.support <= 1.0);
    }
    REQUIRE(ToJson(*r) == ToJson(ScoreGroundedness(answer, chunks).value()));
  }
}
