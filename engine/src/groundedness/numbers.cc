// The groundedness scorer's number normalisation (groundedness/text.h,
// NormaliseNumbers): one canonical token per number however it is written.
// Part of the scorer's rules: a change here that can change a result must
// bump kGroundednessScorerVersion and docs/groundedness.md.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "groundedness/text.h"

namespace verity::groundedness_text {
namespace {

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "12" or "3.5" (digits, at most one '.', digits on both sides).
bool IsDecimal(std::string_view s) {
  const size_t dot = s.find('.');
  if (dot == std::string_view::npos) return AllDigits(s);
  return AllDigits(s.substr(0, dot)) && AllDigits(s.substr(dot + 1));
}

// mantissa ("3.5") x 10^exp ("3500000000" for exp 9), without leading zeros.
std::string Scale(std::string_view mantissa, int exp) {
  std::string digits;
  size_t frac = 0;
  const size_t dot = mantissa.find('.');
  if (dot == std::string_view::npos) {
    digits = std::string(mantissa);
  } else {
    digits = std::string(mantissa.substr(0, dot)) + std::string(mantissa.substr(dot + 1));
    frac = mantissa.size() - dot - 1;
  }
  std::string out;
  if (static_cast<int>(frac) <= exp) {
    out = digits + std::string(static_cast<size_t>(exp) - frac, '0');
  } else {
    const size_t point = digits.size() - (frac - static_cast<size_t>(exp));
    out = digits.substr(0, point) + "." + digits.substr(point);
  }
  size_t z = 0;
  while (z + 1 < out.size() && out[z] == '0' && out[z + 1] != '.') ++z;
  return out.substr(z);
}

struct NumberWord {
  std::string_view word;
  int64_t value;
  enum Kind { kUnit, kTeen, kTens, kHundred, kScale } kind;
};
constexpr NumberWord kNumberWords[] = {
    {"zero", 0, NumberWord::kUnit},
    {"one", 1, NumberWord::kUnit},
    {"two", 2, NumberWord::kUnit},
    {"three", 3, NumberWord::kUnit},
    {"four", 4, NumberWord::kUnit},
    {"five", 5, NumberWord::kUnit},
    {"six", 6, NumberWord::kUnit},
    {"seven", 7, NumberWord::kUnit},
    {"eight", 8, NumberWord::kUnit},
    {"nine", 9, NumberWord::kUnit},
    {"ten", 10, NumberWord::kTeen},
    {"eleven", 11, NumberWord::kTeen},
    {"twelve", 12, NumberWord::kTeen},
    {"thirteen", 13, NumberWord::kTeen},
    {"fourteen", 14, NumberWord::kTeen},
    {"fifteen", 15, NumberWord::kTeen},
    {"sixteen", 16, NumberWord::kTeen},
    {"seventeen", 17, NumberWord::kTeen},
    {"eighteen", 18, NumberWord::kTeen},
    {"nineteen", 19, NumberWord::kTeen},
    {"twenty", 20, NumberWord::kTens},
    {"thirty", 30, NumberWord::kTens},
    {"forty", 40, NumberWord::kTens},
    {"fifty", 50, NumberWord::kTens},
    {"sixty", 60, NumberWord::kTens},
    {"seventy", 70, NumberWord::kTens},
    {"eighty", 80, NumberWord::kTens},
    {"ninety", 90, NumberWord::kTens},
    {"hundred", 100, NumberWord::kHundred},
    {"thousand", 1000, NumberWord::kScale},
    {"million", 1000000, NumberWord::kScale},
    {"billion", 1000000000, NumberWord::kScale},
};
// Ordinals in words (not "first" and "second": too often not a rank).
constexpr std::pair<std::string_view, std::string_view> kOrdinals[] = {
    {"third", "three"},         {"fourth", "four"},         {"fifth", "five"},
    {"sixth", "six"},           {"seventh", "seven"},       {"eighth", "eight"},
    {"ninth", "nine"},          {"tenth", "ten"},           {"eleventh", "eleven"},
    {"twelfth", "twelve"},      {"thirteenth", "thirteen"}, {"fourteenth", "fourteen"},
    {"fifteenth", "fifteen"},   {"sixteenth", "sixteen"},   {"seventeenth", "seventeen"},
    {"eighteenth", "eighteen"}, {"nineteenth", "nineteen"}, {"twentieth", "twenty"},
    {"thirtieth", "thirty"},    {"fortieth", "forty"},      {"fiftieth", "fifty"},
    {"sixtieth", "sixty"},      {"seventieth", "seventy"},  {"eightieth", "eighty"},
    {"ninetieth", "ninety"},    {"hundredth", "hundred"},   {"thousandth", "thousand"}};
// Scale suffixes and words after a number: "5m", "5 million", "3bn".
constexpr std::pair<std::string_view, int> kScales[] = {{"k", 3},  {"hundred", 2}, {"thousand", 3}, {"m", 6},
                                                        {"mn", 6}, {"million", 6}, {"bn", 9},       {"billion", 9}};
// Currency and unit words, and the unit token they become.
constexpr std::pair<std::string_view, std::string_view> kUnits[] = {
    {"pound", "gbp"},    {"pounds", "gbp"},    {"sterling", "gbp"},   {"gbp", "gbp"},      {"dollar", "usd"},
    {"dollars", "usd"},  {"usd", "usd"},       {"euro", "eur"},       {"euros", "eur"},    {"eur", "eur"},
    {"yen", "jpy"},      {"jpy", "jpy"},       {"km", "km"},          {"kilometre", "km"}, {"kilometres", "km"},
    {"kilometer", "km"}, {"kilometers", "km"}, {"kg", "kg"},          {"kilogram", "kg"},  {"kilograms", "kg"},
    {"kb", "kb"},        {"kilobyte", "kb"},   {"kilobytes", "kb"},   {"mb", "mb"},        {"megabyte", "mb"},
    {"megabytes", "mb"}, {"gb", "gb"},         {"gigabyte", "gb"},    {"gigabytes", "gb"}, {"tb", "tb"},
    {"terabyte", "tb"},  {"terabytes", "tb"},  {"hour", "hour"},      {"hours", "hour"},   {"hr", "hour"},
    {"hrs", "hour"},     {"minute", "minute"}, {"minutes", "minute"}, {"min", "minute"},   {"mins", "minute"}};

const NumberWord* FindNumberWord(std::string_view w) {
  for (const NumberWord& n : kNumberWords) {
    if (n.word == w) return &n;
  }
  return nullptr;
}
template <typename T, size_t N>
const T* FindPair(const T (&list)[N], std::string_view w) {
  for (const T& p : list) {
    if (p.first == w) return &p;
  }
  return nullptr;
}

// The merged token covers first..last; it is shown as the first token when
// that is written in digits ("3.7" of "3.7 billion dollars"), else as the
// whole phrase ("twenty-one").
Token NumberToken(const Token& first, const Token& last, std::string norm) {
  Token t = first;
  const bool digits = !first.norm.empty() && first.norm[0] >= '0' && first.norm[0] <= '9';
  t.norm = std::move(norm);
  t.end = last.end;
  if (!digits) t.show_end = last.show_end;
  t.stop = t.negation = false;
  t.number = true;
  return t;
}

std::string_view Between(std::string_view text, const Token& a, const Token& b) {
  return b.begin >= a.show_end ? text.substr(a.show_end, b.begin - a.show_end) : std::string_view();
}

// The words of a number phrase from tokens[i] ("twenty one", "two hundred
// and fifty", "three thousand"); returns how many tokens it takes (0: none)
// and its value.
size_t ParseNumberWords(const std::vector<Token>& tokens, size_t i, int64_t* value) {
  int64_t total = 0, current = 0;
  size_t taken = 0;
  int last = -1;  // NumberWord::Kind of the previous word
  for (size_t k = i; k < tokens.size(); ++k) {
    std::string_view w = tokens[k].norm;
    bool ordinal = false;
    if (const auto* o = FindPair(kOrdinals, w)) w = o->second, ordinal = true;
    if (last == NumberWord::kTens && (w == "first" || w == "second")) w = w == "first" ? "one" : "two";
    if (w == "and" && (last == NumberWord::kHundred || last == NumberWord::kScale) && k + 1 < tokens.size() &&
        FindNumberWord(tokens[k + 1].norm) != nullptr) {
      continue;
    }
    const NumberWord* n = FindNumberWord(w);
    if (n == nullptr) break;
    const bool fits = last < 0 || (n->kind == NumberWord::kUnit && (last == NumberWord::kTens || last >= 3)) ||
                      ((n->kind == NumberWord::kTeen || n->kind == NumberWord::kTens) && last >= 3) ||
                      (n->kind == NumberWord::kHundred && last <= NumberWord::kTens) ||
                      (n->kind == NumberWord::kScale && last != NumberWord::kScale);
    if (!fits) break;
    if (n->kind == NumberWord::kHundred) {
      current = std::max<int64_t>(current, 1) * 100;
    } else if (n->kind == NumberWord::kScale) {
      total += std::max<int64_t>(current, 1) * n->value;
      current = 0;
    } else {
      current += n->value;
    }
    last = n->kind;
    taken = k - i + 1;
    if (ordinal) break;
  }
  *value = total + current;
  return taken;
}

// A number written with digits: "18", "3.5", "5m", "6th", "12%" -> its
// canonical form and whether a unit token follows from its suffix.
bool DigitNumber(std::string_view norm, std::string* canonical, std::string* unit) {
  size_t d = 0;
  while (d < norm.size() && ((norm[d] >= '0' && norm[d] <= '9') || norm[d] == '.')) ++d;
  std::string_view mantissa = norm.substr(0, d), suffix = norm.substr(d);
  if (!IsDecimal(mantissa)) return false;
  if (suffix.empty() || suffix == "%") {
    *canonical = Scale(mantissa, 0) + std::string(suffix);
    return true;
  }
  if (suffix == "st" || suffix == "nd" || suffix == "rd" || suffix == "th") {
    *canonical = Scale(mantissa, 0);
    return true;
  }
  if (const auto* s = FindPair(kScales, suffix)) {
    *canonical = Scale(mantissa, s->second);
    return true;
  }
  if (const auto* u = FindPair(kUnits, suffix)) {
    *canonical = Scale(mantissa, 0);
    *unit = std::string(u->second);
    return true;
  }
  return false;
}

std::string_view CurrencyBefore(std::string_view text, size_t begin) {
  std::string_view head = text.substr(0, begin);
  if (head.ends_with("$")) return "usd";
  if (head.ends_with("\u00A3")) return "gbp";
  if (head.ends_with("\u20AC")) return "eur";
  if (head.ends_with("\u00A5")) return "jpy";
  return {};
}

}  // namespace

void NormaliseNumbers(std::string_view text, std::vector<Token>& tokens) {
  std::vector<Token> out;
  out.reserve(tokens.size());
  for (size_t i = 0; i < tokens.size();) {
    std::string canonical, unit;
    size_t last = i;
    int64_t value = 0;
    if (const size_t n = ParseNumberWords(tokens, i, &value); n > 0) {
      canonical = std::to_string(value);
      last = i + n - 1;
    } else if (DigitNumber(tokens[i].norm, &canonical, &unit)) {
      // "3, 800" -> 3800 and "1. 3" -> 1.3 (a separator followed by a space).
      while (last + 1 < tokens.size() && AllDigits(canonical) && canonical.size() <= 3) {
        const Token& next = tokens[last + 1];
        std::string_view gap = Between(text, tokens[last], next);
        if (gap == ", " && next.norm.size() == 3 && AllDigits(next.norm)) {
          canonical += next.norm;
        } else if (gap == ". " && AllDigits(next.norm) && last == i) {
          canonical += "." + next.norm;
          ++last;
          break;
        } else {
          break;
        }
        ++last;
      }
    } else {
      out.push_back(std::move(tokens[i]));
      ++i;
      continue;
    }
    // A scale word, then "percent" / "per cent", then a unit word.
    if (unit.empty() && last + 1 < tokens.size() && canonical.find('%') == std::string::npos) {
      if (const auto* s = FindPair(kScales, tokens[last + 1].norm); s && s->first.size() > 2) {
        canonical = Scale(canonical, s->second);
        ++last;
      }
    }
    if (last + 1 < tokens.size() && tokens[last + 1].norm == "percent") {
      canonical += "%", ++last;
    } else if (last + 2 < tokens.size() && tokens[last + 1].norm == "per" && tokens[last + 2].norm == "cent") {
      canonical += "%", last += 2;
    }
    if (unit.empty()) unit = std::string(CurrencyBefore(text, tokens[i].begin));
    if (unit.empty() && last + 1 < tokens.size()) {
      if (const auto* u = FindPair(kUnits, tokens[last + 1].norm)) unit = std::string(u->second), ++last;
    }
    Token number = NumberToken(tokens[i], tokens[last], canonical);
    Token unit_token = number;
    out.push_back(std::move(number));
    if (!unit.empty()) {
      unit_token.norm = unit;
      unit_token.number = false;
      unit_token.capital = false;
      out.push_back(std::move(unit_token));
    }
    i = last + 1;
  }
  // Unit words without a number ("in pounds") become the unit token too.
  for (Token& t : out) {
    if (t.number) continue;
    if (const auto* u = FindPair(kUnits, t.norm)) t.norm = std::string(u->second);
  }
  tokens = std::move(out);
}

}  // namespace verity::groundedness_text
