// A readable text syntax for metadata filters, for the CLI and the server:
//
//   lang = "en" and year >= 2020 and tags any ["a", "b"]
//
// ParseFilter() turns such text into a verity::Filter (filter.h, which defines
// what each operator means). Users' documentation: docs/filters.md, "Text
// syntax".
//
// Grammar (EBNF; keywords are case-insensitive, whitespace is space, tab, CR
// or LF and may appear between any two tokens):
//
//   filter     = or_expr ;
//   or_expr    = and_expr { "or" and_expr } ;
//   and_expr   = unary { "and" unary } ;
//   unary      = "not" unary | primary ;
//   primary    = "(" or_expr ")" | comparison ;
//   comparison = field ( ( "=" | "!=" | "<" | "<=" | ">" | ">=" ) value
//                      | "in" list | "not" "in" list | "any" list
//                      | "exists" ) ;
//   list       = "[" value { "," value } "]" ;
//   field      = identifier | string ;
//   identifier = [A-Za-z_] [A-Za-z0-9_.-]* ;   (not "and", "or" or "not")
//   value      = string | integer | decimal | "true" | "false"
//              | [ "+" | "-" ] ( "inf" | "nan" ) ;
//   integer    = [ "+" | "-" ] digit { digit } ;            -> int64
//   decimal    = integer [ "." digit { digit } ]
//                        [ ( "e" | "E" ) [ "+" | "-" ] digit { digit } ] ;
//                (with a fraction or an exponent)            -> double
//   string     = '"' { character | escape } '"' ;
//   escape     = '\"' | '\\' | '\n' | '\r' | '\t' | '\u' hex hex hex hex ;
//
// - Precedence, tightest first: comparison, "not", "and", "or".
//   `not a = 1 and b = 2 or c exists` is `((not a = 1) and b = 2) or c exists`.
// - A chain of one operator becomes one node: `a and b and c` is a kAnd with
//   three children. Parentheses delimit a chain: `(a and b) and c` is a kAnd
//   whose first child is the kAnd of a and b. Redundant parentheses around a
//   single expression add no node.
// - `in`, `not in` and `any` take 1 or more values (the engine's limit is
//   1024); `any` takes strings. Ranges (<, <=, >, >=) take numbers.
// - \uXXXX escapes are UTF-16 code units: a surrogate pair encodes one code
//   point, a lone surrogate is an error. Strings are produced as UTF-8; other
//   characters, control characters included, stand for themselves.
// - `inf` and `nan` exist so that the output of Filter::ToString() for every
//   double parses again; `nan` equals nothing.
//
// Round trip: for every filter f that passes Validate(),
// ParseFilter(f.ToString()) succeeds and gives back f, except that a
// kAnd/kOr with one child comes back as the child itself. ToString() escapes
// strings, quotes field names that are not identifiers (or are keywords) and
// prints doubles in their shortest exact form, always as doubles.
//
// Thread-safety: ParseFilter is a pure function; call it from any thread.

#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "verity/filter.h"
#include "verity/status.h"

namespace verity {

// The longest filter text ParseFilter accepts, in bytes.
inline constexpr size_t kMaxFilterTextBytes = 64 * 1024;

// How deeply parentheses and `not` may nest in filter text. Filter::Validate()
// allows the same depth in the tree.
inline constexpr int kMaxFilterNesting = 32;

// Parses `text` (UTF-8, see the grammar above) into a Filter that passes
// Filter::Validate().
//
// Errors, all InvalidArgument:
// - the text is longer than kMaxFilterTextBytes: "filter: text is 70000
//   bytes, longer than the limit of 65536 bytes";
// - the text is not valid UTF-8, breaks the grammar, nests deeper than
//   kMaxFilterNesting, or has a number that does not fit its type: a message
//   that names the place and what was expected, e.g.
//   "filter: column 9: expected a value after '>=', found end of input".
//   Columns are 1-based and count Unicode code points; when the text spans
//   several lines the message says "line L, column C";
// - the text parses but the filter does not pass Filter::Validate() (e.g.
//   `year < "x"`, or more than 1024 values in a list): Validate()'s status,
//   unchanged.
Result<Filter> ParseFilter(std::string_view text);

// The filter text of a request's field `field` (e.g. "filter",
// "queries[2].filter"): "" → no filter; else the parsed filter, or
// InvalidArgument naming `field` and what is wrong ("filter: column 9:
// expected a value ..."). A rule the parsed tree breaks is reported as
// "<field>: <rule>" (a path inside the tree means nothing in a text). The
// one parse of request filter text: the server's for Search, SearchBatch,
// Count and Scroll, the engine's for Retrieve and a Replay's logged filter;
// all of them then evaluate the same Filter.
Result<std::optional<Filter>> ParseFilterField(std::string_view text, const std::string& field);

}  // namespace verity
