// Monitor::Report: one collection's signals over a time range, from the log
// and the annotations, in buckets, with the version changes marked.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include "monitor/monitor.h"

namespace verity {

namespace {

constexpr size_t kMaxMarkers = 200;
constexpr size_t kDefaultBuckets = 60;

Status CheckReportRequest(const MonitorReportRequest& r) {
  if (r.collection.empty()) return Status::InvalidArgument("collection: required");
  if (r.since_us < 0) return Status::InvalidArgument("since_us: must not be negative");
  if (r.until_us < 0) return Status::InvalidArgument("until_us: must not be negative");
  if (r.until_us > 0 && r.until_us <= r.since_us) return Status::InvalidArgument("until_us: must be after since_us");
  if (r.bucket_seconds < 0) return Status::InvalidArgument("bucket_seconds: must not be negative");
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

// What the report keeps of one record while it scans.
struct Event {
  int64_t time_us = 0;
  LogKind kind = LogKind::kRetrieval;
  std::string retrieval_id;
  // retrievals
  std::optional<RetrievalLeg> leg;
  float top1 = 0;
  bool has_top1 = false, weak = false, empty = false, truncated = false;
  uint32_t context_tokens = 0;
  Version version = 0;
  std::string prompt;
  // answers and cache hits
  std::optional<Annotation> annotation;
};

// Per bucket, while it is filled.
struct BucketWork {
  MonitorBucket b;
  std::vector<double> gs;
  std::vector<float> top1;  // of the drift leg
  std::vector<std::string> flagged_ids, other_ids;
};

double NearestRank(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t rank = static_cast<size_t>(std::ceil(q * v.size()));
  return v[std::max<size_t>(rank, 1) - 1];
}

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void AddAnswer(const MonitorReportRequest& req, const Annotation& a, MonitorBucket& b, std::vector<double>& gs) {
  ++b.annotated;
  if (a.groundedness_scored && a.sentences > 0) {
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
std::vector<MonitorFlag> FlagsAt(const Annotation& a, double low_g) {
  std::vector<MonitorFlag> flags;
  if (a.groundedness_scored && a.sentences > 0 && a.g < low_g) flags.push_back(MonitorFlag::kLowGroundedness);
  for (MonitorFlag f : a.flags) {
    if (f != MonitorFlag::kLowGroundedness) flags.push_back(f);
  }
  return flags;
}

}  // namespace

Result<MonitorReport> Monitor::Report(const MonitorReportRequest& req) const {
  VERITY_RETURN_IF_ERROR(CheckReportRequest(req));
  VERITY_RETURN_IF_ERROR(collections_.Find(req.collection).status());
  MonitorReport report;
  report.collection = req.collection;
  std::vector<Event> events;
  // Scan the range.
  LogQuery q;
  q.collection = req.collection;
  q.since_us = req.since_us;
  q.until_us = req.until_us;
  q.limit = 1000;
  State* state = FindState(req.collection);
  while (!report.truncated) {
    VERITY_ASSIGN_OR_RETURN(LogPage page, log_.List(q));
    for (LogRecord& r : page.records) {
      if (report.records_examined == req.max_records) {
        report.truncated = true;
        break;
      }
      ++report.records_examined;
      Event e;
      e.time_us = r.time_us;
      e.kind = r.kind;
      e.retrieval_id = r.retrieval_id;
      if (r.kind == LogKind::kRetrieval) {
        e.leg = LegOf(!r.query_vector.empty(), !r.text.empty(), !r.sparse.indices.empty());
        e.context_tokens = r.context_tokens;
        e.version = r.version;
        e.prompt = r.prompt;
        size_t in_context = 0;
        for (const RetrievedChunk& c : r.chunks) in_context += c.in_context;
        e.empty = in_context == 0;
        e.truncated = in_context < r.chunks.size();
        if (e.leg && !r.chunks.empty()) {
          e.has_top1 = true;
          e.top1 = LegIsScore(*e.leg) ? r.chunks[0].score : r.chunks[0].distance;
          for (const RetrievedChunk& c : r.chunks) {
            e.top1 = LegIsScore(*e.leg) ? std::max(e.top1, c.score) : std::min(e.top1, c.distance);
          }
          if (state) e.weak = state->reference->Judge(*e.leg, e.top1).weak;
        }
      } else {
        e.annotation = std::move(r.annotation);
        if (!e.annotation) {  // computed for the report, not stored
          if (auto pair = AnsweredPair(r.retrieval_id); pair.ok()) {
            if (auto a = Compute(pair->first, pair->second, true); a.ok()) e.annotation = std::move(*a);
          }
        }
      }
      events.push_back(std::move(e));
    }
    if (page.next_cursor == 0) break;
    q.start_after = page.next_cursor;
  }
  // The range and the buckets.
  report.until_us = req.until_us > 0 ? req.until_us : std::max(NowUs(), events.empty() ? 0 : events.back().time_us + 1);
  report.since_us = req.since_us > 0 ? req.since_us : (events.empty() ? report.until_us - 3600'000'000LL : events.front().time_us);
  const int64_t span = std::max<int64_t>(report.until_us - report.since_us, 1);
  report.bucket_us = req.bucket_seconds > 0 ? req.bucket_seconds * 1'000'000 : std::max<int64_t>(1, (span + kDefaultBuckets - 1) / kDefaultBuckets);
  const int64_t n_buckets = (span + report.bucket_us - 1) / report.bucket_us;
  if (n_buckets > kMaxMonitorBuckets) {
    return Status::InvalidArgument("bucket_seconds: " + std::to_string(req.bucket_seconds) + " cuts the range in " +
                                   std::to_string(n_buckets) + " buckets; at most " +
                                   std::to_string(kMaxMonitorBuckets));
  }
  std::vector<BucketWork> work(static_cast<size_t>(n_buckets));
  for (int64_t i = 0; i < n_buckets; ++i) work[i].b.start_us = report.since_us + i * report.bucket_us;
  // The drift leg: the one with the most top-1 values; its reference, the
  // first drift_reference_size of them (at least kMinDriftBucket).
  size_t per_leg[kNumRetrievalLegs] = {};
  for (const Event& e : events) if (e.has_top1) ++per_leg[static_cast<size_t>(*e.leg)];
  const size_t drift_leg = std::max_element(per_leg, per_leg + kNumRetrievalLegs) - per_leg;
  std::vector<float> reference;
  for (const Event& e : events) {
    if (e.has_top1 && static_cast<size_t>(*e.leg) == drift_leg && reference.size() < options_.drift_reference_size) {
      reference.push_back(LegIsScore(*e.leg) ? -e.top1 : e.top1);
    }
  }
  // Fill the buckets, the markers, the flagged list and the prompts.
  std::map<std::string, PromptMonitorStats> prompts;
  std::map<std::string, std::string> prompt_of;  // retrieval id -> prompt (for answers)
  Version max_version = 0;
  std::set<std::string> prompts_seen;
  std::string last_prompt;
  for (const Event& e : events) {
    if (e.time_us < report.since_us || e.time_us >= report.until_us) continue;
    BucketWork& w = work[static_cast<size_t>((e.time_us - report.since_us) / report.bucket_us)];
    MonitorBucket& b = w.b;
    bool flagged = false;
    if (e.kind == LogKind::kRetrieval) {
      ++b.retrievals;
      b.context_tokens += e.context_tokens;
      b.weak += e.weak;
      b.empty_context += e.empty;
      b.truncated_context += e.truncated;
      flagged = e.weak || e.empty || e.truncated;
      if (e.has_top1 && static_cast<size_t>(*e.leg) == drift_leg) w.top1.push_back(LegIsScore(*e.leg) ? -e.top1 : e.top1);
      if (e.version > max_version && report.markers.size() < kMaxMarkers) {
        report.markers.push_back({e.time_us, "kb_version", std::to_string(e.version),
                                  max_version ? std::to_string(max_version) : "", e.retrieval_id});
      }
      max_version = std::max(max_version, e.version);
      if (!e.prompt.empty() && prompts_seen.insert(e.prompt).second && report.markers.size() < kMaxMarkers) {
        report.markers.push_back({e.time_us, "prompt", e.prompt, last_prompt, e.retrieval_id});
      }
      if (!e.prompt.empty()) last_prompt = e.prompt;
      prompts[e.prompt].prompt = e.prompt;
      prompts[e.prompt].context_tokens += e.context_tokens;
    } else {
      (e.kind == LogKind::kAnswer ? b.answers : b.cache_hits) += 1;
      if (e.annotation) {
        const Annotation& a = *e.annotation;
        AddAnswer(req, a, b, w.gs);
        PromptMonitorStats& p = prompts[a.prompt];
        p.prompt = a.prompt;
        ++p.answers;
        if (a.groundedness_scored && a.sentences > 0) {
          p.mean_g += a.g;
          ++p.scored;
        }
        p.prompt_tokens += a.cache_hit ? 0 : a.prompt_tokens;
        p.answer_tokens += a.cache_hit ? 0 : a.answer_tokens;
        p.tokens_saved += a.tokens_saved;
        const std::vector<MonitorFlag> flags = FlagsAt(a, req.low_g);
        if (!flags.empty()) {
          flagged = true;
          ++report.flagged_total;
          if (report.flagged.size() < req.max_flagged) {
            FlaggedAnswer f{a.retrieval_id, e.time_us, flags, a.g, a.groundedness_scored, a.prompt, a.kb_version, {}};
            for (const ToxicityMatchInfo& m : a.toxicity_matches) f.toxicity_terms.push_back(m.term);
            report.flagged.push_back(std::move(f));
          }
        }
      }
    }
    (flagged ? w.flagged_ids : w.other_ids).push_back(e.retrieval_id);
  }
  // Finish the buckets and the totals.
  std::vector<float> edges = reference.size() >= kMinDriftBucket ? DecileEdges(reference) : std::vector<float>();
  std::vector<uint64_t> ref_counts(kDriftScoreBins, 0);
  for (float v : reference) ++ref_counts[ScoreBin(edges, v)];
  MonitorBucket& t = report.totals;
  t.start_us = report.since_us;
  std::vector<double> all_g;
  for (BucketWork& w : work) {
    MonitorBucket& b = w.b;
    b.mean_g = w.gs.empty() ? 0 : [&] { double s = 0; for (double g : w.gs) s += g; return s / w.gs.size(); }();
    b.g_p10 = NearestRank(w.gs, 0.1);
    if (!edges.empty() && w.top1.size() >= kMinDriftBucket) {
      std::vector<uint64_t> counts(kDriftScoreBins, 0);
      for (float v : w.top1) ++counts[ScoreBin(edges, v)];
      b.drift_computed = true;
      b.score_psi = PopulationStabilityIndex(ref_counts, counts);
      b.score_threshold = kDefaultPsiThreshold + ExpectedNullPsi(kDriftScoreBins, reference.size(), w.top1.size());
    }
    for (auto* ids : {&w.flagged_ids, &w.other_ids}) {
      const bool latest = ids == &w.other_ids;
      for (size_t i = 0; i < ids->size() && b.retrieval_ids.size() < req.ids_per_bucket; ++i) {
        b.retrieval_ids.push_back(latest ? (*ids)[ids->size() - 1 - i] : (*ids)[i]);
      }
    }
    all_g.insert(all_g.end(), w.gs.begin(), w.gs.end());
    t.retrievals += b.retrievals; t.answers += b.answers; t.cache_hits += b.cache_hits;
    t.annotated += b.annotated; t.scored += b.scored; t.low_g += b.low_g; t.weak += b.weak;
    t.empty_context += b.empty_context; t.truncated_context += b.truncated_context; t.toxic += b.toxic;
    t.context_tokens += b.context_tokens; t.prompt_tokens += b.prompt_tokens;
    t.answer_tokens += b.answer_tokens; t.tokens_saved += b.tokens_saved;
    report.buckets.push_back(std::move(b));
  }
  t.mean_g = all_g.empty() ? 0 : [&] { double s = 0; for (double g : all_g) s += g; return s / all_g.size(); }();
  t.g_p10 = NearestRank(all_g, 0.1);
  for (auto& [name, p] : prompts) {
    if (p.scored) p.mean_g /= p.scored;
    report.prompts.push_back(p);
  }
  for (CollectionMonitorStats& s : Stats()) {
    if (s.collection == req.collection) report.live = std::move(s.legs);
  }
  return report;
}

}  // namespace verity
