// Test helpers: temporary directories, synthetic data and a brute-force
// reference model of a collection's MVCC history.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "engine/child_process.h"  // for the tests that run a helper binary
#include "verity/database.h"

namespace verity::test {

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Gaussian clusters: n vectors of `dim` floats around `clusters` centres.
std::vector<float> ClusteredVectors(size_t n, size_t dim, size_t clusters, uint64_t seed);

// Record `i` of a deterministic data set: id "r<i>", metadata with
// "bucket" (int i % 100), "parity" ("even"/"odd"), "tags" (list).
Record MakeRecord(size_t i, const float* vector, size_t dim);

// A collection config: `name`, `dimension`, the HNSW `m` and
// `ef_construction` (the engine's defaults unless given) and `retention`
// (default: keep every version).
CollectionConfig MakeConfig(const std::string& name, uint32_t dimension, uint32_t m = CollectionConfig{}.m,
                            uint32_t ef_construction = CollectionConfig{}.ef_construction,
                            RetentionPolicy retention = {});

// Metadata with one value of each kind, for the filter tests: "lang" "en",
// "year" 2021, "score" 0.75, "draft" false, "tags" ["a", "b"].
Metadata SampleMetadata();

// Database options for tests: quiet logs.
DatabaseOptions QuietOptions();

// The reference model: every record's history as (version, vector or none).
class ReferenceModel {
 public:
  void Upsert(Version v, const Record& r);
  void Delete(Version v, const std::string& id);
  // Records live at version v.
  std::map<std::string, Record> At(Version v) const;
  // Exact top-k ids at version v (by squared L2), optionally filtered.
  std::vector<std::string> TopK(Version v, const std::vector<float>& query, size_t k,
                                const Filter* filter = nullptr) const;
  // The same over a precomputed At(v), for many queries at one version.
  static std::vector<std::string> TopKOf(const std::map<std::string, Record>& live, const std::vector<float>& query,
                                         size_t k, const Filter* filter = nullptr);

 private:
  // id -> [(version, record or nullopt for a delete)]
  std::map<std::string, std::vector<std::pair<Version, std::optional<Record>>>> history_;
};

float L2(const std::vector<float>& a, const std::vector<float>& b);

// Fraction of `truth` found in `got` (by id).
double Recall(const std::vector<std::string>& got, const std::vector<std::string>& truth);

std::vector<std::string> Ids(const SearchResult& result);

}  // namespace verity::test
