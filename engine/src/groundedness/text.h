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
  bool stop = false;
  bool negation = false;
  bool number = false;
};

// The tokens of text[begin, end), in order.
std::vector<Token> Tokenize(std::string_view text, size_t begin, size_t end);
// A negation ("no", "never", ...), by its normalised form.
bool IsNegation(std::string_view word);
// A word that often opens a sentence and is then capitalised without being
// a name ("However", "Finally", ...), by its normalised form.
bool IsOpener(std::string_view word);

}  // namespace verity::groundedness_text
