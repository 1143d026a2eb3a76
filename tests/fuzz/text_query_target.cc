// fuzz_text_query's body (text_query_target.h).
#include "text_query_target.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string_view>

#include "verity/filter_parser.h"

namespace verity::fuzz {
namespace {

const char* const kTexts[] = {
    "The quick brown fox jumps over the lazy dog",       "Foxes are running through the forest at night",
    "A lazy afternoon with green tea and biscuits",      "Routers need a reset when the network fails",
    "How to reset the password of your router",          "Tea ceremonies of Japan and their history",
    "chmod changes the mode bits of a file",             "chown changes the owner and group of files",
    "Straße, café, naïve: Unicode text 東京 and ﬁle",      "",
    "the the the the the",                               "1,000.5 units at 3.14 per unit in the U.S.A.",
};
constexpr size_t kTextCount = sizeof(kTexts) / sizeof(kTexts[0]);
constexpr uint32_t kRecords = 24;
constexpr uint32_t kSparseDimension = 64;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "fuzz_text_query setup: %s\n", what.c_str());
  std::abort();
}

Record MakeRecord(uint32_t i, uint32_t round) {
  Record r;
  r.id = "r" + std::to_string(i);
  r.text = kTexts[(i + round) % kTextCount];
  r.document_id = "d" + std::to_string(i % 3);
  const float x = static_cast<float>(i) / 4.0f;
  r.vector = {x, 1.0f - x, static_cast<float>(round), static_cast<float>(i % 2)};
  if (i % 4 != 3) {  // every fourth record has no sparse vector
    const uint32_t a = i % kSparseDimension, b = (i * 7 + round) % kSparseDimension;
    SparseVector v{{std::min(a, b)}, {1.0f}};
    if (a != b) {
      v.indices.push_back(std::max(a, b));
      v.values.push_back(0.5f);
    }
    r.sparse["s"] = v;
  }
  return r;
}

// Reads the input front to back; past its end, zeros.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint16_t U16() { return static_cast<uint16_t>(Byte() | (Byte() << 8)); }
  float RawFloat() {
    const uint32_t bits = static_cast<uint32_t>(U16()) | (static_cast<uint32_t>(U16()) << 16);
    float f;
    std::memcpy(&f, &bits, sizeof(f));
    return f;
  }
  std::string Rest() {
    std::string rest(reinterpret_cast<const char*>(data_) + std::min(pos_, size_), size_ - std::min(pos_, size_));
    pos_ = size_;
    return rest;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

bool Finite(float f) { return std::isfinite(f); }

}  // namespace

std::unique_ptr<Database> OpenTextQueryDatabase(const std::string& dir) {
  DatabaseOptions options;
  options.gc_interval_seconds = 0;
  options.log = [](LogLevel level, const std::string& message) {  // errors only
    if (level == LogLevel::kError) std::fprintf(stderr, "engine error: %s\n", message.c_str());
  };
  auto db = Database::Open(dir, options);
  if (!db.ok()) Fail(db.status().ToString());
  CollectionConfig config;
  config.name = "c";
  config.dimension = 4;
  config.text_index.enabled = true;
  config.text_index.analyzer.preset = "english";
  config.sparse_fields.push_back({"s", kSparseDimension});
  if (auto created = (*db)->CreateCollection(config); !created.ok()) Fail(created.status().ToString());
  for (uint32_t round = 0; round < 3; ++round) {
    std::vector<Record> records;
    for (uint32_t i = 0; i < kRecords; ++i) {
      if (round == 0 || i % (round + 2) == 0) records.push_back(MakeRecord(i, round));
    }
    if (auto w = (*db)->Upsert("c", records); !w.ok()) Fail(w.status().ToString());
  }
  if (auto d = (*db)->Delete("c", {"r5"}); !d.ok()) Fail(d.status().ToString());
  return std::move(db).value();
}

// Layout: flags; k; rrf_k (2 bytes); leg_limit; the weights (3 bytes, or 3
// raw floats with flag 0x40); with a sparse leg a count (0..8) and that many
// (index: 2 bytes, value: 1 byte or a raw float) pairs; with a dense leg 4
// bytes; a version byte with flag 0x10; the rest is the text.
SearchRequest TextQueryFromBytes(const uint8_t* data, size_t size) {
  Reader in(data, size);
  const uint8_t flags = in.Byte();
  const bool dense = flags & 0x01, sparse = flags & 0x02, raw = flags & 0x40;
  SearchRequest r;
  r.k = in.Byte();
  r.fusion.method = (flags & 0x04) ? FusionMethod::kConvex : FusionMethod::kRrf;
  r.fusion.rrf_k = in.U16();
  r.fusion.leg_limit = in.Byte();
  float* weights[] = {&r.fusion.dense_weight, &r.fusion.text_weight, &r.fusion.sparse_weight};
  for (float* w : weights) *w = raw ? in.RawFloat() : static_cast<float>(in.Byte()) / 32.0f;
  if (sparse) {
    r.sparse_field = (flags & 0x80) ? "t" : "s";  // an unknown field now and then
    const uint8_t n = in.Byte() % 9;
    for (uint8_t i = 0; i < n; ++i) {
      r.sparse.indices.push_back(in.U16() % 80);  // past the dimension (64) sometimes
      r.sparse.values.push_back(raw ? in.RawFloat() : static_cast<float>(static_cast<int8_t>(in.Byte())) / 8.0f);
    }
  }
  if (dense) {
    for (int d = 0; d < 4; ++d) r.vector.push_back(static_cast<float>(static_cast<int8_t>(in.Byte())) / 16.0f);
  }
  if (flags & 0x08) {
    auto filter = ParseFilter("document_id != \"d1\"");
    if (!filter.ok()) Fail(filter.status().ToString());
    r.filter = *filter;
  }
  if (flags & 0x10) r.at = Version(1 + in.Byte() % 5);  // versions 1..4 exist; 5 does not yet
  r.text = in.Rest();
  if (flags & 0x20) r.text.clear();  // no text leg
  r.with_payload = (flags & 0x01) == 0;
  return r;
}

std::string RunTextQuery(Database& db, const uint8_t* data, size_t size) {
  const SearchRequest request = TextQueryFromBytes(data, size);
  const auto first = db.Search("c", request);
  if (!first.ok()) {
    const Status& s = first.status();
    if (s.code() != StatusCode::kInvalidArgument) return "not INVALID_ARGUMENT: " + s.ToString();
    if (s.field().empty() || s.detail().empty()) return "an error that names no field: " + s.ToString();
    const auto again = db.Search("c", request);
    if (again.ok() || again.status().message() != s.message()) return "refused once, not twice: " + s.ToString();
    return "";
  }
  const SearchResult& result = *first;
  const int legs = !request.vector.empty() + !request.text.empty() + !request.sparse_field.empty();
  if (legs == 0) return "OK with no leg";
  if (result.hits.size() > request.k) return "more hits than k";
  std::set<std::string> ids;
  for (size_t i = 0; i < result.hits.size(); ++i) {
    const SearchHit& h = result.hits[i];
    if (!ids.insert(h.id).second) return "hit " + h.id + " twice";
    if (h.id.size() < 2 || h.id[0] != 'r') return "an unknown id " + h.id;
    if (h.id == "r5" && request.at.is_head()) return "r5, deleted at the head";
    if (!Finite(h.score) || !Finite(h.distance)) return "a score that is not finite at " + h.id;
    if (legs > 1 || request.vector.empty()) {
      if (i > 0 && h.score > result.hits[i - 1].score) return "hits not ranked by score at " + h.id;
    } else if (i > 0 && h.distance < result.hits[i - 1].distance) {
      return "hits not ranked by distance at " + h.id;
    }
    if (legs > 1 && !h.dense.found() && !h.text.found() && !h.sparse.found()) return "a fused hit without a leg";
    if (legs > 1) {  // each leg ranks its top max(k, leg_limit)
      const int64_t leg_k = std::max(request.k, request.fusion.leg_limit);
      for (const LegScore* leg : {&h.dense, &h.text, &h.sparse}) {
        if (leg->rank >= leg_k) return "a leg rank past max(k, leg_limit)";
      }
    }
    if (request.filter && h.record && h.record->document_id == "d1") return "a hit the filter excludes";
  }
  const auto again = db.Search("c", request);
  if (!again.ok()) return "OK once, then " + again.status().ToString();
  if (again->hits.size() != result.hits.size()) return "another number of hits the second time";
  for (size_t i = 0; i < result.hits.size(); ++i) {
    const SearchHit &a = result.hits[i], &b = again->hits[i];
    if (a.id != b.id || a.score != b.score || a.distance != b.distance) return "another answer the second time";
  }
  return "";
}

}  // namespace verity::fuzz
