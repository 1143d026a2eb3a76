// Monitor::Report: one collection's signals over a time range, from the log
// and the annotations, in buckets, with the version changes marked.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <set>
#include <string_view>

#include "monitor/monitor.h"
#include "util/clock.h"

namespace verity {

namespace {

constexpr size_t kMaxMarkers = 200;
constexpr size_t kDefaultBuckets = 60;
// Answers without a stored annotation that one report computes (about
// 300 µs each); the rest are counted as answers, not annotated.
constexpr size_t kMaxOnDemandPerReport = 1000;

Status CheckReportRequest(const MonitorReportRequest& r) {
  if (r.collection.empty()) return Status::InvalidArgument("collection: required");
  for (auto [name, v] : {std::pair<const char*, int64_t>{"since_us", r.since_us}, {"until_us", r.until_us}}) {
    if (v < 0 || v > kMaxMonitorTimeUs) {
      return Status::InvalidArgument(std::string(name) + ": " + std::to_string(v) + " is outside 0.." +
                                     std::to_string(kMaxMonitorTimeUs));
    }
  }
  if (r.until_us > 0 && r.until_us <= r.since_us) return Status::InvalidArgument("until_us: must be after since_us");
  if (r.bucket_seconds < 0 || r.bucket_seconds > kMaxMonitorBucketSeconds) {
    return Status::InvalidArgument("bucket_seconds: " + std::to_string(r.bucket_seconds) + " is outside 0.." +
                                   std::to_string(kMaxMonitorBucketSeconds) + " (ten years)");
  }
  if (!(r.low_g >= 0 && r.low_g <= 1)) return Status::InvalidArgument("low_g: must be in [0, 1]");
  if (r.max_flagged > kMaxMonitorFlagged) {
    return Status::InvalidArgument("max_flagged: " + std::to_string(r.max_flagged) + " is over " +
                                   std::to_string(kMaxMonitorFlagged));
  }
  if (r.ids_per_bucket > 100) return Status::InvalidArgument("ids_per_bucket: " + std::to_string(r.ids_per_bucket) + " is over 100");
  if (r.max_records < 1 || r.max_records > kMaxMonitorRecords) {
    return Status::InvalidArgument("max_records: " + std::to_string(r.max_records) + " is outside 1.." +
                                   std::to_string(kMaxMonitorRecords));
  }
  return Status::Ok();
}

// Per bucket, while it is filled.
struct BucketWork {
  MonitorBucket b;
  std::vector<double> gs;
  std::vector<float> top1;  // of the drift leg (distances; scores negated)
  std::vector<std::string> flagged_ids;
  std::deque<std::string> other_ids;
};

double NearestRank(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t rank = static_cast<size_t>(std::ceil(q * v.size()));
  return v[std::max<size_t>(rank, 1) - 1];
}


ReportAnswer Summarize(const Annotation& a) {
  ReportAnswer s;
  s.scored = a.groundedness_scored && a.sentences > 0;
  s.toxic = a.toxic;
  s.cache_hit = a.cache_hit;
  s.g = a.g;
  s.prompt_tokens = a.prompt_tokens;
  s.answer_tokens = a.answer_tokens;
  s.tokens_saved = a.tokens_saved;
  s.kb_version = a.kb_version;
  s.prompt = a.prompt;
  s.flags = a.flags;
  for (const ToxicityMatchInfo& m : a.toxicity_matches) s.toxicity_terms.push_back(m.term);
  return s;
}

void AddAnswer(const MonitorReportRequest& req, const ReportAnswer& a, MonitorBucket& b, std::vector<double>& gs) {
  ++b.annotated;
  if (a.scored) {
    ++b.scored;
    gs.push_back(a.g);
    if (a.g < req.low_g) ++b.low_g;
  }
  if (a.toxic) ++b.toxic;
  if (a.cache_hit) {
    b.tokens_saved += a.tokens_saved;
  } else {
    b.prompt_tokens += a.prompt_tokens;
    b.answer_tokens += a.answer_tokens;
  }
}

// The flags of an annotation under the report's low_g (the stored flags
// used the server's).
std::vector<MonitorFlag> FlagsAt(const ReportAnswer& a, double low_g) {
  std::vector<MonitorFlag> flags;
  if (a.scored && a.g < low_g) flags.push_back(MonitorFlag::kLowGroundedness);
  for (MonitorFlag f : a.flags) {
    if (f != MonitorFlag::kLowGroundedness) flags.push_back(f);
  }
  return flags;
}

}  // namespace

// Reads the range's records of the collection into events (at most
// max_records; report->truncated then). Answers without an annotation get
// one computed here, not stored.
Result<std::vector<ReportEvent>> Monitor::ScanEvents(const MonitorReportRequest& req, MonitorReport* report) const {
  std::vector<ReportEvent> events;
  size_t on_demand_left = kMaxOnDemandPerReport;
  LogQuery q;
  q.collection = req.collection;
  q.since_us = req.since_us;
  q.until_us = req.until_us;
  q.limit = 1000;
  while (!report->truncated) {
    VERITY_ASSIGN_OR_RETURN(LogPage page, log_.List(q));
    for (LogRecord& r : page.records) {
      if (report->records_examined == req.max_records) {
        report->truncated = true;
        break;
      }
      ++report->records_examined;
      events.push_back(ToEvent(req.collection, r, &on_demand_left));
    }
    if (page.next_cursor == 0) break;
    q.start_after = page.next_cursor;
  }
  return events;
}

ReportEvent Monitor::ToEvent(const std::string& collection, LogRecord& r, size_t* on_demand_left) const {
  ReportEvent e;
  e.time_us = r.time_us;
  e.kind = r.kind;
  e.retrieval_id = r.retrieval_id;
  if (r.kind != LogKind::kRetrieval) {
    std::optional<Annotation> a = std::move(r.annotation);
    if (!a && *on_demand_left > 0) {  // computed for the report, not stored
      --*on_demand_left;
      if (auto pair = AnsweredPair(r.retrieval_id); pair.ok()) {
        if (auto computed = Compute(pair->first, pair->second, true); computed.ok()) a = std::move(*computed);
      }
    }
    if (a) e.answer = Summarize(*a);
    return e;
  }
  e.leg = LegOf(!r.query_vector.empty(), !r.text.empty(), !r.sparse.indices.empty());
  e.context_tokens = r.context_tokens;
  e.version = r.version;
  e.prompt = r.prompt;
  size_t in_context = 0;
  for (const RetrievedChunk& c : r.chunks) in_context += c.in_context;
  e.empty = in_context == 0;
  e.truncated = in_context < r.chunks.size();
  if (!e.leg || r.chunks.empty()) return e;
  const bool score = LegIsScore(*e.leg);
  e.has_top1 = true;
  e.top1 = score ? r.chunks[0].score : r.chunks[0].distance;
  for (const RetrievedChunk& c : r.chunks) e.top1 = score ? std::max(e.top1, c.score) : std::min(e.top1, c.distance);
  const ChunkSignal top{score ? 0 : e.top1, score ? e.top1 : 0, true};
  if (auto risk = Assess(collection, *e.leg, std::span<const ChunkSignal>(&top, 1))) e.weak = risk->weak;
  return e;
}

namespace {

// Builds a report from the scanned events: the range and buckets, the
// drift reference, then one event at a time, then the totals.
class ReportBuilder {
 public:
  ReportBuilder(const MonitorReportRequest& req, size_t drift_reference_size, MonitorReport& report)
      : req_(req), drift_reference_size_(drift_reference_size), report_(report) {}

  Status SetRange(const std::vector<ReportEvent>& events) {
    MonitorReport& r = report_;
    r.until_us = req_.until_us > 0 ? req_.until_us : std::max(NowMicros(), events.empty() ? 0 : events.back().time_us + 1);
    r.since_us = req_.since_us > 0 ? req_.since_us
                                   : (events.empty() ? r.until_us - 3600'000'000LL : events.front().time_us);
    const int64_t span = std::max<int64_t>(r.until_us - r.since_us, 1);
    r.bucket_us = req_.bucket_seconds > 0 ? req_.bucket_seconds * 1'000'000
                                          : std::max<int64_t>(1, (span + kDefaultBuckets - 1) / kDefaultBuckets);
    // Both below 2^62 (checked), so nothing here overflows.
    const int64_t n = span / r.bucket_us + (span % r.bucket_us != 0);
    if (n < 1 || n > kMaxMonitorBuckets) {
      return Status::InvalidArgument("bucket_seconds: " + std::to_string(req_.bucket_seconds) + " cuts the range in " +
                                     std::to_string(n) + " buckets; at most " + std::to_string(kMaxMonitorBuckets));
    }
    work_.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) work_[i].b.start_us = r.since_us + i * r.bucket_us;
    return Status::Ok();
  }

  // The drift leg: the one with the most top-1 values; its reference, the
  // first drift_reference_size of them (used when at least kMinDriftBucket).
  void ChooseDriftReference(const std::vector<ReportEvent>& events) {
    size_t per_leg[kNumRetrievalLegs] = {};
    for (const ReportEvent& e : events) per_leg[static_cast<size_t>(e.leg.value_or(RetrievalLeg::kDense))] += e.has_top1;
    drift_leg_ = std::max_element(per_leg, per_leg + kNumRetrievalLegs) - per_leg;
    for (const ReportEvent& e : events) {
      if (IsDriftValue(e) && reference_.size() < drift_reference_size_) reference_.push_back(DriftValue(e));
    }
    if (reference_.size() < kMinDriftBucket) return;
    edges_ = DecileEdges(reference_);
    ref_counts_.assign(kDriftScoreBins, 0);
    for (float v : reference_) ++ref_counts_[ScoreBin(edges_, v)];
  }

  void Add(const ReportEvent& e) {
    if (e.time_us < report_.since_us || e.time_us >= report_.until_us) return;
    const size_t index = static_cast<size_t>((e.time_us - report_.since_us) / report_.bucket_us);
    if (index >= work_.size()) return;  // cannot happen with a checked range
    BucketWork& w = work_[index];
    const bool flagged = e.kind == LogKind::kRetrieval ? AddRetrieval(e, w) : AddAnswered(e, w);
    // Bounded: the first flagged ids and the latest others (twice what is
    // listed: a retrieval and its answer repeat an id).
    const size_t keep = 2 * req_.ids_per_bucket;
    if (flagged && w.flagged_ids.size() < keep) w.flagged_ids.push_back(e.retrieval_id);
    if (!flagged && keep > 0) {
      if (w.other_ids.size() == keep) w.other_ids.pop_front();
      w.other_ids.push_back(e.retrieval_id);
    }
  }

  void Finish() {
    MonitorBucket& t = report_.totals;
    t.start_us = report_.since_us;
    std::vector<double> all_g;
    for (BucketWork& w : work_) {
      FinishBucket(w);
      const MonitorBucket& b = w.b;
      all_g.insert(all_g.end(), w.gs.begin(), w.gs.end());
      t.retrievals += b.retrievals, t.answers += b.answers, t.cache_hits += b.cache_hits;
      t.annotated += b.annotated, t.scored += b.scored, t.low_g += b.low_g, t.weak += b.weak;
      t.empty_context += b.empty_context, t.truncated_context += b.truncated_context, t.toxic += b.toxic;
      t.context_tokens += b.context_tokens, t.prompt_tokens += b.prompt_tokens;
      t.answer_tokens += b.answer_tokens, t.tokens_saved += b.tokens_saved;
      report_.buckets.push_back(std::move(w.b));
    }
    t.mean_g = Mean(all_g);
    t.g_p10 = NearestRank(all_g, 0.1);
    for (auto& [name, p] : prompts_) {
      if (p.scored) p.mean_g /= p.scored;
      report_.prompts.push_back(p);
    }
  }

 private:
  bool IsDriftValue(const ReportEvent& e) const { return e.has_top1 && static_cast<size_t>(*e.leg) == drift_leg_; }
  // Drift values are "smaller is closer": scores are negated.
  static float DriftValue(const ReportEvent& e) { return LegIsScore(*e.leg) ? -e.top1 : e.top1; }
  static double Mean(const std::vector<double>& v) {
    double sum = 0;
    for (double x : v) sum += x;
    return v.empty() ? 0 : sum / v.size();
  }

  bool AddRetrieval(const ReportEvent& e, BucketWork& w) {
    MonitorBucket& b = w.b;
    ++b.retrievals;
    b.context_tokens += e.context_tokens;
    b.weak += e.weak;
    b.empty_context += e.empty;
    b.truncated_context += e.truncated;
    if (IsDriftValue(e)) w.top1.push_back(DriftValue(e));
    std::vector<MonitorMarker>& markers = report_.markers;
    if (e.version > max_version_ && markers.size() < kMaxMarkers) {
      markers.push_back({e.time_us, "kb_version", std::to_string(e.version),
                         max_version_ ? std::to_string(max_version_) : "", e.retrieval_id});
    }
    max_version_ = std::max(max_version_, e.version);
    if (!e.prompt.empty() && prompts_seen_.insert(e.prompt).second && markers.size() < kMaxMarkers) {
      markers.push_back({e.time_us, "prompt", e.prompt, last_prompt_, e.retrieval_id});
    }
    if (!e.prompt.empty()) last_prompt_ = e.prompt;
    prompts_[e.prompt].prompt = e.prompt;
    prompts_[e.prompt].context_tokens += e.context_tokens;
    return e.weak || e.empty || e.truncated;
  }

  bool AddAnswered(const ReportEvent& e, BucketWork& w) {
    (e.kind == LogKind::kAnswer ? w.b.answers : w.b.cache_hits) += 1;
    if (!e.answer) return false;
    const ReportAnswer& a = *e.answer;
    AddAnswer(req_, a, w.b, w.gs);
    PromptMonitorStats& p = prompts_[a.prompt];
    p.prompt = a.prompt;
    ++p.answers;
    if (a.scored) {
      p.mean_g += a.g;
      ++p.scored;
    }
    p.prompt_tokens += a.cache_hit ? 0 : a.prompt_tokens;
    p.answer_tokens += a.cache_hit ? 0 : a.answer_tokens;
    p.tokens_saved += a.tokens_saved;
    std::vector<MonitorFlag> flags = FlagsAt(a, req_.low_g);
    if (flags.empty()) return false;
    ++report_.flagged_total;
    if (report_.flagged.size() < req_.max_flagged) {
      report_.flagged.push_back(
          {e.retrieval_id, e.time_us, std::move(flags), a.g, a.scored, a.prompt, a.kb_version, a.toxicity_terms});
    }
    return true;
  }

  void FinishBucket(BucketWork& w) const {
    MonitorBucket& b = w.b;
    b.mean_g = Mean(w.gs);
    b.g_p10 = NearestRank(w.gs, 0.1);
    if (!edges_.empty() && w.top1.size() >= kMinDriftBucket) {
      std::vector<uint64_t> counts(kDriftScoreBins, 0);
      for (float v : w.top1) ++counts[ScoreBin(edges_, v)];
      b.drift_computed = true;
      b.score_psi = PopulationStabilityIndex(ref_counts_, counts);
      b.score_threshold = kDefaultPsiThreshold + ExpectedNullPsi(kDriftScoreBins, reference_.size(), w.top1.size());
    }
    // Flagged ids first (oldest first), then the latest of the others; each
    // once (a retrieval and its answer share an id).
    std::set<std::string_view> listed;
    auto list = [&](const std::string& id) {
      if (b.retrieval_ids.size() < req_.ids_per_bucket && listed.insert(id).second) b.retrieval_ids.push_back(id);
    };
    for (const std::string& id : w.flagged_ids) list(id);
    for (size_t i = w.other_ids.size(); i > 0; --i) list(w.other_ids[i - 1]);
  }

  const MonitorReportRequest& req_;
  const size_t drift_reference_size_;
  MonitorReport& report_;
  std::vector<BucketWork> work_;
  size_t drift_leg_ = 0;
  std::vector<float> reference_, edges_;
  std::vector<uint64_t> ref_counts_;
  std::map<std::string, PromptMonitorStats> prompts_;
  Version max_version_ = 0;
  std::set<std::string> prompts_seen_;
  std::string last_prompt_;
};

}  // namespace

Result<MonitorReport> Monitor::Report(const MonitorReportRequest& req) const {
  VERITY_RETURN_IF_ERROR(CheckReportRequest(req));
  VERITY_RETURN_IF_ERROR(collections_.Find(req.collection).status());
  MonitorReport report;
  report.collection = req.collection;
  VERITY_ASSIGN_OR_RETURN(std::vector<ReportEvent> events, ScanEvents(req, &report));
  ReportBuilder builder(req, options_.drift_reference_size, report);
  VERITY_RETURN_IF_ERROR(builder.SetRange(events));
  builder.ChooseDriftReference(events);
  for (const ReportEvent& e : events) builder.Add(e);
  builder.Finish();
  for (CollectionMonitorStats& s : Stats()) {
    if (s.collection == req.collection) report.live = std::move(s.legs);
  }
  return report;
}

}  // namespace verity
