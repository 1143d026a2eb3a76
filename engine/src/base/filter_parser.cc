// Over 600 lines on purpose (#24): the lexer is methods of the one Parser class
// (one token of lookahead, its position and error quoting), so it does not split.
#include "verity/filter_parser.h"

#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace verity {
namespace {

// Longest piece of the input quoted in an error message.
constexpr size_t kMaxQuotedBytes = 40;

enum class TokenKind {
  kEnd,
  kWord,    // identifier or keyword: [A-Za-z_][A-Za-z0-9_.-]*
  kString,  // "...", decoded into Token::text
  kNumber,  // integer, decimal, [+-]inf, [+-]nan; converted into Token::number
  kOp,      // = != < <= > >=
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kComma,
  kInvalid,  // anything else, e.g. '#', '!', '1x' or '-foo'
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  size_t begin = 0;  // byte offsets of the token's source text
  size_t end = 0;
  std::string text;      // kString only
  MetadataValue number;  // kNumber only
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsIdentStart(char c) { return IsAlpha(c) || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c) || c == '.' || c == '-'; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

int HexDigit(char c) {
  if (IsDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The character that \<e> stands for, for the escapes other than \u; -1 if
// there is none.
int SimpleEscape(char e) {
  switch (e) {
    case '"':
      return '"';
    case '\\':
      return '\\';
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    default:
      return -1;
  }
}

// The op for a kOp token's text.
Filter::Op ComparisonOp(std::string_view symbol) {
  if (symbol == "!=") return Filter::Op::kNe;
  if (symbol == "<") return Filter::Op::kLt;
  if (symbol == "<=") return Filter::Op::kLe;
  if (symbol == ">") return Filter::Op::kGt;
  if (symbol == ">=") return Filter::Op::kGe;
  return Filter::Op::kEq;
}

// Two upper-case hex digits, for bytes that cannot be shown as they are.
std::string HexByte(unsigned char b) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  return std::string{kHex[b >> 4], kHex[b & 0xF]};
}

// `word` equals the lower-case keyword `keyword`, ignoring ASCII case.
bool EqualsKeyword(std::string_view word, std::string_view keyword) {
  if (word.size() != keyword.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    char c = word[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != keyword[i]) return false;
  }
  return true;
}

// Length of the well-formed UTF-8 sequence at s[i], or 0 if there is none
// (bad lead or continuation byte, overlong form, surrogate, > U+10FFFF).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  size_t len;
  uint32_t cp;
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t j = 1; j < len; ++j) {
    const auto cc = static_cast<unsigned char>(s[i + j]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return 0;
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// A recursive-descent parser over a lexer that produces one token of
// lookahead on demand, so the first error in the text is the one reported.
// The text must be valid UTF-8 (ParseFilter checks it first).
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<Filter> Parse() {
    VERITY_RETURN_IF_ERROR(Advance());
    VERITY_ASSIGN_OR_RETURN(Filter filter, ParseOr());
    if (tok_.kind != TokenKind::kEnd) return Expected("'and', 'or' or end of input");
    return filter;
  }

  // "column 7", or "line 2, column 3" when the text has several lines.
  std::string Where(size_t offset) const {
    size_t line = 1;
    size_t column = 1;
    for (size_t i = 0; i < offset && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) {
        ++column;  // count code points, not continuation bytes
      }
    }
    if (text_.find('\n') == std::string_view::npos) return "column " + std::to_string(column);
    return "line " + std::to_string(line) + ", column " + std::to_string(column);
  }

  Status Error(size_t offset, const std::string& what) const {
    return Status::InvalidArgument(Where(offset) + ": " + what).WithField("filter");
  }

 private:
  // ---- Lexer ----

  // Reads the next token into tok_, remembering the current one in prev_*.
  // Fails only on a malformed string or a number out of its type's range;
  // anything else unexpected becomes a kInvalid token for the parser to
  // report in context.
  Status Advance() {
    prev_kind_ = tok_.kind;
    prev_begin_ = tok_.begin;
    prev_end_ = tok_.end;
    has_prev_ = started_;
    started_ = true;
    while (pos_ < text_.size() && IsSpace(text_[pos_])) ++pos_;
    tok_ = Token();
    tok_.begin = pos_;
    if (pos_ == text_.size()) {
      tok_.kind = TokenKind::kEnd;
      tok_.end = pos_;
      return Status::Ok();
    }
    const char c = text_[pos_];
    const char next = pos_ + 1 < text_.size() ? text_[pos_ + 1] : '\0';
    switch (c) {
      case '(':
        return Single(TokenKind::kLParen, 1);
      case ')':
        return Single(TokenKind::kRParen, 1);
      case '[':
        return Single(TokenKind::kLBracket, 1);
      case ']':
        return Single(TokenKind::kRBracket, 1);
      case ',':
        return Single(TokenKind::kComma, 1);
      case '=':
        return Single(TokenKind::kOp, 1);
      case '!':
        return next == '=' ? Single(TokenKind::kOp, 2) : Single(TokenKind::kInvalid, 1);
      case '<':
      case '>':
        return Single(TokenKind::kOp, next == '=' ? 2 : 1);
      case '"':
        return LexString();
      default:
        break;
    }
    if (IsDigit(c) || c == '+' || c == '-') return LexNumber();
    if (IsIdentStart(c)) {
      size_t end = pos_ + 1;
      while (end < text_.size() && IsIdentChar(text_[end])) ++end;
      return Single(TokenKind::kWord, end - pos_);
    }
    return Single(TokenKind::kInvalid, Utf8SequenceLength(text_, pos_));
  }

  Status Single(TokenKind kind, size_t length) {
    tok_.kind = kind;
    pos_ += length;
    tok_.end = pos_;
    return Status::Ok();
  }

  // Marks the text from pos_ to the end of the run of characters that could
  // belong to a number as one kInvalid token, e.g. "1.2.3" or "12abc".
  Status InvalidNumber() {
    size_t end = pos_ + 1;
    while (end < text_.size()) {
      const char c = text_[end];
      const bool sign_after_exponent = (c == '+' || c == '-') && (text_[end - 1] == 'e' || text_[end - 1] == 'E');
      if (!IsIdentChar(c) && !sign_after_exponent) break;
      ++end;
    }
    return Single(TokenKind::kInvalid, end - pos_);
  }

  Status LexNumber() {
    const size_t start = pos_;
    size_t i = pos_;
    if (text_[i] == '+' || text_[i] == '-') ++i;
    if (i < text_.size() && IsAlpha(text_[i])) {  // [+-]inf, [+-]nan
      size_t end = i;
      while (end < text_.size() && IsIdentChar(text_[end])) ++end;
      const std::string_view word = text_.substr(i, end - i);
      const bool negative = text_[start] == '-';
      if (EqualsKeyword(word, "inf")) {
        tok_.number = negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
      } else if (EqualsKeyword(word, "nan")) {
        tok_.number = std::numeric_limits<double>::quiet_NaN();
      } else {
        return Single(TokenKind::kInvalid, end - start);
      }
      return Single(TokenKind::kNumber, end - start);
    }
    const size_t digits = i;
    while (i < text_.size() && IsDigit(text_[i])) ++i;
    if (i == digits) return InvalidNumber();  // a sign alone
    bool integral = true;
    if (i < text_.size() && text_[i] == '.') {
      ++i;
      if (i == text_.size() || !IsDigit(text_[i])) return InvalidNumber();
      while (i < text_.size() && IsDigit(text_[i])) ++i;
      integral = false;
    }
    if (i < text_.size() && (text_[i] == 'e' || text_[i] == 'E')) {
      ++i;
      if (i < text_.size() && (text_[i] == '+' || text_[i] == '-')) ++i;
      if (i == text_.size() || !IsDigit(text_[i])) return InvalidNumber();
      while (i < text_.size() && IsDigit(text_[i])) ++i;
      integral = false;
    }
    if (i < text_.size() && IsIdentChar(text_[i])) return InvalidNumber();

    const std::string_view source = text_.substr(start, i - start);
    // from_chars takes a '-' but not a '+'.
    const std::string_view digits_text = source[0] == '+' ? source.substr(1) : source;
    const char* first = digits_text.data();
    const char* last = first + digits_text.size();
    if (integral) {
      int64_t value = 0;
      const auto [ptr, ec] = std::from_chars(first, last, value);
      if (ec == std::errc::result_out_of_range) {
        return Error(start, "integer " + Quote(start, i, false) +
                                " is out of the int64 range [-9223372036854775808, 9223372036854775807]");
      }
      if (ec != std::errc() || ptr != last) return Error(start, "expected an integer, found " + Quote(start, i));
      tok_.number = value;
    } else {
      double value = 0;
      const auto [ptr, ec] = std::from_chars(first, last, value);
      if (ec == std::errc::result_out_of_range) {
        return Error(start, "number " + Quote(start, i, false) + " is out of the range of a double");
      }
      if (ec != std::errc() || ptr != last) return Error(start, "expected a number, found " + Quote(start, i));
      tok_.number = value;
    }
    return Single(TokenKind::kNumber, i - start);
  }

  Status LexString() {
    const size_t start = pos_;
    std::string out;
    size_t i = pos_ + 1;
    while (true) {
      if (i >= text_.size()) {
        return Error(start, "expected a closing '\"' for the string that starts here, found end of input");
      }
      const char c = text_[i];
      if (c == '"') {
        ++i;
        break;
      }
      if (c != '\\') {
        out.push_back(c);
        ++i;
        continue;
      }
      if (i + 1 >= text_.size()) {
        return Error(start, "expected a closing '\"' for the string that starts here, found end of input");
      }
      const char e = text_[i + 1];
      if (e != 'u') {
        const int unescaped = SimpleEscape(e);
        if (unescaped < 0) {
          return Error(i, "expected an escape \\\" \\\\ \\n \\r \\t or \\uXXXX, found " +
                              Quote(i, i + 1 + Utf8SequenceLength(text_, i + 1)));
        }
        out.push_back(static_cast<char>(unescaped));
        i += 2;
        continue;
      }
      // \uXXXX, possibly the first half of a surrogate pair.
      const int unit = ReadHex4(i + 2);
      if (unit < 0) return Error(i, "expected 4 hex digits after '\\u', found " + QuoteEscape(i));
      uint32_t cp = static_cast<uint32_t>(unit);
      if (cp >= 0xDC00 && cp <= 0xDFFF) {
        return Error(i, "expected a code point or a surrogate pair, found the lone low surrogate " + Quote(i, i + 6));
      }
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        const size_t low_at = i + 6;
        const int low =
            low_at + 1 < text_.size() && text_[low_at] == '\\' && text_[low_at + 1] == 'u' ? ReadHex4(low_at + 2) : -1;
        if (low < 0xDC00 || low > 0xDFFF) {
          return Error(i, "expected a low surrogate \\uDC00-\\uDFFF after the high surrogate " + Quote(i, i + 6) +
                              ", found " + QuoteEscape(low_at));
        }
        cp = 0x10000 + ((cp - 0xD800) << 10) + (static_cast<uint32_t>(low) - 0xDC00);
        i += 6;
      }
      AppendUtf8(cp, &out);
      i += 6;
    }
    tok_.kind = TokenKind::kString;
    tok_.text = std::move(out);
    pos_ = i;
    tok_.end = pos_;
    return Status::Ok();
  }

  // The value of 4 hex digits at text_[at], or -1.
  int ReadHex4(size_t at) const {
    if (at + 4 > text_.size()) return -1;
    int value = 0;
    for (size_t j = at; j < at + 4; ++j) {
      const int d = HexDigit(text_[j]);
      if (d < 0) return -1;
      value = value * 16 + d;
    }
    return value;
  }

  // Quotes what stands where a \uXXXX escape should be: up to 6 bytes,
  // stopping before a quote, whitespace or a non-ASCII byte, but at least one
  // character.
  std::string QuoteEscape(size_t at) const {
    size_t end = at;
    while (end < text_.size() && end < at + 6 && text_[end] != '"' && !IsSpace(text_[end]) &&
           static_cast<unsigned char>(text_[end]) < 0x80) {
      ++end;
    }
    if (end == at && at < text_.size()) end = at + Utf8SequenceLength(text_, at);
    return Quote(at, end);
  }

  // ---- Error messages ----

  // The source text [begin, end) for a message: in single quotes unless told
  // otherwise (string literals have their own), shortened if long; a lone
  // control character as U+XXXX.
  std::string Quote(size_t begin, size_t end, bool single_quotes = true) const {
    if (begin >= end) return "end of input";
    if (end - begin == 1 && (static_cast<unsigned char>(text_[begin]) < 0x20 || text_[begin] == 0x7F)) {
      return "character U+00" + HexByte(static_cast<unsigned char>(text_[begin]));
    }
    std::string s(text_.substr(begin, end - begin));
    if (s.size() > kMaxQuotedBytes) {
      size_t cut = kMaxQuotedBytes;
      while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
      s = s.substr(0, cut) + "...";
    }
    return single_quotes ? "'" + s + "'" : s;
  }

  std::string Describe(TokenKind kind, size_t begin, size_t end) const {
    if (kind == TokenKind::kEnd) return "end of input";
    return Quote(begin, end, kind != TokenKind::kString);
  }

  // "column 9: expected <what> after '>=', found end of input", located at the
  // current token. `detail` follows the "after ..." part, `hint` the "found
  // ..." part.
  Status Expected(const std::string& what, const std::string& detail = "", const std::string& hint = "") const {
    std::string message = "expected " + what;
    if (has_prev_) message += " after " + Describe(prev_kind_, prev_begin_, prev_end_);
    message += detail + ", found " + Describe(tok_.kind, tok_.begin, tok_.end) + hint;
    return Error(tok_.begin, message);
  }

  // ---- Parser ----

  bool IsKeyword(std::string_view keyword) const {
    return tok_.kind == TokenKind::kWord && EqualsKeyword(Source(tok_), keyword);
  }

  std::string_view Source(const Token& t) const { return text_.substr(t.begin, t.end - t.begin); }

  Status NestingError() const {
    return Error(tok_.begin, "expected at most " + std::to_string(kMaxFilterNesting) +
                                 " levels of nested parentheses and 'not', found more");
  }

  // or_expr = and_expr { "or" and_expr }
  Result<Filter> ParseOr() {
    std::vector<Filter> children;
    VERITY_ASSIGN_OR_RETURN(Filter first, ParseAnd());
    children.push_back(std::move(first));
    while (IsKeyword("or")) {
      VERITY_RETURN_IF_ERROR(Advance());
      VERITY_ASSIGN_OR_RETURN(Filter next, ParseAnd());
      children.push_back(std::move(next));
    }
    if (children.size() == 1) return std::move(children[0]);
    return Filter::Or(std::move(children));
  }

  // and_expr = unary { "and" unary }
  Result<Filter> ParseAnd() {
    std::vector<Filter> children;
    VERITY_ASSIGN_OR_RETURN(Filter first, ParseUnary());
    children.push_back(std::move(first));
    while (IsKeyword("and")) {
      VERITY_RETURN_IF_ERROR(Advance());
      VERITY_ASSIGN_OR_RETURN(Filter next, ParseUnary());
      children.push_back(std::move(next));
    }
    if (children.size() == 1) return std::move(children[0]);
    return Filter::And(std::move(children));
  }

  // unary = "not" unary | primary
  Result<Filter> ParseUnary() {
    if (!IsKeyword("not")) return ParsePrimary();
    if (depth_ >= kMaxFilterNesting) return NestingError();
    ++depth_;
    VERITY_RETURN_IF_ERROR(Advance());
    VERITY_ASSIGN_OR_RETURN(Filter child, ParseUnary());
    --depth_;
    return Filter::Not(std::move(child));
  }

  // primary = "(" or_expr ")" | comparison
  Result<Filter> ParsePrimary() {
    if (tok_.kind == TokenKind::kLParen) {
      if (depth_ >= kMaxFilterNesting) return NestingError();
      ++depth_;
      const size_t open = tok_.begin;
      VERITY_RETURN_IF_ERROR(Advance());
      VERITY_ASSIGN_OR_RETURN(Filter inner, ParseOr());
      if (tok_.kind != TokenKind::kRParen) {
        return Expected("'and', 'or' or ')'", " to close the '(' at " + Where(open));
      }
      --depth_;
      VERITY_RETURN_IF_ERROR(Advance());
      return inner;
    }
    if (IsKeyword("and") || IsKeyword("or")) {
      const std::string word(Source(tok_));
      return Expected("a field name, '(' or 'not'", "",
                      " (a field named '" + word + "' must be quoted: \"" + word + "\")");
    }
    if (tok_.kind == TokenKind::kWord || tok_.kind == TokenKind::kString) return ParseComparison();
    return Expected("a field name, '(' or 'not'");
  }

  // comparison = field ( op value | "in" list | "not" "in" list | "any" list | "exists" )
  Result<Filter> ParseComparison() {
    std::string field = tok_.kind == TokenKind::kString ? std::move(tok_.text) : std::string(Source(tok_));
    VERITY_RETURN_IF_ERROR(Advance());
    if (tok_.kind == TokenKind::kOp) {
      const Filter::Op kind = ComparisonOp(Source(tok_));
      VERITY_RETURN_IF_ERROR(Advance());
      VERITY_ASSIGN_OR_RETURN(MetadataValue value, ParseValue());
      return Filter{kind, std::move(field), {std::move(value)}, {}};
    }
    Filter::Op kind = Filter::Op::kIn;
    if (IsKeyword("exists")) {
      VERITY_RETURN_IF_ERROR(Advance());
      return Filter::Exists(std::move(field));
    } else if (IsKeyword("in")) {
      kind = Filter::Op::kIn;
    } else if (IsKeyword("any")) {
      kind = Filter::Op::kAnyOf;
    } else if (IsKeyword("not")) {
      kind = Filter::Op::kNotIn;
      VERITY_RETURN_IF_ERROR(Advance());
      if (!IsKeyword("in")) return Expected("'in'");
    } else {
      return Expected("an operator (=, !=, <, <=, >, >=, in, not in, any or exists)");
    }
    VERITY_RETURN_IF_ERROR(Advance());
    VERITY_ASSIGN_OR_RETURN(std::vector<MetadataValue> values, ParseList());
    return Filter{kind, std::move(field), std::move(values), {}};
  }

  // list = "[" value { "," value } "]"
  Result<std::vector<MetadataValue>> ParseList() {
    if (tok_.kind != TokenKind::kLBracket) return Expected("'['");
    VERITY_RETURN_IF_ERROR(Advance());
    std::vector<MetadataValue> values;
    while (true) {
      VERITY_ASSIGN_OR_RETURN(MetadataValue value, ParseValue());
      values.push_back(std::move(value));
      if (tok_.kind == TokenKind::kRBracket) break;
      if (tok_.kind != TokenKind::kComma) return Expected("',' or ']'");
      VERITY_RETURN_IF_ERROR(Advance());
    }
    VERITY_RETURN_IF_ERROR(Advance());
    return values;
  }

  // value = string | integer | decimal | "true" | "false" | [+-]inf | [+-]nan
  Result<MetadataValue> ParseValue() {
    MetadataValue value;
    if (tok_.kind == TokenKind::kString) {
      value = std::move(tok_.text);
    } else if (tok_.kind == TokenKind::kNumber) {
      value = std::move(tok_.number);
    } else if (IsKeyword("true") || IsKeyword("false")) {
      value = IsKeyword("true");
    } else if (IsKeyword("inf")) {
      value = std::numeric_limits<double>::infinity();
    } else if (IsKeyword("nan")) {
      value = std::numeric_limits<double>::quiet_NaN();
    } else if (tok_.kind == TokenKind::kWord) {
      return Expected("a value", "", " (strings are double-quoted: \"" + std::string(Source(tok_)) + "\")");
    } else {
      return Expected("a value");
    }
    VERITY_RETURN_IF_ERROR(Advance());
    return value;
  }

  std::string_view text_;
  size_t pos_ = 0;  // where the lexer resumes
  Token tok_;       // the current (lookahead) token
  // The token before tok_, for "after ..." in messages.
  bool started_ = false;  // tok_ holds a token read from the text
  bool has_prev_ = false;
  TokenKind prev_kind_ = TokenKind::kEnd;
  size_t prev_begin_ = 0;
  size_t prev_end_ = 0;
  int depth_ = 0;  // open parentheses and 'not's
};

}  // namespace

Result<Filter> ParseFilter(std::string_view text) {
  if (text.size() > kMaxFilterTextBytes) {
    return Status::InvalidArgument("text is " + std::to_string(text.size()) + " bytes, longer than the limit of " +
                                   std::to_string(kMaxFilterTextBytes) + " bytes")
        .WithField("filter");
  }
  Parser parser(text);
  for (size_t i = 0; i < text.size();) {
    const size_t len = Utf8SequenceLength(text, i);
    if (len == 0) {
      return parser.Error(i, "expected UTF-8 text, found the byte 0x" + HexByte(static_cast<unsigned char>(text[i])));
    }
    i += len;
  }
  VERITY_ASSIGN_OR_RETURN(Filter filter, parser.Parse());
  VERITY_RETURN_IF_ERROR(filter.Validate());
  return filter;
}

Result<std::optional<Filter>> ParseFilterField(std::string_view text, const std::string& field) {
  if (text.empty()) return std::optional<Filter>();
  auto parsed = ParseFilter(text);
  if (!parsed.ok()) {
    // ParseFilter names the expression "filter"; name the request field.
    // A rule the parsed tree breaks is named by its path in the tree
    // ("filter.values: ..."), which means nothing in a text: keep the rule.
    const Status& status = parsed.status();
    return Status(status.code(), std::string(status.detail())).WithReason(status.reason()).WithField(field);
  }
  return std::optional<Filter>(std::move(parsed).value());
}

}  // namespace verity
