// The in-memory inverted index of one collection's text (BM25) or of one
// of its sparse-vector fields (dot product): posting lists keyed by term
// (or sparse index), version-aware (docs/text-search.md, "Index").
//
// Documents are the collection's row versions, named by their label (the
// graph label, collection/collection.h RowNode: stable for the life of the
// collection, and shared by a row that Restore revived with the same
// contents). A document is visible over one or two version ranges, exactly
// like its RowNode: [from, to) and, once revived, [from2, to2).
//
// MVCC-exact statistics: the document count, the total length and each
// term's document frequency are kept as step functions of the version (one
// entry per version that changed them), so that a search at version v uses
// exactly the statistics of the documents visible at v; a replay at v then
// gets the same scores, bit for bit. They are plain sums, so that a router
// can add them across shards.
//
// Top-k uses dynamic pruning (block-max MaxScore): posting lists are cut
// into blocks that carry an upper bound of their scores, and documents
// whose bound cannot reach the current k-th score are skipped unscored. The
// result equals the exhaustive top-k (SearchExhaustive), ties broken by the
// smaller document id. A document's score is always summed in query-term
// order, so pruned and exhaustive searches give identical floats.
//
// Thread-safety: internally synchronised. Searches and stats reads run
// concurrently (shared lock); Add / Revive / Close / Collect take the lock
// exclusively for their (short) update. A writer applies a commit's changes
// before the collection publishes the new head, so a search at a version
// never sees half of it: documents added at version v are invisible below
// v, and a Close at v keeps the document visible below v.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "verity/types.h"

namespace verity::text {

using DocId = uint32_t;

inline constexpr Version kOpen = ~Version{0};  // an open range's end (the collection's kNoVersion)

// When a document is visible: [from, to) and [from2, to2); kOpen = none / open.
struct DocRanges {
  Version from = kOpen;
  Version to = kOpen;
  Version from2 = kOpen;
  Version to2 = kOpen;
  bool VisibleAt(Version v) const { return (from <= v && v < to) || (from2 <= v && v < to2); }
};

struct Bm25Params {
  double k1 = 1.2;
  double b = 0.75;
};

// Sums over the documents visible at one version.
struct CorpusStats {
  uint64_t docs = 0;
  uint64_t total_length = 0;  // sum of document lengths (terms, with repeats)
};

// The one BM25 formula every path uses (the index, the exhaustive search,
// the rows-only fallback, the tests' reference):
//   idf = ln(1 + (N - df + 0.5) / (df + 0.5))
//   tf_part = tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avg_len))
// score(doc) = sum over query terms t (with repeats) of idf(t) * tf_part(t).
// avg_len = total_length / docs (1 when docs is 0).
double Bm25Idf(uint64_t docs, uint64_t df);
double Bm25TermScore(double idf, uint32_t tf, uint32_t doc_length, double avg_length, const Bm25Params& params);

struct ScoredDoc {
  DocId doc = 0;
  double score = 0;
  bool operator==(const ScoredDoc& other) const = default;
};

// Which documents a search may return, besides being visible at the
// version: called for candidates only (a pre-filter). Null = all. Called
// under the index's shared lock: it must not call the index.
using DocAccept = std::function<bool(DocId)>;

// One document's content. Text: (term, frequency) pairs and the length
// (number of terms, with repeats). Sparse: (index as a 4-byte big-endian
// term, value) pairs; the length is unused.
struct DocTerms {
  std::vector<std::pair<std::string, float>> terms;  // each term once
  uint32_t length = 0;
};

// A text query term: the term and how many times the query holds it.
struct QueryTerm {
  std::string term;
  float weight = 1;  // text: the repeat count; sparse: the query value
};

class PostingIndex {
 public:
  enum class Kind { kBm25, kDot };
  explicit PostingIndex(Kind kind, Bm25Params params = {});
  ~PostingIndex();
  PostingIndex(const PostingIndex&) = delete;
  PostingIndex& operator=(const PostingIndex&) = delete;

  Kind kind() const { return kind_; }
  const Bm25Params& params() const { return params_; }

  // Adds a document never added before, visible from `version` (open).
  // At run time documents come in increasing id order; Load may add them
  // in any order before the first search.
  void Add(DocId doc, Version version, const DocTerms& content);
  // Adds a document with given ranges (loading at open). Documents whose
  // ranges are both empty are skipped.
  void Load(DocId doc, const DocRanges& ranges, const DocTerms& content);
  // A document revived by Restore at `version`: its second range opens.
  void Revive(DocId doc, Version version);
  // Closes the document's open range at `version` (replaced or deleted).
  void Close(DocId doc, Version version);
  // GC: no version can see the document any more (its postings stay until
  // a rebuild; it is never returned).
  void Collect(DocId doc);

  CorpusStats StatsAt(Version v) const;
  uint64_t DocFrequencyAt(std::string_view term, Version v) const;
  bool Contains(DocId doc) const;
  uint64_t documents() const;  // documents added (including closed and collected)
  uint64_t postings() const;
  uint64_t memory_bytes() const;  // approximate

  // The k best documents visible at `v` that `accept` takes, best first
  // (score descending, then doc id ascending). BM25 for kBm25 (query
  // weights are repeat counts), dot product for kDot (documents with no
  // query term never match; a negative query or document value disables
  // pruning for that query, not correctness).
  std::vector<ScoredDoc> Search(const std::vector<QueryTerm>& query, Version v, uint32_t k,
                                const DocAccept& accept) const;
  // The same result by scoring every posting of every query term: the
  // reference the tests compare Search with, and a benchmark baseline.
  std::vector<ScoredDoc> SearchExhaustive(const std::vector<QueryTerm>& query, Version v, uint32_t k,
                                          const DocAccept& accept) const;

 private:
  struct State;
  Kind kind_;
  Bm25Params params_;
  std::unique_ptr<State> state_;
};

// The term under which a sparse index is posted: its 4 bytes, big-endian.
std::string SparseTerm(uint32_t index);

}  // namespace verity::text
