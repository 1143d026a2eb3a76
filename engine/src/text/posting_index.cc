// PostingIndex: updates, MVCC-exact statistics, lazy finalisation after
// Load. The searches are in posting_search.cc; the data layout and its
// memory cost in posting_index_internal.h.
#include "text/posting_index.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <shared_mutex>

#include "text/posting_index_internal.h"

namespace verity::text {

using internal::Block;
using internal::DocInfo;
using internal::IndexData;
using internal::kBlockSize;
using internal::Posting;
using internal::StepFunction;
using internal::Term;

double Bm25Idf(uint64_t docs, uint64_t df) {
  const double n = static_cast<double>(docs);
  const double f = static_cast<double>(df);
  return std::log(1.0 + (n - f + 0.5) / (f + 0.5));
}

double Bm25TermScore(double idf, uint32_t tf, uint32_t doc_length, double avg_length, const Bm25Params& params) {
  const double t = static_cast<double>(tf);
  const double norm = 1.0 - params.b + params.b * static_cast<double>(doc_length) / avg_length;
  return idf * (t * (params.k1 + 1.0) / (t + params.k1 * norm));
}

std::string SparseTerm(uint32_t index) {
  std::string term(4, '\0');
  for (int i = 0; i < 4; ++i) term[i] = static_cast<char>((index >> (8 * (3 - i))) & 0xff);
  return term;
}

// ---- StepFunction ----

namespace internal {

bool StepFunction::Add(Version v, int64_t delta) {
  if (!pending_.empty() || (!points_.empty() && v < points_.back().first)) {
    pending_.emplace_back(v, delta);
    return false;
  }
  if (!points_.empty() && points_.back().first == v) {
    points_.back().second += delta;
  } else {
    points_.emplace_back(v, (points_.empty() ? 0 : points_.back().second) + delta);
  }
  // A step that changes nothing (added and closed at the same version).
  const int64_t before = points_.size() >= 2 ? points_[points_.size() - 2].second : 0;
  if (points_.back().second == before) points_.pop_back();
  return true;
}

int64_t StepFunction::At(Version v) const {
  auto it = std::upper_bound(points_.begin(), points_.end(), v,
                             [](Version x, const std::pair<Version, int64_t>& p) { return x < p.first; });
  return it == points_.begin() ? 0 : std::prev(it)->second;
}

void StepFunction::Finalize() {
  if (pending_.empty()) return;
  std::vector<std::pair<Version, int64_t>> deltas;
  deltas.reserve(points_.size() + pending_.size());
  int64_t previous = 0;
  for (const auto& [version, value] : points_) {
    deltas.emplace_back(version, value - previous);
    previous = value;
  }
  deltas.insert(deltas.end(), pending_.begin(), pending_.end());
  std::stable_sort(deltas.begin(), deltas.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  points_.clear();
  int64_t value = 0;
  for (size_t i = 0; i < deltas.size();) {
    const Version version = deltas[i].first;
    const int64_t before = value;
    for (; i < deltas.size() && deltas[i].first == version; ++i) value += deltas[i].second;
    if (value != before) points_.emplace_back(version, value);
  }
  points_.shrink_to_fit();
  pending_.clear();
  pending_.shrink_to_fit();
}

size_t StepFunction::memory_bytes() const {
  return (points_.capacity() + pending_.capacity()) * sizeof(std::pair<Version, int64_t>);
}

}  // namespace internal

// ---- updates ----

struct PostingIndex::State : IndexData {};

namespace {

bool RangeEmpty(Version from, Version to) { return from == kOpen || from >= to; }

void MarkDirtyTerm(IndexData& data, uint32_t term_id) {
  data.dirty = true;
  Term& term = data.terms[term_id];
  if (!term.listed) {
    term.listed = true;
    data.dirty_terms.push_back(term_id);
  }
}

// +sign at `version` for the document's count, length and terms' df.
void ApplyStats(IndexData& data, const DocInfo& info, Version version, int64_t sign) {
  if (version == kOpen) return;
  bool in_order = data.corpus_docs.Add(version, sign);
  in_order &= data.corpus_length.Add(version, sign * static_cast<int64_t>(info.length));
  if (!in_order) data.dirty = true;
  for (uint64_t i = 0; i < info.terms_count; ++i) {
    const uint32_t term_id = data.doc_terms[info.terms_begin + i];
    if (!data.terms[term_id].df.Add(version, sign)) MarkDirtyTerm(data, term_id);
  }
}

void ExtendBlocks(Term& term, const Posting& posting, uint32_t length) {
  if ((term.postings.size() - 1) % kBlockSize == 0) {
    term.blocks.push_back(Block{posting.doc, posting.weight, length});
    return;
  }
  Block& block = term.blocks.back();
  block.last_doc = posting.doc;
  block.max_weight = std::max(block.max_weight, posting.weight);
  block.min_length = std::min(block.min_length, length);
}

void AppendPosting(IndexData& data, uint32_t term_id, DocId doc, float weight, uint32_t length) {
  Term& term = data.terms[term_id];
  const bool first = term.postings.empty();
  if (!first && doc <= term.postings.back().doc) {
    term.unsorted = true;
    MarkDirtyTerm(data, term_id);
  }
  term.postings.push_back(Posting{doc, weight});
  if (!term.unsorted) ExtendBlocks(term, term.postings.back(), length);
  term.max_weight = first ? weight : std::max(term.max_weight, weight);
  term.min_weight = first ? weight : std::min(term.min_weight, weight);
  term.min_length = std::min(term.min_length, length);
  ++data.postings;
}

// Records the document (postings and its term-id list); no statistics.
// Returns null if the document was added before.
DocInfo* Insert(IndexData& data, DocId doc, const DocTerms& content) {
  if (doc < data.docs.size() && data.docs[doc].present) return nullptr;
  if (doc >= data.docs.size()) data.docs.resize(static_cast<size_t>(doc) + 1);
  DocInfo& info = data.docs[doc];
  info.present = true;
  info.length = content.length;
  info.terms_begin = data.doc_terms.size();
  for (const auto& [text, weight] : content.terms) {
    auto [it, added] = data.term_ids.try_emplace(text, static_cast<uint32_t>(data.terms.size()));
    if (added) data.terms.emplace_back();
    const uint32_t term_id = it->second;
    // "Each term once": a repeat (its first posting is this document's,
    // just appended) is ignored rather than posted twice.
    const Term& term = data.terms[term_id];
    if (!term.postings.empty() && term.postings.back().doc == doc) continue;
    data.doc_terms.push_back(term_id);
    AppendPosting(data, term_id, doc, weight, content.length);
  }
  info.terms_count = static_cast<uint32_t>(data.doc_terms.size() - info.terms_begin);
  ++data.documents;
  return &info;
}

void FinalizeTerm(IndexData& data, Term& term) {
  term.listed = false;
  term.df.Finalize();
  if (!term.unsorted) return;
  std::sort(term.postings.begin(), term.postings.end(),
            [](const Posting& a, const Posting& b) { return a.doc < b.doc; });
  std::vector<Posting> postings;
  postings.swap(term.postings);
  term.postings.reserve(postings.size());
  term.blocks.clear();
  for (const Posting& posting : postings) {
    term.postings.push_back(posting);
    ExtendBlocks(term, posting, data.docs[posting.doc].length);
  }
  term.unsorted = false;
}

// Sorts what Load left out of order. Requires the exclusive lock.
void Finalize(IndexData& data) {
  for (uint32_t term_id : data.dirty_terms) FinalizeTerm(data, data.terms[term_id]);
  data.dirty_terms.clear();
  data.corpus_docs.Finalize();
  data.corpus_length.Finalize();
  data.dirty = false;
}

// Runs `read` under the shared lock on a finalised index.
template <typename Read>
auto ReadFinal(IndexData& data, Read read) {
  std::shared_lock lock(data.lock);
  while (data.dirty) {
    lock.unlock();
    {
      std::unique_lock exclusive(data.lock);
      if (data.dirty) Finalize(data);
    }
    lock.lock();
  }
  return read();
}

}  // namespace

PostingIndex::PostingIndex(Kind kind, Bm25Params params)
    : kind_(kind), params_(params), state_(std::make_unique<State>()) {
  state_->kind = kind;
  state_->params = params;
}

PostingIndex::~PostingIndex() = default;

void PostingIndex::Add(DocId doc, Version version, const DocTerms& content) {
  if (version == kOpen) return;
  std::unique_lock lock(state_->lock);
  DocInfo* info = Insert(*state_, doc, content);
  if (info == nullptr) return;
  info->ranges = DocRanges{version, kOpen, kOpen, kOpen};
  ApplyStats(*state_, *info, version, +1);
}

void PostingIndex::Load(DocId doc, const DocRanges& ranges, const DocTerms& content) {
  const bool first_empty = RangeEmpty(ranges.from, ranges.to);
  const bool second_empty = RangeEmpty(ranges.from2, ranges.to2);
  if (first_empty && second_empty) return;
  std::unique_lock lock(state_->lock);
  DocInfo* info = Insert(*state_, doc, content);
  if (info == nullptr) return;
  info->ranges = ranges;
  if (!first_empty) {
    ApplyStats(*state_, *info, ranges.from, +1);
    ApplyStats(*state_, *info, ranges.to, -1);
  }
  if (!second_empty) {
    ApplyStats(*state_, *info, ranges.from2, +1);
    ApplyStats(*state_, *info, ranges.to2, -1);
  }
}

void PostingIndex::Revive(DocId doc, Version version) {
  if (version == kOpen) return;
  std::unique_lock lock(state_->lock);
  if (doc >= state_->docs.size()) return;
  DocInfo& info = state_->docs[doc];
  if (!info.present || info.collected || info.ranges.to == kOpen || info.ranges.from2 != kOpen) return;
  info.ranges.from2 = version;
  ApplyStats(*state_, info, version, +1);
}

void PostingIndex::Close(DocId doc, Version version) {
  if (version == kOpen) return;
  std::unique_lock lock(state_->lock);
  if (doc >= state_->docs.size()) return;
  DocInfo& info = state_->docs[doc];
  if (!info.present || info.collected) return;
  DocRanges& r = info.ranges;
  if (r.from2 != kOpen && r.to2 == kOpen) {
    r.to2 = version;
  } else if (r.from != kOpen && r.to == kOpen) {
    r.to = version;
  } else {
    return;  // nothing open
  }
  ApplyStats(*state_, info, version, -1);
}

void PostingIndex::Collect(DocId doc) {
  std::unique_lock lock(state_->lock);
  if (doc < state_->docs.size() && state_->docs[doc].present) state_->docs[doc].collected = true;
}

CorpusStats PostingIndex::StatsAt(Version v) const {
  return ReadFinal(*state_, [&] {
    return CorpusStats{static_cast<uint64_t>(std::max<int64_t>(0, state_->corpus_docs.At(v))),
                       static_cast<uint64_t>(std::max<int64_t>(0, state_->corpus_length.At(v)))};
  });
}

uint64_t PostingIndex::DocFrequencyAt(std::string_view term, Version v) const {
  return ReadFinal(*state_, [&]() -> uint64_t {
    const Term* t = state_->FindTerm(term);
    return t == nullptr ? 0 : static_cast<uint64_t>(std::max<int64_t>(0, t->df.At(v)));
  });
}

bool PostingIndex::Contains(DocId doc) const {
  std::shared_lock lock(state_->lock);
  return doc < state_->docs.size() && state_->docs[doc].present;
}

uint64_t PostingIndex::documents() const {
  std::shared_lock lock(state_->lock);
  return state_->documents;
}

uint64_t PostingIndex::postings() const {
  std::shared_lock lock(state_->lock);
  return state_->postings;
}

uint64_t PostingIndex::memory_bytes() const {
  std::shared_lock lock(state_->lock);
  const IndexData& d = *state_;
  uint64_t bytes = sizeof(IndexData) + d.docs.capacity() * sizeof(DocInfo) + d.doc_terms.capacity() * sizeof(uint32_t) +
                   d.terms.capacity() * sizeof(Term) + d.dirty_terms.capacity() * sizeof(uint32_t) +
                   d.corpus_docs.memory_bytes() + d.corpus_length.memory_bytes();
  // The term dictionary: a hash node (key, id, next, cached hash) and a bucket.
  for (const auto& [text, id] : d.term_ids)
    bytes += sizeof(std::string) + 32 + (text.size() > 15 ? text.size() + 1 : 0);
  bytes += d.term_ids.bucket_count() * sizeof(void*);
  for (const Term& term : d.terms) {
    bytes +=
        term.postings.capacity() * sizeof(Posting) + term.blocks.capacity() * sizeof(Block) + term.df.memory_bytes();
  }
  return bytes;
}

std::vector<ScoredDoc> PostingIndex::Search(const std::vector<QueryTerm>& query, Version v, uint32_t k,
                                            const DocAccept& accept) const {
  if (k == 0 || query.empty()) return {};
  return ReadFinal(*state_, [&] { return internal::SearchPruned(*state_, query, v, k, accept); });
}

std::vector<ScoredDoc> PostingIndex::SearchExhaustive(const std::vector<QueryTerm>& query, Version v, uint32_t k,
                                                      const DocAccept& accept) const {
  if (k == 0 || query.empty()) return {};
  return ReadFinal(*state_, [&] { return internal::SearchAll(*state_, query, v, k, accept); });
}

}  // namespace verity::text
