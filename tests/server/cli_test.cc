// The `verity` CLI against a real verityd: import, search with a filter,
// --json output parsed and checked, and a malformed JSONL line reported with
// its number.
#include <signal.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cfloat>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "engine/test_data.h"
#include "server/server_helpers.h"
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
  auto server = verity::test::StartServer(dir);
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
  // A refusal comes before the batch's one atomic write: nothing of it was.
  REQUIRE(r.err.find("(0 records imported before it; this batch (records 1..2, lines 1..2) was not written)") !=
          std::string::npos);

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
  auto server = verity::test::StartServer(dir);
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

// Numbers are neither wrapped nor narrowed: nlohmann-json reads
// 18446744073709551615 as an unsigned integer that get<int64_t>() made -1
// (overwriting the record -1), 2^63 as metadata became -2^63, and 1e39 as a
// vector component was converted to float (undefined; it came out infinite).
TEST_CASE("the verity CLI keeps integer ids exact and refuses numbers that do not fit", "[server][cli]") {
  verity::test::TempDir dir;
  auto server = verity::test::StartServer(dir);
  const std::string addr = server->address();
  REQUIRE(Cli(dir, addr, "collection create docs --dim 3").code == 0);
  auto write = [&](const std::string& name, const std::vector<std::string>& lines) {
    std::ofstream f(dir.Sub(name));
    for (const auto& line : lines) f << line << "\n";
    return dir.Sub(name);
  };
  // Non-fatal, so that one run shows every check that fails.
  auto count = [&] {
    const Run c = Cli(dir, addr, "count docs --json");
    return c.code == 0 ? Json::parse(c.out)["count"].get<int>() : -1;
  };
  auto text_of = [&](const std::string& id) {
    const Run g = Cli(dir, addr, "get docs " + id + " --json");
    return g.code == 0 ? Json::parse(g.out)["text"].get<std::string>() : "(" + g.err + ")";
  };

  Run r = Cli(dir, addr,
              "import docs " + write("first.jsonl", {R"({"id": -1, "vector": [1, 2, 3], "text": "minus one"})",
                                                     R"({"id": 7, "vector": [1, 2, 3], "text": "seven"})"}));
  INFO(r.err);
  REQUIRE(r.code == 0);
  REQUIRE(count() == 2);

  // Integer ids of any size are their decimal text, as written: the uint64
  // maximum is a record of its own, and the record -1 stays as it was.
  r = Cli(dir, addr,
          "import docs " + write("max.jsonl", {R"({"id": 18446744073709551615, "vector": [1, 2, 3], "text": "uint64 max"})"}));
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK(count() == 3);
  CHECK(text_of("-1") == "minus one");
  CHECK(text_of("18446744073709551615") == "uint64 max");
  r = Cli(dir, addr,
          "import docs " +
              write("ids.jsonl", {R"({"id": 9223372036854775808, "vector": [1, 2, 3], "text": "2^63"})",
                                  R"({"id": -9223372036854775809, "vector": [1, 2, 3], "text": "below int64"})",
                                  R"({"id": 123456789012345678901234567890, "vector": [1, 2, 3], "text": "30 digits"})",
                                  R"({"id": "7", "vector": [1, 2, 3], "text": "seven as a string"})"}) +
              " --json");
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK(count() == 6);  // -1, 7, the uint64 maximum and three new ones; "7" is the record 7
  CHECK(text_of("9223372036854775808") == "2^63");
  CHECK(text_of("-9223372036854775809") == "below int64");
  CHECK(text_of("123456789012345678901234567890") == "30 digits");
  CHECK(text_of("7") == "seven as a string");

  // Metadata integers must fit int64 (the filters' type): refused naming the
  // line and the key; nothing of the file is written.
  const struct {
    std::string value, shown;
  } too_large[] = {{"9223372036854775808", "9223372036854775808"},
                   {"18446744073709551615", "18446744073709551615"},
                   {"-9223372036854775809", "-9223372036854775809"},
                   {"123456789012345678901234567890", "123456789012345678901234567890"}};
  for (const auto& c : too_large) {
    INFO(c.value);
    r = Cli(dir, addr,
            "import docs " + write("meta.jsonl", {R"({"id": "m1", "vector": [1, 2, 3], "metadata": {"n": 1}})",
                                                  "",
                                                  R"({"id": "m2", "vector": [1, 2, 3], "metadata": {"n": )" +
                                                      c.value + "}}"}));
    INFO(r.err);
    CHECK(r.code == 1);
    CHECK(r.err.find("meta.jsonl:3: metadata \"n\": " + c.shown +
                     " does not fit a 64-bit signed integer (-9223372036854775808 to 9223372036854775807); write it "
                     "as a string to keep its digits (0 records imported before it)") != std::string::npos);
  }
  CHECK(count() == 6);
  // The ends of the range are kept exactly.
  r = Cli(dir, addr,
          "import docs " + write("ends.jsonl", {R"({"id": "max", "vector": [1, 2, 3], "metadata": {"n": 9223372036854775807}})",
                                                R"({"id": "min", "vector": [1, 2, 3], "metadata": {"n": -9223372036854775808}})"}));
  INFO(r.err);
  REQUIRE(r.code == 0);
  r = Cli(dir, addr, "get docs max --json");
  CHECK(Json::parse(r.out)["metadata"]["n"].get<int64_t>() == INT64_MAX);
  r = Cli(dir, addr, "get docs min --json");
  CHECK(Json::parse(r.out)["metadata"]["n"].get<int64_t>() == INT64_MIN);
  CHECK(Cli(dir, addr, "count docs --filter 'n = 9223372036854775807'").out == "1\n");

  // A vector component must fit a float.
  r = Cli(dir, addr,
          "import docs " + write("vec.jsonl", {R"({"id": "v1", "vector": [1, 2, 3]})",
                                               R"({"id": "v2", "vector": [1, 2, 1e39]})"}));
  INFO(r.err);
  CHECK(r.code == 1);
  CHECK(r.err.find("vec.jsonl:2: vector[2]: 1e+39 is outside the float range ±3.4028235e38") != std::string::npos);
  r = Cli(dir, addr,
          "import docs " + write("vec.jsonl", {R"({"id": "v3", "vector": [-123456789012345678901234567890123456789012, 0, 0]})"}));
  CHECK(r.code == 1);
  CHECK(r.err.find("vec.jsonl:1: vector[0]: -123456789012345678901234567890123456789... is outside the float range") !=
        std::string::npos);
  CHECK(count() == 8);
  // One just above the largest float rounds to it (not refused as outside
  // the float range, nor sent as infinite), and an integer beyond 64 bits is
  // a number like any other: both reach the server, which refuses them by
  // its own bound on components (±1e15, docs/server.md).
  r = Cli(dir, addr, "import docs " + write("vec.jsonl", {R"({"id": "v4", "vector": [3.40282356e38, 0, 0]})"}));
  CHECK(r.code == 1);
  CHECK(r.err.find("vec.jsonl:1: records[0].vector[0]: 3.40282347e+38 is outside the allowed ±1e15") !=
        std::string::npos);
  r = Cli(dir, addr,
          "import docs " + write("vec.jsonl", {R"({"id": "v5", "vector": [0, 0, 123456789012345678901234567890]})"}));
  CHECK(r.code == 1);
  INFO(r.err);
  CHECK(r.err.find("records[0].vector[2]: 1.234567") != std::string::npos);
  CHECK(r.err.find("e+29 is outside the allowed ±1e15") != std::string::npos);
  CHECK(count() == 8);
  // --vector and --vector-file say the same, before anything is sent.
  r = Cli(dir, addr, "search docs --vector '[1, 2, 1e39]'");
  CHECK(r.code == 2);
  CHECK(r.err == "verity: --vector: vector[2]: 1e+39 is outside the float range ±3.4028235e38 (see verity --help)\n");
  std::ofstream(dir.Sub("query.json")) << "[-1e39, 0, 0]";
  r = Cli(dir, addr, "search docs --vector-file " + dir.Sub("query.json"));
  CHECK(r.code == 2);
  CHECK(r.err.find("--vector-file " + dir.Sub("query.json") +
                   ": vector[0]: -1e+39 is outside the float range ±3.4028235e38") != std::string::npos);
  r = Cli(dir, addr, "search docs --vector '[1, \"x\", 3]'");
  CHECK(r.code == 2);
  CHECK(r.err.find("--vector: vector[1]: \"x\" is not a number") != std::string::npos);
  REQUIRE(server->Stop(SIGTERM) == 0);
}

// An import cut after a batch was sent cannot know whether the server wrote
// it: the message counts what was acknowledged, names the batch in flight and
// its lines, and says a new import of the file is safe. A stopped server
// (SIGSTOP) holds the batch until the deadline passes.
TEST_CASE("the verity CLI says which batch an interrupted import may have written", "[server][cli]") {
  verity::test::TempDir dir;
  auto server = verity::test::StartServer(dir);
  const std::string addr = server->address();
  REQUIRE(Cli(dir, addr, "collection create docs --dim 2").code == 0);
  {
    std::ofstream f(dir.Sub("four.jsonl"));
    f << R"({"id": "a", "vector": [1, 0]})" << "\n\n";  // line 2 is blank
    f << R"({"id": "b", "vector": [2, 0]})" << "\n";
    f << R"({"id": "c", "vector": [3, 0]})" << "\n";
    f << R"({"id": "d", "vector": [4, 0]})" << "\n";
  }
  REQUIRE(kill(server->pid(), SIGSTOP) == 0);
  struct Resume {
    pid_t pid;
    ~Resume() { kill(pid, SIGCONT); }
  } resume{server->pid()};
  Run r = Cli(dir, addr, "--timeout-ms 1000 import docs " + dir.Sub("four.jsonl") + " --batch 2");
  REQUIRE(kill(server->pid(), SIGCONT) == 0);
  INFO(r.err);
  CHECK(r.code == 1);
  CHECK(r.err.rfind("verity: DEADLINE_EXCEEDED: " + dir.Sub("four.jsonl") + ": ", 0) == 0);
  CHECK(r.err.find("(0 records acknowledged; the batch in flight (records 1..2, lines 1..3) may also have been "
                   "applied; importing the file again is safe: records are upserted by id)\n") != std::string::npos);
  // Importing again gives every record once, whether the batch was written
  // or not.
  r = Cli(dir, addr, "import docs " + dir.Sub("four.jsonl") + " --batch 2");
  REQUIRE(r.code == 0);
  r = Cli(dir, addr, "count docs");
  CHECK(r.out == "4\n");
  REQUIRE(server->Stop(SIGTERM) == 0);
}

// `verity COMMAND --help` shows that command (synopsis, options, an example),
// not the whole usage; `verity --help` and `verity help` the overview. Every
// command of the overview is tried. No server is needed: help and usage
// errors come before anything is sent.
TEST_CASE("the verity CLI: each command's --help is its own, and a missing argument shows the synopsis",
          "[server][cli]") {
  verity::test::TempDir dir;
  const Run overview = Cli(dir, "127.0.0.1:1", "--help");
  REQUIRE(overview.code == 0);
  CHECK(Cli(dir, "127.0.0.1:1", "help").out == overview.out);
  std::istringstream lines(overview.out);
  std::set<std::string> commands;
  const std::regex command_re("^  ([a-z]+(?: [a-z][a-z-]*)?)(?: |$)");  // e.g. "collection text-index"
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (line.find("--tls") == std::string::npos && std::regex_search(line, m, command_re)) commands.insert(m[1]);
  }
  CHECK(commands.size() >= 39);
  for (const std::string& command : commands) {
    INFO(command);
    const Run help = Cli(dir, "127.0.0.1:1", command + " --help");
    CHECK(help.code == 0);
    CHECK(help.out.rfind("usage: verity " + command, 0) == 0);
    CHECK(help.out.find("\nexample:\n  verity " + command) != std::string::npos);
    CHECK(help.out.size() < overview.out.size() / 3);
    CHECK(Cli(dir, "127.0.0.1:1", "help " + command).out == help.out);
  }
  Run r = Cli(dir, "127.0.0.1:1", "import --help");
  CHECK(r.out.find("  --batch N   records per write, each one version (default 1000)\n") != std::string::npos);
  CHECK(r.out.find("  FILE   a JSON Lines or .fvecs file\n") != std::string::npos);
  CHECK(r.out.find("search") == std::string::npos);
  // A group shows its commands.
  r = Cli(dir, "127.0.0.1:1", "snapshot --help");
  CHECK(r.code == 0);
  CHECK(r.out.find("  snapshot export NAME EXPORT_NAME [--at POINT]\n") != std::string::npos);
  CHECK(r.out.find("collection create") == std::string::npos);

  // A missing argument: which one, what it is, and the synopsis.
  r = Cli(dir, "127.0.0.1:1", "import fm");
  CHECK(r.code == 2);
  CHECK(r.err ==
        "verity: import: missing FILE (a JSON Lines or .fvecs file); usage: verity import NAME FILE [--batch N] "
        "(see verity import --help)\n");
  r = Cli(dir, "127.0.0.1:1", "snapshot create docs");
  CHECK(r.code == 2);
  CHECK(r.err.rfind("verity: snapshot create: missing SNAP (the snapshot's name); usage: verity snapshot create NAME "
                    "SNAP [--at POINT] [--description TEXT]",
                    0) == 0);
  // A directory (an export, say) is not a file to import.
  std::filesystem::create_directories(dir.Sub("an-export"));
  r = Cli(dir, "127.0.0.1:1", "import fm " + dir.Sub("an-export"));
  CHECK(r.code == 1);
  CHECK(r.err == "verity: INVALID_ARGUMENT: FILE: " + dir.Sub("an-export") +
                     " is a directory; import reads a JSON Lines or .fvecs file (an export is read back with verity "
                     "snapshot import EXPORT_NAME)\n");
  // Unknown commands and subcommands are still named.
  r = Cli(dir, "127.0.0.1:1", "frobnicate --help");
  CHECK(r.code == 2);
  CHECK(r.err == "verity: unknown command \"frobnicate\" (see verity --help)\n");
  r = Cli(dir, "127.0.0.1:1", "collection frob");
  CHECK(r.code == 2);
  CHECK(r.err == "verity: unknown collection subcommand \"frob\" (see verity collection --help)\n");
}
