#include "verity/filter.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>

namespace verity {
namespace {

constexpr int kMaxDepth = 32;
constexpr size_t kMaxValues = 1024;

bool IsNumber(const MetadataValue& v) {
  return std::holds_alternative<int64_t>(v) || std::holds_alternative<double>(v);
}

double AsDouble(const MetadataValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  return std::get<double>(v);
}

// Scalar equality; numbers compare by value across int64 and double.
bool ScalarEquals(const MetadataValue& a, const MetadataValue& b) {
  if (IsNumber(a) && IsNumber(b)) {
    if (std::holds_alternative<int64_t>(a) && std::holds_alternative<int64_t>(b)) {
      return std::get<int64_t>(a) == std::get<int64_t>(b);
    }
    return AsDouble(a) == AsDouble(b);
  }
  if (a.index() != b.index()) return false;
  if (std::holds_alternative<std::vector<std::string>>(a)) return false;  // lists are not scalars
  return a == b;
}

const char* OpName(Filter::Op op) {
  switch (op) {
    case Filter::Op::kEq: return "=";
    case Filter::Op::kNe: return "!=";
    case Filter::Op::kIn: return "in";
    case Filter::Op::kNotIn: return "not in";
    case Filter::Op::kLt: return "<";
    case Filter::Op::kLe: return "<=";
    case Filter::Op::kGt: return ">";
    case Filter::Op::kGe: return ">=";
    case Filter::Op::kExists: return "exists";
    case Filter::Op::kAnyOf: return "any";
    case Filter::Op::kAnd: return "and";
    case Filter::Op::kOr: return "or";
    case Filter::Op::kNot: return "not";
  }
  return "?";
}

// A string as the text syntax reads it back: double-quoted, with `"`, `\`
// and control characters escaped; other bytes (UTF-8) as they are.
void RenderString(const std::string& s, std::ostringstream& out) {
  out << '"';
  for (const char c : s) {
    switch (c) {
      case '"': out << "\\\""; break;
      case '\\': out << "\\\\"; break;
      case '\n': out << "\\n"; break;
      case '\r': out << "\\r"; break;
      case '\t': out << "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof(buffer), "\\u%04x", static_cast<unsigned>(c));
          out << buffer;
        } else {
          out << c;
        }
    }
  }
  out << '"';
}

// A field name: bare when the syntax reads it as an identifier, else quoted.
void RenderField(const std::string& field, std::ostringstream& out) {
  static const char* const kKeywords[] = {"and", "or", "not", "in", "any", "exists", "true", "false", "inf", "nan"};
  // The parser's identifier rule, in ASCII whatever the locale.
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  auto ident = [&](char c) { return alpha(c) || (c >= '0' && c <= '9') || c == '.' || c == '-'; };
  bool bare = !field.empty() && alpha(field[0]);
  for (const char c : field) {
    if (!ident(c)) bare = false;
  }
  for (const char* keyword : kKeywords) {
    if (!bare) break;
    if (field.size() == std::strlen(keyword) && std::equal(field.begin(), field.end(), keyword, [](char a, char b) {
          return (a >= 'A' && a <= 'Z' ? static_cast<char>(a - 'A' + 'a') : a) == b;
        })) {
      bare = false;
    }
  }
  if (bare) out << field;
  else RenderString(field, out);
}

// A double that reads back as the same double (shortest round-trip form),
// always with a '.' or an exponent so that it stays a double.
void RenderDouble(double x, std::ostringstream& out) {
  if (std::isnan(x)) {
    out << "nan";
    return;
  }
  if (std::isinf(x)) {
    out << (x < 0 ? "-inf" : "inf");
    return;
  }
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), x);
  std::string text(buffer, ec == std::errc() ? end : buffer);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  out << text;
}

void RenderValue(const MetadataValue& v, std::ostringstream& out) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) RenderString(x, out);
        else if constexpr (std::is_same_v<T, bool>) out << (x ? "true" : "false");
        else if constexpr (std::is_same_v<T, double>) RenderDouble(x, out);
        else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          out << '[';
          for (size_t i = 0; i < x.size(); ++i) {
            if (i) out << ", ";
            RenderString(x[i], out);
          }
          out << ']';
        } else out << x;
      },
      v);
}

// A rule node `field` breaks: "<field>: <detail>", naming the node's path.
Status Bad(const std::string& field, std::string detail) {
  return Status::InvalidArgument(std::move(detail)).WithField(field);
}

Status ValidateNode(const Filter& f, const std::string& path, int depth) {
  if (depth > kMaxDepth) return Bad(path, "filter nested deeper than 32 levels");
  const std::string op = std::string("'") + OpName(f.op) + "'";
  switch (f.op) {
    case Filter::Op::kAnd:
    case Filter::Op::kOr:
    case Filter::Op::kNot: {
      if (f.op == Filter::Op::kNot && f.children.size() != 1) {
        return Bad(path + ".children", "'not' needs exactly 1 child, got " + std::to_string(f.children.size()));
      }
      if (f.children.empty()) return Bad(path + ".children", op + " needs at least 1 child");
      for (size_t i = 0; i < f.children.size(); ++i) {
        VERITY_RETURN_IF_ERROR(ValidateNode(f.children[i], path + ".children[" + std::to_string(i) + "]", depth + 1));
      }
      return Status::Ok();
    }
    default:
      break;
  }
  if (f.field.empty()) return Bad(path + ".field", op + " needs a field name");
  if (f.field.size() > Limits::kMaxMetadataKeyBytes) {
    return Bad(path + ".field", "longer than 256 bytes");
  }
  switch (f.op) {
    case Filter::Op::kExists:
      if (!f.values.empty()) return Bad(path + ".values", "'exists' takes no values");
      return Status::Ok();
    case Filter::Op::kEq:
    case Filter::Op::kNe:
      if (f.values.size() != 1) return Bad(path + ".values", op + " needs exactly 1 value");
      if (std::holds_alternative<std::vector<std::string>>(f.values[0])) {
        return Bad(path + ".values", op + " compares scalars; use 'any' for lists");
      }
      break;
    case Filter::Op::kLt:
    case Filter::Op::kLe:
    case Filter::Op::kGt:
    case Filter::Op::kGe:
      if (f.values.size() != 1 || !IsNumber(f.values[0])) {
        return Bad(path + ".values", op + " needs exactly 1 numeric value");
      }
      if (std::holds_alternative<double>(f.values[0]) && std::isnan(std::get<double>(f.values[0]))) {
        return Bad(path + ".values", op + " value is NaN");
      }
      break;
    case Filter::Op::kIn:
    case Filter::Op::kNotIn:
    case Filter::Op::kAnyOf:
      if (f.values.empty() || f.values.size() > kMaxValues) {
        return Bad(path + ".values", op + " needs 1..1024 values, got " + std::to_string(f.values.size()));
      }
      for (size_t i = 0; i < f.values.size(); ++i) {
        const bool is_list = std::holds_alternative<std::vector<std::string>>(f.values[i]);
        const bool is_string = std::holds_alternative<std::string>(f.values[i]);
        if (is_list || (f.op == Filter::Op::kAnyOf && !is_string)) {
          return Bad(path + ".values[" + std::to_string(i) + "]",
                     op + (f.op == Filter::Op::kAnyOf ? " takes strings" : " takes scalars"));
        }
      }
      break;
    default:
      break;
  }
  if (!f.children.empty()) return Bad(path + ".children", op + " takes no children");
  return Status::Ok();
}

bool InValues(const MetadataValue& field, const std::vector<MetadataValue>& values) {
  for (const auto& v : values) {
    if (ScalarEquals(field, v)) return true;
  }
  return false;
}

}  // namespace

Filter Filter::Eq(std::string field, MetadataValue v) { return {Op::kEq, std::move(field), {std::move(v)}, {}}; }
Filter Filter::Ne(std::string field, MetadataValue v) { return {Op::kNe, std::move(field), {std::move(v)}, {}}; }
Filter Filter::In(std::string field, std::vector<MetadataValue> vs) { return {Op::kIn, std::move(field), std::move(vs), {}}; }
Filter Filter::NotIn(std::string field, std::vector<MetadataValue> vs) { return {Op::kNotIn, std::move(field), std::move(vs), {}}; }
Filter Filter::Lt(std::string field, MetadataValue v) { return {Op::kLt, std::move(field), {std::move(v)}, {}}; }
Filter Filter::Le(std::string field, MetadataValue v) { return {Op::kLe, std::move(field), {std::move(v)}, {}}; }
Filter Filter::Gt(std::string field, MetadataValue v) { return {Op::kGt, std::move(field), {std::move(v)}, {}}; }
Filter Filter::Ge(std::string field, MetadataValue v) { return {Op::kGe, std::move(field), {std::move(v)}, {}}; }
Filter Filter::Exists(std::string field) { return {Op::kExists, std::move(field), {}, {}}; }
Filter Filter::AnyOf(std::string field, std::vector<std::string> vs) {
  std::vector<MetadataValue> values(vs.begin(), vs.end());
  return {Op::kAnyOf, std::move(field), std::move(values), {}};
}
Filter Filter::And(std::vector<Filter> children) { return {Op::kAnd, "", {}, std::move(children)}; }
Filter Filter::Or(std::vector<Filter> children) { return {Op::kOr, "", {}, std::move(children)}; }
Filter Filter::Not(Filter child) { return {Op::kNot, "", {}, {std::move(child)}}; }

Status Filter::Validate() const { return ValidateNode(*this, "filter", 0); }

Metadata FilterFields(Metadata metadata, const std::string& id, const std::string& document_id) {
  metadata.insert_or_assign("id", id);
  if (document_id.empty()) {
    metadata.erase("document_id");
  } else {
    metadata.insert_or_assign("document_id", document_id);
  }
  return metadata;
}

bool Filter::Matches(const Metadata& metadata) const {
  switch (op) {
    case Op::kAnd:
      for (const auto& c : children) if (!c.Matches(metadata)) return false;
      return true;
    case Op::kOr:
      for (const auto& c : children) if (c.Matches(metadata)) return true;
      return false;
    case Op::kNot:
      return !children[0].Matches(metadata);
    default:
      break;
  }
  auto it = metadata.find(field);
  const MetadataValue* value = it == metadata.end() ? nullptr : &it->second;
  switch (op) {
    case Op::kExists: return value != nullptr;
    case Op::kEq: return value != nullptr && ScalarEquals(*value, values[0]);
    case Op::kNe: return value == nullptr || !ScalarEquals(*value, values[0]);
    case Op::kIn: return value != nullptr && InValues(*value, values);
    case Op::kNotIn: return value == nullptr || !InValues(*value, values);
    case Op::kLt: return value != nullptr && IsNumber(*value) && AsDouble(*value) < AsDouble(values[0]);
    case Op::kLe: return value != nullptr && IsNumber(*value) && AsDouble(*value) <= AsDouble(values[0]);
    case Op::kGt: return value != nullptr && IsNumber(*value) && AsDouble(*value) > AsDouble(values[0]);
    case Op::kGe: return value != nullptr && IsNumber(*value) && AsDouble(*value) >= AsDouble(values[0]);
    case Op::kAnyOf: {
      if (value == nullptr) return false;
      if (const auto* list = std::get_if<std::vector<std::string>>(value)) {
        for (const auto& item : *list) {
          for (const auto& v : values) if (std::get<std::string>(v) == item) return true;
        }
        return false;
      }
      if (const auto* s = std::get_if<std::string>(value)) {
        for (const auto& v : values) if (std::get<std::string>(v) == *s) return true;
      }
      return false;
    }
    default:
      return false;
  }
}

std::string Filter::ToString() const {
  std::ostringstream out;
  switch (op) {
    case Op::kAnd:
    case Op::kOr:
      out << '(';
      for (size_t i = 0; i < children.size(); ++i) {
        if (i) out << ' ' << OpName(op) << ' ';
        out << children[i].ToString();
      }
      out << ')';
      return out.str();
    case Op::kNot:
      out << "not " << (children.empty() ? "?" : children[0].ToString());
      return out.str();
    case Op::kExists:
      RenderField(field, out);
      out << " exists";
      return out.str();
    case Op::kIn:
    case Op::kNotIn:
    case Op::kAnyOf:
      RenderField(field, out);
      out << ' ' << OpName(op) << " [";
      for (size_t i = 0; i < values.size(); ++i) {
        if (i) out << ", ";
        RenderValue(values[i], out);
      }
      out << ']';
      return out.str();
    default:
      RenderField(field, out);
      out << ' ' << OpName(op) << ' ';
      if (!values.empty()) RenderValue(values[0], out);
      return out.str();
  }
}

}  // namespace verity
