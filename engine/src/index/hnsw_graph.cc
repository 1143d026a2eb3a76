// HnswGraph: creation, insert, the engine's search loop, exact search, and
// Load (Save and Load's reading and checking of the nodes are
// index/hnsw_graph_io.cc, the file format index/graph_file.h, the
// reachability repair index/hnsw_repair.cc).
#include "index/hnsw_graph.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <new>
#include <queue>
#include <stdexcept>

#include "index/distance.h"
#include "index/graph_file.h"
#include "index/hnsw_graph_impl.h"
#include "index/quantizer.h"

namespace verity {
namespace {

// What hnswlib's distance plug-in gets as its parameter: the dimension and
// the kernel chosen at run time, so that an insert's distance is one
// indirect call.
struct KernelParam {
  size_t dim;
  DistanceKernel kernel;
};

float HnswL2(const void* a, const void* b, const void* param) {
  const auto* p = static_cast<const KernelParam*>(param);
  return p->kernel(static_cast<const float*>(a), static_cast<const float*>(b), p->dim);
}
float HnswDotDistance(const void* a, const void* b, const void* param) {
  const auto* p = static_cast<const KernelParam*>(param);
  return 1.0f - p->kernel(static_cast<const float*>(a), static_cast<const float*>(b), p->dim);
}

}  // namespace

// hnswlib's distance plug-in, backed by the engine's run-time chosen kernels.
class KernelSpace : public hnswlib::SpaceInterface<float> {
 public:
  KernelSpace(size_t dim, Metric metric)
      : metric_(metric), param_{dim, metric == Metric::kL2 ? SelectedL2Kernel() : SelectedDotKernel()} {}
  size_t get_data_size() override { return param_.dim * sizeof(float); }
  hnswlib::DISTFUNC<float> get_dist_func() override {
    return metric_ == Metric::kL2 ? HnswL2 : HnswDotDistance;
  }
  void* get_dist_func_param() override { return &param_; }

 private:
  Metric metric_;
  KernelParam param_;
};

// The quantized copy of the vectors: one code row per hnswlib internal id,
// each row 64-byte aligned and zero-padded to a multiple of 64 bytes (the
// padding adds nothing to a distance, and the kernels need no tail loop).
class CodeStore {
 public:
  explicit CodeStore(size_t dim) : dim_(dim), stride_((dim + 63) / 64 * 64) {}
  size_t dim() const { return dim_; }
  size_t stride() const { return stride_; }
  uint8_t* row(tableint id) { return data_.get() + static_cast<size_t>(id) * stride_; }
  const uint8_t* row(tableint id) const { return data_.get() + static_cast<size_t>(id) * stride_; }
  // Room for `rows` rows, keeping the existing ones. Throws std::bad_alloc.
  // New rows are not touched (so not resident) until they are encoded.
  void Reserve(size_t rows) {
    if (rows <= capacity_) return;
    void* p = std::aligned_alloc(64, rows * stride_);
    if (p == nullptr) throw std::bad_alloc();
    if (capacity_ > 0) std::memcpy(p, data_.get(), capacity_ * stride_);
    data_.reset(static_cast<uint8_t*>(p));
    capacity_ = rows;
  }
  // Encodes `vector` into row `id`, padding included; true when clamped.
  bool Encode(const ScalarQuantizer& q, const float* vector, tableint id) {
    uint8_t* r = row(id);
    std::memset(r + dim_, 0, stride_ - dim_);
    return q.Encode(vector, dim_, r);
  }

 private:
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  size_t dim_;
  size_t stride_;
  size_t capacity_ = 0;
  std::unique_ptr<uint8_t, Free> data_;
};


void HnswGraph::Impl::Retrain(size_t dim) {
  const size_t count = hnsw->cur_element_count;
  if (count == 0) return;
  ScalarQuantizer::Trainer trainer(dim);
  for (size_t i = 0; i < count; ++i) trainer.Add(vector(static_cast<tableint>(i)));
  quantizer = trainer.Finish();
  for (size_t i = 0; i < count; ++i) {
    codes->Encode(quantizer, vector(static_cast<tableint>(i)), static_cast<tableint>(i));
  }
  clamped_since_training = 0;
}

HnswGraph::HnswGraph(const GraphParams& params, std::unique_ptr<Impl> impl)
    : params_(params), impl_(std::move(impl)) {}

HnswGraph::~HnswGraph() = default;

void PrepareVector(Metric metric, float* v, size_t dim) {
  if (metric != Metric::kCosine) return;
  double norm = 0;
  for (size_t i = 0; i < dim; ++i) norm += static_cast<double>(v[i]) * v[i];
  if (norm <= 0) return;
  const float inv = static_cast<float>(1.0 / std::sqrt(norm));
  for (size_t i = 0; i < dim; ++i) v[i] *= inv;
}

Result<std::unique_ptr<HnswGraph>> HnswGraph::Create(const GraphParams& params, size_t capacity) {
  auto impl = std::make_unique<Impl>();
  impl->space = std::make_unique<KernelSpace>(params.dimension, params.metric);
  try {
    impl->hnsw = std::make_unique<Hnsw>(impl->space.get(), std::max<size_t>(capacity, 16), params.m,
                                        params.ef_construction);
    impl->label_of_internal.resize(impl->hnsw->max_elements_);
    if (params.metric != Metric::kIp) {
      impl->codes = std::make_unique<CodeStore>(params.dimension);
      impl->codes->Reserve(impl->hnsw->max_elements_);
    }
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of memory creating a graph for " +
                                     std::to_string(capacity) + " nodes");
  } catch (const std::exception& e) {
    return Status::Internal(std::string("hnswlib: ") + e.what());
  }
  return std::unique_ptr<HnswGraph>(new HnswGraph(params, std::move(impl)));
}

size_t HnswGraph::size() const { return impl_->internal_of_label.size(); }

size_t HnswGraph::node_count() const { return impl_->hnsw->cur_element_count; }

HnswGraph::Routing HnswGraph::routing() const {
  return {impl_->codes != nullptr && impl_->quantizer.routes, impl_->quantizer.step};
}

bool HnswGraph::Contains(uint32_t label) const {
  return label < impl_->internal_of_label.size() && impl_->internal_of_label[label] != kMissing;
}

Status HnswGraph::Add(const float* vectors, size_t n, int threads) {
  std::vector<uint32_t> labels(n);
  for (size_t i = 0; i < n; ++i) labels[i] = static_cast<uint32_t>(size() + i);
  return AddLabels(labels.data(), vectors, n, threads);
}

void HnswGraph::ExtendSpan(size_t span) {
  if (span > impl_->internal_of_label.size()) impl_->internal_of_label.resize(span, kMissing);
}

Status HnswGraph::AddLabels(const uint32_t* labels, const float* vectors, size_t n, int threads) {
  Hnsw& h = *impl_->hnsw;
  if (n == 0) return Status::Ok();
  for (size_t i = 0; i < n; ++i) {
    if (labels[i] < size() || (i > 0 && labels[i] <= labels[i - 1])) {
      return Status::Internal("graph labels must be new and increasing");
    }
  }
  const size_t nodes = node_count();
  const size_t dim = params_.dimension;
  try {
    if (nodes + n > h.max_elements_) {
      h.resizeIndex(std::max(nodes + n, h.max_elements_ * 2));
    }
    impl_->internal_of_label.resize(static_cast<size_t>(labels[n - 1]) + 1, kMissing);
    impl_->label_of_internal.resize(h.max_elements_);
    if (impl_->codes) impl_->codes->Reserve(h.max_elements_);
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of memory growing the graph to " +
                                     std::to_string(nodes + n) + " nodes");
  } catch (const std::exception& e) {
    return Status::Internal(std::string("hnswlib resize: ") + e.what());
  }

  // The first vectors train the quantizer; later ones that fall outside its
  // range are clamped and counted, and past 1% of the nodes it is retrained
  // on all of them (below).
  if (impl_->codes && !impl_->quantizer.trained) impl_->quantizer = ScalarQuantizer::Train(vectors, n, dim);
  std::atomic<int> failures{0};
  std::atomic<size_t> clamped{0};
  std::string first_error;
  std::mutex error_mu;
  auto insert_one = [&](size_t i) {
    try {
      tableint internal = h.addPoint(vectors + i * dim, static_cast<labeltype>(labels[i]), -1);
      impl_->internal_of_label[labels[i]] = internal;
      impl_->label_of_internal[internal] = labels[i];
      if (impl_->codes && impl_->codes->Encode(impl_->quantizer, vectors + i * dim, internal)) {
        clamped.fetch_add(1, std::memory_order_relaxed);
      }
    } catch (const std::exception& e) {
      if (failures.fetch_add(1) == 0) {
        std::lock_guard<std::mutex> lock(error_mu);
        first_error = e.what();
      }
    }
  };
  // Small batches are not worth a thread team.
  if (n < 64 || threads == 1) {
    for (size_t i = 0; i < n; ++i) insert_one(i);
  } else {
    const int team = threads > 0 ? threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 16) num_threads(team)
    for (size_t i = 0; i < n; ++i) insert_one(i);
  }
  if (failures.load() > 0) {
    return Status::Internal("hnswlib insert failed for " + std::to_string(failures.load()) +
                            " nodes: " + first_error);
  }
  impl_->clamped_since_training += clamped.load();
  if (impl_->codes && impl_->clamped_since_training * 100 > h.cur_element_count) impl_->Retrain(dim);
  return Status::Ok();
}

namespace {

// One search's working memory, kept per thread so that a query allocates
// nothing once its thread has warmed up: the visited marks (an epoch per
// node, cleared only when the epoch wraps), the two heaps and the query's code.
struct Candidate {
  float distance;
  tableint id;
};
// A binary heap of candidates on reusable storage, the farthest on top or the
// nearest: comparisons inline, no allocation once the storage has grown to
// what a query needs. (std::push_heap with a comparator function pointer
// was not inlined: 5% of a 128-d search.)
template <bool kFarthestOnTop>
class CandidateHeap {
 public:
  void clear() { size_ = 0; }
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  const Candidate& top() const { return items_[0]; }
  Candidate* begin() { return items_.data(); }
  Candidate* end() { return items_.data() + size_; }
  void push(Candidate c) {
    if (size_ == items_.size()) Grow();
    size_t i = size_++;
    while (i > 0) {
      const size_t parent = (i - 1) / 2;
      if (!Before(c, items_[parent])) break;
      items_[i] = items_[parent];
      i = parent;
    }
    items_[i] = c;
  }
  void pop() {
    const Candidate last = items_[--size_];
    if (size_ == 0) return;
    size_t i = 0;
    for (;;) {
      size_t child = 2 * i + 1;
      if (child >= size_) break;
      if (child + 1 < size_ && Before(items_[child + 1], items_[child])) ++child;
      if (!Before(items_[child], last)) break;
      items_[i] = items_[child];
      i = child;
    }
    items_[i] = last;
  }

 private:
  static bool Before(const Candidate& a, const Candidate& b) {
    return kFarthestOnTop ? a.distance > b.distance : a.distance < b.distance;
  }
  __attribute__((noinline)) void Grow() { items_.resize(items_.size() * 2 + 64); }
  std::vector<Candidate> items_;
  size_t size_ = 0;
};

struct SearchScratch {
  std::vector<uint16_t> visited;
  uint16_t epoch = 0;
  CandidateHeap<false> candidates;  // nearest on top
  CandidateHeap<true> results;      // farthest on top, at most ef
  std::vector<tableint> fresh;        // one node's unvisited neighbours
  std::vector<uint8_t> query_code;

  // A fresh epoch for a graph of n nodes.
  uint16_t Begin(size_t n) {
    if (visited.size() < n) visited.resize(n, 0);
    if (++epoch == 0) {
      std::fill(visited.begin(), visited.end(), 0);
      epoch = 1;
    }
    candidates.clear();
    results.clear();
    return epoch;
  }
};
thread_local SearchScratch tls_scratch;


// Routing distance on codes (l2, and cosine, whose unit vectors rank the
// same by L2): exact integers, compared as floats (the conversion keeps the
// order; above 2^24 it may merge neighbouring values into ties).
struct CodeDistance {
  const CodeStore* codes;
  const uint8_t* query;
  CodeKernel kernel;
  size_t lines;  // cache lines per code row
  float operator()(tableint id) const {
    return static_cast<float>(kernel(query, codes->row(id), codes->stride()));
  }
  void Prefetch(tableint id) const {
    const char* p = reinterpret_cast<const char*>(codes->row(id));
    for (size_t i = 0; i < lines; ++i) _mm_prefetch(p + 64 * i, _MM_HINT_T0);
  }
};

// Float distance (ip, and data too uneven for codes).
struct FloatDistance {
  const Hnsw* h;
  const float* query;
  DistanceKernel kernel;
  bool dot;  // 1 - dot, else squared L2
  size_t dim;
  FloatDistance(const Hnsw* h, const float* query, Metric metric, size_t dim)
      : h(h), query(query), kernel(metric == Metric::kL2 ? SelectedL2Kernel() : SelectedDotKernel()),
        dot(metric != Metric::kL2), dim(dim) {}
  float operator()(tableint id) const {
    const float d = kernel(query, reinterpret_cast<const float*>(h->getDataByInternalId(id)), dim);
    const float distance = dot ? 1.0f - d : d;
    // A NaN would break the heaps' order: it routes as the farthest node.
    return std::isnan(distance) ? std::numeric_limits<float>::infinity() : distance;
  }
  void Prefetch(tableint id) const {
    const char* p = h->getDataByInternalId(id);
    for (size_t i = 0; i < 4 && i * 64 < dim * sizeof(float); ++i) _mm_prefetch(p + 64 * i, _MM_HINT_T0);
  }
};

// How many neighbours ahead the level-0 loop prefetches.
constexpr int kPrefetchAhead = 2;

// Greedy descent through the upper layers (they only route: no filter),
// then best-first search on layer 0, where every node routes and only
// accepted nodes enter `s.results` (at most ef, a max-heap).
template <typename Dist>
void SearchGraph(const Hnsw& h, const Dist& dist, uint32_t ef, const LabelFilter& accept,
                 const uint32_t* label_of, SearchScratch& s) {
  tableint current = h.enterpoint_node_;
  float current_dist = dist(current);
  for (int level = h.maxlevel_; level > 0; --level) {
    bool changed = true;
    while (changed) {
      changed = false;
      linklistsizeint* list = h.get_linklist(current, level);
      const int count = h.getListCount(list);
      const tableint* links = reinterpret_cast<const tableint*>(list + 1);
      for (int i = 0; i < count; ++i) dist.Prefetch(links[i]);
      for (int i = 0; i < count; ++i) {
        const float d = dist(links[i]);
        if (d < current_dist) {
          current_dist = d;
          current = links[i];
          changed = true;
        }
      }
    }
  }

  const uint16_t tag = s.Begin(h.cur_element_count);
  uint16_t* visited = s.visited.data();
  const bool filtered = accept.fn != nullptr;
  auto& candidates = s.candidates;
  auto& results = s.results;
  float bound = std::numeric_limits<float>::max();
  auto offer = [&](float d, tableint id) {
    if (filtered && !accept.Accepts(label_of[id])) return;
    results.push({d, id});
    if (results.size() > ef) results.pop();
    bound = results.top().distance;
  };
  offer(current_dist, current);
  candidates.push({current_dist, current});
  visited[current] = tag;
  s.fresh.resize(h.maxM0_ + 1);
  tableint* fresh = s.fresh.data();

  while (!candidates.empty()) {
    const Candidate next = candidates.top();
    if (next.distance > bound && results.size() >= ef) break;
    candidates.pop();
    // The link list of the candidate after this one is read next.
    if (!candidates.empty()) _mm_prefetch(reinterpret_cast<const char*>(h.get_linklist0(candidates.top().id)), _MM_HINT_T0);
    linklistsizeint* list = h.get_linklist0(next.id);
    const int count = h.getListCount(list);
    const tableint* links = reinterpret_cast<const tableint*>(list + 1);
    int n_fresh = 0;
    for (int i = 0; i < count; ++i) {
      const tableint id = links[i];
      if (visited[id] == tag) continue;
      visited[id] = tag;
      fresh[n_fresh++] = id;
    }
    for (int i = 0; i < std::min(n_fresh, kPrefetchAhead); ++i) dist.Prefetch(fresh[i]);
    for (int i = 0; i < n_fresh; ++i) {
      if (i + kPrefetchAhead < n_fresh) dist.Prefetch(fresh[i + kPrefetchAhead]);
      const tableint id = fresh[i];
      const float d = dist(id);
      if (results.size() < ef || d < bound) {
        candidates.push({d, id});
        offer(d, id);
      }
    }
  }
}

}  // namespace

std::vector<Neighbor> HnswGraph::Search(const float* query, uint32_t k, uint32_t ef,
                                        const LabelFilter& accept) const {
  const Hnsw& h = *impl_->hnsw;
  std::vector<Neighbor> out;
  if (h.cur_element_count == 0 || k == 0) return out;
  ef = std::max(ef, k);
  const size_t dim = params_.dimension;
  SearchScratch& s = tls_scratch;
  const uint32_t* label_of = impl_->label_of_internal.data();
  if (impl_->codes && impl_->quantizer.routes) {
    const CodeStore& codes = *impl_->codes;
    s.query_code.assign(codes.stride() + 64, 0);
    // 64-byte aligned inside the buffer, like the rows.
    uint8_t* q = s.query_code.data() + (64 - reinterpret_cast<uintptr_t>(s.query_code.data()) % 64) % 64;
    impl_->quantizer.Encode(query, dim, q);
    SearchGraph(h, CodeDistance{&codes, q, SelectedCodeL2Kernel(), codes.stride() / 64}, ef, accept, label_of, s);
    // Re-rank the pool with the float vectors: the returned distances are
    // exact, and code rounding only decides which ef nodes are in the pool.
    for (Candidate& c : s.results) c.distance = Distance(params_.metric, query, impl_->vector(c.id), dim);
    // (The pool is no longer a heap from here on; it is only sorted.)
  } else {
    SearchGraph(h, FloatDistance{&h, query, params_.metric, dim}, ef, accept, label_of, s);
  }
  // Nearest first; equal distances by label, so the order is deterministic.
  // NaN distances (vectors stored before components were bounded) have no
  // rank: moved past the end and dropped. The float walk routed them as +inf.
  CandidateHeap<true>& pool = s.results;
  Candidate* ranked_end = std::partition(pool.begin(), pool.end(),
                                         [](const Candidate& c) { return !std::isnan(c.distance); });
  auto before = [&](const Candidate& a, const Candidate& b) {
    return a.distance < b.distance || (a.distance == b.distance && label_of[a.id] < label_of[b.id]);
  };
  const size_t keep = std::min<size_t>(k, static_cast<size_t>(ranked_end - pool.begin()));
  std::partial_sort(pool.begin(), pool.begin() + keep, ranked_end, before);
  out.resize(keep);
  const Candidate* sorted = pool.begin();
  for (size_t i = 0; i < keep; ++i) out[i] = {sorted[i].distance, label_of[sorted[i].id]};
  return out;
}

std::vector<Neighbor> HnswGraph::ExactSearch(const float* query, uint32_t k,
                                             const LabelFilter& accept) const {
  const Hnsw& h = *impl_->hnsw;
  const size_t dim = params_.dimension;
  auto farther = [](const Neighbor& a, const Neighbor& b) { return a.distance < b.distance; };
  std::vector<Neighbor> heap;  // max-heap on distance, at most k
  heap.reserve(k + 1);
  // Walk labels, not internal ids: the accept check reads the caller's
  // label-indexed arrays sequentially, and a node's vector (one cache miss
  // each, nodes are kilobytes apart) is touched only when it qualifies.
  const auto& internal_of_label = impl_->internal_of_label;
  for (uint32_t label = 0; label < internal_of_label.size(); ++label) {
    if (internal_of_label[label] == kMissing || !accept.Accepts(label)) continue;
    const float d = Distance(params_.metric, query,
                             reinterpret_cast<const float*>(h.getDataByInternalId(internal_of_label[label])), dim);
    if (std::isnan(d)) continue;  // no rank (see Search)
    if (heap.size() < k) {
      heap.push_back({d, label});
      std::push_heap(heap.begin(), heap.end(), farther);
    } else if (d < heap.front().distance) {
      std::pop_heap(heap.begin(), heap.end(), farther);
      heap.back() = {d, label};
      std::push_heap(heap.begin(), heap.end(), farther);
    }
  }
  std::sort_heap(heap.begin(), heap.end(), farther);
  return heap;
}

Result<std::unique_ptr<HnswGraph>> HnswGraph::Load(const std::string& path, const GraphParams& params,
                                                   uint32_t collection_id, uint64_t max_label_span,
                                                   Version* covered_version) {
  VERITY_ASSIGN_OR_RETURN(GraphFileContents file, ReadGraphFile(path, params, collection_id, max_label_span));
  const GraphFileHeader& header = file.header;
  auto created = Create(params, header.node_count);
  if (!created.ok()) return created.status();
  std::unique_ptr<HnswGraph> graph = std::move(created).value();
  Impl& impl = *graph->impl_;
  VERITY_RETURN_IF_ERROR(
      CheckGraphFileBody(path, file, impl.hnsw->size_data_per_element_, impl.hnsw->size_links_per_element_));
  VERITY_RETURN_IF_ERROR(impl.LoadNodes(path, file));
  VERITY_RETURN_IF_ERROR(impl.CheckLevels(path, header));
  // The codes are not stored: they are the saved quantizer applied to the
  // vectors, so the reopened graph routes exactly as before.
  if (params.metric != Metric::kIp) {
    impl.quantizer = ScalarQuantizer{header.quantizer_lo, header.quantizer_step, header.quantizer_trained == 1,
                                     header.quantizer_routes == 1};
    for (size_t i = 0; i < header.node_count; ++i) {
      const tableint id = static_cast<tableint>(i);
      if (impl.codes->Encode(impl.quantizer, impl.vector(id), id)) ++impl.clamped_since_training;
    }
  }
  *covered_version = header.covered_version;
  return graph;
}

}  // namespace verity
