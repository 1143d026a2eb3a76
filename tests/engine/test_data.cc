#include "engine/test_data.h"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <set>
#include <stdexcept>

namespace verity::test {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base ? base : "/tmp") + "/verity-test-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::vector<float> ClusteredVectors(size_t n, size_t dim, size_t clusters, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> centre(0.0f, 10.0f);
  std::normal_distribution<float> noise(0.0f, 2.0f);
  std::vector<float> centres(clusters * dim);
  for (auto& x : centres) x = centre(rng);
  std::vector<float> out(n * dim);
  std::uniform_int_distribution<size_t> pick(0, clusters - 1);
  for (size_t i = 0; i < n; ++i) {
    const size_t c = pick(rng);
    for (size_t d = 0; d < dim; ++d) out[i * dim + d] = centres[c * dim + d] + noise(rng);
  }
  return out;
}

Record MakeRecord(size_t i, const float* vector, size_t dim) {
  Record r;
  r.id = "r" + std::to_string(i);
  r.vector.assign(vector, vector + dim);
  r.text = "text of record " + std::to_string(i);
  r.document_id = "doc" + std::to_string(i / 10);
  r.metadata["bucket"] = static_cast<int64_t>(i % 100);
  r.metadata["parity"] = std::string(i % 2 == 0 ? "even" : "odd");
  r.metadata["tags"] = std::vector<std::string>{"t" + std::to_string(i % 7), "u" + std::to_string(i % 3)};
  return r;
}

CollectionConfig MakeConfig(const std::string& name, uint32_t dimension, uint32_t m, uint32_t ef_construction,
                            RetentionPolicy retention) {
  CollectionConfig config;
  config.name = name;
  config.dimension = dimension;
  config.m = m;
  config.ef_construction = ef_construction;
  config.retention = retention;
  return config;
}

Metadata SampleMetadata() {
  Metadata m;
  m["lang"] = std::string("en");
  m["year"] = int64_t{2021};
  m["score"] = 0.75;
  m["draft"] = false;
  m["tags"] = std::vector<std::string>{"a", "b"};
  return m;
}

DatabaseOptions QuietOptions() {
  DatabaseOptions options;
  options.log = [](LogLevel level, const std::string& message) {
    if (level == LogLevel::kError) std::cerr << "engine error: " << message << "\n";
  };
  return options;
}

void ReferenceModel::Upsert(Version v, const Record& r) { history_[r.id].emplace_back(v, r); }

void ReferenceModel::Delete(Version v, const std::string& id) {
  auto it = history_.find(id);
  if (it != history_.end()) it->second.emplace_back(v, std::nullopt);
}

std::map<std::string, Record> ReferenceModel::At(Version v) const {
  std::map<std::string, Record> out;
  for (const auto& [id, versions] : history_) {
    const std::optional<Record>* latest = nullptr;
    for (const auto& [version, record] : versions) {
      if (version <= v) latest = &record;
    }
    if (latest != nullptr && latest->has_value()) out.emplace(id, **latest);
  }
  return out;
}

float L2(const std::vector<float>& a, const std::vector<float>& b) {
  float s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return s;
}

std::vector<std::string> ReferenceModel::TopK(Version v, const std::vector<float>& query, size_t k,
                                              const Filter* filter) const {
  return TopKOf(At(v), query, k, filter);
}

std::vector<std::string> ReferenceModel::TopKOf(const std::map<std::string, Record>& live,
                                                const std::vector<float>& query, size_t k, const Filter* filter) {
  std::vector<std::pair<float, std::string>> all;
  for (const auto& [id, record] : live) {
    if (filter && !filter->Matches(record.metadata)) continue;
    all.emplace_back(L2(record.vector, query), id);
  }
  std::sort(all.begin(), all.end());
  std::vector<std::string> out;
  for (size_t i = 0; i < std::min(k, all.size()); ++i) out.push_back(all[i].second);
  return out;
}

double Recall(const std::vector<std::string>& got, const std::vector<std::string>& truth) {
  if (truth.empty()) return got.empty() ? 1.0 : 0.0;
  std::set<std::string> g(got.begin(), got.end());
  size_t hits = 0;
  for (const auto& t : truth) hits += g.count(t);
  return static_cast<double>(hits) / static_cast<double>(truth.size());
}

std::vector<std::string> Ids(const SearchResult& result) {
  std::vector<std::string> out;
  for (const auto& h : result.hits) out.push_back(h.id);
  return out;
}

}  // namespace verity::test
