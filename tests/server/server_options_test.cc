// verityd's flags (server/src/server_options.h): the monitoring flags.
#include <catch2/catch.hpp>

#include <fstream>

#include "engine/test_data.h"
#include "server_options.h"

using namespace verity;
using namespace verity::server;

namespace {

Status Parse(std::vector<std::string> args, ServerOptions* options) {
  bool help = false;
  return ParseServerOptions(args, options, &help);
}

}  // namespace

TEST_CASE("the monitoring flags set the engine's monitor options", "[monitor][options]") {
  test::TempDir dir;
  const std::string allow = dir.path() + "/allow.txt";
  std::ofstream(allow) << "# medical terms\nanus\r\n\nvagina\n";
  ServerOptions o;
  REQUIRE(Parse({"--toxicity-languages", "en,de", "--toxicity-allow-file", allow, "--monitor-low-g", "0.7",
                 "--annotate-answers", "false", "--observe-retrievals", "false"},
                &o)
              .ok());
  CHECK(o.monitor.toxicity_languages == std::vector<std::string>{"en", "de"});
  CHECK(o.monitor.toxicity_allow == std::vector<std::string>{"anus", "vagina"});
  CHECK(o.monitor.low_g == 0.7);
  CHECK_FALSE(o.monitor.annotate_answers);
  CHECK_FALSE(o.monitor.observe_retrievals);
  // Defaults.
  ServerOptions d;
  REQUIRE(Parse({}, &d).ok());
  CHECK(d.monitor.toxicity_languages.empty());
  CHECK(d.monitor.low_g == 0.6);
  CHECK(d.monitor.annotate_answers);
}

TEST_CASE("bad monitoring flags are refused, naming the flag", "[monitor][options]") {
  ServerOptions o;
  Status s = Parse({"--toxicity-languages", "en,,de"}, &o);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(s.message().find("--toxicity-languages") != std::string::npos);
  s = Parse({"--monitor-low-g", "1.5"}, &o);
  CHECK(s.message().find("--monitor-low-g") != std::string::npos);
  s = Parse({"--monitor-low-g", "abc"}, &o);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  s = Parse({"--toxicity-allow-file", "/nonexistent/allow.txt"}, &o);
  CHECK(s.message().find("--toxicity-allow-file") != std::string::npos);
  s = Parse({"--annotate-answers", "maybe"}, &o);
  CHECK(s.message().find("--annotate-answers") != std::string::npos);
}
