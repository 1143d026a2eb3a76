// The monitoring API's server side (issue #28; docs/monitoring.md): the
// wire conversions, the Prometheus series rendered from the engine's live
// stats, the CLI's argument checks, and, end to end against a real verityd,
// MonitorService, LogRecord.annotation, /metrics and `verity monitor`.
#include <catch2/catch.hpp>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "convert.h"
#include "metrics.h"
#include "server_options.h"
#include "server/server_helpers.h"
#include "server/server_process.h"
#include "verity/client.h"
#include "verity/v1/monitor.grpc.pb.h"

using namespace verity;
using Json = nlohmann::json;

namespace {

// "name{labels}" -> value of every sample line of an exposition text.
std::map<std::string, std::string> Samples(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    out[line.substr(0, space)] = line.substr(space + 1);
  }
  return out;
}

CollectionMonitorStats SampleStats(const std::string& name) {
  CollectionMonitorStats c;
  c.collection = name;
  c.answers_annotated = 7;
  c.annotation_failures = 1;
  c.g_buckets = {1, 0, 0, 0, 0, 2, 0, 0, 0, 3};
  c.g_sum = 4.25;
  c.g_count = 6;
  c.flags[static_cast<int>(MonitorFlag::kLowGroundedness)] = 3;
  c.flags[static_cast<int>(MonitorFlag::kToxicity)] = 2;
  c.tokens_saved = 40;
  LiveDriftState dense;
  dense.leg = "dense";
  dense.observations = 1500;
  dense.ready = true;
  dense.score_psi = 0.5;
  dense.score_threshold = 0.25;
  dense.region_psi = 0.125;
  dense.region_threshold = 0.25;
  dense.alarm = true;
  dense.weak_reference_frozen = true;
  dense.weak_threshold = 1.5;
  dense.weak = 4;
  dense.observed = 1500;
  LiveDriftState text;
  text.leg = "text";
  text.observations = 3;
  text.observed = 3;
  c.legs = {dense, text};
  c.tokens = {{"qa@2", 100, 30, 20, 5}};
  return c;
}

Annotation SampleAnnotation() {
  Annotation a;
  a.retrieval_id = "rtv-1";
  a.record_seq = 12;
  a.record_time_us = 1700000000000000;
  a.annotated_us = 1700000000000001;
  a.on_demand = true;
  a.collection = "docs";
  a.kb_version = 4;
  a.prompt = "qa@2";
  a.groundedness_scored = true;
  a.g = 0.25;
  a.groundedness_version = "g1";
  a.sentences = 4;
  a.unsupported = 3;
  a.unsupported_sentences = {"a", "b", "c"};
  a.leg = "dense";
  a.reference_ready = true;
  a.weak_retrieval = true;
  a.top1 = 2.5;
  a.weak_threshold = 1.5;
  a.percentile_rank = 2;
  a.chunks = 5;
  a.chunks_in_context = 3;
  a.truncated_context = true;
  a.toxic = true;
  a.toxicity_matches = {{"darn", {"en", "fr"}, 3, 7}};
  a.query_toxicity_matches = {{"heck", {"en"}, 0, 4}};
  a.context_tokens = 10;
  a.prompt_tokens = 20;
  a.prompt_tokens_source = "rendered";
  a.answer_tokens = 30;
  a.answer_tokens_source = "counted";
  a.flags = {MonitorFlag::kLowGroundedness, MonitorFlag::kWeakRetrieval, MonitorFlag::kTruncatedContext,
             MonitorFlag::kToxicity};
  return a;
}

}  // namespace

TEST_CASE("monitor: the series render the engine's live stats", "[server][monitor][metrics]") {
  std::string text;
  server::RenderMonitorMetrics({SampleStats("d\"o\\c\ns")}, &text);
  const auto s = Samples(text);
  const std::string c = "collection=\"d\\\"o\\\\c\\ns\"";  // escaped
  auto value = [&](const std::string& key) {
    INFO(key << "\n" << text);
    REQUIRE(s.count(key) == 1);
    return s.at(key);
  };
  // G: per-bucket counts rendered cumulative; +Inf and _count the total.
  CHECK(value("verity_answer_groundedness_bucket{" + c + ",le=\"0.1\"}") == "1");
  CHECK(value("verity_answer_groundedness_bucket{" + c + ",le=\"0.5\"}") == "1");
  CHECK(value("verity_answer_groundedness_bucket{" + c + ",le=\"0.6\"}") == "3");
  CHECK(value("verity_answer_groundedness_bucket{" + c + ",le=\"0.9\"}") == "3");
  CHECK(value("verity_answer_groundedness_bucket{" + c + ",le=\"1\"}") == "6");
  CHECK(value("verity_answer_groundedness_bucket{" + c + ",le=\"+Inf\"}") == "6");
  CHECK(value("verity_answer_groundedness_sum{" + c + "}") == "4.25");
  CHECK(value("verity_answer_groundedness_count{" + c + "}") == "6");
  CHECK(value("verity_answers_annotated_total{" + c + "}") == "7");
  CHECK(value("verity_annotation_failures_total{" + c + "}") == "1");
  CHECK(value("verity_answer_flags_total{" + c + ",flag=\"low_groundedness\"}") == "3");
  CHECK(value("verity_answer_flags_total{" + c + ",flag=\"weak_retrieval\"}") == "0");
  CHECK(value("verity_answer_flags_total{" + c + ",flag=\"empty_context\"}") == "0");
  CHECK(value("verity_answer_flags_total{" + c + ",flag=\"truncated_context\"}") == "0");
  CHECK(value("verity_answer_flags_total{" + c + ",flag=\"toxicity\"}") == "2");
  CHECK(value("verity_toxicity_flags_total{" + c + "}") == "2");
  CHECK(value("verity_cache_tokens_saved_total{" + c + "}") == "40");
  // Weakness: counters per leg; the threshold only once frozen.
  CHECK(value("verity_retrievals_observed_total{" + c + ",leg=\"dense\"}") == "1500");
  CHECK(value("verity_retrievals_observed_total{" + c + ",leg=\"text\"}") == "3");
  CHECK(value("verity_retrieval_weak_total{" + c + ",leg=\"dense\"}") == "4");
  CHECK(value("verity_retrieval_weak_threshold{" + c + ",leg=\"dense\"}") == "1.5");
  CHECK(s.count("verity_retrieval_weak_threshold{" + c + ",leg=\"text\"}") == 0);
  // Drift: PSI, threshold and alarm only when ready; observations always.
  CHECK(value("verity_drift_psi{" + c + ",leg=\"dense\",signal=\"score\"}") == "0.5");
  CHECK(value("verity_drift_psi{" + c + ",leg=\"dense\",signal=\"region\"}") == "0.125");
  CHECK(value("verity_drift_threshold{" + c + ",leg=\"dense\",signal=\"score\"}") == "0.25");
  CHECK(value("verity_drift_threshold{" + c + ",leg=\"dense\",signal=\"region\"}") == "0.25");
  CHECK(value("verity_drift_alarm{" + c + ",leg=\"dense\"}") == "1");
  CHECK(s.count("verity_drift_psi{" + c + ",leg=\"text\",signal=\"score\"}") == 0);
  CHECK(s.count("verity_drift_alarm{" + c + ",leg=\"text\"}") == 0);
  CHECK(value("verity_drift_observations_total{" + c + ",leg=\"text\"}") == "3");
  // Tokens by prompt version and kind.
  CHECK(value("verity_tokens_total{" + c + ",prompt=\"qa@2\",kind=\"context\"}") == "100");
  CHECK(value("verity_tokens_total{" + c + ",prompt=\"qa@2\",kind=\"prompt\"}") == "30");
  CHECK(value("verity_tokens_total{" + c + ",prompt=\"qa@2\",kind=\"answer\"}") == "20");
  CHECK(value("verity_answers_by_prompt_total{" + c + ",prompt=\"qa@2\"}") == "5");

  // No collection: every family is still declared (HELP and TYPE), no sample.
  std::string empty;
  server::RenderMonitorMetrics({}, &empty);
  CHECK(Samples(empty).empty());
  for (const char* family :
       {"verity_answer_groundedness histogram", "verity_answers_annotated_total counter",
        "verity_annotation_failures_total counter", "verity_answer_flags_total counter",
        "verity_toxicity_flags_total counter", "verity_retrievals_observed_total counter",
        "verity_retrieval_weak_total counter", "verity_retrieval_weak_threshold gauge", "verity_drift_psi gauge",
        "verity_drift_threshold gauge", "verity_drift_alarm gauge", "verity_drift_observations_total counter",
        "verity_tokens_total counter", "verity_answers_by_prompt_total counter",
        "verity_cache_tokens_saved_total counter"}) {
    INFO(family);
    CHECK(empty.find(std::string("# TYPE ") + family + "\n") != std::string::npos);
  }
}

TEST_CASE("monitor: annotations keep every field on the wire and in log records", "[server][monitor]") {
  const Annotation a = SampleAnnotation();
  v1::Annotation wire;
  wire::ToProto(a, &wire);
  auto back = wire::FromProto(wire, "annotation");
  REQUIRE(back.ok());
  v1::Annotation again;
  wire::ToProto(*back, &again);
  CHECK(again.SerializeAsString() == wire.SerializeAsString());
  CHECK(back->flags == a.flags);
  REQUIRE(back->toxicity_matches.size() == 1);
  CHECK(back->toxicity_matches[0].languages == std::vector<std::string>{"en", "fr"});
  REQUIRE(back->query_toxicity_matches.size() == 1);
  CHECK(back->query_toxicity_matches[0].term == "heck");
  CHECK(back->query_toxicity_matches[0].end == 4);
  CHECK(wire.flags(3) == v1::MONITOR_FLAG_TOXICITY);

  // A flag this build does not know (a newer server's) is skipped: the
  // record is still read.
  wire.add_flags(static_cast<v1::MonitorFlag>(42));
  auto newer = wire::FromProto(wire, "annotation");
  REQUIRE(newer.ok());
  CHECK(newer->flags == back->flags);

  // A log record carries its annotation both ways; one without has none.
  LogRecord record;
  record.kind = LogKind::kAnswer;
  record.retrieval_id = "rtv-1";
  record.annotation = a;
  v1::LogRecord wire_record;
  wire::ToProto(record, &wire_record);
  CHECK(wire_record.has_annotation());
  auto record_back = wire::FromProto(wire_record, "record");
  REQUIRE(record_back.ok());
  REQUIRE(record_back->annotation.has_value());
  CHECK(record_back->annotation->g == 0.25);
  record.annotation.reset();
  v1::LogRecord plain;
  wire::ToProto(record, &plain);
  CHECK_FALSE(plain.has_annotation());
  CHECK_FALSE(wire::FromProto(plain, "record")->annotation.has_value());
}

TEST_CASE("monitor: report requests take the wire defaults and reports keep every field", "[server][monitor]") {
  // Unset optional fields and max_records 0 take the documented defaults;
  // set ones (0 included) travel as set.
  MonitorReportRequest defaults = wire::FromProto(v1::GetMonitorReportRequest());
  CHECK(defaults.low_g == 0.6);
  CHECK(defaults.max_flagged == 100);
  CHECK(defaults.ids_per_bucket == 10);
  CHECK(defaults.max_records == 1000000);
  v1::GetMonitorReportRequest set;
  set.set_low_g(0);
  set.set_max_flagged(0);
  set.set_ids_per_bucket(0);
  set.set_max_records(7);
  set.set_bucket_seconds(-5);  // the engine refuses it, naming the field
  MonitorReportRequest given = wire::FromProto(set);
  CHECK(given.low_g == 0);
  CHECK(given.max_flagged == 0);
  CHECK(given.ids_per_bucket == 0);
  CHECK(given.max_records == 7);
  CHECK(given.bucket_seconds == -5);
  CHECK(wire::FromProto(v1::AnnotateLogRequest()).max_records == 1000000);

  // A report survives the round trip.
  MonitorReport report;
  report.collection = "docs";
  report.bucket_us = 60000000;
  report.totals.answers = 2;
  report.totals.toxic = 1;
  report.buckets.resize(2);
  report.buckets[1].retrieval_ids = {"rtv-1"};
  report.markers.push_back({5, "prompt", "qa@2", "qa@1", "rtv-1"});
  report.flagged.push_back({"rtv-1", 5, {MonitorFlag::kToxicity}, 0.9, true, "qa@2", 4, {"darn"}});
  report.flagged_total = 1;
  report.prompts.push_back({"qa@2", 2, 2, 0.75, 10, 20, 30, 0});
  report.live.push_back(SampleStats("docs").legs[0]);
  v1::GetMonitorReportResponse wire_report;
  wire::ToProto(report, &wire_report);
  auto report_back = wire::FromProto(wire_report);
  REQUIRE(report_back.ok());
  v1::GetMonitorReportResponse wire_again;
  wire::ToProto(*report_back, &wire_again);
  CHECK(wire_again.SerializeAsString() == wire_report.SerializeAsString());
  CHECK(report_back->flagged[0].flags == std::vector<MonitorFlag>{MonitorFlag::kToxicity});
  CHECK(report_back->live[0].alarm);
}

TEST_CASE("monitor: the CLI refuses bad command lines before calling", "[server][monitor][cli]") {
  test::TempDir dir;
  const std::string addr = "127.0.0.1:1";  // nothing is sent
  auto usage = [&](const std::string& args, const std::string& needle) {
    const test::CliRun run = test::RunCli(dir, addr, args);
    INFO(args << "\n" << run.err);
    CHECK(run.code == 2);
    CHECK(run.err.find(needle) != std::string::npos);
  };
  usage("monitor", "missing COLLECTION");
  usage("monitor docs --bucket -3", "--bucket");
  usage("monitor docs --low-g high", "--low-g");
  usage("monitor docs --reset --since 0", "--reset takes no --since");
  usage("monitor docs --limit 3", "monitor takes no option --limit");
  usage("audit --flags docs --worst 3", "audit --flags takes no --worst");
  usage("log annotation", "missing RETRIEVAL_ID");
  usage("log annotate --kind answer", "log annotate takes no option --kind");
}

TEST_CASE("monitor: verityd's monitor size and query flags set the options and name the flag",
          "[server][monitor]") {
  server::ServerOptions o;
  bool help = false;
  REQUIRE(server::ParseServerOptions({"--monitor-weak-reference-size", "20", "--monitor-weak-percentile", "10",
                                      "--monitor-drift-reference-size", "100", "--monitor-drift-current-size", "200",
                                      "--monitor-drift-centroids", "4", "--monitor-centroid-sample", "10",
                                      "--toxicity-flag-queries", "true"},
                                     &o, &help)
              .ok());
  CHECK(o.monitor.weak_reference_size == 20);
  CHECK(o.monitor.weak_percentile == 10);
  CHECK(o.monitor.drift_reference_size == 100);
  CHECK(o.monitor.drift_current_size == 200);
  CHECK(o.monitor.drift_centroids == 4);
  CHECK(o.monitor.centroid_sample == 10);
  CHECK(o.monitor.flag_queries);
  const MonitorOptions defaults;
  CHECK_FALSE(server::ServerOptions().monitor.flag_queries);
  CHECK(server::ServerOptions().monitor.weak_reference_size == defaults.weak_reference_size);
  CHECK(server::ServerOptions().monitor.drift_current_size == defaults.drift_current_size);

  auto refused = [](const std::vector<std::string>& args, const std::string& needle) {
    server::ServerOptions options;
    bool h = false;
    const Status s = server::ParseServerOptions(args, &options, &h);
    INFO(s.ToString());
    CHECK(s.code() == StatusCode::kInvalidArgument);
    CHECK(s.message().find(needle) != std::string::npos);
  };
  refused({"--monitor-weak-reference-size", "19"}, "--monitor-weak-reference-size: \"19\" is not an integer in 20..");
  refused({"--monitor-weak-percentile", "51"}, "--monitor-weak-percentile");
  refused({"--monitor-drift-reference-size", "99"}, "--monitor-drift-reference-size");
  refused({"--monitor-drift-current-size", "x"}, "--monitor-drift-current-size");
  refused({"--monitor-drift-centroids", "5000"}, "--monitor-drift-centroids");
  refused({"--monitor-centroid-sample", "0"}, "--monitor-centroid-sample");
  refused({"--monitor-typo", "1"}, "unknown option --monitor-typo");
  refused({"--toxicity-flag-queries", "yes"}, "--toxicity-flag-queries");
}
