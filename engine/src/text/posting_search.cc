// PostingIndex's top-k searches: block-max MaxScore (SearchPruned) and the
// exhaustive reference (SearchAll). docs/text-search.md, "Index", explains
// the algorithm; the comments here say why each step is safe.
//
// One rule makes the two bit-identical: a document's score is 0.0 plus the
// contributions of the query positions whose list holds the document, added
// in query order (a repeated query term counts once per position), each
// contribution computed by the one function Contribution().
#include <algorithm>
#include <cmath>
#include <limits>

#include "text/posting_index_internal.h"

namespace verity::text::internal {
namespace {

// Bounds are summed in another order than scores (and the refined bound
// subtracts), so they may be off by a few ulps: a bound counts as below the
// threshold only when it stays below after adding this relative margin.
// Documents whose exact score ties the k-th are kept by the same margin.
constexpr double kBoundMargin = 1e-9;

bool Below(double bound, double scale, double threshold) { return bound + kBoundMargin * std::abs(scale) < threshold; }

bool Better(const ScoredDoc& a, const ScoredDoc& b) {
  return a.score > b.score || (a.score == b.score && a.doc < b.doc);
}

// One query position with its term's list (null when the index lacks it).
struct QueryList {
  const Term* term = nullptr;
  double weight = 0;
  double idf = 0;  // BM25 only
};

struct Query {
  const IndexData* data = nullptr;
  Version version = 0;
  double avg_length = 1;
  std::vector<QueryList> lists;  // in query order
  bool prunable = true;          // false: negative weights or values, or BM25 parameters out of range
};

Query Prepare(const IndexData& data, const std::vector<QueryTerm>& terms, Version v) {
  Query q;
  q.data = &data;
  q.version = v;
  uint64_t docs = 0;
  if (data.kind == PostingIndex::Kind::kBm25) {
    docs = static_cast<uint64_t>(std::max<int64_t>(0, data.corpus_docs.At(v)));
    const auto total = static_cast<uint64_t>(std::max<int64_t>(0, data.corpus_length.At(v)));
    // avg_len = total / docs, 1 with no documents (or, for inconsistent
    // input, no length at all, where the formula would divide by zero).
    q.avg_length = docs == 0 || total == 0 ? 1.0 : static_cast<double>(total) / static_cast<double>(docs);
    const Bm25Params& p = data.params;
    // Monotonicity of BM25 in tf and length, which the bounds rely on.
    q.prunable = p.k1 >= 0 && p.b >= 0 && p.b <= 1 && std::isfinite(p.k1);
  }
  q.lists.reserve(terms.size());
  for (const QueryTerm& t : terms) {
    QueryList list;
    list.term = data.FindTerm(t.term);
    list.weight = static_cast<double>(t.weight);
    if (!(list.weight >= 0)) q.prunable = false;  // negative or NaN
    if (list.term != nullptr && data.kind == PostingIndex::Kind::kBm25) {
      list.idf = Bm25Idf(docs, static_cast<uint64_t>(std::max<int64_t>(0, list.term->df.At(v))));
    }
    if (list.term != nullptr && data.kind == PostingIndex::Kind::kDot && list.term->min_weight < 0) {
      q.prunable = false;
    }
    q.lists.push_back(list);
  }
  return q;
}

double Contribution(const Query& q, const QueryList& list, const Posting& posting) {
  if (q.data->kind == PostingIndex::Kind::kDot) return list.weight * static_cast<double>(posting.weight);
  return list.weight * Bm25TermScore(list.idf, static_cast<uint32_t>(posting.weight), q.data->docs[posting.doc].length,
                                     q.avg_length, q.data->params);
}

// The most a posting bounded by (max_weight, min_length) can contribute.
double Bound(const Query& q, const QueryList& list, float max_weight, uint32_t min_length) {
  if (q.data->kind == PostingIndex::Kind::kDot) return list.weight * static_cast<double>(max_weight);
  return list.weight *
         Bm25TermScore(list.idf, static_cast<uint32_t>(max_weight), min_length, q.avg_length, q.data->params);
}

std::vector<ScoredDoc> TopK(std::vector<ScoredDoc> candidates, uint32_t k) {
  const size_t n = std::min<size_t>(k, candidates.size());
  std::partial_sort(candidates.begin(), candidates.begin() + static_cast<ptrdiff_t>(n), candidates.end(), Better);
  candidates.resize(n);
  return candidates;
}

// A query position's cursor over its list (MaxScore).
struct Cursor {
  const QueryList* list = nullptr;
  const Posting* postings = nullptr;
  size_t size = 0;
  size_t pos = 0;    // the next posting not yet passed
  size_t block = 0;  // the first block whose last doc >= the current candidate
  double list_bound = 0;
  // Per candidate:
  double block_bound = 0;
  size_t bound_of = SIZE_MAX;  // the block block_bound belongs to
  bool in_block = false;       // block < number of blocks
  bool present = false;        // holds the candidate (after scoring)
  double contribution = 0;

  const std::vector<Block>& blocks() const { return list->term->blocks; }
  DocId doc() const { return postings[pos].doc; }
  bool done() const { return pos >= size; }
  void AdvanceTo(DocId target) {  // first posting with doc >= target
    pos = static_cast<size_t>(
        std::lower_bound(postings + pos, postings + size, target, [](const Posting& p, DocId d) { return p.doc < d; }) -
        postings);
  }
  // Moves `block` to the block that would hold `doc`, and block_bound to its bound.
  void ShallowSeek(const Query& q, DocId doc) {
    const std::vector<Block>& b = blocks();
    while (block < b.size() && b[block].last_doc < doc) ++block;
    in_block = block < b.size();
    if (!in_block) {
      block_bound = 0;
    } else if (block != bound_of) {  // computed once per block visited
      block_bound = Bound(q, *list, b[block].max_weight, b[block].min_length);
      bound_of = block;
    }
  }
  // Within the current block (the only one that can hold `doc`).
  bool DeepSeek(DocId doc) {
    const size_t lo = std::max(pos, block * kBlockSize);
    const size_t hi = std::min(size, (block + 1) * kBlockSize);
    pos = static_cast<size_t>(
        std::lower_bound(postings + lo, postings + hi, doc, [](const Posting& p, DocId d) { return p.doc < d; }) -
        postings);
    return pos < hi && postings[pos].doc == doc;
  }
};

class MaxScore {
 public:
  MaxScore(const Query& q, uint32_t k, const DocAccept& accept) : q_(q), k_(k), accept_(accept) {
    for (size_t i = 0; i < q.lists.size(); ++i) {
      const QueryList& list = q.lists[i];
      if (list.term == nullptr || list.term->postings.empty()) continue;
      Cursor c;
      c.list = &list;
      c.postings = list.term->postings.data();
      c.size = list.term->postings.size();
      c.list_bound = Bound(q, list, list.term->max_weight, list.term->min_length);
      cursors_.push_back(c);
    }
    // Ascending list bound: the first `first_essential_` lists together
    // cannot reach the threshold, so they only complete others' candidates.
    order_.resize(cursors_.size());
    for (size_t i = 0; i < order_.size(); ++i) order_[i] = i;
    std::stable_sort(order_.begin(), order_.end(),
                     [&](size_t a, size_t b) { return cursors_[a].list_bound < cursors_[b].list_bound; });
    double sum = 0;
    for (size_t i : order_) prefix_.push_back(sum += cursors_[i].list_bound);
  }

  std::vector<ScoredDoc> Run() {
    while (first_essential_ < order_.size()) {
      DocId d = std::numeric_limits<DocId>::max();
      bool any = false;
      for (size_t j = first_essential_; j < order_.size(); ++j) {
        const Cursor& c = cursors_[order_[j]];
        if (c.done()) continue;
        d = any ? std::min(d, c.doc()) : c.doc();
        any = true;
      }
      if (!any) break;
      Candidate(d);
    }
    std::sort(heap_.begin(), heap_.end(), Better);
    return std::move(heap_);
  }

 private:
  void Candidate(DocId d) {
    // Block-max window: every document in [d, window_end] scores at most
    // the sum of the current blocks' bounds.
    double window = 0;
    DocId window_end = std::numeric_limits<DocId>::max();
    for (Cursor& c : cursors_) {
      c.ShallowSeek(q_, d);
      if (!c.in_block) continue;
      window += c.block_bound;
      window_end = std::min(window_end, c.blocks()[c.block].last_doc);
    }
    if (Below(window, window, threshold_)) {
      if (window_end == std::numeric_limits<DocId>::max()) {
        first_essential_ = order_.size();  // nothing after can qualify
        return;
      }
      for (size_t j = first_essential_; j < order_.size(); ++j) cursors_[order_[j]].AdvanceTo(window_end + 1);
      return;
    }
    // The candidate's own bound: essential lists that hold it, every
    // non-essential list's block.
    double bound = 0;
    for (Cursor& c : cursors_) c.present = false;
    for (size_t j = 0; j < order_.size(); ++j) {
      Cursor& c = cursors_[order_[j]];
      if (j >= first_essential_ ? (!c.done() && c.doc() == d) : c.in_block) bound += c.block_bound;
    }
    if (!Below(bound, bound, threshold_) && q_.data->Visible(d, q_.version) && (!accept_ || accept_(d))) {
      Score(d, bound);
    }
    for (size_t j = first_essential_; j < order_.size(); ++j) {
      Cursor& c = cursors_[order_[j]];
      if (!c.done() && c.doc() == d) ++c.pos;
    }
  }

  // Scores d exactly unless the bound, refined list by list (largest list
  // bound first), falls below the threshold on the way.
  void Score(DocId d, double bound) {
    double rest = bound;
    for (size_t j = order_.size(); j-- > 0;) {
      Cursor& c = cursors_[order_[j]];
      if (j >= first_essential_) {
        if (c.done() || c.doc() != d) continue;
        c.present = true;
      } else {
        if (!c.in_block) continue;
        c.present = c.DeepSeek(d);
      }
      rest -= c.block_bound;
      if (c.present) rest += c.contribution = Contribution(q_, *c.list, c.postings[c.pos]);
      if (Below(rest, bound, threshold_)) return;
    }
    double score = 0.0;
    for (const Cursor& c : cursors_) {  // cursors_ are in query order
      if (c.present) score += c.contribution;
    }
    Push(ScoredDoc{d, score});
  }

  void Push(const ScoredDoc& doc) {
    if (heap_.size() == k_) {
      if (!Better(doc, heap_.front())) return;
      std::pop_heap(heap_.begin(), heap_.end(), Better);
      heap_.back() = doc;
    } else {
      heap_.push_back(doc);
    }
    std::push_heap(heap_.begin(), heap_.end(), Better);
    if (heap_.size() < k_) return;
    threshold_ = heap_.front().score;  // the k-th best
    while (first_essential_ < order_.size() &&
           Below(prefix_[first_essential_], prefix_[first_essential_], threshold_)) {
      ++first_essential_;
    }
  }

  const Query& q_;
  const uint32_t k_;
  const DocAccept& accept_;
  std::vector<Cursor> cursors_;
  std::vector<size_t> order_;   // cursor indices by ascending list bound
  std::vector<double> prefix_;  // prefix_[j]: the sum of the bounds of order_[0..j]
  size_t first_essential_ = 0;  // order_[first_essential_..] are essential
  double threshold_ = -std::numeric_limits<double>::infinity();
  std::vector<ScoredDoc> heap_;  // the best so far, worst at the front
};

}  // namespace

std::vector<ScoredDoc> SearchAll(const IndexData& data, const std::vector<QueryTerm>& query, Version v, uint32_t k,
                                 const DocAccept& accept) {
  const Query q = Prepare(data, query, v);
  std::vector<double> scores(data.docs.size());
  std::vector<uint8_t> seen(data.docs.size());
  std::vector<DocId> touched;
  for (const QueryList& list : q.lists) {  // query order: each document's sum in that order
    if (list.term == nullptr) continue;
    for (const Posting& posting : list.term->postings) {
      if (!data.Visible(posting.doc, v)) continue;
      if (!seen[posting.doc]) {
        seen[posting.doc] = 1;
        touched.push_back(posting.doc);
      }
      scores[posting.doc] += Contribution(q, list, posting);
    }
  }
  std::vector<ScoredDoc> candidates;
  candidates.reserve(touched.size());
  for (DocId doc : touched) {
    if (!accept || accept(doc)) candidates.push_back(ScoredDoc{doc, scores[doc]});
  }
  return TopK(std::move(candidates), k);
}

std::vector<ScoredDoc> SearchPruned(const IndexData& data, const std::vector<QueryTerm>& query, Version v, uint32_t k,
                                    const DocAccept& accept) {
  const Query q = Prepare(data, query, v);
  if (!q.prunable) return SearchAll(data, query, v, k, accept);
  return MaxScore(q, k, accept).Run();
}

}  // namespace verity::text::internal
