// The groundedness scorer's text layer (internal to groundedness/): the
// tokens a sentence is scored by, and the word lists the scorer consults.
// SplitSentences is public (verity/groundedness.h). Pure functions;
// thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace verity::groundedness_text {

struct Token {
  std::string norm;  // normalised form
  size_t begin = 0;  // bytes this token covers in its text (for spans)
  size_t end = 0;
  size_t show_begin = 0;  // bytes shown when the token is reported
  size_t show_end = 0;
  bool capital = false;  // written with an ASCII capital first
  // Capitalised where a sentence cannot start: the previous non-space
  // character is not . ! ? : or a line break, nor the start of the text.
  bool mid_capital = false;
  bool stop = false;
  bool negation = false;
  bool number = false;
};

// The tokens of text[begin, end), in order, numbers normalised.
std::vector<Token> Tokenize(std::string_view text, size_t begin, size_t end);
// Rewrites number tokens to one canonical form (numbers.cc): "3, 800" and
// "3,800" -> "3800", "1. 3" -> "1.3", "6th" -> "6", "twenty-one" -> "21",
// "18 thousand" / "18k" -> "18000", "5m" / "5 million" -> "5000000",
// "12 percent" -> "12%"; a currency symbol or word, or a unit word, becomes
// a unit token after the number ("£40" and "40 pounds" -> "40", "gbp").
void NormaliseNumbers(std::string_view text, std::vector<Token>& tokens);
// A negation ("no", "never", ...), by its normalised form.
bool IsNegation(std::string_view word);
// A word that often opens a sentence and is then capitalised without being
// a name ("However", "Finally", ...), by its normalised form.
bool IsOpener(std::string_view word);

}  // namespace verity::groundedness_text
