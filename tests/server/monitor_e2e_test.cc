// MonitorService end to end against a real verityd (issue #28;
// docs/monitoring.md): retrievals and answers (one toxic, one grounded)
// show up in the report, the log records' annotations, /metrics and the
// `verity monitor` / `audit --flags` / `log annotation` / `log export`
// commands; bad requests are INVALID_ARGUMENT naming the field, and the
// server keeps serving.
#include <httplib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "server/server_helpers.h"
#include "server/server_process.h"
#include "verity/client.h"
#include "verity/v1/monitor.grpc.pb.h"

using namespace verity;
using Json = nlohmann::json;

namespace {

// The metrics port a verityd started with --metrics-listen 127.0.0.1:0
// chose, from its start line.
int MetricsPort(const std::string& log_path) {
  const std::string marker = "\"metrics\":\"http://127.0.0.1:";
  for (int attempt = 0; attempt < 500; ++attempt) {
    const std::string log = test::ReadFile(log_path);
    if (const size_t at = log.find(marker); at != std::string::npos) return std::stoi(log.substr(at + marker.size()));
    usleep(10000);
  }
  FAIL("no metrics URL in " << log_path);
  return 0;
}

std::string Scrape(int port) {
  httplib::Client http("127.0.0.1", port);
  auto res = http.Get("/metrics");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  return res->body;
}

// Loads "docs": ten paragraphs about a pump, vectors [i, 1, 0, 0].
void LoadDocs(Client& client) {
  test::CreateCollection(client, "docs", 4);
  std::vector<Record> records;
  for (int i = 0; i < 10; ++i) {
    Record r;
    r.id = "p" + std::to_string(i);
    r.vector = {static_cast<float>(i), 1, 0, 0};
    r.text = "The cooling pump " + std::to_string(i) + " runs at " + std::to_string(1000 + i) +
             " rpm and is inspected every month.";
    records.push_back(r);
  }
  REQUIRE(client.Upsert("docs", records).ok());
}

// The monitoring series after the retrievals and answers of the test below.
void CheckMetrics(const std::string& metrics) {
  INFO(metrics);
  CHECK(metrics.find("verity_toxicity_flags_total{collection=\"docs\"} 1\n") != std::string::npos);
  CHECK(metrics.find("verity_answer_flags_total{collection=\"docs\",flag=\"toxicity\"} 1\n") != std::string::npos);
  CHECK(metrics.find("verity_answers_annotated_total{collection=\"docs\"} 2\n") != std::string::npos);
  // Judged once the reference holds its 20 values: the last 10.
  CHECK(metrics.find("verity_retrievals_observed_total{collection=\"docs\",leg=\"dense\"} 10\n") != std::string::npos);
  CHECK(metrics.find("verity_retrieval_weak_threshold{collection=\"docs\",leg=\"dense\"} ") != std::string::npos);
  // Observed once the background trainer has the centroids: how many of
  // the 30 depends on its timing.
  CHECK(metrics.find("verity_drift_observations_total{collection=\"docs\",leg=\"dense\"} ") != std::string::npos);
  CHECK(metrics.find("verity_answers_by_prompt_total{collection=\"docs\",prompt=\"qa@1\"} 2\n") != std::string::npos);
}

// `verity monitor`, `audit --flags`, `log annotation` and `log export`
// after the retrievals and answers of the test below.
void CheckCli(const test::TempDir& dir, const std::string& addr, const std::string& toxic_id) {
  const test::CliRun text = test::RunCliOk(dir, addr, "monitor docs");
  CHECK(text.out.find("answers 2") != std::string::npos);
  CHECK(text.out.find("toxic 1") != std::string::npos);
  CHECK(text.out.find(toxic_id) != std::string::npos);
  CHECK(text.out.find("toxicity") != std::string::npos);
  const Json json = Json::parse(test::RunCliOk(dir, addr, "monitor docs --json --bucket 3600").out);
  CHECK(json["totals"]["answers"] == 2);
  CHECK(json["bucket_us"] == 3600000000LL);
  const Json flags = Json::parse(test::RunCliOk(dir, addr, "audit --flags --json").out);
  bool listed = false;
  for (const auto& f : flags) listed |= f["retrieval_id"] == toxic_id && f["collection"] == "docs";
  CHECK(listed);
  const Json one = Json::parse(test::RunCliOk(dir, addr, "log annotation " + toxic_id + " --json").out);
  CHECK(one["toxic"] == true);
  CHECK(one["flags"].dump().find("toxicity") != std::string::npos);
  const std::string exported = test::RunCliOk(dir, addr, "log export --kind answer").out;
  CHECK(exported.find("\"verity.annotation\"") != std::string::npos);
  test::RunCliOk(dir, addr, "monitor docs --reset");
  CHECK(test::RunCli(dir, addr, "monitor nosuch").code != 0);
}

}  // namespace

TEST_CASE("monitor: report, annotations, metrics and CLI against a real verityd", "[server][monitor][cli]") {
  test::TempDir dir;
  // Small references, so that 30 retrievals fill the weakness reference
  // (20) and the next 10 are judged.
  auto server = test::StartServer(dir, {"--metrics-listen", "127.0.0.1:0", "--monitor-weak-reference-size", "20",
                                        "--monitor-drift-centroids", "4", "--monitor-centroid-sample", "10",
                                        "--toxicity-flag-queries", "true"});
  const int metrics_port = MetricsPort(dir.Sub("log"));
  Client client(test::ClientOptionsFor(*server));
  LoadDocs(client);

  std::vector<std::string> ids;
  for (int i = 0; i < 30; ++i) {
    RetrieveRequest request;
    request.collection = "docs";
    request.vector = {static_cast<float>(i % 10), 1, 0, 0};
    request.k = 3;
    request.query_text = i == 3 ? "how fast does the fucking pump run?" : "how fast does the cooling pump run?";
    request.prompt = "qa@1";
    auto r = client.Retrieve(request);
    REQUIRE(r.ok());
    ids.push_back(r->retrieval_id);
  }
  const std::string toxic_id = ids[3], grounded_id = ids[4];
  REQUIRE(client.RecordAnswer({toxic_id, "This fucking pump runs at 1003 rpm.", "m", 0, 0}).ok());
  REQUIRE(client.RecordAnswer({grounded_id, "The cooling pump 4 runs at 1004 rpm.", "m", 0, 9}).ok());

  // The report: the answers, the toxic flag, tokens.
  MonitorReportRequest request;
  request.collection = "docs";
  auto report = client.GetMonitorReport(request);
  REQUIRE(report.ok());
  CHECK(report->totals.retrievals == 30);
  CHECK(report->totals.answers == 2);
  CHECK(report->totals.toxic == 1);
  CHECK(report->totals.context_tokens > 0);
  CHECK(report->totals.answer_tokens > 0);
  bool toxic_flagged = false;
  for (const auto& f : report->flagged) {
    if (f.retrieval_id != toxic_id) continue;
    for (MonitorFlag flag : f.flags) toxic_flagged |= flag == MonitorFlag::kToxicity;
  }
  CHECK(toxic_flagged);
  CHECK_FALSE(report->live.empty());

  // The log records carry their annotation: GetRetrieval and ListLog.
  auto found = client.GetRetrieval(toxic_id);
  REQUIRE(found.ok());
  REQUIRE(found->second.has_value());
  REQUIRE(found->second->annotation.has_value());
  CHECK(found->second->annotation->toxic);
  CHECK(found->second->annotation->query_toxicity_matches.size() == 1);  // --toxicity-flag-queries
  LogQuery answers;
  answers.collection = "docs";
  answers.kind = LogKind::kAnswer;
  answers.limit = 100;
  auto page = client.ListLog(answers);
  REQUIRE(page.ok());
  REQUIRE(page->records.size() == 2);
  for (const auto& r : page->records) CHECK(r.annotation.has_value());
  auto annotation = client.Annotate(grounded_id);
  REQUIRE(annotation.ok());
  CHECK_FALSE(annotation->toxic);
  CHECK(annotation->query_toxicity_matches.empty());
  CHECK(annotation->answer_tokens == 9);  // the client's report
  auto annotated = client.AnnotateLog({});
  REQUIRE(annotated.ok());
  CHECK(annotated->existing == 2);
  CHECK(annotated->annotated == 0);

  CheckMetrics(Scrape(metrics_port));
  CheckCli(dir, server->address(), toxic_id);
}

TEST_CASE("monitor: bad requests are INVALID_ARGUMENT naming the field and the server keeps serving",
          "[server][monitor]") {
  test::TempDir dir;
  auto server = test::StartServer(dir, {"--max-message-bytes", "4096"});
  Client client(test::ClientOptionsFor(*server));
  LoadDocs(client);
  auto stub = v1::MonitorService::NewStub(server->channel());
  auto call = [&](const v1::GetMonitorReportRequest& req) {
    grpc::ClientContext ctx;
    v1::GetMonitorReportResponse resp;
    return stub->GetMonitorReport(&ctx, req, &resp);
  };
  v1::GetMonitorReportRequest req;
  req.set_collection("docs");
  req.set_bucket_seconds(-1);
  test::ExpectError(call(req), grpc::StatusCode::INVALID_ARGUMENT, "bucket_seconds");
  req.set_bucket_seconds(0);
  req.set_low_g(2);
  test::ExpectError(call(req), grpc::StatusCode::INVALID_ARGUMENT, "low_g");
  req.clear_low_g();
  req.set_max_flagged(kMaxMonitorFlagged + 1);
  test::ExpectError(call(req), grpc::StatusCode::INVALID_ARGUMENT, "max_flagged");
  req.clear_max_flagged();
  req.set_collection("nosuch");
  test::ExpectError(call(req), grpc::StatusCode::NOT_FOUND, "nosuch");
  req.set_collection("docs");
  CHECK(call(req).ok());
  // 1000 one-second buckets do not fit in 4 KiB: refused, saying what to ask for.
  req.set_since_us(1000000);
  req.set_until_us(1001000000);
  req.set_bucket_seconds(1);
  test::ExpectError(call(req), grpc::StatusCode::RESOURCE_EXHAUSTED, "use fewer buckets (bucket_seconds");

  grpc::ClientContext ctx;
  v1::AnnotateRequest annotate;
  annotate.set_retrieval_id("rtv-00000000000000000000000000000000");
  v1::AnnotateResponse annotated;
  test::ExpectError(stub->Annotate(&ctx, annotate, &annotated), grpc::StatusCode::NOT_FOUND, "");
  CHECK(client.ResetMonitorReference("docs").ok());
  CHECK(client.ResetMonitorReference("nosuch").code() == StatusCode::kNotFound);
}
