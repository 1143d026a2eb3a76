// The groundedness scorer's evidence matching (internal to groundedness/):
// how one sentence is matched against the best window of one chunk, and the
// signals of that match (support, critical tokens, negation, antonym and
// role checks, minimum evidence). The rules are documented in
// include/verity/groundedness.h. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "groundedness/text.h"

namespace verity::groundedness_support {

using groundedness_text::Token;

// The calibrated constants of version 3 (docs/groundedness.md, "Version 3":
// chosen on the benchmark's train split).
struct Params {
  size_t window_min_slack = 4;  // window = n + max(min_slack, n * slack) content tokens
  double window_slack = 0.5;
  size_t role_distance = 3;            // a verb or name pair is in place when <= this apart, in order
  double role_penalty = 0.5;           // subtracted from support per role conflict
  double contradiction_penalty = 0.5;  // per antonym contradiction
  size_t min_evidence_tokens = 5;      // below: an exact trigram (or name / number) is needed
  size_t min_part_tokens = 4;          // each part of a two-chunk match
  bool all_verb_forms = true;          // the role check's verbs: not only past forms
};
const Params& V3Params();

struct Vocabulary {
  std::unordered_map<std::string, uint32_t> ids;
  uint32_t Id(const std::string& norm);
};

// Content tokens of a text (stopwords dropped), as ids, with their Token.
struct Content {
  std::vector<Token> tokens;
  std::vector<uint32_t> ids;
  bool first_is_content = false;  // tokens[0] is the text's first token
};
Content ContentOf(std::string_view text, size_t begin, size_t end, Vocabulary& vocab);

// A chunk, indexed for matching.
struct ChunkIndex {
  Content content;
  std::unordered_map<uint32_t, std::vector<uint32_t>> positions;  // id -> token positions
  // rank[k]: content tokens before k outside parentheses; the role check
  // measures distances in it, so a parenthesis the answer drops is skipped.
  std::vector<uint32_t> rank;
};
ChunkIndex IndexChunk(std::string_view text, Vocabulary& vocab);

// A sentence (or a part of one) to match.
struct Sentence {
  std::vector<const Token*> tokens;  // content tokens
  std::vector<uint32_t> ids;
  std::vector<bool> critical;  // number, negation or name
  std::vector<bool> name;
  std::string_view text;  // the answer
};

// The signals of a sentence matched against one chunk's best window.
struct Evidence {
  double precision = 0, rouge_l = 0, trigram = 0;
  double match_support = 0;           // max((P + L) / 2, T)
  double support = 0;                 // match_support minus the role and contradiction penalties, >= 0
  size_t window_l = 0, window_r = 0;  // content-token positions in the chunk, inclusive
  bool has_window = false;
  size_t span_begin = 0, span_end = 0;      // bytes in the chunk's text
  std::vector<std::string> missing;         // as written in the sentence
  std::vector<std::string> conflicts;       // chunk negations the sentence drops
  std::vector<std::string> contradictions;  // "sentence-word/chunk-word"
  std::vector<std::string> role_conflicts;  // sentence tokens out of their source clause
  bool short_evidence = false;              // the minimum-evidence gate failed
  bool Qualifies(double threshold) const;
};

Evidence MatchChunk(const Sentence& s, const ChunkIndex& chunk, std::string_view chunk_text, const Params& params);

double Quantise(double x);

}  // namespace verity::groundedness_support
