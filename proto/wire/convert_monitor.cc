// Conversions of the monitoring API (monitor.proto, verity/monitor.h;
// convert.h): annotations, the monitor report and its requests. Limits are
// the engine's to check (it names the field); these fill the wire's defaults
// and refuse only what cannot be converted (an unknown flag).
#include "convert.h"

namespace verity::wire {

// The helpers are static functions of verity::wire, not of an anonymous
// namespace, so that they overload convert.h's ToProto / FromProto.

// Request defaults of the wire's unset (optional) or zero fields
// (monitor.proto).
constexpr double kDefaultLowG = 0.6;
constexpr uint32_t kDefaultMaxFlagged = 100;
constexpr uint32_t kDefaultIdsPerBucket = 10;
constexpr uint64_t kDefaultMaxRecords = 1'000'000;

template <typename Repeated>
static std::vector<std::string> Strings(const Repeated& in) {
  return std::vector<std::string>(in.begin(), in.end());
}

// Flags a newer server sends that this build does not know are skipped (a
// flag is advice, and an older client must still read the record).
template <typename Message>
static Result<std::vector<MonitorFlag>> FlagsFromProto(const Message& in, const std::string& field) {
  std::vector<MonitorFlag> out;
  for (int i = 0; i < in.flags_size(); ++i) {
    auto flag = FromProto(static_cast<v1::MonitorFlag>(in.flags(i)), field + "flags[" + std::to_string(i) + "]");
    if (flag.ok()) out.push_back(*flag);
  }
  return out;
}

static void ToProto(const ToxicityMatchInfo& in, v1::ToxicityMatch* out) {
  out->set_term(in.term);
  for (const auto& language : in.languages) out->add_languages(language);
  out->set_begin(in.begin);
  out->set_end(in.end);
}

static ToxicityMatchInfo FromProto(const v1::ToxicityMatch& in) {
  return ToxicityMatchInfo{in.term(), Strings(in.languages()), in.begin(), in.end()};
}

static void ToProto(const MonitorBucket& in, v1::MonitorBucket* out) {
  out->set_start_us(in.start_us);
  out->set_retrievals(in.retrievals);
  out->set_answers(in.answers);
  out->set_cache_hits(in.cache_hits);
  out->set_annotated(in.annotated);
  out->set_scored(in.scored);
  out->set_mean_g(in.mean_g);
  out->set_g_p10(in.g_p10);
  out->set_low_g(in.low_g);
  out->set_weak(in.weak);
  out->set_empty_context(in.empty_context);
  out->set_truncated_context(in.truncated_context);
  out->set_toxic(in.toxic);
  out->set_context_tokens(in.context_tokens);
  out->set_prompt_tokens(in.prompt_tokens);
  out->set_answer_tokens(in.answer_tokens);
  out->set_tokens_saved(in.tokens_saved);
  out->set_drift_computed(in.drift_computed);
  out->set_score_psi(in.score_psi);
  out->set_score_threshold(in.score_threshold);
  for (const auto& id : in.retrieval_ids) out->add_retrieval_ids(id);
}

static MonitorBucket FromProto(const v1::MonitorBucket& in) {
  MonitorBucket out;
  out.start_us = in.start_us();
  out.retrievals = in.retrievals();
  out.answers = in.answers();
  out.cache_hits = in.cache_hits();
  out.annotated = in.annotated();
  out.scored = in.scored();
  out.mean_g = in.mean_g();
  out.g_p10 = in.g_p10();
  out.low_g = in.low_g();
  out.weak = in.weak();
  out.empty_context = in.empty_context();
  out.truncated_context = in.truncated_context();
  out.toxic = in.toxic();
  out.context_tokens = in.context_tokens();
  out.prompt_tokens = in.prompt_tokens();
  out.answer_tokens = in.answer_tokens();
  out.tokens_saved = in.tokens_saved();
  out.drift_computed = in.drift_computed();
  out.score_psi = in.score_psi();
  out.score_threshold = in.score_threshold();
  out.retrieval_ids = Strings(in.retrieval_ids());
  return out;
}

static void ToProto(const MonitorMarker& in, v1::MonitorMarker* out) {
  out->set_time_us(in.time_us);
  out->set_kind(in.kind);
  out->set_value(in.value);
  out->set_previous(in.previous);
  out->set_retrieval_id(in.retrieval_id);
}

static MonitorMarker FromProto(const v1::MonitorMarker& in) {
  return MonitorMarker{in.time_us(), in.kind(), in.value(), in.previous(), in.retrieval_id()};
}

static void ToProto(const FlaggedAnswer& in, v1::FlaggedAnswer* out) {
  out->set_retrieval_id(in.retrieval_id);
  out->set_time_us(in.time_us);
  for (MonitorFlag flag : in.flags) out->add_flags(ToProto(flag));
  out->set_g(in.g);
  out->set_groundedness_scored(in.groundedness_scored);
  out->set_prompt(in.prompt);
  out->set_kb_version(in.kb_version);
  for (const auto& term : in.toxicity_terms) out->add_toxicity_terms(term);
}

static Result<FlaggedAnswer> FromProto(const v1::FlaggedAnswer& in, const std::string& field) {
  FlaggedAnswer out;
  out.retrieval_id = in.retrieval_id();
  out.time_us = in.time_us();
  VERITY_ASSIGN_OR_RETURN(out.flags, FlagsFromProto(in, field));
  out.g = in.g();
  out.groundedness_scored = in.groundedness_scored();
  out.prompt = in.prompt();
  out.kb_version = in.kb_version();
  out.toxicity_terms = Strings(in.toxicity_terms());
  return out;
}

static void ToProto(const PromptMonitorStats& in, v1::PromptMonitorStats* out) {
  out->set_prompt(in.prompt);
  out->set_answers(in.answers);
  out->set_scored(in.scored);
  out->set_mean_g(in.mean_g);
  out->set_context_tokens(in.context_tokens);
  out->set_prompt_tokens(in.prompt_tokens);
  out->set_answer_tokens(in.answer_tokens);
  out->set_tokens_saved(in.tokens_saved);
}

static PromptMonitorStats FromProto(const v1::PromptMonitorStats& in) {
  return PromptMonitorStats{in.prompt(),         in.answers(),       in.scored(),        in.mean_g(),
                            in.context_tokens(), in.prompt_tokens(), in.answer_tokens(), in.tokens_saved()};
}

static void ToProto(const LiveDriftState& in, v1::LiveDriftState* out) {
  out->set_leg(in.leg);
  out->set_observations(in.observations);
  out->set_reference_frozen(in.reference_frozen);
  out->set_reference_count(in.reference_count);
  out->set_current_count(in.current_count);
  out->set_ready(in.ready);
  out->set_score_psi(in.score_psi);
  out->set_score_threshold(in.score_threshold);
  out->set_region_psi(in.region_psi);
  out->set_region_threshold(in.region_threshold);
  out->set_alarm(in.alarm);
  out->set_weak_reference_frozen(in.weak_reference_frozen);
  out->set_weak_threshold(in.weak_threshold);
  out->set_weak(in.weak);
  out->set_observed(in.observed);
}

static LiveDriftState FromProto(const v1::LiveDriftState& in) {
  LiveDriftState out;
  out.leg = in.leg();
  out.observations = in.observations();
  out.reference_frozen = in.reference_frozen();
  out.reference_count = static_cast<size_t>(in.reference_count());
  out.current_count = static_cast<size_t>(in.current_count());
  out.ready = in.ready();
  out.score_psi = in.score_psi();
  out.score_threshold = in.score_threshold();
  out.region_psi = in.region_psi();
  out.region_threshold = in.region_threshold();
  out.alarm = in.alarm();
  out.weak_reference_frozen = in.weak_reference_frozen();
  out.weak_threshold = in.weak_threshold();
  out.weak = in.weak();
  out.observed = in.observed();
  return out;
}


v1::MonitorFlag ToProto(MonitorFlag flag) {
  switch (flag) {
    case MonitorFlag::kLowGroundedness: return v1::MONITOR_FLAG_LOW_GROUNDEDNESS;
    case MonitorFlag::kWeakRetrieval: return v1::MONITOR_FLAG_WEAK_RETRIEVAL;
    case MonitorFlag::kEmptyContext: return v1::MONITOR_FLAG_EMPTY_CONTEXT;
    case MonitorFlag::kTruncatedContext: return v1::MONITOR_FLAG_TRUNCATED_CONTEXT;
    case MonitorFlag::kToxicity: return v1::MONITOR_FLAG_TOXICITY;
  }
  return v1::MONITOR_FLAG_UNSPECIFIED;
}

Result<MonitorFlag> FromProto(v1::MonitorFlag flag, const std::string& field) {
  switch (flag) {
    case v1::MONITOR_FLAG_LOW_GROUNDEDNESS: return MonitorFlag::kLowGroundedness;
    case v1::MONITOR_FLAG_WEAK_RETRIEVAL: return MonitorFlag::kWeakRetrieval;
    case v1::MONITOR_FLAG_EMPTY_CONTEXT: return MonitorFlag::kEmptyContext;
    case v1::MONITOR_FLAG_TRUNCATED_CONTEXT: return MonitorFlag::kTruncatedContext;
    case v1::MONITOR_FLAG_TOXICITY: return MonitorFlag::kToxicity;
    default: return Status::InvalidArgument(field + ": unknown monitor flag " + std::to_string(flag));
  }
}

void ToProto(const Annotation& in, v1::Annotation* out) {
  out->set_version(in.version);
  out->set_retrieval_id(in.retrieval_id);
  out->set_record_seq(in.record_seq);
  out->set_record_time_us(in.record_time_us);
  out->set_annotated_us(in.annotated_us);
  out->set_on_demand(in.on_demand);
  out->set_cache_hit(in.cache_hit);
  out->set_collection(in.collection);
  out->set_kb_version(in.kb_version);
  out->set_prompt(in.prompt);
  out->set_groundedness_scored(in.groundedness_scored);
  out->set_groundedness_error(in.groundedness_error);
  out->set_g(in.g);
  out->set_groundedness_version(in.groundedness_version);
  out->set_sentences(in.sentences);
  out->set_unsupported(in.unsupported);
  for (const auto& s : in.unsupported_sentences) out->add_unsupported_sentences(s);
  out->set_leg(in.leg);
  out->set_reference_ready(in.reference_ready);
  out->set_weak_retrieval(in.weak_retrieval);
  out->set_top1(in.top1);
  out->set_weak_threshold(in.weak_threshold);
  out->set_percentile_rank(in.percentile_rank);
  out->set_empty_context(in.empty_context);
  out->set_truncated_context(in.truncated_context);
  out->set_chunks(in.chunks);
  out->set_chunks_in_context(in.chunks_in_context);
  out->set_retrieval_risk_version(in.retrieval_risk_version);
  out->set_toxic(in.toxic);
  for (const auto& m : in.toxicity_matches) ToProto(m, out->add_toxicity_matches());
  out->set_toxicity_scorer_version(in.toxicity_scorer_version);
  out->set_word_list_version(in.word_list_version);
  out->set_context_tokens(in.context_tokens);
  out->set_prompt_tokens(in.prompt_tokens);
  out->set_prompt_tokens_source(in.prompt_tokens_source);
  out->set_answer_tokens(in.answer_tokens);
  out->set_answer_tokens_source(in.answer_tokens_source);
  out->set_tokens_saved(in.tokens_saved);
  for (MonitorFlag flag : in.flags) out->add_flags(ToProto(flag));
  for (const auto& m : in.query_toxicity_matches) ToProto(m, out->add_query_toxicity_matches());
}

Result<Annotation> FromProto(const v1::Annotation& in, const std::string& field) {
  Annotation out;
  out.version = in.version();
  out.retrieval_id = in.retrieval_id();
  out.record_seq = in.record_seq();
  out.record_time_us = in.record_time_us();
  out.annotated_us = in.annotated_us();
  out.on_demand = in.on_demand();
  out.cache_hit = in.cache_hit();
  out.collection = in.collection();
  out.kb_version = in.kb_version();
  out.prompt = in.prompt();
  out.groundedness_scored = in.groundedness_scored();
  out.groundedness_error = in.groundedness_error();
  out.g = in.g();
  out.groundedness_version = in.groundedness_version();
  out.sentences = in.sentences();
  out.unsupported = in.unsupported();
  out.unsupported_sentences = Strings(in.unsupported_sentences());
  out.leg = in.leg();
  out.reference_ready = in.reference_ready();
  out.weak_retrieval = in.weak_retrieval();
  out.top1 = in.top1();
  out.weak_threshold = in.weak_threshold();
  out.percentile_rank = in.percentile_rank();
  out.empty_context = in.empty_context();
  out.truncated_context = in.truncated_context();
  out.chunks = in.chunks();
  out.chunks_in_context = in.chunks_in_context();
  out.retrieval_risk_version = in.retrieval_risk_version();
  out.toxic = in.toxic();
  for (const auto& m : in.toxicity_matches()) out.toxicity_matches.push_back(FromProto(m));
  for (const auto& m : in.query_toxicity_matches()) out.query_toxicity_matches.push_back(FromProto(m));
  out.toxicity_scorer_version = in.toxicity_scorer_version();
  out.word_list_version = in.word_list_version();
  out.context_tokens = in.context_tokens();
  out.prompt_tokens = in.prompt_tokens();
  out.prompt_tokens_source = in.prompt_tokens_source();
  out.answer_tokens = in.answer_tokens();
  out.answer_tokens_source = in.answer_tokens_source();
  out.tokens_saved = in.tokens_saved();
  VERITY_ASSIGN_OR_RETURN(out.flags, FlagsFromProto(in, field.empty() ? "" : field + "."));
  return out;
}

AnnotateLogRequest FromProto(const v1::AnnotateLogRequest& in) {
  AnnotateLogRequest out;
  out.collection = in.collection();
  out.since_us = in.since_us();
  out.until_us = in.until_us();
  out.recompute = in.recompute();
  out.max_records = in.max_records() == 0 ? kDefaultMaxRecords : in.max_records();
  return out;
}

void ToProto(const AnnotateLogRequest& in, v1::AnnotateLogRequest* out) {
  out->set_collection(in.collection);
  out->set_since_us(in.since_us);
  out->set_until_us(in.until_us);
  out->set_recompute(in.recompute);
  out->set_max_records(in.max_records);
}

void ToProto(const AnnotateLogResult& in, v1::AnnotateLogResponse* out) {
  out->set_examined(in.examined);
  out->set_annotated(in.annotated);
  out->set_existing(in.existing);
  out->set_failed(in.failed);
  out->set_truncated(in.truncated);
  out->set_next_since_us(in.next_since_us);
}

AnnotateLogResult FromProto(const v1::AnnotateLogResponse& in) {
  return AnnotateLogResult{in.examined(), in.annotated(), in.existing(),
                           in.failed(),   in.truncated(), in.next_since_us()};
}

MonitorReportRequest FromProto(const v1::GetMonitorReportRequest& in) {
  MonitorReportRequest out;
  out.collection = in.collection();
  out.since_us = in.since_us();
  out.until_us = in.until_us();
  out.bucket_seconds = in.bucket_seconds();
  out.low_g = in.has_low_g() ? in.low_g() : kDefaultLowG;
  out.max_flagged = in.has_max_flagged() ? in.max_flagged() : kDefaultMaxFlagged;
  out.ids_per_bucket = in.has_ids_per_bucket() ? in.ids_per_bucket() : kDefaultIdsPerBucket;
  out.max_records = in.max_records() == 0 ? kDefaultMaxRecords : in.max_records();
  return out;
}

void ToProto(const MonitorReportRequest& in, v1::GetMonitorReportRequest* out) {
  out->set_collection(in.collection);
  out->set_since_us(in.since_us);
  out->set_until_us(in.until_us);
  out->set_bucket_seconds(in.bucket_seconds);
  out->set_low_g(in.low_g);
  out->set_max_flagged(in.max_flagged);
  out->set_ids_per_bucket(in.ids_per_bucket);
  out->set_max_records(in.max_records);
}

void ToProto(const MonitorReport& in, v1::GetMonitorReportResponse* out) {
  out->set_collection(in.collection);
  out->set_since_us(in.since_us);
  out->set_until_us(in.until_us);
  out->set_bucket_us(in.bucket_us);
  ToProto(in.totals, out->mutable_totals());
  for (const auto& b : in.buckets) ToProto(b, out->add_buckets());
  for (const auto& m : in.markers) ToProto(m, out->add_markers());
  for (const auto& f : in.flagged) ToProto(f, out->add_flagged());
  out->set_flagged_total(in.flagged_total);
  for (const auto& p : in.prompts) ToProto(p, out->add_prompts());
  for (const auto& l : in.live) ToProto(l, out->add_live());
  out->set_records_examined(in.records_examined);
  out->set_truncated(in.truncated);
}

Result<MonitorReport> FromProto(const v1::GetMonitorReportResponse& in) {
  MonitorReport out;
  out.collection = in.collection();
  out.since_us = in.since_us();
  out.until_us = in.until_us();
  out.bucket_us = in.bucket_us();
  out.totals = FromProto(in.totals());
  for (const auto& b : in.buckets()) out.buckets.push_back(FromProto(b));
  for (const auto& m : in.markers()) out.markers.push_back(FromProto(m));
  for (int i = 0; i < in.flagged_size(); ++i) {
    VERITY_ASSIGN_OR_RETURN(FlaggedAnswer f, FromProto(in.flagged(i), "flagged[" + std::to_string(i) + "]."));
    out.flagged.push_back(std::move(f));
  }
  out.flagged_total = in.flagged_total();
  for (const auto& p : in.prompts()) out.prompts.push_back(FromProto(p));
  for (const auto& l : in.live()) out.live.push_back(FromProto(l));
  out.records_examined = in.records_examined();
  out.truncated = in.truncated();
  return out;
}

}  // namespace verity::wire
