// Monitor: the annotation of an answer (or cache hit) — groundedness,
// retrieval weakness, toxicity flags, token cost — computed from the log
// records, the rows they name and the registry, and stored beside the log.
#include <algorithm>
#include <chrono>

#include "monitor/monitor.h"
#include "util/clock.h"

namespace verity {

namespace {


// The variables a registered prompt is rendered with for its token count:
// the context for "context", the question for "question", "query" or
// "input", and "" for any other placeholder.
std::map<std::string, std::string> PromptVariables(const PromptVersion& v, const std::string& context,
                                                   const std::string& question) {
  std::map<std::string, std::string> vars;
  for (const std::string& name : v.variables) {
    if (name == "context") {
      vars[name] = context;
    } else if (name == "question" || name == "query" || name == "input") {
      vars[name] = question;
    } else {
      vars[name] = "";
    }
  }
  return vars;
}

}  // namespace

// The record answered and the retrieval whose context it was given: for a
// retrieval id, (retrieval, its answer); for a cache hit's id, (the source
// retrieval, the cache-hit record). FailedPrecondition without an answer.
Result<std::pair<LogRecord, LogRecord>> Monitor::AnsweredPair(const std::string& retrieval_id) const {
  VERITY_ASSIGN_OR_RETURN(auto got, log_.Get(retrieval_id));
  if (got.first.kind == LogKind::kCacheHit) {
    VERITY_ASSIGN_OR_RETURN(auto source, log_.Get(got.first.source_retrieval_id));
    return std::make_pair(std::move(source.first), std::move(got.first));
  }
  if (!got.second) {
    return Status::FailedPrecondition("retrieval " + retrieval_id + " has no recorded answer to annotate");
  }
  return std::make_pair(std::move(got.first), std::move(*got.second));
}

std::optional<std::string> Monitor::AddGroundedness(const std::string& retrieval_id, Annotation& a) const {
  AuditRequest request;
  request.retrieval_id = retrieval_id;
  bool unanswered = false;
  auto audit = context_.AuditOne(request, &unanswered);
  if (!audit.ok()) {
    a.groundedness_error = audit.status().ToString();
    return std::nullopt;
  }
  std::string context;  // as the retrieval assembled it: the in-context texts joined by "\n\n"
  for (const SourceChunk& c : audit->chunks) context += (context.empty() ? "" : "\n\n") + c.text;
  const GroundednessResult& g = audit->result;
  a.groundedness_scored = true;
  a.g = g.g;
  a.groundedness_version = g.scorer_version;
  a.sentences = g.scored;
  for (const SentenceScore& s : g.sentences) {
    if (s.verdict != SentenceVerdict::kUnsupported) continue;
    ++a.unsupported;
    if (a.unsupported_sentences.size() < kMaxUnsupportedKept) a.unsupported_sentences.push_back(s.text);
  }
  return context;
}

void Monitor::AddRetrievalRisk(const LogRecord& r, Annotation& a) const {
  const auto leg = LegOf(!r.query_vector.empty(), !r.text.empty(), !r.sparse.indices.empty());
  std::vector<ChunkSignal> chunks;
  for (const RetrievedChunk& c : r.chunks) chunks.push_back({c.distance, c.score, c.in_context});
  a.chunks = static_cast<uint32_t>(r.chunks.size());
  a.chunks_in_context = static_cast<uint32_t>(std::count_if(chunks.begin(), chunks.end(), [](auto& c) { return c.in_context; }));
  a.empty_context = a.chunks_in_context == 0;
  a.truncated_context = a.chunks_in_context < a.chunks;
  a.retrieval_risk_version = kRetrievalRiskVersion;
  if (!leg) return;
  a.leg = RetrievalLegName(*leg);
  auto risk = Assess(r.collection, *leg, std::span<const ChunkSignal>(chunks));
  if (!risk) return;
  a.reference_ready = risk->ready;
  a.weak_retrieval = risk->weak;
  a.top1 = risk->top1;
  a.weak_threshold = risk->threshold;
  a.percentile_rank = risk->percentile_rank;
}

void Monitor::AddTokens(const LogRecord& r, const LogRecord& answered, const std::optional<std::string>& context,
                        Annotation& a) const {
  a.context_tokens = r.context_tokens;
  // The answer whose cost counts: for a cache hit, the source's answer.
  LogRecord paid = answered;
  if (answered.kind == LogKind::kCacheHit) {
    if (auto source = log_.Get(answered.source_retrieval_id); source.ok() && source->second) paid = *source->second;
  }
  a.prompt_tokens_source = "context";
  a.prompt_tokens = r.context_tokens + EstimateTokens(r.query_text);
  // Rendered only with the context the audit read back (else the fallbacks below).
  if (auto ref = ParsePromptRef(r.prompt); context && ref.ok() && ref->version) {
    if (auto version = prompts_.Get(*ref); version.ok()) {
      if (auto text = RenderTemplate(version->template_text, PromptVariables(*version, *context, r.query_text));
          text.ok()) {
        a.prompt_tokens = EstimateTokens(*text);
        a.prompt_tokens_source = "rendered";
      }
    }
  }
  if (a.prompt_tokens_source != "rendered" && paid.prompt_tokens > 0) {
    a.prompt_tokens = paid.prompt_tokens;
    a.prompt_tokens_source = "reported";
  }
  a.answer_tokens = paid.completion_tokens > 0 ? paid.completion_tokens : EstimateTokens(paid.answer);
  a.answer_tokens_source = paid.completion_tokens > 0 ? "reported" : "counted";
  if (answered.kind == LogKind::kCacheHit) a.tokens_saved = a.prompt_tokens + a.answer_tokens;
}

Result<Annotation> Monitor::Compute(const LogRecord& r, const LogRecord& answered, bool on_demand) const {
  Annotation a;
  a.retrieval_id = answered.retrieval_id;
  a.record_seq = answered.seq;
  a.record_time_us = answered.time_us;
  a.annotated_us = NowMicros();
  a.on_demand = on_demand;
  a.cache_hit = answered.kind == LogKind::kCacheHit;
  // A cache hit's record names its own question, version and prompt (the
  // lookup's); the context and answer are its source's.
  a.collection = r.collection;
  a.kb_version = a.cache_hit ? answered.version : r.version;
  a.prompt = a.cache_hit ? answered.prompt : r.prompt;
  const std::optional<std::string> context = AddGroundedness(answered.retrieval_id, a);
  AddRetrievalRisk(r, a);
  const monitor::ToxicityResult tox = toxicity_->Flag(answered.answer);
  a.toxic = tox.flagged;
  a.toxicity_scorer_version = tox.scorer_version;
  a.word_list_version = tox.word_list_version;
  auto matches = [](const monitor::ToxicityResult& result) {
    std::vector<ToxicityMatchInfo> out;
    for (const monitor::ToxicityMatch& m : result.matches) {
      out.push_back({m.term, m.languages, static_cast<uint32_t>(m.begin), static_cast<uint32_t>(m.end)});
    }
    return out;
  };
  a.toxicity_matches = matches(tox);
  if (options_.flag_queries) {
    a.query_toxicity_matches = matches(toxicity_->Flag(a.cache_hit ? answered.query_text : r.query_text));
  }
  AddTokens(r, answered, context, a);
  if (a.groundedness_scored && a.sentences > 0 && a.g < options_.low_g) a.flags.push_back(MonitorFlag::kLowGroundedness);
  if (a.weak_retrieval) a.flags.push_back(MonitorFlag::kWeakRetrieval);
  if (a.empty_context) a.flags.push_back(MonitorFlag::kEmptyContext);
  if (a.truncated_context) a.flags.push_back(MonitorFlag::kTruncatedContext);
  if (a.toxic) a.flags.push_back(MonitorFlag::kToxicity);
  return a;
}

void Monitor::AnnotateRecorded(const LogRecord& record) {
  if (!options_.annotate_answers) return;
  Annotation failed;
  failed.collection = record.collection;
  auto pair = AnsweredPair(record.retrieval_id);
  if (!pair.ok()) {
    log_message_(LogLevel::kWarning, "monitor: annotating " + record.retrieval_id + ": " + pair.status().ToString());
    CountAnnotation(failed, false);
    return;
  }
  auto a = Compute(pair->first, pair->second, false);
  Status s = a.ok() ? log_.PutAnnotation(*a) : a.status();
  if (!s.ok()) {
    log_message_(LogLevel::kWarning, "monitor: annotating " + record.retrieval_id + ": " + s.ToString() +
                                         " (`verity log annotate` computes it later)");
    failed.collection = pair->first.collection;
    CountAnnotation(failed, false);
    return;
  }
  CountAnnotation(*a, true);
}

Result<Annotation> Monitor::Annotate(const std::string& retrieval_id, bool recompute, bool writable) {
  if (!recompute) {
    VERITY_ASSIGN_OR_RETURN(auto stored, log_.GetAnnotation(retrieval_id));
    if (stored) return std::move(*stored);
  }
  VERITY_ASSIGN_OR_RETURN(Annotation a, ComputeOnDemand(retrieval_id));
  // A recomputation is returned, not stored: the annotation stored when the
  // answer was recorded stays (AnnotateLog with recompute, an admin's call,
  // replaces stored ones).
  if (!recompute && writable) VERITY_RETURN_IF_ERROR(log_.PutAnnotation(a));
  return a;
}

Result<Annotation> Monitor::ComputeOnDemand(const std::string& retrieval_id) const {
  VERITY_ASSIGN_OR_RETURN(auto pair, AnsweredPair(retrieval_id));
  return Compute(pair.first, pair.second, true);
}

Result<AnnotateLogResult> Monitor::AnnotateLog(const AnnotateLogRequest& request) {
  if (request.max_records < 1 || request.max_records > kMaxMonitorRecords) {
    return Status::InvalidArgument("max_records: " + std::to_string(request.max_records) + " is outside 1.." +
                                   std::to_string(kMaxMonitorRecords));
  }
  if (!request.collection.empty()) VERITY_RETURN_IF_ERROR(collections_.Find(request.collection).status());
  AnnotateLogResult out;
  LogQuery q;
  q.collection = request.collection;
  q.since_us = request.since_us;
  q.until_us = request.until_us;
  q.limit = 1000;
  while (true) {
    VERITY_ASSIGN_OR_RETURN(LogPage page, log_.List(q));
    for (const LogRecord& r : page.records) {
      if (out.examined == request.max_records) {
        out.truncated = true;
        out.next_since_us = r.time_us;
        return out;
      }
      ++out.examined;
      if (r.kind == LogKind::kRetrieval) continue;
      if (r.annotation && !request.recompute) {
        ++out.existing;
        continue;
      }
      auto a = ComputeOnDemand(r.retrieval_id);
      if (a.ok()) a = log_.PutAnnotation(*a).ok() ? std::move(a) : Result<Annotation>(Status::Unavailable("not stored"));
      if (a.ok()) {
        ++out.annotated;
      } else {
        ++out.failed;
        log_message_(LogLevel::kWarning, "monitor: annotating " + r.retrieval_id + ": " + a.status().ToString());
      }
    }
    if (page.next_cursor == 0) return out;
    q.start_after = page.next_cursor;
  }
}

}  // namespace verity
