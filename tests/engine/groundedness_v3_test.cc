// Version 3 of the groundedness scorer (issue #25): each fix of a failure
// class the benchmark measured, and version 2 results staying version 2.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "verity/groundedness.h"

using namespace verity;

namespace {

GroundednessResult Score(const std::string& answer, const std::vector<SourceChunk>& chunks) {
  Result<GroundednessResult> r = ScoreGroundedness(answer, chunks);
  REQUIRE(r.ok());
  return std::move(r).value();
}

SentenceScore Only(const std::string& answer, const std::vector<SourceChunk>& chunks) {
  GroundednessResult r = Score(answer, chunks);
  REQUIRE(r.sentences.size() == 1);
  return r.sentences[0];
}

bool Supported(const std::string& answer, const std::string& chunk) {
  return Only(answer, {{"c", chunk}}).verdict == SentenceVerdict::kSupported;
}

using Strings = std::vector<std::string>;

}  // namespace

TEST_CASE("v3: a capitalised common word opening a sentence is not a name", "[groundedness]") {
  const std::string chunk = "Alice founded Acme in 2010 with a small loan.";
  // "Naturally" is a known lower-case word, capitalised nowhere else.
  SentenceScore s = Only("Naturally, Alice founded Acme in 2010.", {{"c", chunk}});
  CHECK(s.verdict == SentenceVerdict::kSupported);
  CHECK(s.missing_critical.empty());
  CHECK(Supported("Historically, Acme was founded by Alice in 2010.", chunk) == false);  // passive: reordered
  CHECK(Supported("Interestingly, Alice founded Acme in 2010.", chunk));
  // Not a known word: a name, so it must be in the chunk.
  CHECK(Only("Zorblax founded Acme in 2010.", {{"c", chunk}}).missing_critical == Strings{"Zorblax"});
  // Listed capitalised in the word list ("Bob"): still a name.
  CHECK(Only("Bob founded Acme in 2010.", {{"c", chunk}}).missing_critical == Strings{"Bob"});
  // "acme" is a known lower-case word, but capitalised mid-sentence in the
  // answer it is a name: the first sentence needs it in the chunk.
  GroundednessResult acme =
      Score("Acme grew fast in 2010. Bob joined Acme in 2011.", {{"c", "Globex grew fast in 2010."}});
  REQUIRE(acme.sentences.size() == 2);
  CHECK(acme.sentences[0].verdict == SentenceVerdict::kUnsupported);
  CHECK(acme.sentences[0].missing_critical == Strings{"Acme"});
  // ... and so it is when the context writes it mid-sentence.
  CHECK(Only("Acme grew fast in 2010.", {{"c", "Globex grew fast in 2010."}, {"d", "Bob joined Acme."}})
            .missing_critical == Strings{"Acme"});
  CHECK(Supported("Acme grew fast in 2010.", "Globex grew fast in 2010."));  // a word: not a name
}

TEST_CASE("v3: numbers are compared in one canonical form", "[groundedness]") {
  // Separators with spaces, ordinals, words, scales, percent, currency.
  CHECK(Supported("Debian had 3, 800 packages in 2002.", "In 2002 Debian had 3,800 packages."));
  CHECK(Supported("Debian had 18, 200 packages in 2002.", "In 2002 Debian had 18200 packages."));
  CHECK(Supported("Debian 1. 3 was released in 1997.", "Debian 1.3 was released in 1997."));
  CHECK(Supported("The sixth conference was held in Espoo.", "The 6th conference was held in Espoo."));
  CHECK(Supported("Ray was a developer for nineteen years.", "Ray was a developer for 19 years."));
  CHECK(Supported("The team had twenty-one members in Oslo.", "The team had 21 members in Oslo."));
  CHECK(Supported("About two hundred and fifty people came to Oslo.", "About 250 people came to Oslo."));
  CHECK(Supported("Debian had 18 thousand binary packages.", "Debian had 18,000 binary packages."));
  CHECK(Supported("The grant was worth 5m to Acme.", "The grant was worth 5 million to Acme."));
  CHECK(Supported("Acme raised 1.5bn in its second round.", "Acme raised 1.5 billion in its second round."));
  CHECK(Supported("The ticket costs 40 pounds in London.", "The ticket costs \u00A340 in London."));
  CHECK(Supported("The ticket costs $40 in Boston.", "The ticket costs 40 dollars in Boston."));
  CHECK(Supported("Revenue grew 15 percent in 2021.", "In 2021, revenue grew 15% to 3.5 billion dollars."));
  CHECK(Supported("Revenue reached 3500 million dollars.", "In 2021, revenue grew 15% to 3.5 billion dollars."));
  // "9. 0" no longer splits the sentence.
  CHECK(SplitSentences("Debian 9. 0 was released in 2017.").size() == 1);
  // A different number is still a different number.
  SentenceScore changed =
      Only("The ticket costs 45 pounds in London.", {{"c", "The ticket costs \u00A340 in London."}});
  CHECK(changed.verdict == SentenceVerdict::kUnsupported);
  CHECK(changed.missing_critical == Strings{"45"});
  CHECK_FALSE(Supported("Debian had 19 thousand binary packages.", "Debian had 18,000 binary packages."));
  CHECK_FALSE(Supported("Ray was a developer for eighteen years.", "Ray was a developer for 19 years."));
  // A number written twice needs two: "from 2005 until 2005" against 2005 ... 2006.
  CHECK_FALSE(Supported("Neil led Debian from April 2005 until April 2005.",
                        "Neil led Debian from April 2005 until April 2006."));
}

TEST_CASE("v3: a sentence may be backed by two chunks, and cites both", "[groundedness]") {
  const std::vector<SourceChunk> chunks = {
      {"a", "Ray Dassen died on May 18th in Amsterdam after a long illness."},
      {"b", "Ray was a Debian Developer for nineteen years and maintained many packages."},
      {"c", "Debian archives are updated twice every day."},
  };
  SentenceScore s = Only(
      "Ray Dassen died on May 18th in Amsterdam after a long illness, and Ray was a Debian Developer for "
      "nineteen years.",
      chunks);
  CHECK(s.verdict == SentenceVerdict::kSupported);
  CHECK(s.chunk_index == 0);
  CHECK(s.second_chunk_index == 1);
  CHECK(s.second_chunk_id == "b");
  CHECK(chunks[1].text.substr(s.second_span_begin, s.second_span_end - s.second_span_begin) ==
        "Ray was a Debian Developer for nineteen years");
  // Each part must qualify on its own: an invented second clause fails.
  SentenceScore invented =
      Only("Ray Dassen died on May 18th in Amsterdam after a long illness, and Ray later founded Ubuntu in Cape Town.",
           chunks);
  CHECK(invented.verdict == SentenceVerdict::kUnsupported);
  CHECK(invented.second_chunk_index == -1);
}

TEST_CASE("v3: support is measured on the best window, not the whole chunk", "[groundedness]") {
  // One chunk holding a whole document: the swapped name and the added
  // negation occur in it, but not near the sentence's words.
  const std::vector<SourceChunk> doc = {
      {"doc",
       "Debian was founded by Ian Murdock in August 1993. He wrote the Debian Manifesto. "
       "The first releases came out over the following months and held a small set of packages "
       "that early adopters installed from floppy disks and shared mirrors around the world. "
       "Later Bruce Perens led the project and started the social contract. "
       "The project did not have a formal constitution until 1998."}};
  SentenceScore swapped = Only("Debian was founded by Bruce Perens in August 1993.", doc);
  CHECK(swapped.verdict == SentenceVerdict::kUnsupported);
  CHECK(swapped.missing_critical == Strings{"Bruce", "Perens"});
  SentenceScore negated = Only("Debian was not founded by Ian Murdock in August 1993.", doc);
  CHECK(negated.verdict == SentenceVerdict::kUnsupported);
  CHECK(negated.missing_critical == Strings{"not"});
  CHECK(Only("Debian was founded by Ian Murdock in August 1993.", doc).verdict == SentenceVerdict::kSupported);
  // A negation just before the matched words, or kept elsewhere in the sentence.
  CHECK_FALSE(Supported("You do have to pay.", "You do not have to pay."));
  SentenceScore flame = Only("Do flame; it is not polite.", {{"c", "Do not flame; it is not polite."}});
  CHECK(flame.verdict == SentenceVerdict::kUnsupported);
  CHECK(flame.conflicting_negations == Strings{"not"});
}

TEST_CASE("v3: words from another clause of the source lower the support", "[groundedness]") {
  // Role swap: both names occur, each in the other's place.
  const std::string qemu = "As a member of the QEMU team he wrote most of the MIPS emulation layer.";
  SentenceScore swap = Only("As a member of the MIPS team he wrote most of the QEMU emulation layer.", {{"c", qemu}});
  CHECK(swap.verdict == SentenceVerdict::kUnsupported);
  CHECK(swap.role_conflicts == Strings{"MIPS", "QEMU"});
  CHECK(swap.match_support >= 0.6);  // the words alone would pass
  // Two role conflicts at 0.5 each: support max(0, match - 1).
  CHECK(swap.support == 0.0);
  CHECK(Supported(qemu, qemu));
  // A name must keep both of its neighbours: one kept by chance is not enough.
  const std::string pcs = "It was designed for 386 PCs; today Linux also runs on other systems.";
  SentenceScore one_side = Only("It was designed for 386 Linux; today PCs also runs on other systems.", {{"c", pcs}});
  CHECK(one_side.verdict == SentenceVerdict::kUnsupported);
  CHECK(one_side.role_conflicts == Strings{"Linux", "PCs"});
  // Role deletion: the subject takes the verb of another clause.
  const std::string source =
      "In 2001 Stormix declared bankruptcy on January 17th, and Progeny ceased development of its distribution.";
  SentenceScore deletion = Only("In 2001 Stormix ceased development of its distribution.", {{"c", source}});
  CHECK(deletion.verdict == SentenceVerdict::kUnsupported);
  CHECK(deletion.role_conflicts == Strings{"Stormix", "ceased"});
  // Present-tense and modal verbs too: "SPI may accept" takes the verb of
  // "the Debian Project may accept".
  const std::string spi =
      "Among other things, SPI provides a mechanism by which the Debian Project may accept contributions that are "
      "tax deductible.";
  SentenceScore modal = Only("Among other things, SPI may accept contributions that are tax deductible.", {{"c", spi}});
  CHECK(modal.verdict == SentenceVerdict::kUnsupported);
  CHECK(modal.role_conflicts == Strings{"SPI", "accept"});
  CHECK(Supported("SPI provides a mechanism by which the Debian Project may accept contributions.", spi));
  // A parenthesis the answer drops does not count as distance.
  CHECK(Supported("BIN-DIR is a directory where Debian archive files are stored.",
                  "BIN-DIR is a directory where Debian archive files (which usually have an extension of "
                  "\".deb\") are stored."));
}

TEST_CASE("v3: an antonym of a source word next to the same neighbour contradicts it", "[groundedness]") {
  const std::string chunk = "Joey was an active contributor and the archive increased steadily.";
  SentenceScore s = Only("Joey was a dormant contributor.", {{"c", chunk}});
  CHECK(s.verdict == SentenceVerdict::kUnsupported);
  CHECK(s.contradictions == Strings{"dormant/active"});
  SentenceScore verb = Only("The archive decreased steadily.", {{"c", chunk}});
  CHECK(verb.verdict == SentenceVerdict::kUnsupported);
  CHECK(verb.contradictions == Strings{"decreased/increased"});
  CHECK(Supported("Joey was an active contributor.", chunk));
}

TEST_CASE("v3: a short sentence needs an exact n-gram, a name or a number", "[groundedness]") {
  // Two content words, both in the chunk but not together: v2 passed it.
  SentenceScore s = Only("The release is mirrored.", {{"c", "The mirrored archive keeps every old release."}});
  CHECK(s.match_support >= 0.6);
  CHECK(s.short_evidence);
  CHECK(s.verdict == SentenceVerdict::kUnsupported);
  CHECK(Supported("The release is mirrored.", "Every release is mirrored nightly."));
  // A name anchors a short sentence.
  CHECK(Supported("Acme ships anvils.", "Anvils are what Acme ships."));
}

TEST_CASE("v3: results of version 2 keep version 2's version string and layout", "[groundedness]") {
  GroundednessResult old;
  old.scorer_version = "verity-groundedness/2";
  old.threshold = 0.6;
  old.g = 1;
  old.scored = old.supported = 1;
  SentenceScore s;
  s.text = "Alice founded Acme.";
  s.end = s.text.size();
  s.verdict = SentenceVerdict::kSupported;
  s.support = s.token_precision = s.rouge_l_precision = s.trigram_containment = 1;
  s.chunk_index = 0;
  s.chunk_id = "c";
  s.span_end = 18;
  old.sentences.push_back(s);
  const std::string json = ToJson(old);
  CHECK(json.rfind("{\"scorer\":\"verity-groundedness/2\",", 0) == 0);
  CHECK(json.find("match_support") == std::string::npos);
  CHECK(json.find("second_chunk_index") == std::string::npos);
  const std::string html = AuditHtml({{"rtv-1", "docs", 1, s.text, {{"c", "Alice founded Acme."}}, old}});
  CHECK(html.find("<dd class=\"scorer\">verity-groundedness/2</dd>") != std::string::npos);
  CHECK(html.find("verity-groundedness/3") == std::string::npos);
}

TEST_CASE("v3: the HTML report shows the second chunk and the new signals", "[groundedness]") {
  const std::vector<SourceChunk> chunks = {
      {"a", "Ray Dassen died on May 18th in Amsterdam after a long illness."},
      {"b", "Ray was a Debian Developer for nineteen years and maintained many packages."},
      {"q", "As a member of the QEMU team he wrote most of the MIPS emulation layer."},
  };
  const std::string answer =
      "Ray Dassen died on May 18th in Amsterdam after a long illness, and Ray was a Debian Developer for "
      "nineteen years. As a member of the MIPS team he wrote most of the QEMU emulation layer.";
  const GroundednessResult r = Score(answer, chunks);
  const std::string html = AuditHtml({{"rtv-1", "docs", 1, answer, chunks, r}});
  CHECK(html.find("<code class=\"second-chunk-id\">b</code> (#1)") != std::string::npos);
  CHECK(html.find("<mark class=\"match\">Ray was a Debian Developer for nineteen years</mark>") != std::string::npos);
  CHECK(html.find("<div class=\"roles\">") != std::string::npos);
  CHECK(html.find("<span class=\"token\">MIPS</span>") != std::string::npos);
  CHECK(html.find("<span class=\"match-support\">") != std::string::npos);
}
