// Metadata filters: a small expression tree over a record's metadata.
//
// Semantics (documented for users in docs/filters.md):
// - kEq / kNe compare a scalar field with one value. Numbers compare by value
//   across int64 and double; a string never equals a number. kNe is exactly
//   NOT kEq: a record without the field passes kNe.
// - kIn / kNotIn: kIn passes when the field equals any listed value; kNotIn
//   is NOT kIn.
// - kLt / kLe / kGt / kGe: numeric fields only; a missing or non-numeric
//   field fails.
// - kExists: the field is present (any type).
// - kAnyOf: a list-of-strings field containing any listed value, or a string
//   field equal to one of them.
// - kAnd / kOr / kNot combine children (kNot has exactly one child).
//
// Thread-safety: a Filter is an immutable value once built; Matches() may be
// called from any number of threads.
#pragma once

#include <string>
#include <vector>

#include "verity/status.h"
#include "verity/types.h"

namespace verity {

struct Filter {
  enum class Op { kEq, kNe, kIn, kNotIn, kLt, kLe, kGt, kGe, kExists, kAnyOf, kAnd, kOr, kNot };

  Op op = Op::kAnd;
  std::string field;                  // leaf ops
  std::vector<MetadataValue> values;  // kEq/kNe/kLt..kGe: one; kIn/kNotIn/kAnyOf: 1..1024
  std::vector<Filter> children;       // kAnd/kOr: 1..; kNot: 1

  // Leaf and combinator constructors, for readable call sites.
  static Filter Eq(std::string field, MetadataValue v);
  static Filter Ne(std::string field, MetadataValue v);
  static Filter In(std::string field, std::vector<MetadataValue> vs);
  static Filter NotIn(std::string field, std::vector<MetadataValue> vs);
  static Filter Lt(std::string field, MetadataValue v);
  static Filter Le(std::string field, MetadataValue v);
  static Filter Gt(std::string field, MetadataValue v);
  static Filter Ge(std::string field, MetadataValue v);
  static Filter Exists(std::string field);
  static Filter AnyOf(std::string field, std::vector<std::string> vs);
  static Filter And(std::vector<Filter> children);
  static Filter Or(std::vector<Filter> children);
  static Filter Not(Filter child);

  // Checks the tree's shape: arity of each op, non-empty field names, value
  // types (ranges need numbers, kAnyOf strings), nesting depth <= 32.
  // Returns InvalidArgument naming the offending node's path, e.g.
  // "filter.children[1].values: kLt needs one numeric value".
  Status Validate() const;

  // Precondition: Validate() returned OK.
  bool Matches(const Metadata& metadata) const;

  // The text syntax (filter_parser.h), e.g. `(lang = "en" and year >= 2020)`.
  // ParseFilter reads it back to the same filter when every string in it is
  // valid UTF-8 (the syntax has no escape for other bytes) and the text is
  // within the parser's kMaxFilterTextBytes; else the parser refuses it.
  std::string ToString() const;
};

// The fields a filter reads for a record (docs/filters.md, "Record fields"):
// its metadata plus the record fields `id` and `document_id`, as strings
// (`document_id` only when the record has one, so a record without one fails
// `document_id = "x"` and passes `not document_id exists`). A metadata key
// named "id" or "document_id" is shadowed by the record field: filters read
// the record's own id and document id, as retrieve and the log report them.
// Every read path (graph search, exact search, count, scroll, rows-only
// versions) evaluates filters on these fields.
Metadata FilterFields(Metadata metadata, const std::string& id, const std::string& document_id);

}  // namespace verity
