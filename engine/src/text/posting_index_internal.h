// The posting index's data (posting_index.h), shared by its two source
// files: posting_index.cc (updates, statistics, the lazy finalisation after
// Load) and posting_search.cc (pruned and exhaustive top-k). Not part of the
// index's interface; nothing outside engine/src/text/ includes it.
//
// Memory (docs/text-search.md, "Index"):
//   - a posting is 8 bytes (Posting: doc u32 + weight float; the weight is
//     the term frequency for BM25, an integer stored exactly as a float,
//     or the sparse value);
//   - a block of kBlockSize postings adds 12 bytes (Block), < 0.1 byte per
//     posting;
//   - each document keeps the ids of its terms (4 bytes per posting) so
//     that Close and Revive can update the per-term document frequencies,
//     and a DocInfo (56 bytes) with its ranges and length;
//   - statistics: 16 bytes per (term, version that changed its df) and per
//     version that changed the corpus.
// So ~12.1 bytes per posting plus 56 per document plus the step functions,
// whose size follows the number of commits, not the number of documents.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "text/posting_index.h"
#include "util/rw_lock.h"

namespace verity::text::internal {

inline constexpr size_t kBlockSize = 128;

struct Posting {
  DocId doc;
  float weight;  // BM25: the term frequency; kDot: the document's value
};
static_assert(sizeof(Posting) == 8);

// A block's upper bounds: every posting of the block has weight <=
// max_weight and a document of length >= min_length (BM25 rises with the
// term frequency and falls with the length, so these two bound its score).
struct Block {
  DocId last_doc;
  float max_weight;
  uint32_t min_length;
};
static_assert(sizeof(Block) == 12);

// A function of the version that steps at the versions that changed it:
// value(v) = the sum of the deltas added at versions <= v. Deltas arrive in
// version order at run time (appended in O(1)); Load may add them in any
// order: those wait in pending_ until Finalize sorts them in.
class StepFunction {
 public:
  // Returns false when the delta went to pending_ (Finalize needed).
  bool Add(Version v, int64_t delta);
  int64_t At(Version v) const;  // requires !dirty()
  bool dirty() const { return !pending_.empty(); }
  void Finalize();
  size_t memory_bytes() const;

 private:
  std::vector<std::pair<Version, int64_t>> points_;   // (version, value from it on), versions ascending
  std::vector<std::pair<Version, int64_t>> pending_;  // (version, delta), any order
};

struct Term {
  std::vector<Posting> postings;  // doc ascending once finalised
  std::vector<Block> blocks;      // blocks[i] bounds postings [i * kBlockSize, (i + 1) * kBlockSize)
  StepFunction df;
  float max_weight = 0;  // over all postings (the list's bound)
  float min_weight = 0;  // < 0: a negative value in the list, no pruning
  uint32_t min_length = UINT32_MAX;
  bool unsorted = false;  // postings out of doc order (Load): sort in Finalize
  bool listed = false;    // in IndexData::dirty_terms
};

struct DocInfo {
  DocRanges ranges;
  uint64_t terms_begin = 0;  // its term ids: doc_terms[terms_begin, terms_begin + terms_count)
  uint32_t terms_count = 0;
  uint32_t length = 0;
  bool present = false;
  bool collected = false;
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct IndexData {
  PostingIndex::Kind kind = PostingIndex::Kind::kBm25;
  Bm25Params params;

  mutable RwLock lock;  // guards everything below
  bool dirty = false;   // a term or the corpus needs Finalize before a read
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> term_ids;
  std::vector<Term> terms;
  std::vector<uint32_t> dirty_terms;
  std::vector<DocInfo> docs;  // by DocId
  std::vector<uint32_t> doc_terms;
  StepFunction corpus_docs;
  StepFunction corpus_length;
  uint64_t documents = 0;
  uint64_t postings = 0;

  bool Visible(DocId doc, Version v) const {
    if (doc >= docs.size()) return false;
    const DocInfo& info = docs[doc];
    return info.present && !info.collected && info.ranges.VisibleAt(v);
  }
  const Term* FindTerm(std::string_view term) const {
    auto it = term_ids.find(term);
    return it == term_ids.end() ? nullptr : &terms[it->second];
  }
};

// Searches (posting_search.cc). Require the shared lock and a finalised
// index; k > 0.
std::vector<ScoredDoc> SearchPruned(const IndexData& data, const std::vector<QueryTerm>& query, Version v, uint32_t k,
                                    const DocAccept& accept);
std::vector<ScoredDoc> SearchAll(const IndexData& data, const std::vector<QueryTerm>& query, Version v, uint32_t k,
                                 const DocAccept& accept);

}  // namespace verity::text::internal
