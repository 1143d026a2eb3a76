#include "base/validate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <unordered_map>

namespace verity {
namespace {

std::string Num(size_t n) { return std::to_string(n); }

// "<field>: <detail>", naming `field` (Status::field()).
Status Invalid(const std::string& field, std::string detail) {
  return Status::InvalidArgument(std::move(detail)).WithField(field);
}

Status ValidateMetadata(const Metadata& metadata, const std::string& field) {
  if (metadata.size() > Limits::kMaxMetadataKeys) {
    return Invalid(field, Num(metadata.size()) + " keys; the limit is " + Num(Limits::kMaxMetadataKeys));
  }
  for (const auto& [key, value] : metadata) {
    const std::string where = field + "[\"" + key.substr(0, 64) + "\"]";
    if (key.empty() || key.size() > Limits::kMaxMetadataKeyBytes || !IsValidUtf8(key)) {
      return Invalid(where, "key must be 1.." + Num(Limits::kMaxMetadataKeyBytes) + " bytes of UTF-8");
    }
    if (const auto* s = std::get_if<std::string>(&value)) {
      if (s->size() > Limits::kMaxMetadataValueBytes || !IsValidUtf8(*s)) {
        return Invalid(where,
                       "string value must be at most " + Num(Limits::kMaxMetadataValueBytes) + " bytes of UTF-8");
      }
    } else if (const auto* d = std::get_if<double>(&value)) {
      if (!std::isfinite(*d)) return Invalid(where, "double value must be finite");
    } else if (const auto* list = std::get_if<std::vector<std::string>>(&value)) {
      if (list->size() > Limits::kMaxListItems) {
        return Invalid(where, "list has " + Num(list->size()) + " items; the limit is " + Num(Limits::kMaxListItems));
      }
      size_t total = 0;
      for (const auto& item : *list) {
        total += item.size();
        if (!IsValidUtf8(item)) return Invalid(where, "list item is not UTF-8");
      }
      if (total > Limits::kMaxMetadataValueBytes) {
        return Invalid(where, "list holds more than " + Num(Limits::kMaxMetadataValueBytes) + " bytes");
      }
    }
  }
  return Status::Ok();
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) { ++i; continue; }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return false;
    if (i + len > n) return false;
    for (size_t j = 1; j < len; ++j) {
      if ((p[i + j] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + j] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return false;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

Status ValidateCollectionConfig(const CollectionConfig& c) {
  if (c.name.empty() || c.name.size() > Limits::kMaxCollectionNameBytes) {
    return Invalid("name", "must be 1..128 characters");
  }
  for (char ch : c.name) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                    ch == '_' || ch == '-' || ch == '.';
    if (!ok) return Invalid("name", "only letters, digits, '_', '-' and '.' are allowed");
  }
  // A collection's name is a directory in an export (and a path part elsewhere).
  if (c.name == "." || c.name == "..") return Invalid("name", "\"" + c.name + "\" is not allowed");
  if (c.dimension > Limits::kMaxDimension) {
    return Invalid("dimension", Num(c.dimension) + " is outside 0..4096");
  }
  if (c.dimension == 0 && !c.text_index.enabled && c.sparse_fields.empty()) {
    return Invalid("dimension", "0 (a collection without a dense vector) needs a text index or a sparse field");
  }
  VERITY_RETURN_IF_ERROR(ValidateTextIndexSettings(c));
  if (c.m < 2 || c.m > 128) return Invalid("m", Num(c.m) + " is outside 2..128");
  if (c.ef_construction < 1 || c.ef_construction > 4096) {
    return Invalid("ef_construction", Num(c.ef_construction) + " is outside 1..4096");
  }
  if (c.default_ef < 1 || c.default_ef > 4096) {
    return Invalid("default_ef", Num(c.default_ef) + " is outside 1..4096");
  }
  return ValidateRetention(c.retention);
}

Status ValidateTextIndexSettings(const CollectionConfig& c) {
  const TextIndexConfig& t = c.text_index;
  if (!(t.k1 >= 0 && t.k1 <= 3)) return Invalid("text_index.k1", std::to_string(t.k1) + " is outside 0..3");
  if (!(t.b >= 0 && t.b <= 1)) return Invalid("text_index.b", std::to_string(t.b) + " is outside 0..1");
  if (t.analyzer_version < 1) return Invalid("text_index.analyzer_version", "must be at least 1");
  if (t.fields.size() > 8) return Invalid("text_index.fields", Num(t.fields.size()) + " fields; the limit is 8");
  for (size_t i = 0; i < t.fields.size(); ++i) {
    const std::string field = "text_index.fields[" + Num(i) + "]";
    if (t.fields[i].name.empty() || t.fields[i].name.size() > 256) {
      return Invalid(field + ".name", "must be 1..256 bytes (a metadata key)");
    }
    if (t.fields[i].weight < 1 || t.fields[i].weight > 16) {
      return Invalid(field + ".weight", Num(t.fields[i].weight) + " is outside 1..16");
    }
    for (size_t j = 0; j < i; ++j) {
      if (t.fields[j].name == t.fields[i].name) return Invalid(field + ".name", "\"" + t.fields[i].name + "\" is given twice");
    }
  }
  if (c.sparse_fields.size() > Limits::kMaxSparseFields) {
    return Invalid("sparse_fields", Num(c.sparse_fields.size()) + " fields; the limit is " +
                                        Num(Limits::kMaxSparseFields));
  }
  for (size_t i = 0; i < c.sparse_fields.size(); ++i) {
    const SparseFieldConfig& f = c.sparse_fields[i];
    const std::string field = "sparse_fields[" + Num(i) + "]";
    if (f.name.empty() || f.name.size() > 64) return Invalid(field + ".name", "must be 1..64 characters");
    for (char ch : f.name) {
      const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                      ch == '_' || ch == '-' || ch == '.';
      if (!ok) return Invalid(field + ".name", "only letters, digits, '_', '-' and '.' are allowed");
    }
    for (size_t j = 0; j < i; ++j) {
      if (c.sparse_fields[j].name == f.name) return Invalid(field + ".name", "\"" + f.name + "\" is given twice");
    }
    if (f.dimension < 1 || f.dimension > (1u << 31)) {
      return Invalid(field + ".dimension", Num(f.dimension) + " is outside 1..2147483648");
    }
  }
  return Status::Ok();
}

Status ValidateSparseVector(const SparseVector& v, uint32_t dimension, const std::string& field) {
  if (v.indices.size() != v.values.size()) {
    return Invalid(field, Num(v.indices.size()) + " indices but " + Num(v.values.size()) + " values");
  }
  if (v.indices.size() > Limits::kMaxSparseEntries) {
    return Invalid(field + ".indices", Num(v.indices.size()) + " entries; the limit is " +
                                           Num(Limits::kMaxSparseEntries));
  }
  for (size_t i = 0; i < v.indices.size(); ++i) {
    if (v.indices[i] >= dimension) {
      return Invalid(field + ".indices[" + Num(i) + "]",
                     Num(v.indices[i]) + " is outside 0.." + Num(dimension - 1) + " (the field's dimension)");
    }
    if (i > 0 && v.indices[i] <= v.indices[i - 1]) {
      return Invalid(field + ".indices[" + Num(i) + "]", "indices must be strictly increasing");
    }
    if (!std::isfinite(v.values[i]) || std::fabs(v.values[i]) > Limits::kMaxVectorComponent) {
      return Invalid(field + ".values[" + Num(i) + "]", "must be finite, within \u00b11e15");
    }
  }
  return Status::Ok();
}

Status ValidateRecordSparse(const Record& r, const std::vector<SparseFieldConfig>& fields, const std::string& field) {
  for (const auto& entry : r.sparse) {
    // Not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
    const std::string& name = entry.first;
    const SparseVector& v = entry.second;
    const std::string f = field + ".sparse[\"" + name + "\"]";
    auto it = std::find_if(fields.begin(), fields.end(), [&](const SparseFieldConfig& c) { return c.name == name; });
    if (it == fields.end()) {
      std::string known;
      for (const auto& c : fields) known += (known.empty() ? "" : ", ") + c.name;
      return Invalid(f, "the collection has no sparse field \"" + name + "\" (its sparse fields: " +
                            (known.empty() ? "none" : known) + ")");
    }
    VERITY_RETURN_IF_ERROR(ValidateSparseVector(v, it->dimension, f));
  }
  return Status::Ok();
}

Status ValidateRetention(const RetentionPolicy& r) {
  if (r.keep_seconds < 0) return Invalid("retention.keep_seconds", "must not be negative");
  if (r.keep_seconds > Limits::kMaxKeepSeconds) {
    return Invalid("retention.keep_seconds", std::to_string(r.keep_seconds) + " is above the limit " +
                                                 std::to_string(Limits::kMaxKeepSeconds) +
                                                 " (100 years; 0 turns the rule off)");
  }
  return Status::Ok();
}

Status ValidateClientFields(const std::string& prompt, const std::string& client_trace_id,
                            const std::string& client_id) {
  constexpr size_t kLimit = 1024;
  for (const auto& [field, value] : {std::pair<const char*, const std::string*>{"prompt", &prompt},
                                     {"client_trace_id", &client_trace_id},
                                     {"client_id", &client_id}}) {
    if (value->size() > kLimit) {
      return Invalid(field, std::to_string(value->size()) + " bytes; the limit is " + std::to_string(kLimit));
    }
  }
  return Status::Ok();
}

Status ValidateTimeRange(int64_t since_us, int64_t until_us) {
  if (since_us < 0) return Invalid("since_us", std::to_string(since_us) + " is negative");
  if (until_us < 0) return Invalid("until_us", std::to_string(until_us) + " is negative");
  if (since_us > 0 && until_us > 0 && until_us <= since_us) {
    return Invalid("until_us", std::to_string(until_us) + " is not after since_us " + std::to_string(since_us) +
                                   " (the range is [since, until))");
  }
  return Status::Ok();
}

Status ValidateName(const std::string& name, const std::string& field) {
  if (name.empty() || name.size() > Limits::kMaxSnapshotNameBytes) {
    return Invalid(field, "must be 1..128 characters");
  }
  if (name == "." || name == "..") return Invalid(field, "\"" + name + "\" is not allowed");
  for (char ch : name) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                    ch == '_' || ch == '-' || ch == '.';
    if (!ok) return Invalid(field, "only letters, digits, '_', '-' and '.' are allowed");
  }
  return Status::Ok();
}

Status ValidateRecordId(std::string_view id, const std::string& field) {
  if (id.empty()) return Invalid(field, "must not be empty");
  if (id.size() > Limits::kMaxIdBytes) {
    return Invalid(field, Num(id.size()) + " bytes; the limit is " + Num(Limits::kMaxIdBytes));
  }
  if (id.find('\0') != std::string_view::npos) return Invalid(field, "must not contain NUL");
  if (!IsValidUtf8(id)) return Invalid(field, "is not valid UTF-8");
  return Status::Ok();
}

Status ValidateVector(const std::vector<float>& v, uint32_t dimension, const std::string& field, bool bounded) {
  if (v.size() != dimension) {
    return Invalid(field, "has " + Num(v.size()) + " components; the collection's dimension is " + Num(dimension));
  }
  for (size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) {
      return Invalid(field + "[" + Num(i) + "]",
                     std::string(std::isnan(v[i]) ? "NaN" : "infinite") + " (components must be finite)");
    }
    if (bounded && std::fabs(v[i]) > Limits::kMaxVectorComponent) {
      char value[32];
      std::snprintf(value, sizeof(value), "%.9g", static_cast<double>(v[i]));
      return Invalid(field + "[" + Num(i) + "]", std::string(value) +
                                                     " is outside the allowed \u00b11e15 (Limits::kMaxVectorComponent: "
                                                     "larger components could overflow distances)");
    }
  }
  return Status::Ok();
}

Status ValidateRecord(const Record& r, uint32_t dimension, const std::string& field, bool bounded) {
  VERITY_RETURN_IF_ERROR(ValidateRecordId(r.id, field + ".id"));
  VERITY_RETURN_IF_ERROR(ValidateVector(r.vector, dimension, field + ".vector", bounded));
  if (r.text.size() > Limits::kMaxTextBytes) {
    return Invalid(field + ".text", Num(r.text.size()) + " bytes; the limit is " + Num(Limits::kMaxTextBytes));
  }
  if (!IsValidUtf8(r.text)) return Invalid(field + ".text", "is not valid UTF-8");
  if (r.document_id.size() > Limits::kMaxIdBytes || !IsValidUtf8(r.document_id)) {
    return Invalid(field + ".document_id", "must be at most 512 bytes of UTF-8");
  }
  return ValidateMetadata(r.metadata, field + ".metadata");
}

Status ValidateBatchIds(const std::vector<std::string_view>& ids, const std::string& field) {
  if (ids.empty()) return Invalid(field, "the batch is empty");
  if (ids.size() > Limits::kMaxBatchRecords) {
    return Invalid(field, Num(ids.size()) + " items; the batch limit is " + Num(Limits::kMaxBatchRecords));
  }
  std::unordered_map<std::string_view, size_t> seen;
  seen.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    auto [it, inserted] = seen.emplace(ids[i], i);
    if (!inserted) {
      return Invalid(field + "[" + Num(i) + "]", "duplicate id \"" + std::string(ids[i].substr(0, 64)) +
                                                     "\" (also at index " + Num(it->second) + ")");
    }
  }
  return Status::Ok();
}

size_t JsonNestingDepth(std::string_view text) {
  size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (const char ch : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (ch == '\\') {
        escaped = true;
      } else if (ch == '"') {
        in_string = false;
      }
    } else if (ch == '"') {
      in_string = true;
    } else if (ch == '{' || ch == '[') {
      deepest = std::max(deepest, ++depth);
    } else if ((ch == '}' || ch == ']') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

}  // namespace verity
