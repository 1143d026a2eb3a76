#include "text/text_index.h"

#include <algorithm>
#include <unordered_map>

#include "base/validate.h"

namespace verity::text {

Result<std::unique_ptr<CollectionTextIndex>> CollectionTextIndex::Create(const CollectionConfig& config) {
  if (!config.text_index.enabled && config.sparse_fields.empty()) return std::unique_ptr<CollectionTextIndex>();
  std::unique_ptr<CollectionTextIndex> index(new CollectionTextIndex());
  if (config.text_index.enabled) {
    VERITY_ASSIGN_OR_RETURN(index->analyzer_, Analyzer::Create(config.text_index.analyzer));
    index->analyzer_version_ = config.text_index.analyzer_version;
    index->text_fields_ = config.text_index.fields;
    index->text_ = std::make_unique<PostingIndex>(PostingIndex::Kind::kBm25,
                                                  Bm25Params{config.text_index.k1, config.text_index.b});
  }
  index->sparse_fields_ = config.sparse_fields;
  for (const auto& field : config.sparse_fields) {
    index->sparse_[field.name] = std::make_unique<PostingIndex>(PostingIndex::Kind::kDot);
  }
  return index;
}

DocTerms CollectionTextIndex::AnalyzeDocument(std::string_view text, const Metadata& metadata) const {
  DocTerms doc;
  if (!analyzer_) return doc;
  // (term, weight) of every occurrence: the text's weight is 1, a field's its own.
  std::vector<std::pair<std::string, uint32_t>> weighted;
  std::vector<std::string> terms;
  auto add = [&](std::string_view value, uint32_t weight) {
    terms.clear();
    doc.length += static_cast<uint32_t>(analyzer_->Analyze(value, &terms)) * weight;
    for (std::string& term : terms) weighted.emplace_back(std::move(term), weight);
  };
  add(text, 1);
  for (const TextFieldConfig& field : text_fields_) {
    const auto it = metadata.find(field.name);
    if (it == metadata.end()) continue;
    if (const auto* s = std::get_if<std::string>(&it->second)) add(*s, field.weight);
    if (const auto* list = std::get_if<std::vector<std::string>>(&it->second)) {
      for (const std::string& s : *list) add(s, field.weight);
    }
  }
  std::sort(weighted.begin(), weighted.end());
  for (size_t i = 0; i < weighted.size();) {
    size_t j = i;
    uint32_t frequency = 0;
    for (; j < weighted.size() && weighted[j].first == weighted[i].first; ++j) frequency += weighted[j].second;
    doc.terms.emplace_back(std::move(weighted[i].first), static_cast<float>(frequency));
    i = j;
  }
  return doc;
}

std::string CollectionTextIndex::EncodeDocument(const DocTerms& doc) const {
  storage::TextDoc stored;
  stored.set_analyzer_version(analyzer_version_);
  stored.set_analyzer_code_version(kAnalyzerCodeVersion);
  stored.set_length(doc.length);
  for (const auto& [term, tf] : doc.terms) {
    stored.add_terms(term);
    stored.add_freqs(static_cast<uint32_t>(tf));
  }
  return stored.SerializeAsString();
}

Result<DocTerms> CollectionTextIndex::DecodeDocument(std::string_view bytes, const std::string& what,
                                                     bool* current) const {
  storage::TextDoc stored;
  if (!stored.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
      stored.terms_size() != stored.freqs_size()) {
    return Status::DataLoss("text: the document of " + what + " does not parse");
  }
  *current = stored.analyzer_version() == analyzer_version_ && stored.analyzer_code_version() == kAnalyzerCodeVersion;
  DocTerms doc;
  doc.length = stored.length();
  doc.terms.reserve(stored.terms_size());
  for (int i = 0; i < stored.terms_size(); ++i) {
    doc.terms.emplace_back(stored.terms(i), static_cast<float>(stored.freqs(i)));
  }
  return doc;
}

DocTerms SparseDocument(const SparseVector& v) {
  DocTerms doc;
  doc.terms.reserve(v.indices.size());
  for (size_t i = 0; i < v.indices.size(); ++i) doc.terms.emplace_back(SparseTerm(v.indices[i]), v.values[i]);
  doc.length = static_cast<uint32_t>(v.indices.size());
  return doc;
}

void CollectionTextIndex::Add(DocId label, Version version, const DocTerms* text,
                              const std::map<std::string, SparseVector>& sparse) {
  if (text_) text_->Add(label, version, text ? *text : DocTerms{});
  for (const auto& [name, v] : sparse) {
    auto it = sparse_.find(name);
    if (it != sparse_.end() && !v.indices.empty()) it->second->Add(label, version, SparseDocument(v));
  }
}

void CollectionTextIndex::Revive(DocId label, Version version) {
  if (text_ && text_->Contains(label)) text_->Revive(label, version);
  for (auto& [name, index] : sparse_) {
    if (index->Contains(label)) index->Revive(label, version);
  }
}

void CollectionTextIndex::Close(DocId label, Version version) {
  if (text_ && text_->Contains(label)) text_->Close(label, version);
  for (auto& [name, index] : sparse_) {
    if (index->Contains(label)) index->Close(label, version);
  }
}

void CollectionTextIndex::Collect(DocId label) {
  if (text_ && text_->Contains(label)) text_->Collect(label);
  for (auto& [name, index] : sparse_) {
    if (index->Contains(label)) index->Collect(label);
  }
}

void CollectionTextIndex::LoadText(DocId label, const DocRanges& ranges, const DocTerms& text) {
  if (text_) text_->Load(label, ranges, text);
}

void CollectionTextIndex::LoadSparse(DocId label, const DocRanges& ranges,
                                     const std::map<std::string, SparseVector>& sparse) {
  for (const auto& [name, v] : sparse) {
    auto it = sparse_.find(name);
    if (it != sparse_.end() && !v.indices.empty()) it->second->Load(label, ranges, SparseDocument(v));
  }
}

Result<std::vector<QueryTerm>> CollectionTextIndex::TextQuery(const std::string& text,
                                                              const std::string& field) const {
  if (!text_) {
    return Status::FailedPrecondition("the collection has no text index (create it with one to search by text)")
        .WithField(field);
  }
  if (text.size() > Limits::kMaxTextBytes) {
    return Status::InvalidArgument(std::to_string(text.size()) + " bytes; the limit is " +
                                   std::to_string(Limits::kMaxTextBytes))
        .WithField(field);
  }
  std::vector<std::string> terms;
  analyzer_->Analyze(text, &terms);
  std::vector<QueryTerm> query;
  std::unordered_map<std::string, size_t> position;
  for (auto& term : terms) {
    auto [it, inserted] = position.emplace(term, query.size());
    if (inserted) {
      query.push_back({std::move(term), 1.0f});
    } else {
      query[it->second].weight += 1.0f;
    }
  }
  if (query.size() > Limits::kMaxQueryTerms) {
    return Status::InvalidArgument(std::to_string(query.size()) + " distinct terms; the limit is " +
                                   std::to_string(Limits::kMaxQueryTerms))
        .WithField(field);
  }
  return query;
}

Result<std::vector<QueryTerm>> CollectionTextIndex::SparseQuery(const std::string& name, const SparseVector& v,
                                                                const std::string& field) const {
  auto config = std::find_if(sparse_fields_.begin(), sparse_fields_.end(),
                             [&](const SparseFieldConfig& f) { return f.name == name; });
  if (config == sparse_fields_.end()) {
    std::string known;
    for (const auto& f : sparse_fields_) known += (known.empty() ? "" : ", ") + f.name;
    return Status::InvalidArgument("the collection has no sparse field \"" + name +
                                   "\" (its sparse fields: " + (known.empty() ? "none" : known) + ")")
        .WithField(field + "_field");
  }
  if (v.indices.empty()) return Status::InvalidArgument("the sparse query is empty").WithField(field);
  VERITY_RETURN_IF_ERROR(ValidateSparseVector(v, config->dimension, field));
  std::vector<QueryTerm> query;
  query.reserve(v.indices.size());
  for (size_t i = 0; i < v.indices.size(); ++i) query.push_back({SparseTerm(v.indices[i]), v.values[i]});
  return query;
}

const PostingIndex* CollectionTextIndex::sparse_postings(const std::string& name) const {
  auto it = sparse_.find(name);
  return it == sparse_.end() ? nullptr : it->second.get();
}

}  // namespace verity::text
