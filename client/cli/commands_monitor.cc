// monitor, audit --flags, log annotate / annotation: the LLMOps monitoring
// signals (docs/monitoring.md): a collection's report over a window, the
// flagged answers, and the annotations of answers.
#include <chrono>
#include <cstdio>

#include "command_table.h"
#include "verity/log_json.h"

namespace verity::cli {
namespace {

// A bucket length: "60 s", "0.52 s".
std::string SecondsText(int64_t us) {
  char text[64];
  std::snprintf(text, sizeof(text), "%g s", static_cast<double>(us) / 1e6);
  return text;
}

std::string FlagsText(const std::vector<MonitorFlag>& flags) {
  std::vector<std::string> names;
  for (MonitorFlag f : flags) names.push_back(MonitorFlagName(f));
  return names.empty() ? "-" : Join(names, ",");
}

Json FlagsJson(const std::vector<MonitorFlag>& flags) {
  Json out = Json::array();
  for (MonitorFlag f : flags) out.push_back(MonitorFlagName(f));
  return out;
}

Json BucketJson(const MonitorBucket& b) {
  return {{"start_us", b.start_us},
          {"retrievals", b.retrievals},
          {"answers", b.answers},
          {"cache_hits", b.cache_hits},
          {"annotated", b.annotated},
          {"scored", b.scored},
          {"mean_g", b.mean_g},
          {"g_p10", b.g_p10},
          {"low_g", b.low_g},
          {"weak", b.weak},
          {"empty_context", b.empty_context},
          {"truncated_context", b.truncated_context},
          {"toxic", b.toxic},
          {"context_tokens", b.context_tokens},
          {"prompt_tokens", b.prompt_tokens},
          {"answer_tokens", b.answer_tokens},
          {"tokens_saved", b.tokens_saved},
          {"drift_computed", b.drift_computed},
          {"score_psi", b.score_psi},
          {"score_threshold", b.score_threshold},
          {"retrieval_ids", b.retrieval_ids}};
}

Json LiveJson(const LiveDriftState& l) {
  return {{"leg", l.leg},
          {"observations", l.observations},
          {"reference_frozen", l.reference_frozen},
          {"reference_count", l.reference_count},
          {"current_count", l.current_count},
          {"ready", l.ready},
          {"score_psi", l.score_psi},
          {"score_threshold", l.score_threshold},
          {"region_psi", l.region_psi},
          {"region_threshold", l.region_threshold},
          {"alarm", l.alarm},
          {"weak_reference_frozen", l.weak_reference_frozen},
          {"weak_threshold", l.weak_threshold},
          {"weak", l.weak},
          {"observed", l.observed}};
}

Json FlaggedJson(const FlaggedAnswer& f) {
  return {{"retrieval_id", f.retrieval_id}, {"time_us", f.time_us},
          {"flags", FlagsJson(f.flags)},    {"g", f.g},
          {"groundedness_scored", f.groundedness_scored}, {"prompt", f.prompt},
          {"kb_version", f.kb_version},     {"toxicity_terms", f.toxicity_terms}};
}

// The report with the wire response's field names (GetMonitorReportResponse).
Json ReportJson(const MonitorReport& r) {
  Json buckets = Json::array(), markers = Json::array(), flagged = Json::array(), prompts = Json::array(),
       live = Json::array();
  for (const auto& b : r.buckets) buckets.push_back(BucketJson(b));
  for (const auto& m : r.markers) {
    markers.push_back({{"time_us", m.time_us}, {"kind", m.kind}, {"value", m.value}, {"previous", m.previous},
                       {"retrieval_id", m.retrieval_id}});
  }
  for (const auto& f : r.flagged) flagged.push_back(FlaggedJson(f));
  for (const auto& p : r.prompts) {
    prompts.push_back({{"prompt", p.prompt}, {"answers", p.answers}, {"scored", p.scored}, {"mean_g", p.mean_g},
                       {"context_tokens", p.context_tokens}, {"prompt_tokens", p.prompt_tokens},
                       {"answer_tokens", p.answer_tokens}, {"tokens_saved", p.tokens_saved}});
  }
  for (const auto& l : r.live) live.push_back(LiveJson(l));
  return {{"collection", r.collection}, {"since_us", r.since_us},   {"until_us", r.until_us},
          {"bucket_us", r.bucket_us},   {"totals", BucketJson(r.totals)}, {"buckets", buckets},
          {"markers", markers},         {"flagged", flagged},       {"flagged_total", r.flagged_total},
          {"prompts", prompts},         {"live", live},             {"records_examined", r.records_examined},
          {"truncated", r.truncated}};
}

void PrintTotals(const MonitorReport& r, double low_g) {
  const MonitorBucket& t = r.totals;
  std::cout << "collection " << r.collection << ": " << TimeText(r.since_us) << " to " << TimeText(r.until_us)
            << " UTC, " << r.buckets.size() << " buckets of " << SecondsText(r.bucket_us) << ", " << r.records_examined
            << " log records read" << (r.truncated ? " (TRUNCATED: the range's end was not reached)" : "") << "\n";
  std::cout << "retrievals " << t.retrievals << ", answers " << t.answers << ", cache hits " << t.cache_hits
            << ", annotated " << t.annotated << ", scored " << t.scored << "\n";
  std::cout << "mean G " << (t.scored ? Fixed4(t.mean_g) : "-") << ", G p10 " << (t.scored ? Fixed4(t.g_p10) : "-")
            << ", low G " << t.low_g << " (G < " << Fixed4(low_g) << ")\n";
  std::cout << "weak " << t.weak << ", empty context " << t.empty_context << ", truncated context "
            << t.truncated_context << ", toxic " << t.toxic << "\n";
  std::cout << "tokens: context " << t.context_tokens << ", prompt " << t.prompt_tokens << ", answer "
            << t.answer_tokens << "; saved by the cache " << t.tokens_saved << "\n";
}

void PrintLive(const MonitorReport& r) {
  if (r.live.empty()) return;
  std::cout << "\nlive drift (since verityd started or the reference was reset):\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& l : r.live) {
    rows.push_back({l.leg, std::to_string(l.observations),
                    l.ready ? Fixed4(l.score_psi) + " / " + Fixed4(l.score_threshold) : "not ready",
                    l.ready ? Fixed4(l.region_psi) + " / " + Fixed4(l.region_threshold) : "-",
                    l.ready ? (l.alarm ? "ALARM" : "ok") : "-",
                    std::to_string(l.weak) + "/" + std::to_string(l.observed),
                    l.weak_reference_frozen ? Fixed4(l.weak_threshold) : "-"});
  }
  PrintTable({"LEG", "OBSERVED", "SCORE PSI / THRESHOLD", "REGION PSI / THRESHOLD", "DRIFT", "WEAK", "WEAK BEYOND"},
             rows);
}

void PrintBuckets(const MonitorReport& r) {
  if (!r.markers.empty()) {
    std::cout << "\nmarkers:\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& m : r.markers) {
      rows.push_back({TimeText(m.time_us), m.kind, m.previous.empty() ? m.value : m.previous + " -> " + m.value,
                      m.retrieval_id});
    }
    PrintTable({"TIME (UTC)", "KIND", "CHANGE", "FIRST RETRIEVAL"}, rows);
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& b : r.buckets) {
    if (b.retrievals == 0 && b.answers == 0 && b.cache_hits == 0) continue;
    rows.push_back({TimeText(b.start_us), std::to_string(b.retrievals), std::to_string(b.answers),
                    std::to_string(b.scored), b.scored ? Fixed4(b.mean_g) : "-", b.scored ? Fixed4(b.g_p10) : "-",
                    std::to_string(b.low_g), std::to_string(b.weak), std::to_string(b.toxic),
                    std::to_string(b.context_tokens + b.prompt_tokens + b.answer_tokens),
                    b.drift_computed ? Fixed4(b.score_psi) + (b.score_psi > b.score_threshold ? " !" : "") : "-"});
  }
  std::cout << "\nbuckets (those with records):\n";
  PrintTable({"START (UTC)", "RETRIEVALS", "ANSWERS", "SCORED", "MEAN_G", "G_P10", "LOW_G", "WEAK", "TOXIC", "TOKENS",
              "PSI"},
             rows);
}

std::vector<std::string> FlaggedRow(const FlaggedAnswer& f, const std::string& collection) {
  std::vector<std::string> row = {f.retrieval_id, TimeText(f.time_us), FlagsText(f.flags),
                                  f.groundedness_scored ? Fixed4(f.g) : "-", f.prompt.empty() ? "-" : f.prompt};
  if (!collection.empty()) row.insert(row.begin(), collection);
  return row;
}

void PrintFlagged(const MonitorReport& r) {
  std::cout << "\nflagged answers: " << r.flagged_total;
  if (r.flagged.size() < r.flagged_total) std::cout << " (the first " << r.flagged.size() << " listed)";
  std::cout << "\n";
  if (r.flagged.empty()) return;
  std::vector<std::vector<std::string>> rows;
  for (const auto& f : r.flagged) rows.push_back(FlaggedRow(f, ""));
  PrintTable({"RETRIEVAL_ID", "TIME (UTC)", "FLAGS", "G", "PROMPT"}, rows);
}

Status Monitor(const Cli& cli, const Args& args) {
  const std::string collection = args.Arg(0);
  if (args.Flag("reset")) {
    for (const char* o : {"since", "until", "bucket", "low-g"}) {
      if (args.Option(o)) throw UsageError{std::string("monitor --reset takes no --") + o};
    }
    VERITY_RETURN_IF_ERROR(cli.client->ResetMonitorReference(collection));
    PrintResult(cli, Json{{"collection", collection}, {"reset", true}},
                "reset the weakness references and drift windows of " + collection);
    return Status::Ok();
  }
  MonitorReportRequest request;
  request.collection = collection;
  // Default: the last 24 hours (from the log's start, a long log would
  // show its oldest records and stop at the report's record limit).
  constexpr int64_t kDefaultWindowUs = 24LL * 3600 * 1000000;
  const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
  request.since_us = args.Option("since") ? args.Time("since") : now_us - kDefaultWindowUs;
  request.until_us = args.Time("until");
  request.bucket_seconds = static_cast<int64_t>(args.NumberIn("bucket", 0, 0, INT64_MAX / 1000000));
  request.low_g = FractionArg(args, "low-g", request.low_g);
  VERITY_ASSIGN_OR_RETURN(MonitorReport report, cli.client->GetMonitorReport(request));
  if (cli.json) {
    std::cout << ReportJson(report).dump() << "\n";
    return Status::Ok();
  }
  PrintTotals(report, request.low_g);
  PrintLive(report);
  PrintBuckets(report);
  PrintFlagged(report);
  return Status::Ok();
}

Status LogAnnotate(const Cli& cli, const Args& args) {
  AnnotateLogRequest request;
  request.collection = args.Option("collection").value_or("");
  request.since_us = args.Time("since");
  request.until_us = args.Time("until");
  request.recompute = args.Flag("recompute");
  VERITY_ASSIGN_OR_RETURN(AnnotateLogResult r, cli.client->AnnotateLog(request));
  const Json json = {{"examined", r.examined}, {"annotated", r.annotated}, {"existing", r.existing},
                     {"failed", r.failed},     {"truncated", r.truncated}, {"next_since_us", r.next_since_us}};
  std::string text = "examined " + std::to_string(r.examined) + " log records: annotated " +
                     std::to_string(r.annotated) + ", already annotated " + std::to_string(r.existing) + ", failed " +
                     std::to_string(r.failed) + (r.failed ? " (verityd's log says why)" : "");
  if (r.truncated) text += "\nstopped at the record limit: continue with --since " + std::to_string(r.next_since_us / 1000000);
  PrintResult(cli, json, text);
  return Status::Ok();
}

void PrintAnnotation(const Annotation& a) {
  std::cout << "annotation of " << a.retrieval_id << (a.cache_hit ? " (a cache hit)" : "") << ", record " << a.record_seq
            << ", " << TimeText(a.record_time_us) << " UTC; computed " << TimeText(a.annotated_us) << " UTC"
            << (a.on_demand ? " on demand" : " when recorded") << " (version " << a.version << ")\n";
  std::cout << "collection " << a.collection << ", KB version " << a.kb_version
            << (a.prompt.empty() ? "" : ", prompt " + a.prompt) << "\n";
  std::cout << "flags: " << FlagsText(a.flags) << "\n";
  if (a.groundedness_scored) {
    std::cout << "G " << Fixed4(a.g) << ": " << a.unsupported << " of " << a.sentences << " sentences unsupported ("
              << a.groundedness_version << ")\n";
    for (const auto& s : a.unsupported_sentences) std::cout << "  unsupported: " << Truncate(s, 90) << "\n";
  } else {
    std::cout << "G not scored: " << a.groundedness_error << "\n";
  }
  std::cout << "retrieval (" << a.leg << "): top-1 " << a.top1;
  if (a.reference_ready) {
    std::cout << ", percentile rank " << Fixed4(a.percentile_rank) << ", weak beyond " << a.weak_threshold
              << (a.weak_retrieval ? " (WEAK)" : "");
  } else {
    std::cout << ", reference not full yet";
  }
  std::cout << "; " << a.chunks_in_context << " of " << a.chunks << " chunks in the context"
            << (a.empty_context ? " (EMPTY)" : "") << (a.truncated_context ? " (TRUNCATED)" : "") << "\n";
  std::cout << "toxicity: " << (a.toxic ? "FLAGGED" : "none");
  for (const auto& m : a.toxicity_matches) std::cout << " \"" << m.term << "\" [" << Join(m.languages, ",") << "]";
  std::cout << " (" << a.toxicity_scorer_version << ", " << a.word_list_version << ")\n";
  if (!a.query_toxicity_matches.empty()) {
    std::cout << "toxicity in the query (no flag of the answer):";
    for (const auto& m : a.query_toxicity_matches) std::cout << " \"" << m.term << "\" [" << Join(m.languages, ",") << "]";
    std::cout << "\n";
  }
  std::cout << "tokens: context " << a.context_tokens << ", prompt " << a.prompt_tokens << " ("
            << a.prompt_tokens_source << "), answer " << a.answer_tokens << " (" << a.answer_tokens_source << ")";
  if (a.cache_hit) std::cout << ", saved " << a.tokens_saved;
  std::cout << "\n";
}

Status LogAnnotation(const Cli& cli, const Args& args) {
  VERITY_ASSIGN_OR_RETURN(Annotation a, cli.client->Annotate(args.Arg(0), args.Flag("recompute")));
  if (cli.json) {
    std::cout << AnnotationToJson(a).dump() << "\n";
    return Status::Ok();
  }
  PrintAnnotation(a);
  return Status::Ok();
}

}  // namespace

Status AuditFlags(const Cli& cli, const Args& args) {
  for (const char* o : {"answer", "answer-file", "threshold", "html", "collection", "low-g", "worst"}) {
    if (args.Option(o)) throw UsageError{std::string("audit --flags takes no --") + o};
  }
  std::vector<std::string> collections;
  if (args.size() > 0) {
    collections.push_back(args.Arg(0));
  } else {
    VERITY_ASSIGN_OR_RETURN(std::vector<CollectionInfo> all, cli.client->ListCollections());
    for (const auto& c : all) {
      if (c.unavailable.empty()) collections.push_back(c.config.name);
    }
  }
  Json json = Json::array();
  std::vector<std::vector<std::string>> rows;
  uint64_t total = 0, listed = 0;
  for (const auto& name : collections) {
    MonitorReportRequest request;
    request.collection = name;
    request.since_us = args.Time("since");
    request.until_us = args.Time("until");
    request.max_flagged = kMaxMonitorFlagged;
    request.ids_per_bucket = 0;
    VERITY_ASSIGN_OR_RETURN(MonitorReport report, cli.client->GetMonitorReport(request));
    total += report.flagged_total;
    listed += report.flagged.size();
    for (const auto& f : report.flagged) {
      Json j = FlaggedJson(f);
      j["collection"] = name;
      json.push_back(std::move(j));
      rows.push_back(FlaggedRow(f, name));
    }
  }
  if (cli.json) {
    std::cout << json.dump() << "\n";
    return Status::Ok();
  }
  PrintTable({"COLLECTION", "RETRIEVAL_ID", "TIME (UTC)", "FLAGS", "G", "PROMPT"}, rows);
  std::cout << total << " flagged answers";
  if (listed < total) std::cout << " (" << listed << " listed: narrow with --since / --until)";
  std::cout << "\n";
  return Status::Ok();
}

std::vector<Command> MonitorCommands() {
  const OptionSpec since{"since", "T", "only records from T on (inclusive; default the log's start)"};
  const OptionSpec until{"until", "T", "only records before T (default now)"};
  return {
      {"monitor",
       "COLLECTION [--since T] [--until T] [--bucket SECONDS] [--low-g G]\n"
       "monitor COLLECTION --reset",
       "a collection's signals over time: G, weakness, drift, toxicity, tokens, flags",
       {{"COLLECTION", "the collection"}},
       {since,
        until,
        {"bucket", "SECONDS", "bucket length (default: the range in 60 buckets; at most 1000 buckets)"},
        {"low-g", "G", "flag answers with G below G, in [0, 1] (default 0.6)"},
        {"reset", "", "forget the weakness references and drift windows (after an acknowledged change)"}},
       "verity monitor docs --since 2026-12-07T00:00:00Z --bucket 3600\nverity monitor docs --reset",
       Monitor},
      {"log annotate",
       "[--collection NAME] [--since T] [--until T] [--recompute]",
       "annotates the answers of a range that have no annotation (admin)",
       {},
       {{"collection", "NAME", "only this collection's answers (default every collection)"},
        since,
        until,
        {"recompute", "", "also replace the annotations that exist"}},
       "verity log annotate --collection docs --since 2026-12-01T00:00:00Z",
       LogAnnotate},
      {"log annotation",
       "RETRIEVAL_ID [--recompute]",
       "the monitor's annotation of an answer: G, weakness, toxicity, tokens, flags",
       {{"RETRIEVAL_ID", "the id retrieve printed (or a cache hit's)"}},
       {{"recompute", "", "compute it again and store the result"}},
       "verity log annotation \"$id\"",
       LogAnnotation},
  };
}

}  // namespace verity::cli
