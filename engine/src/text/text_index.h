// A collection's text-side indexes (docs/text-search.md): the analyzer and
// the BM25 posting index of its records' text (when its text index is on),
// and one dot-product posting index per sparse field. The collection owns
// one (collection/collection.h) and feeds it every commit; documents are the
// collection's row labels.
//
// Thread-safety: the posting indexes are internally synchronised
// (posting_index.h). The apply calls (Add, Revive, Close, Collect, Load)
// must come from one writer at a time (the collection's write_mu, or the
// load at open before the collection is shared); Analyze* and the query
// calls may run concurrently with them and each other.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage.pb.h"
#include "text/analyzer.h"
#include "text/posting_index.h"
#include "verity/status.h"
#include "verity/types.h"

namespace verity::text {

class CollectionTextIndex {
 public:
  // Null when the config has neither a text index nor a sparse field.
  // InvalidArgument for a bad analyzer (fields "text_index.analyzer.*").
  static Result<std::unique_ptr<CollectionTextIndex>> Create(const CollectionConfig& config);

  bool has_text() const { return text_ != nullptr; }
  uint32_t analyzer_version() const { return analyzer_version_; }

  // A document's analysed text and indexed metadata fields (BM25F,
  // TextIndexConfig::fields): distinct terms in byte order with their
  // weighted frequencies, and its weighted length (terms with repeats, a
  // field's counted `weight` times). A field the record lacks, or whose
  // value is not a string (or a list of strings), adds nothing.
  DocTerms AnalyzeDocument(std::string_view text, const Metadata& metadata) const;
  // The stored form of an analysed document (storage.TextDoc) and back.
  // Decode: DataLoss naming `what` when the bytes do not parse.
  std::string EncodeDocument(const DocTerms& doc) const;
  Result<DocTerms> DecodeDocument(std::string_view bytes, const std::string& what, bool* current) const;

  // Applying a commit. `text` is the analysed text (ignored, may be null,
  // without a text index); `sparse` the record's sparse vectors.
  void Add(DocId label, Version version, const DocTerms* text, const std::map<std::string, SparseVector>& sparse);
  void Revive(DocId label, Version version);
  void Close(DocId label, Version version);
  void Collect(DocId label);
  // At open: a row label with its ranges (as its RowNode's).
  void LoadText(DocId label, const DocRanges& ranges, const DocTerms& text);
  void LoadSparse(DocId label, const DocRanges& ranges, const std::map<std::string, SparseVector>& sparse);

  // A text query's terms, repeats merged into weights, in first-occurrence
  // order. Empty when the text analyses to nothing (all stopwords, say).
  // InvalidArgument naming `field` when it is longer than the limit or
  // analyses to more than Limits::kMaxQueryTerms distinct terms;
  // FailedPrecondition naming it when the collection has no text index.
  Result<std::vector<QueryTerm>> TextQuery(const std::string& text, const std::string& field) const;
  // A sparse query's terms. InvalidArgument naming `field` for an unknown
  // sparse field or an invalid vector (ValidateSparseVector).
  Result<std::vector<QueryTerm>> SparseQuery(const std::string& name, const SparseVector& query,
                                             const std::string& field) const;

  const PostingIndex* text_postings() const { return text_.get(); }
  const PostingIndex* sparse_postings(const std::string& name) const;

 private:
  CollectionTextIndex() = default;

  std::unique_ptr<Analyzer> analyzer_;
  uint32_t analyzer_version_ = 0;
  std::unique_ptr<PostingIndex> text_;  // null without a text index
  std::vector<SparseFieldConfig> sparse_fields_;
  std::vector<TextFieldConfig> text_fields_;
  std::map<std::string, std::unique_ptr<PostingIndex>> sparse_;
};

// DocTerms of a sparse vector (terms are SparseTerm(index)).
DocTerms SparseDocument(const SparseVector& v);

}  // namespace verity::text
