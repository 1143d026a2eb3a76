// The `verity` CLI against a real verityd: import, search with a filter,
// --json output parsed and checked, and a malformed JSONL line reported with
// its number.
#include <signal.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "engine/test_data.h"
#include "server/server_process.h"

using Json = nlohmann::json;

namespace {

using Run = verity::test::CliRun;

Run Cli(const verity::test::TempDir& dir, const std::string& addr, const std::string& args) {
  return verity::test::RunCli(dir, addr, args);
}

}  // namespace

TEST_CASE("the verity CLI: create, import, search with a filter, --json", "[server][cli]") {
  verity::test::TempDir dir;
  auto server = verity::test::ServerProcess::Start(dir.Sub("data"), dir.Sub("log"));
  REQUIRE(server);
  const std::string addr = server->address();

  Run r = Cli(dir, addr, "collection create docs --dim 4 --metric l2 --json");
  INFO(r.err);
  REQUIRE(r.code == 0);
  REQUIRE(Json::parse(r.out)[0]["name"] == "docs");

  {
    std::ofstream f(dir.Sub("good.jsonl"));
    for (int i = 0; i < 25; ++i) {
      Json line = {{"id", "d" + std::to_string(i)},
                   {"vector", {i, i % 5, 1, 0}},
                   {"text", "chunk " + std::to_string(i)},
                   {"document_id", "doc" + std::to_string(i / 5)},
                   {"metadata", {{"lang", i % 2 ? "en" : "de"}, {"n", i}, {"tags", {"t" + std::to_string(i % 3)}}}}};
      f << line.dump() << "\n";
    }
  }
  r = Cli(dir, addr, "import docs " + dir.Sub("good.jsonl") + " --batch 10 --json");
  INFO(r.err);
  REQUIRE(r.code == 0);
  Json summary = Json::parse(r.out);
  REQUIRE(summary["records"] == 25);
  REQUIRE(summary["version"] == 3);  // 10 + 10 + 5
  REQUIRE(summary["records_per_second"].get<double>() > 0);

  // Human-readable summary line too.
  r = Cli(dir, addr, "import docs " + dir.Sub("good.jsonl"));
  REQUIRE(r.code == 0);
  REQUIRE(r.out.find("imported 25 records in") != std::string::npos);

  r = Cli(dir, addr, "search docs --vector '[10, 0, 1, 0]' -k 3 --filter 'lang = \"en\" and n >= 5' --json");
  INFO(r.err);
  REQUIRE(r.code == 0);
  Json found = Json::parse(r.out);
  REQUIRE(found["hits"].size() == 3);
  REQUIRE(found["hits"][0]["id"] == "d11");  // nearest odd n >= 5 to (10, 0, 1, 0) after exact d10 is filtered out
  for (const auto& hit : found["hits"]) {
    REQUIRE(hit["metadata"]["lang"] == "en");
    REQUIRE(hit["metadata"]["n"].get<int>() >= 5);
  }
  r = Cli(dir, addr, "search docs --vector '[10, 0, 1, 0]' -k 2");
  REQUIRE(r.code == 0);
  REQUIRE(r.out.find("RANK") != std::string::npos);
  REQUIRE(r.out.find("d10") != std::string::npos);

  r = Cli(dir, addr, "get docs d3 --at 1 --json");
  REQUIRE(r.code == 0);
  Json got = Json::parse(r.out);
  REQUIRE(got["text"] == "chunk 3");
  REQUIRE(got["row_version"] == 1);
  r = Cli(dir, addr, "count docs --filter 'tags any [\"t0\"]' --json");
  REQUIRE(Json::parse(r.out)["count"] == 9);
  r = Cli(dir, addr, "delete docs d1 d2 nope --json");
  REQUIRE(Json::parse(r.out)["deleted"] == 2);
  r = Cli(dir, addr, "versions docs --json");
  REQUIRE(Json::parse(r.out).size() == 6);  // 0; 3 batches; 1 batch; 1 delete
  r = Cli(dir, addr, "collection list");
  REQUIRE(r.out.find("NAME") != std::string::npos);
  REQUIRE(r.out.find("docs") != std::string::npos);

  // A malformed line is reported with its line number; the lines before it
  // (in earlier batches) stay imported.
  {
    std::ofstream f(dir.Sub("bad.jsonl"));
    f << R"({"id": "b1", "vector": [1, 2, 3, 4]})" << "\n";
    f << R"({"id": "b2", "vector": [1, 2, 3, 4]})" << "\n";
    f << R"({"id": "b3", "vector": [1, 2, oops]})" << "\n";
  }
  r = Cli(dir, addr, "import docs " + dir.Sub("bad.jsonl") + " --batch 1");
  REQUIRE(r.code == 1);
  REQUIRE(r.err.find("bad.jsonl:3: not valid JSON at byte 31: ") != std::string::npos);
  REQUIRE(r.err.find("(2 records imported before it)") != std::string::npos);
  REQUIRE(r.err.rfind("verity: ", 0) == 0);
  REQUIRE(std::count(r.err.begin(), r.err.end(), '\n') == 1);  // one line
  // Text that is not UTF-8 (JSON must be): the line, the byte and why.
  {
    std::ofstream f(dir.Sub("latin1.jsonl"));
    f << R"({"id": "l1", "vector": [1, 2, 3, 4], "text": "caf)" << '\xE9' << R"("})" << "\n";
  }
  r = Cli(dir, addr, "import docs " + dir.Sub("latin1.jsonl"));
  REQUIRE(r.code == 1);
  INFO(r.err);
  REQUIRE(r.err.find("latin1.jsonl:1: not valid JSON at byte ") != std::string::npos);
  REQUIRE(r.err.find("ill-formed UTF-8 byte") != std::string::npos);
  REQUIRE(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  // A number JSON can write but a double cannot hold.
  {
    std::ofstream f(dir.Sub("huge.jsonl"));
    f << R"({"id": "h1", "vector": [1e999, 2, 3, 4]})" << "\n";
  }
  r = Cli(dir, addr, "import docs " + dir.Sub("huge.jsonl"));
  REQUIRE(r.code == 1);
  INFO(r.err);
  REQUIRE(r.err.find("huge.jsonl:1: not valid JSON: ") != std::string::npos);
  REQUIRE(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  // A field of the wrong type is named as such, not as missing.
  {
    std::ofstream f(dir.Sub("types.jsonl"));
    f << R"({"id": "t1", "vector": "abc"})" << "\n";
  }
  r = Cli(dir, addr, "import docs " + dir.Sub("types.jsonl"));
  REQUIRE(r.code == 1);
  REQUIRE(r.err.find("types.jsonl:1: \"vector\" must be an array of numbers, not \"abc\"") != std::string::npos);
  {
    std::ofstream f(dir.Sub("types.jsonl"));
    f << R"({"id": 1.5, "vector": [1, 2, 3, 4]})" << "\n";
  }
  r = Cli(dir, addr, "import docs " + dir.Sub("types.jsonl"));
  REQUIRE(r.code == 1);
  REQUIRE(r.err.find("types.jsonl:1: \"id\" must be a string or an integer, not 1.5") != std::string::npos);
  // A record the server refuses is reported with its line too.
  {
    std::ofstream f(dir.Sub("dim.jsonl"));
    f << R"({"id": "c1", "vector": [1, 2, 3, 4]})" << "\n";
    f << R"({"id": "c2", "vector": [1, 2, 3]})" << "\n";
  }
  r = Cli(dir, addr, "import docs " + dir.Sub("dim.jsonl"));
  REQUIRE(r.code == 1);
  REQUIRE(r.err.find("dim.jsonl:2: records[1].vector: has 3 components") != std::string::npos);

  // Errors: unknown collection (server), bad filter, usage.
  r = Cli(dir, addr, "count nope");
  REQUIRE(r.code == 1);
  REQUIRE(r.err.find("NOT_FOUND") != std::string::npos);
  r = Cli(dir, addr, "search docs --vector '[1,2,3,4]' --filter 'n >'");
  REQUIRE(r.code == 1);
  REQUIRE(r.err.find("query.filter: column") != std::string::npos);
  r = Cli(dir, addr, "frobnicate");
  REQUIRE(r.code == 2);
  // A file with no records says so, and writes nothing.
  std::ofstream(dir.Sub("empty.jsonl")) << "\n";
  r = Cli(dir, addr, "import docs " + dir.Sub("empty.jsonl"));
  REQUIRE(r.code == 0);
  REQUIRE(r.out.find("imported 0 records: ") != std::string::npos);
  REQUIRE(r.out.find("nothing was written") != std::string::npos);
  REQUIRE(server->Stop(SIGTERM) == 0);
}

TEST_CASE("the verity CLI refuses a mistyped option, a stray word and a negative number before sending anything",
          "[server][cli]") {
  verity::test::TempDir dir;
  auto server = verity::test::ServerProcess::Start(dir.Sub("data"), dir.Sub("log"));
  REQUIRE(server);
  const std::string addr = server->address();
  REQUIRE(Cli(dir, addr, "collection create docs --dim 2").code == 0);

  struct Refused {
    std::string args, message;
  };
  const Refused cases[] = {
      {"count docs --filer 'lang = \"en\"'", "count takes no option --filer (did you mean --filter?)"},
      {"collection create zz --dim 2 --metrik ip",
       "collection create takes no option --metrik (did you mean --metric?)"},
      {"retrieve docs --vector '[1,2]' --budjet 10", "retrieve takes no option --budjet (did you mean --budget?)"},
      {"count docs extra", "count: unexpected argument \"extra\""},
      {"log verify extra", "log verify: unexpected argument \"extra\""},
      {"--bogus health", "unknown option --bogus"},
      {"search docs --vector '[1,2]' -k -1", "--k: \"-1\" is not a whole number"},
      {"search docs --vector '[1,2]' -k 0", "--k: 0 is out of range (1 to 4294967295)"},
      {"collection create yy --dim 4294967298", "--dim: 4294967298 is out of range (0 to 4294967295)"},
      {"collection create yy --dim 2 --keep-versions -1", "--keep-versions: \"-1\" is not a whole number"},
      {"--timeout-ms abc health", "--timeout-ms: \"abc\" is not a whole number"},
      {"prompt label qa production abc", "VERSION \"abc\" is not a version number (1, 2, ...)"},
  };
  for (const Refused& c : cases) {
    INFO(c.args);
    const Run r = Cli(dir, addr, c.args);
    INFO(r.err);
    CHECK(r.code == 2);
    CHECK(r.err == "verity: " + c.message + " (see verity --help)\n");
  }
  // Nothing was created, and the server was never asked to (no log records).
  Run r = Cli(dir, addr, "collection list --json");
  REQUIRE(r.code == 0);
  CHECK(Json::parse(r.out).size() == 1);
  r = Cli(dir, addr, "log list --json");
  REQUIRE(r.code == 0);
  CHECK(Json::parse(r.out).empty());
  REQUIRE(server->Stop(SIGTERM) == 0);
}

// Every option the usage text shows for a command is one that command takes
// (the usage and the CLI's table of commands cannot drift apart): each is
// tried against an address where nothing listens, so that a refusal can only
// be a usage error.
TEST_CASE("the verity CLI takes every option its usage text shows", "[server][cli]") {
  verity::test::TempDir dir;
  const Run help = Cli(dir, "127.0.0.1:1", "--help");
  REQUIRE(help.code == 0);
  std::istringstream lines(help.out);
  std::string line, command;
  int tried = 0;
  const std::regex option_re("(--[a-z][a-z-]*|-k)\\b");
  const std::regex command_re("^  ([a-z]+(?: [a-z]+)?)\\b");
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] != ' ') continue;
    std::smatch m;
    // A command's line starts with its words ("  log show RETRIEVAL_ID |
    // log verify": "log show"); its continuation lines start further in.
    if (std::regex_search(line, m, command_re)) command = m[1];
    if (command.empty() || line.find("--tls") != std::string::npos || line.find("--api-key") != std::string::npos) {
      continue;
    }
    for (auto it = std::sregex_iterator(line.begin(), line.end(), option_re); it != std::sregex_iterator(); ++it) {
      const std::string option = (*it)[1];
      const std::string args = "--timeout-ms 2000 " + command + " " + option + " 1";
      INFO(args);
      const Run r = Cli(dir, "127.0.0.1:1", args);
      INFO(r.err);
      CHECK(r.err.find("takes no option") == std::string::npos);
      CHECK(r.err.find("unknown option") == std::string::npos);
      ++tried;
    }
  }
  CHECK(tried >= 60);
}
