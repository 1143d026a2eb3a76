// MetadataColumns: the metadata of every graph node of a collection, stored
// column by column (one column per field name, indexed by graph label), with
// strings interned per field. Filters are compiled against the columns and
// then evaluate with array lookups and integer compares, instead of a map
// lookup and string compares per node — the difference between a cache miss
// per node and none, which dominates filtered searches.
//
// Thread-safety: none of its own. The owner (Collection) guards it with
// graph_mu: Set under the exclusive lock, Compile and CompiledFilter::Matches
// under the shared lock. A CompiledFilter borrows the columns and is valid
// only while that lock is held.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "verity/filter.h"
#include "verity/types.h"

namespace verity {

class MetadataColumns {
 public:
  // Records the metadata of `label` (a label is set once).
  void Set(uint32_t label, const Metadata& metadata);

  enum class CellType : uint8_t { kMissing, kString, kInt, kDouble, kBool, kList };
  struct Cell {
    union {
      int64_t i;
      double d;
      struct {
        uint32_t id_or_offset;  // string id, or offset into the list pool
        uint32_t count;         // list length
      } ref;
    };
    CellType type = CellType::kMissing;
    Cell() : i(0) {}
  };
  struct Column {
    std::vector<Cell> cells;                            // by label; shorter = missing beyond
    std::unordered_map<std::string, uint32_t> strings;  // interned strings of this field
    std::vector<uint32_t> list_pool;                    // list items, as string ids
    uint32_t Intern(const std::string& s);
  };

  class CompiledFilter {
   public:
    bool Matches(uint32_t label) const;

   private:
    friend class MetadataColumns;
    struct Value {
      CellType type = CellType::kMissing;
      int64_t i = 0;
      double d = 0;
      int64_t string_id = -1;  // -1: the string never occurs in this field
    };
    struct Node {
      Filter::Op op;
      const Column* column = nullptr;  // nullptr: no row has the field
      std::vector<Value> values;
      std::vector<Node> children;
    };
    static bool Eval(const Node& node, uint32_t label);
    Node root_;
  };

  // Precondition: filter.Validate() is OK.
  std::unique_ptr<CompiledFilter> Compile(const Filter& filter) const;

 private:
  std::unordered_map<std::string, Column> columns_;  // node-based: Column pointers stay valid
};

}  // namespace verity
