// Monitor: creation, the live per-collection state (weakness references,
// drift trackers, centroids), observation of retrievals, reset and stats.
#include "monitor/monitor.h"

#include <algorithm>
#include <cmath>


namespace verity {

namespace {

constexpr size_t kMaxPromptRows = 100;  // distinct prompts counted per collection; the rest as "other"
constexpr size_t kMaxCentroidSample = 100000;
constexpr uint64_t kCentroidSeed = 1;  // fixed: the same rows give the same centroids

Status CheckOptions(const MonitorOptions& o) {
  if (!(o.low_g >= 0 && o.low_g <= 1)) return Status::InvalidArgument("monitor.low_g: must be in [0, 1]");
  if (o.weak_reference_size < kMinTopScoreReference || o.weak_reference_size > kMaxTopScoreReference) {
    return Status::InvalidArgument("monitor.weak_reference_size: " + std::to_string(o.weak_reference_size) +
                                   " is outside " + std::to_string(kMinTopScoreReference) + ".." +
                                   std::to_string(kMaxTopScoreReference));
  }
  if (o.weak_percentile < kMinWeakPercentile || o.weak_percentile > kMaxWeakPercentile) {
    return Status::InvalidArgument("monitor.weak_percentile: " + std::to_string(o.weak_percentile) +
                                   " is outside 1..50");
  }
  if (o.drift_centroids < 1 || o.drift_centroids > kMaxCentroids) {
    return Status::InvalidArgument("monitor.drift_centroids: " + std::to_string(o.drift_centroids) +
                                   " is outside 1.." + std::to_string(kMaxCentroids));
  }
  if (o.centroid_sample < o.drift_centroids || o.centroid_sample > kMaxCentroidSample) {
    return Status::InvalidArgument("monitor.centroid_sample: " + std::to_string(o.centroid_sample) +
                                   " is outside drift_centroids.." + std::to_string(kMaxCentroidSample));
  }
  // The drift windows are checked by DriftTracker::Create (named there).
  DriftOptions d;
  d.reference_size = o.drift_reference_size;
  d.current_size = o.drift_current_size;
  d.num_centroids = o.drift_centroids;
  return DriftTracker::Create(d).status();
}

}  // namespace

std::optional<RetrievalLeg> LegOf(bool has_vector, bool has_text, bool has_sparse) {
  const int legs = int(has_vector) + int(has_text) + int(has_sparse);
  if (legs >= 2) return RetrievalLeg::kFused;
  if (has_vector) return RetrievalLeg::kDense;
  if (has_text) return RetrievalLeg::kText;
  return std::nullopt;
}

Result<std::unique_ptr<Monitor>> Monitor::Create(const MonitorOptions& options, Collections& collections,
                                                 ContextService& context, RetrievalLog& log, PromptRegistry& prompts,
                                                 std::function<void(LogLevel, const std::string&)> log_message) {
  VERITY_RETURN_IF_ERROR(CheckOptions(options));
  std::unique_ptr<Monitor> m(new Monitor(options, collections, context, log, prompts, std::move(log_message)));
  monitor::ToxicityConfig config{options.toxicity_languages, options.toxicity_allow};
  auto flagger = monitor::ToxicityFlagger::Create(config);
  if (!flagger.ok()) return Status::InvalidArgument("monitor.toxicity_" + flagger.status().message());
  m->toxicity_ = std::move(*flagger);
  return m;
}

Monitor::Monitor(const MonitorOptions& options, Collections& collections, ContextService& context, RetrievalLog& log,
                 PromptRegistry& prompts, std::function<void(LogLevel, const std::string&)> log_message)
    : options_(options),
      collections_(collections),
      context_(context),
      log_(log),
      prompts_(prompts),
      log_message_(std::move(log_message)) {}

Monitor::~Monitor() { Stop(); }

void Monitor::Start() {
  trainer_.Start(std::chrono::seconds(1), [this] { TrainPending(); });
}

void Monitor::Stop() { trainer_.Stop(); }

Status Monitor::MakeTrackers(State& state) const {
  TopScoreReferenceOptions r;
  r.reference_size = options_.weak_reference_size;
  r.percentile = options_.weak_percentile;
  VERITY_ASSIGN_OR_RETURN(state.reference, TopScoreReference::Create(r));
  DriftOptions d;
  d.reference_size = options_.drift_reference_size;
  d.current_size = options_.drift_current_size;
  d.num_centroids = options_.drift_centroids;
  for (LegState& leg : state.legs) {
    VERITY_ASSIGN_OR_RETURN(leg.drift, DriftTracker::Create(d));
  }
  return Status::Ok();
}

Monitor::State* Monitor::FindState(const std::string& collection) const {
  std::shared_lock lock(mu_);
  auto it = states_.find(collection);
  return it == states_.end() ? nullptr : it->second.get();
}

Monitor::State* Monitor::StateFor(const std::string& collection) {
  auto c = collections_.Find(collection);
  if (!c.ok()) return nullptr;
  State* found = FindState(collection);
  if (found && found->collection_id == (*c)->id) return found;
  auto state = std::make_unique<State>();
  state->name = collection;
  state->collection_id = (*c)->id;
  state->metric = (*c)->config.metric;
  state->stats.collection = collection;
  state->stats.g_buckets.assign(10, 0);
  if (Status s = MakeTrackers(*state); !s.ok()) {
    log_message_(LogLevel::kError, "monitor: " + s.ToString());
    return nullptr;
  }
  std::unique_lock lock(mu_);
  std::unique_ptr<State>& slot = states_[collection];
  if (slot && slot->collection_id == state->collection_id) return slot.get();  // another thread was first
  if (slot) retired_.push_back(std::move(slot));
  slot = std::move(state);
  return slot.get();
}

void Monitor::ObserveRetrieval(const RetrieveRequest& request, const RetrieveResult& result) {
  const auto leg = LegOf(!request.vector.empty(), !request.text.empty(), !request.sparse.indices.empty());
  if (!options_.observe_retrievals || !leg || result.chunks.empty()) return;
  State* state = StateFor(request.collection);
  if (!state) return;
  std::shared_lock trackers(mu_);  // Reset replaces the trackers under it
  // The best value over every chunk (the budget may leave the first out).
  float top1 = LegIsScore(*leg) ? result.chunks[0].score : result.chunks[0].distance;
  for (const RetrievedChunk& ch : result.chunks) {
    top1 = LegIsScore(*leg) ? std::max(top1, ch.score) : std::min(top1, ch.distance);
  }
  if (!std::isfinite(top1)) return;
  LegState& ls = state->legs[static_cast<size_t>(*leg)];
  const auto judged = state->reference->Judge(*leg, top1);
  (void)state->reference->Observe(*leg, top1);
  if (judged.ready) {
    ls.observed.fetch_add(1, std::memory_order_relaxed);
    if (judged.weak) ls.weak.fetch_add(1, std::memory_order_relaxed);
  }
  int region = -1;
  if (*leg == RetrievalLeg::kDense) {
    std::lock_guard lock(state->mu);
    if (state->centroids && state->centroids->dim == request.vector.size()) {
      region = AssignCentroid(*state->centroids, request.vector.data());
    } else {
      state->wants_centroids = !state->centroids_failed;
    }
  } else {
    const RetrievedChunk& top = result.chunks[0];
    region = TextRegion(top.document_id.empty() ? top.id : top.document_id, options_.drift_centroids);
  }
  // Drift scores are "smaller is closer": a score leg is observed negated.
  if (region >= 0) (void)ls.drift->Observe(LegIsScore(*leg) ? -top1 : top1, region);
}

// The first centroid_sample rows' vectors at head (rows of another
// dimension skipped: a collection created again under the name meanwhile).
Status Monitor::SampleRows(const std::string& collection, std::vector<float>* sample, size_t* dim, size_t* n) const {
  ScrollRequest page;
  page.limit = 1000;
  while (*n < options_.centroid_sample) {
    VERITY_ASSIGN_OR_RETURN(ScrollPage got, collections_.Scroll(collection, page));
    for (const StoredRecord& r : got.records) {
      if (*n == options_.centroid_sample || r.record.vector.empty()) continue;
      if (*dim != 0 && r.record.vector.size() != *dim) continue;
      *dim = r.record.vector.size();
      sample->insert(sample->end(), r.record.vector.begin(), r.record.vector.end());
      ++*n;
    }
    if (got.next_cursor.empty()) break;
    page.start_after = got.next_cursor;
  }
  return Status::Ok();
}

// The trainer's round: centroids for every collection that had a dense
// retrieval and has none, on its first centroid_sample rows at head.
void Monitor::TrainPending() {
  std::vector<State*> pending;
  {
    std::shared_lock lock(mu_);
    for (auto& [name, s] : states_) {
      std::lock_guard state_lock(s->mu);
      if (s->wants_centroids && !s->centroids) pending.push_back(s.get());
    }
  }
  for (State* s : pending) {
    if (trainer_.Stopping()) return;
    std::vector<float> sample;
    size_t dim = 0, n = 0;
    if (Status read = SampleRows(s->name, &sample, &dim, &n); !read.ok()) {
      // A read error (a dropped collection, a disk error): the next round
      // tries again while retrievals still ask.
      log_message_(LogLevel::kWarning, "monitor: centroids of " + s->name + ": " + read.ToString());
      std::lock_guard lock(s->mu);
      s->wants_centroids = false;
      continue;
    }
    auto trained = n < options_.drift_centroids
                       ? Result<Centroids>(Status::FailedPrecondition("fewer rows than centroids"))
                       : TrainCentroids(sample.data(), n, dim, options_.drift_centroids, kCentroidSeed, s->metric);
    std::lock_guard lock(s->mu);
    s->wants_centroids = false;
    if (!trained.ok() || trained->k != options_.drift_centroids) {
      // Fewer rows than centroids, or bad rows: the dense leg's drift then
      // watches the top-1 distances only (region 0 for every query).
      Centroids one;
      one.k = 1;
      one.dim = dim;
      one.metric = s->metric;
      one.data.assign(dim, 0.f);
      s->centroids = dim > 0 ? std::make_shared<const Centroids>(std::move(one)) : nullptr;
      s->centroids_failed = dim == 0;
      continue;
    }
    s->centroids = std::make_shared<const Centroids>(std::move(*trained));
  }
}

std::optional<RetrievalRisk> Monitor::Assess(const std::string& collection, RetrievalLeg leg,
                                             std::span<const ChunkSignal> chunks) const {
  std::shared_lock lock(mu_);
  auto it = states_.find(collection);
  if (it == states_.end()) return std::nullopt;
  auto risk = AssessRetrieval(*it->second->reference, leg, chunks);
  if (!risk.ok()) return std::nullopt;
  return *risk;
}

Status Monitor::Reset(const std::string& collection) {
  VERITY_RETURN_IF_ERROR(collections_.Find(collection).status());
  State* state = FindState(collection);
  if (!state) return Status::Ok();
  // New references and windows, and centroids trained again on the rows of
  // now (the counters stay: Prometheus counters only grow). The next
  // retrievals rebuild them. Trackers are replaced under the map's
  // exclusive lock, which every observer holds shared while it uses them.
  std::unique_lock lock(mu_);
  VERITY_RETURN_IF_ERROR(MakeTrackers(*state));
  std::lock_guard state_lock(state->mu);
  state->centroids = nullptr;
  state->centroids_failed = false;
  return Status::Ok();
}

void Monitor::CountAnnotation(const Annotation& a, bool ok) {
  State* state = a.collection.empty() ? nullptr : StateFor(a.collection);
  if (!state) return;
  std::lock_guard lock(state->mu);
  CollectionMonitorStats& st = state->stats;
  if (!ok) {
    ++st.annotation_failures;
    return;
  }
  ++st.answers_annotated;
  if (a.groundedness_scored && a.sentences > 0) {
    const size_t bucket = std::min<size_t>(9, a.g <= 0 ? 0 : static_cast<size_t>(std::ceil(a.g * 10 - 1e-9)) - 1);
    ++st.g_buckets[bucket];
    st.g_sum += a.g;
    ++st.g_count;
  }
  for (MonitorFlag f : a.flags) ++st.flags[static_cast<size_t>(f)];
  if (a.cache_hit) {
    ++st.cache_hits_annotated;
    st.tokens_saved += a.tokens_saved;
  }
  std::string prompt = a.prompt;
  auto row = state->token_rows.find(prompt);
  if (row == state->token_rows.end()) {
    if (state->token_rows.size() >= kMaxPromptRows) prompt = "other";
    row = state->token_rows.find(prompt);
    if (row == state->token_rows.end()) {
      row = state->token_rows.emplace(prompt, st.tokens.size()).first;
      st.tokens.push_back({prompt});
    }
  }
  CollectionMonitorStats::PromptTokens& t = st.tokens[row->second];
  ++t.answers;
  if (!a.cache_hit) {
    t.context += a.context_tokens;
    t.prompt_tokens += a.prompt_tokens;
    t.answer += a.answer_tokens;
  }
}

std::vector<CollectionMonitorStats> Monitor::Stats() const {
  std::vector<CollectionMonitorStats> out;
  std::shared_lock lock(mu_);
  for (const auto& [name, s] : states_) {
    // A dropped collection's series go (an alarm of it would fire forever).
    auto c = collections_.Find(name);
    if (!c.ok() || (*c)->id != s->collection_id) continue;
    {
      std::lock_guard state_lock(s->mu);
      out.push_back(s->stats);
    }
    for (size_t i = 0; i < kNumRetrievalLegs; ++i) {
      const LegState& ls = s->legs[i];
      const DriftReport r = ls.drift->Report();
      const LegReferenceState ref = s->reference->State(static_cast<RetrievalLeg>(i));
      if (r.observations == 0 && ref.count == 0) continue;
      LiveDriftState d;
      d.leg = RetrievalLegName(static_cast<RetrievalLeg>(i));
      d.observations = r.observations;
      d.reference_frozen = r.reference_frozen;
      d.reference_count = r.reference_count;
      d.current_count = r.current_count;
      d.ready = r.ready;
      d.score_psi = r.score_psi;
      d.score_threshold = r.score_threshold;
      d.region_psi = r.centroid_psi;
      d.region_threshold = r.centroid_threshold;
      d.alarm = r.alarm;
      d.weak_reference_frozen = ref.frozen;
      d.weak_threshold = ref.threshold;
      d.weak = ls.weak.load(std::memory_order_relaxed);
      d.observed = ls.observed.load(std::memory_order_relaxed);
      out.back().legs.push_back(std::move(d));
    }
  }
  return out;
}

}  // namespace verity
