#include "index/metadata_columns.h"

namespace verity {
namespace {

using CellType = MetadataColumns::CellType;
using Cell = MetadataColumns::Cell;

bool IsNumber(CellType t) { return t == CellType::kInt || t == CellType::kDouble; }

}  // namespace

uint32_t MetadataColumns::Column::Intern(const std::string& s) {
  auto [it, inserted] = strings.try_emplace(s, static_cast<uint32_t>(strings.size()));
  return it->second;
}

void MetadataColumns::Set(uint32_t label, const Metadata& metadata) {
  for (const auto& [field, value] : metadata) {
    Column& column = columns_[field];
    if (column.cells.size() <= label) column.cells.resize(static_cast<size_t>(label) + 1);
    Cell& cell = column.cells[label];
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::string>) {
            cell.type = CellType::kString;
            cell.ref.id_or_offset = column.Intern(x);
            cell.ref.count = 0;
          } else if constexpr (std::is_same_v<T, int64_t>) {
            cell.type = CellType::kInt;
            cell.i = x;
          } else if constexpr (std::is_same_v<T, double>) {
            cell.type = CellType::kDouble;
            cell.d = x;
          } else if constexpr (std::is_same_v<T, bool>) {
            cell.type = CellType::kBool;
            cell.i = x ? 1 : 0;
          } else {
            cell.type = CellType::kList;
            cell.ref.id_or_offset = static_cast<uint32_t>(column.list_pool.size());
            cell.ref.count = static_cast<uint32_t>(x.size());
            for (const auto& item : x) column.list_pool.push_back(column.Intern(item));
          }
        },
        value);
  }
}

std::unique_ptr<MetadataColumns::CompiledFilter> MetadataColumns::Compile(const Filter& filter) const {
  struct Compiler {
    const MetadataColumns& columns;
    CompiledFilter::Node Build(const Filter& f) const {
      CompiledFilter::Node node;
      node.op = f.op;
      for (const auto& child : f.children) node.children.push_back(Build(child));
      if (f.children.empty() && !f.field.empty()) {
        auto it = columns.columns_.find(f.field);
        if (it != columns.columns_.end()) node.column = &it->second;
      }
      for (const auto& v : f.values) {
        CompiledFilter::Value value;
        if (const auto* s = std::get_if<std::string>(&v)) {
          value.type = CellType::kString;
          if (node.column != nullptr) {
            auto found = node.column->strings.find(*s);
            if (found != node.column->strings.end()) value.string_id = found->second;
          }
        } else if (const auto* i = std::get_if<int64_t>(&v)) {
          value.type = CellType::kInt;
          value.i = *i;
          value.d = static_cast<double>(*i);
        } else if (const auto* d = std::get_if<double>(&v)) {
          value.type = CellType::kDouble;
          value.d = *d;
        } else if (const auto* b = std::get_if<bool>(&v)) {
          value.type = CellType::kBool;
          value.i = *b ? 1 : 0;
        }
        node.values.push_back(value);
      }
      return node;
    }
  };
  auto compiled = std::unique_ptr<CompiledFilter>(new CompiledFilter());
  compiled->root_ = Compiler{*this}.Build(filter);
  return compiled;
}

bool MetadataColumns::CompiledFilter::Matches(uint32_t label) const { return Eval(root_, label); }

bool MetadataColumns::CompiledFilter::Eval(const Node& node, uint32_t label) {
  switch (node.op) {
    case Filter::Op::kAnd:
      for (const auto& c : node.children) if (!Eval(c, label)) return false;
      return true;
    case Filter::Op::kOr:
      for (const auto& c : node.children) if (Eval(c, label)) return true;
      return false;
    case Filter::Op::kNot:
      return !Eval(node.children[0], label);
    default:
      break;
  }
  static const Cell kMissingCell;
  const Cell& cell = (node.column != nullptr && label < node.column->cells.size()) ? node.column->cells[label]
                                                                                    : kMissingCell;
  const bool present = cell.type != CellType::kMissing;
  auto as_double = [](const Cell& c) { return c.type == CellType::kInt ? static_cast<double>(c.i) : c.d; };
  // Scalar equality with Filter's semantics: numbers by value across int and
  // double, strings by interned id, bools by value; lists are not scalars.
  auto equals = [&](const Value& v) {
    if (IsNumber(cell.type) && IsNumber(v.type)) {
      if (cell.type == CellType::kInt && v.type == CellType::kInt) return cell.i == v.i;
      return as_double(cell) == v.d;
    }
    if (cell.type != v.type) return false;
    if (cell.type == CellType::kString) return v.string_id >= 0 && cell.ref.id_or_offset == v.string_id;
    if (cell.type == CellType::kBool) return cell.i == v.i;
    return false;
  };
  auto in_values = [&] {
    for (const auto& v : node.values) if (equals(v)) return true;
    return false;
  };
  switch (node.op) {
    case Filter::Op::kExists: return present;
    case Filter::Op::kEq: return present && equals(node.values[0]);
    case Filter::Op::kNe: return !present || !equals(node.values[0]);
    case Filter::Op::kIn: return present && in_values();
    case Filter::Op::kNotIn: return !present || !in_values();
    case Filter::Op::kLt: return IsNumber(cell.type) && as_double(cell) < node.values[0].d;
    case Filter::Op::kLe: return IsNumber(cell.type) && as_double(cell) <= node.values[0].d;
    case Filter::Op::kGt: return IsNumber(cell.type) && as_double(cell) > node.values[0].d;
    case Filter::Op::kGe: return IsNumber(cell.type) && as_double(cell) >= node.values[0].d;
    case Filter::Op::kAnyOf: {
      if (cell.type == CellType::kString) {
        for (const auto& v : node.values) if (v.string_id == cell.ref.id_or_offset) return true;
        return false;
      }
      if (cell.type != CellType::kList) return false;
      const uint32_t* items = node.column->list_pool.data() + cell.ref.id_or_offset;
      for (uint32_t k = 0; k < cell.ref.count; ++k) {
        for (const auto& v : node.values) if (v.string_id == items[k]) return true;
      }
      return false;
    }
    default:
      return false;
  }
}

}  // namespace verity
