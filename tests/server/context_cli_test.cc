// The `verity retrieve / answer / log / replay` commands against a real
// verityd: JSON output parsed, the export's JSON Lines with OpenTelemetry
// GenAI names, exit codes.
#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/test_data.h"
#include "server/server_helpers.h"
#include "server/server_process.h"

using Json = nlohmann::json;

namespace {

using verity::test::RunCliOk;
using Run = verity::test::CliRun;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// Creates the collection "docs" (dimension 3) and imports `n` paragraphs of
// a manual: id p<i>, vector [i, 1, 0].
void LoadManual(const verity::test::TempDir& dir, const std::string& addr, int n) {
  RunCliOk(dir, addr, "collection create docs --dim 3");
  {
    std::ofstream f(dir.Sub("docs.jsonl"));
    for (int i = 0; i < n; ++i) {
      f << Json{{"id", "p" + std::to_string(i)},
                {"vector", {i, 1, 0}},
                {"text", "paragraph " + std::to_string(i) + " of the manual"},
                {"document_id", "manual"}}
               .dump()
        << "\n";
    }
  }
  RunCliOk(dir, addr, "import docs " + dir.Sub("docs.jsonl"));
}

}  // namespace

TEST_CASE("the verity CLI: retrieve, answer, log show/list/verify/export, replay", "[server][cli][context]") {
  verity::test::TempDir dir;
  auto server = verity::test::StartServer(dir);
  const std::string addr = server->address();

  LoadManual(dir, addr, 6);

  // retrieve --json: the retrieval id and the chunks.
  Run r = RunCliOk(dir, addr,
                   "retrieve docs --vector '[0, 1, 0]' -k 3 --query-text 'first paragraph?' --budget 12 "
                   "--prompt qa@1 --trace-id trace-1 --json");
  Json retrieved = Json::parse(r.out);
  const std::string id = retrieved["retrieval_id"];
  REQUIRE(id.rfind("rtv-", 0) == 0);
  REQUIRE(retrieved["version"] == 1);
  REQUIRE(retrieved["chunks"].size() == 3);
  REQUIRE(retrieved["chunks"][0]["id"] == "p0");
  REQUIRE(retrieved["chunks"][0]["rank"] == 1);
  REQUIRE(retrieved["chunks"][0]["row_version"] == 1);
  REQUIRE(retrieved["chunks"][0]["in_context"] == true);
  REQUIRE(retrieved["chunks"][1]["in_context"] == false);  // 7 + 7 tokens > 12
  REQUIRE(retrieved["context"] == "paragraph 0 of the manual");
  REQUIRE(retrieved["context_sha256"].get<std::string>().size() == 64);

  // Human output: the retrieval id first, then the chunks and the context hash.
  r = RunCliOk(dir, addr, "retrieve docs --vector '[5, 1, 0]' -k 2");
  REQUIRE(r.out.rfind("retrieval rtv-", 0) == 0);
  REQUIRE(r.out.find("p5") != std::string::npos);
  REQUIRE(r.out.find("IN_CONTEXT") != std::string::npos);
  REQUIRE(r.out.find("context sha256 ") != std::string::npos);
  const std::string other = r.out.substr(10, 36);

  // Usage errors exit 2; server refusals exit 1 with the code.
  REQUIRE(verity::test::RunCli(dir, addr, "retrieve docs -k 3").code == 2);
  Run refused = verity::test::RunCli(dir, addr, "retrieve docs --vector '[0,1,0]' --at ghost");
  REQUIRE(refused.code == 1);
  REQUIRE(refused.err.find("NOT_FOUND") != std::string::npos);

  // answer, then a second answer is refused.
  r = RunCliOk(dir, addr,
               "answer " + id + " --text 'Paragraph zero.' --model fake-1 --prompt-tokens 20 --completion-tokens 3");
  REQUIRE(r.out.find("answer recorded for " + id) != std::string::npos);
  {
    std::ofstream f(dir.Sub("answer.txt"));
    f << "another answer";
  }
  refused = verity::test::RunCli(dir, addr, "answer " + id + " --file " + dir.Sub("answer.txt"));
  REQUIRE(refused.code == 1);
  REQUIRE(refused.err.find("ALREADY_EXISTS") != std::string::npos);
  r = RunCliOk(dir, addr, "answer " + other + " --file " + dir.Sub("answer.txt") + " --json");
  REQUIRE(Json::parse(r.out)["gen_ai.output.messages"][0]["parts"][0]["content"] == "another answer");

  // log show: the retrieval and its answer.
  r = RunCliOk(dir, addr, "log show " + id + " --json");
  Json shown = Json::parse(r.out);
  REQUIRE(shown["retrieval"]["verity.retrieval_id"] == id);
  REQUIRE(shown["retrieval"]["gen_ai.retrieval.query.text"] == "first paragraph?");
  REQUIRE(shown["retrieval"]["verity.prompt"] == "qa@1");
  REQUIRE(shown["retrieval"]["verity.client_trace_id"] == "trace-1");
  REQUIRE(shown["retrieval"]["verity.query.vector"] == Json::array({0, 1, 0}));
  REQUIRE(shown["answer"]["gen_ai.request.model"] == "fake-1");
  REQUIRE(shown["answer"]["gen_ai.usage.input_tokens"] == 20);
  REQUIRE(shown["answer"]["gen_ai.usage.output_tokens"] == 3);
  r = RunCliOk(dir, addr, "log show " + id);
  REQUIRE(r.out.rfind("retrieval " + id, 0) == 0);
  REQUIRE(r.out.find("Paragraph zero.") != std::string::npos);
  REQUIRE(verity::test::RunCli(dir, addr, "log show rtv-nope").code == 1);

  // log list: every record, or by kind and time.
  Json listed = Json::parse(RunCliOk(dir, addr, "log list --json").out);
  REQUIRE(listed.size() == 4);
  REQUIRE(listed[0]["verity.seq"] == 1);
  listed = Json::parse(RunCliOk(dir, addr, "log list --kind answer --since 2020-01-01T00:00:00Z --json").out);
  REQUIRE(listed.size() == 2);
  listed = Json::parse(RunCliOk(dir, addr, "log list --until 1000000000 --json").out);  // 2001: nothing
  REQUIRE(listed.empty());
  listed = Json::parse(RunCliOk(dir, addr, "log list --limit 3 --json").out);
  REQUIRE(listed.size() == 3);
  r = RunCliOk(dir, addr, "log list --collection docs");
  REQUIRE(r.out.find("RETRIEVAL_ID") != std::string::npos);
  REQUIRE(verity::test::RunCli(dir, addr, "log list --since yesterday").code == 2);

  // log verify: exit 0 and the head hash.
  r = RunCliOk(dir, addr, "log verify --json");
  Json verified = Json::parse(r.out);
  REQUIRE(verified["ok"] == true);
  REQUIRE(verified["records"] == 4);
  r = RunCliOk(dir, addr, "log verify");
  REQUIRE(r.out.rfind("ok: 4 records checked", 0) == 0);

  // log export: JSON Lines, one object per record, OpenTelemetry GenAI names.
  r = RunCliOk(dir, addr, "log export --output " + dir.Sub("log.jsonl"));
  REQUIRE(r.out.find("exported 4 log records") != std::string::npos);
  const std::vector<std::string> lines = Lines(verity::test::ReadFile(dir.Sub("log.jsonl")));
  REQUIRE(lines.size() == 4);
  std::string prev_hash;
  for (size_t i = 0; i < lines.size(); ++i) {
    Json line = Json::parse(lines[i], nullptr, false);
    REQUIRE_FALSE(line.is_discarded());
    REQUIRE(line["verity.seq"] == i + 1);
    REQUIRE(line["verity.hash"].get<std::string>().size() == 64);
    if (i > 0) REQUIRE(line["verity.prev_hash"] == prev_hash);
    prev_hash = line["verity.hash"];
    REQUIRE(line.contains("gen_ai.operation.name"));
    REQUIRE(line["gen_ai.data_source.id"] == "docs");
    if (line["verity.kind"] == "retrieval") {
      REQUIRE(line["gen_ai.operation.name"] == "retrieval");
      REQUIRE(line.contains("gen_ai.request.top_k"));
      REQUIRE(line["gen_ai.retrieval.documents"].is_array());
      REQUIRE(line["gen_ai.retrieval.documents"][0].contains("id"));
      REQUIRE(line["gen_ai.retrieval.documents"][0].contains("score"));
      REQUIRE(line["gen_ai.retrieval.documents"][0].contains("verity.row_version"));
      REQUIRE(line["gen_ai.retrieval.documents"][0].contains("verity.text_sha256"));
      REQUIRE(line.contains("verity.context_sha256"));
      REQUIRE_FALSE(line.contains("verity.query.vector"));  // the export keeps the hash only
    } else {
      REQUIRE(line["gen_ai.operation.name"] == "chat");
      REQUIRE(line.contains("gen_ai.usage.input_tokens"));
    }
  }
  REQUIRE(Json::parse(lines[0])["gen_ai.retrieval.query.text"] == "first paragraph?");
  REQUIRE(verified["head_hash"] == Json::parse(lines[3])["verity.hash"]);
  REQUIRE(verity::test::ReadFile(dir.Sub("log.jsonl")) == RunCliOk(dir, addr, "log export").out);  // stdout agrees
  REQUIRE(Lines(RunCliOk(dir, addr, "log export --collection nope").out).empty());

  // replay: a fresh retrieval is identical in context and retrieval modes.
  r = RunCliOk(dir, addr, "replay " + id + " --json");
  Json replayed = Json::parse(r.out);
  REQUIRE(replayed["outcome"] == "identical");
  REQUIRE(replayed["mode"] == "context");
  REQUIRE(replayed["context_hash_matches"] == true);
  REQUIRE(!replayed.contains("recall"));  // only what the mode measured
  r = RunCliOk(dir, addr, "replay " + id + " --mode retrieval --json");
  replayed = Json::parse(r.out);
  REQUIRE(replayed["outcome"] == "identical");
  REQUIRE(replayed["recall"] == 1.0);
  r = RunCliOk(dir, addr, "replay " + id);
  REQUIRE(r.out.rfind("identical", 0) == 0);
  // After a delete, the counterfactual at head differs and names the removed id.
  RunCliOk(dir, addr, "delete docs p1");
  r = RunCliOk(dir, addr, "replay " + id + " --mode counterfactual --json");
  replayed = Json::parse(r.out);
  REQUIRE(replayed["outcome"] == "differs");
  REQUIRE(replayed["removed"] == Json::array({"p1"}));
  REQUIRE(!replayed.contains("recall"));
  REQUIRE(!replayed.contains("context_hash_matches"));
  r = RunCliOk(dir, addr, "replay " + id + " --mode counterfactual --at 1");
  REQUIRE(r.out.rfind("identical", 0) == 0);
  r = RunCliOk(dir, addr, "replay " + id + " --mode counterfactual");
  REQUIRE(r.out.rfind("differs", 0) == 0);
  REQUIRE(r.out.find("removed: p1") != std::string::npos);
  REQUIRE(verity::test::RunCli(dir, addr, "replay " + id + " --mode sideways").code == 2);
  REQUIRE(verity::test::RunCli(dir, addr, "replay " + id + " --at 1").code == 2);
}

TEST_CASE("the verity CLI: audit one retrieval and a collection", "[server][cli][context][audit]") {
  verity::test::TempDir dir;
  auto server = verity::test::StartServer(dir);
  const std::string addr = server->address();

  LoadManual(dir, addr, 4);
  auto retrieve = [&] {
    return Json::parse(RunCliOk(dir, addr, "retrieve docs --vector '[0, 1, 0]' -k 2 --json").out)["retrieval_id"]
        .get<std::string>();
  };
  const std::string grounded = retrieve();
  RunCliOk(dir, addr, "answer " + grounded + " --text 'Paragraph 0 of the manual.'");
  const std::string invented = retrieve();
  RunCliOk(dir, addr,
           "answer " + invented + " --text 'Paragraph 1 of the manual. The manual was written by Alice in 1999.'");
  const std::string unanswered = retrieve();

  // --json: the scorer's canonical JSON wrapped with the retrieval; twice the same bytes.
  Run first = RunCliOk(dir, addr, "audit " + invented + " --json");
  Run second = RunCliOk(dir, addr, "audit " + invented + " --json");
  REQUIRE(first.out == second.out);
  Json audit = Json::parse(first.out);
  REQUIRE(audit["retrieval_id"] == invented);
  REQUIRE(audit["collection"] == "docs");
  REQUIRE(audit["version"] == 1);
  REQUIRE(audit["answer_recorded"] == true);
  const Json& g = audit["groundedness"];
  REQUIRE(g["scorer"] == "verity-groundedness/3");
  REQUIRE(g["g"] == 0.5);
  REQUIRE(g["scored"] == 2);
  REQUIRE(g["supported"] == 1);
  REQUIRE(g["sentences"].size() == 2);
  REQUIRE(first.out.find("\"verdict\":\"unsupported\"") != std::string::npos);
  REQUIRE(first.out.find("Alice") != std::string::npos);

  // Human output: G, then verdict, support, chunk and missing tokens per sentence.
  Run r = RunCliOk(dir, addr, "audit " + invented);
  REQUIRE(r.out.rfind("audit of " + invented, 0) == 0);
  REQUIRE(r.out.find("G 0.5000: 1 of 2 scored sentences supported") != std::string::npos);
  REQUIRE(r.out.find("VERDICT") != std::string::npos);
  REQUIRE(r.out.find("unsupported") != std::string::npos);
  REQUIRE(r.out.find("p1") != std::string::npos);
  REQUIRE(r.out.find("Alice, 1999") != std::string::npos);
  r = RunCliOk(dir, addr, "audit " + grounded);
  REQUIRE(r.out.find("G 1.0000: 1 of 1 scored") != std::string::npos);

  // A given answer (text or file), a threshold; refusals.
  Json given =
      Json::parse(RunCliOk(dir, addr, "audit " + unanswered + " --answer 'Paragraph 1 of the manual.' --json").out);
  REQUIRE(given["answer_recorded"] == false);
  REQUIRE(given["groundedness"]["g"] == 1.0);
  {
    std::ofstream f(dir.Sub("answer.txt"));
    f << "Paragraph 3 of the manual.";  // p3 is not in the context
  }
  given = Json::parse(
      RunCliOk(dir, addr, "audit " + unanswered + " --answer-file " + dir.Sub("answer.txt") + " --threshold 0.9 --json")
          .out);
  REQUIRE(given["groundedness"]["threshold"] == 0.9);
  REQUIRE(given["groundedness"]["g"] == 0.0);
  // --threshold 0 is a threshold of 0, not the default (#25); no flag is the default.
  REQUIRE(Json::parse(RunCliOk(dir, addr, "audit " + grounded + " --threshold 0 --json").out)["groundedness"]
                     ["threshold"] == 0.0);
  REQUIRE(Json::parse(RunCliOk(dir, addr, "audit " + grounded + " --json").out)["groundedness"]["threshold"] == 0.6);
  REQUIRE(Json::parse(RunCliOk(dir, addr, "audit --collection docs --threshold 0 --json").out)["audits"][0]
                     ["groundedness"]["threshold"] == 0.0);
  Run refused = verity::test::RunCli(dir, addr, "audit " + unanswered);
  REQUIRE(refused.code == 1);
  REQUIRE(refused.err.find("FAILED_PRECONDITION") != std::string::npos);
  refused = verity::test::RunCli(dir, addr, "audit rtv-nope");
  REQUIRE(refused.code == 1);
  REQUIRE(refused.err.find("NOT_FOUND") != std::string::npos);
  refused = verity::test::RunCli(dir, addr, "audit " + grounded + " --threshold 3");
  REQUIRE(refused.code == 1);
  REQUIRE(refused.err.find("INVALID_ARGUMENT") != std::string::npos);
  REQUIRE(verity::test::RunCli(dir, addr, "audit " + grounded + " --threshold high").code == 2);
  REQUIRE(verity::test::RunCli(dir, addr, "audit").code == 2);
  REQUIRE(verity::test::RunCli(dir, addr, "audit " + grounded + " --collection docs").code == 2);
  REQUIRE(verity::test::RunCli(dir, addr, "audit " + grounded + " --answer a --answer-file b").code == 2);

  // One audit as HTML.
  RunCliOk(dir, addr, "audit " + grounded + " --html " + dir.Sub("one.html"));
  const std::string one = verity::test::ReadFile(dir.Sub("one.html"));
  REQUIRE(one.find("class=\"sentence supported\"") != std::string::npos);
  REQUIRE(one.find(grounded) != std::string::npos);

  // The collection: counts, the worst answers, every audit in the HTML report.
  r = RunCliOk(dir, addr, "audit --collection docs --since 2020-01-01T00:00:00Z --low-g 0.6 --worst 1 --json");
  Json batch = Json::parse(r.out);
  REQUIRE(batch["collection"] == "docs");
  REQUIRE(batch["retrievals"] == 3);
  REQUIRE(batch["audited"] == 2);
  REQUIRE(batch["unanswered"] == 1);
  REQUIRE(batch["unavailable"] == 0);
  REQUIRE(batch["mean_g"] == 0.75);
  REQUIRE(batch["share_below"] == 0.5);
  REQUIRE(batch["worst"].size() == 1);
  REQUIRE(batch["worst"][0]["retrieval_id"] == invented);
  REQUIRE(batch["audits"].size() == 2);
  REQUIRE(r.out ==
          RunCliOk(dir, addr, "audit --collection docs --since 2020-01-01T00:00:00Z --low-g 0.6 --worst 1 --json").out);
  r = RunCliOk(dir, addr, "audit --collection docs --html " + dir.Sub("report.html"));
  REQUIRE(r.out.find("3 retrievals, 2 audited, 1 unanswered") != std::string::npos);
  REQUIRE(r.out.find("mean G 0.7500") != std::string::npos);
  REQUIRE(r.out.find(invented) != std::string::npos);
  const std::string html = verity::test::ReadFile(dir.Sub("report.html"));
  REQUIRE(html.find("class=\"sentence supported\"") != std::string::npos);
  REQUIRE(html.find("class=\"sentence unsupported\"") != std::string::npos);
  REQUIRE(html.find(grounded) != std::string::npos);
  REQUIRE(html.find(invented) != std::string::npos);
  REQUIRE(html.find(unanswered) == std::string::npos);
  Json empty = Json::parse(RunCliOk(dir, addr, "audit --collection docs --until 1000000000 --json").out);
  REQUIRE(empty["retrievals"] == 0);
  refused = verity::test::RunCli(dir, addr, "audit --collection nope");
  REQUIRE(refused.code == 1);
  REQUIRE(refused.err.find("NOT_FOUND") != std::string::npos);
  REQUIRE(verity::test::RunCli(dir, addr, "audit --collection docs --since yesterday").code == 2);
}

TEST_CASE("the verity CLI: retrieve by a document_id filter alone and the refusal of an empty context",
          "[server][cli][context][audit]") {
  verity::test::TempDir dir;
  auto server = verity::test::StartServer(dir);
  const std::string addr = server->address();
  LoadManual(dir, addr, 3);
  {
    std::ofstream f(dir.Sub("quotes.jsonl"));
    f << Json{{"id", "q0"}, {"vector", {9, 9, 9}}, {"text", "a quote"}, {"document_id", "quotes"}}.dump() << "\n";
  }
  RunCliOk(dir, addr, "import docs " + dir.Sub("quotes.jsonl"));

  // No vector: every chunk of the document, in document order, at distance 0.
  Json whole =
      Json::parse(RunCliOk(dir, addr, "retrieve docs --filter 'document_id = \"manual\"' --query-text src --json").out);
  REQUIRE(whole["chunks"].size() == 3);
  for (int i = 0; i < 3; ++i) {
    REQUIRE(whole["chunks"][i]["id"] == "p" + std::to_string(i));
    REQUIRE(whole["chunks"][i]["distance"] == 0.0);
  }
  REQUIRE(whole["exact"] == true);
  const std::string id = whole["retrieval_id"];
  Json shown = Json::parse(RunCliOk(dir, addr, "log show " + id + " --json").out);
  REQUIRE(shown.dump().find("document_id = \\\"manual\\\"") != std::string::npos);
  REQUIRE(RunCliOk(dir, addr, "replay " + id).out.find("identical") != std::string::npos);
  REQUIRE(RunCliOk(dir, addr, "replay " + id + " --mode retrieval").out.find("identical") != std::string::npos);
  // At most -k: more matches are refused, not cut.
  Run refused = verity::test::RunCli(dir, addr, "retrieve docs --filter 'document_id = \"manual\"' -k 2");
  REQUIRE(refused.code == 1);
  REQUIRE(refused.err.find("FAILED_PRECONDITION") != std::string::npos);
  REQUIRE(refused.err.find("more than 2 records") != std::string::npos);
  // id is a record field too.
  Json one = Json::parse(RunCliOk(dir, addr, "retrieve docs --vector '[0, 1, 0]' --filter 'id = \"p2\"' --json").out);
  REQUIRE(one["chunks"].size() == 1);
  REQUIRE(one["chunks"][0]["id"] == "p2");

  // A filter that matches nothing: refused, and nothing is logged.
  const std::string before = RunCliOk(dir, addr, "log list --json").out;
  refused = verity::test::RunCli(dir, addr, "retrieve docs --vector '[0, 1, 0]' --filter 'document_id = \"nope\"'");
  REQUIRE(refused.code == 1);
  REQUIRE(refused.err.find("FAILED_PRECONDITION") != std::string::npos);
  REQUIRE(refused.err.find("the filter matched no record") != std::string::npos);
  REQUIRE(RunCliOk(dir, addr, "log list --json").out == before);
  // Neither a vector nor a filter: a usage error, as before.
  REQUIRE(verity::test::RunCli(dir, addr, "retrieve docs").code == 2);
}
