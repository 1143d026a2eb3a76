// The monitoring series of /metrics (docs/metrics.md, "Monitoring";
// docs/monitoring.md): rendered at scrape time from
// Database::GetMonitorStats. Alert rules depend on these names and labels:
// change them only with the rules.
#include <algorithm>
#include <string>

#include "exposition.h"
#include "metrics.h"

namespace verity::server {
namespace {

using exposition::Bound;
using exposition::Family;
using exposition::Label;
using exposition::Number;
using exposition::Sample;

constexpr MonitorFlag kFlags[] = {MonitorFlag::kLowGroundedness, MonitorFlag::kWeakRetrieval,
                                  MonitorFlag::kEmptyContext, MonitorFlag::kTruncatedContext,
                                  MonitorFlag::kToxicity};

std::string CollectionLabel(const CollectionMonitorStats& c) { return Label("collection", c.collection); }

std::string LegLabels(const CollectionMonitorStats& c, const LiveDriftState& leg) {
  return CollectionLabel(c) + "," + Label("leg", leg.leg);
}

// verity_answer_groundedness: the engine counts per bucket (upper bounds
// 0.1 .. 1.0); Prometheus buckets are cumulative. +Inf and _count are the
// larger of the buckets' sum and g_count, so that they agree in one scrape.
void RenderGroundedness(const std::vector<CollectionMonitorStats>& stats, std::string* out) {
  Family(out, "verity_answer_groundedness", "histogram",
         "Groundedness G of annotated answers (scored ones), by collection, since verityd started.");
  for (const auto& c : stats) {
    const std::string labels = CollectionLabel(c);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < c.g_buckets.size() && i < 10; ++i) {
      cumulative += c.g_buckets[i];
      Sample(out, "verity_answer_groundedness_bucket", labels + ",le=\"" + Bound(0.1 * static_cast<double>(i + 1)) + "\"",
             Number(cumulative));
    }
    const uint64_t count = std::max(cumulative, c.g_count);
    Sample(out, "verity_answer_groundedness_bucket", labels + ",le=\"+Inf\"", Number(count));
    Sample(out, "verity_answer_groundedness_sum", labels, Number(c.g_sum));
    Sample(out, "verity_answer_groundedness_count", labels, Number(count));
  }
}

// One counter or gauge family with one sample per collection.
void PerCollection(const std::vector<CollectionMonitorStats>& stats, const char* name, const char* type,
                   const char* help, uint64_t (*value)(const CollectionMonitorStats&), std::string* out) {
  Family(out, name, type, help);
  for (const auto& c : stats) Sample(out, name, CollectionLabel(c), Number(value(c)));
}

void RenderAnswers(const std::vector<CollectionMonitorStats>& stats, std::string* out) {
  PerCollection(stats, "verity_answers_annotated_total", "counter",
                "Answers and cache hits annotated (hallucination risk, weakness, toxicity, tokens).",
                [](const CollectionMonitorStats& c) { return c.answers_annotated; }, out);
  PerCollection(stats, "verity_annotation_failures_total", "counter",
                "Answers whose annotation could not be computed (the error is in verityd's log).",
                [](const CollectionMonitorStats& c) { return c.annotation_failures; }, out);
  Family(out, "verity_answer_flags_total", "counter",
         "Annotated answers raising each flag (low_groundedness, weak_retrieval, empty_context, "
         "truncated_context, toxicity).");
  for (const auto& c : stats) {
    for (MonitorFlag flag : kFlags) {
      Sample(out, "verity_answer_flags_total", CollectionLabel(c) + "," + Label("flag", MonitorFlagName(flag)),
             Number(c.flags[static_cast<int>(flag)]));
    }
  }
  PerCollection(stats, "verity_toxicity_flags_total", "counter",
                "Answers with a toxicity word-list match (a lexical flag, not a classifier).",
                [](const CollectionMonitorStats& c) { return c.flags[static_cast<int>(MonitorFlag::kToxicity)]; },
                out);
  PerCollection(stats, "verity_cache_tokens_saved_total", "counter",
                "Prompt and answer tokens that answer-cache hits did not spend.",
                [](const CollectionMonitorStats& c) { return c.tokens_saved; }, out);
}

// Retrieval weakness per leg: counters always, the threshold once the
// leg's reference is frozen.
void RenderWeakness(const std::vector<CollectionMonitorStats>& stats, std::string* out) {
  Family(out, "verity_retrievals_observed_total", "counter",
         "Retrievals judged for weakness (a top-1 present, once the leg's reference is full), by collection and leg.");
  for (const auto& c : stats) {
    for (const auto& leg : c.legs) Sample(out, "verity_retrievals_observed_total", LegLabels(c, leg), Number(leg.observed));
  }
  Family(out, "verity_retrieval_weak_total", "counter",
         "Retrievals whose top-1 is below the leg's weakness threshold (the reference's low percentile).");
  for (const auto& c : stats) {
    for (const auto& leg : c.legs) Sample(out, "verity_retrieval_weak_total", LegLabels(c, leg), Number(leg.weak));
  }
  Family(out, "verity_retrieval_weak_threshold", "gauge",
         "The top-1 distance (dense) or score (text, fused) a retrieval is weak beyond; once the reference is full.");
  for (const auto& c : stats) {
    for (const auto& leg : c.legs) {
      if (leg.weak_reference_frozen) {
        Sample(out, "verity_retrieval_weak_threshold", LegLabels(c, leg), Number(leg.weak_threshold));
      }
    }
  }
}

// Live drift per leg: PSI, threshold and alarm once the current window is
// ready; observations always.
void RenderDrift(const std::vector<CollectionMonitorStats>& stats, std::string* out) {
  Family(out, "verity_drift_psi", "gauge",
         "Population stability index of the current window against the reference, by signal (score: top-1 "
         "values; region: nearest centroid or answering region).");
  for (const auto& c : stats) {
    for (const auto& leg : c.legs) {
      if (!leg.ready) continue;
      Sample(out, "verity_drift_psi", LegLabels(c, leg) + ",signal=\"score\"", Number(leg.score_psi));
      Sample(out, "verity_drift_psi", LegLabels(c, leg) + ",signal=\"region\"", Number(leg.region_psi));
    }
  }
  Family(out, "verity_drift_threshold", "gauge", "The PSI above which the signal drifts (calibrated per window).");
  for (const auto& c : stats) {
    for (const auto& leg : c.legs) {
      if (!leg.ready) continue;
      Sample(out, "verity_drift_threshold", LegLabels(c, leg) + ",signal=\"score\"", Number(leg.score_threshold));
      Sample(out, "verity_drift_threshold", LegLabels(c, leg) + ",signal=\"region\"", Number(leg.region_threshold));
    }
  }
  Family(out, "verity_drift_alarm", "gauge", "1 while a signal's PSI is above its threshold, else 0.");
  for (const auto& c : stats) {
    for (const auto& leg : c.legs) {
      if (leg.ready) Sample(out, "verity_drift_alarm", LegLabels(c, leg), leg.alarm ? "1" : "0");
    }
  }
  Family(out, "verity_drift_observations_total", "counter", "Retrievals the drift tracker observed, by leg (a dense leg once its centroids are trained).");
  for (const auto& c : stats) {
    for (const auto& leg : c.legs) {
      Sample(out, "verity_drift_observations_total", LegLabels(c, leg), Number(leg.observations));
    }
  }
}

void RenderTokens(const std::vector<CollectionMonitorStats>& stats, std::string* out) {
  Family(out, "verity_tokens_total", "counter",
         "Tokens of annotated answers by prompt version and kind (context, prompt, answer).");
  for (const auto& c : stats) {
    for (const auto& p : c.tokens) {
      const std::string labels = CollectionLabel(c) + "," + Label("prompt", p.prompt);
      Sample(out, "verity_tokens_total", labels + ",kind=\"context\"", Number(p.context));
      Sample(out, "verity_tokens_total", labels + ",kind=\"prompt\"", Number(p.prompt_tokens));
      Sample(out, "verity_tokens_total", labels + ",kind=\"answer\"", Number(p.answer));
    }
  }
  Family(out, "verity_answers_by_prompt_total", "counter", "Annotated answers by prompt version.");
  for (const auto& c : stats) {
    for (const auto& p : c.tokens) {
      Sample(out, "verity_answers_by_prompt_total", CollectionLabel(c) + "," + Label("prompt", p.prompt),
             Number(p.answers));
    }
  }
}

}  // namespace

void RenderMonitorMetrics(const std::vector<CollectionMonitorStats>& stats, std::string* out) {
  RenderGroundedness(stats, out);
  RenderAnswers(stats, out);
  RenderWeakness(stats, out);
  RenderDrift(stats, out);
  RenderTokens(stats, out);
}

}  // namespace verity::server
