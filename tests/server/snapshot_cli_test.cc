// The `verity snapshot ...` commands (and --at SNAPSHOT on reads) against a
// real verityd: create, read at a snapshot, diff --json, restore, and an
// export / import round trip under a new name.
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/test_data.h"
#include "server/server_helpers.h"
#include "server/server_process.h"

using Json = nlohmann::json;

namespace {

using verity::test::RunCliOk;
using Run = verity::test::CliRun;

Run Cli(const verity::test::TempDir& dir, const std::string& addr, const std::string& args) {
  return verity::test::RunCli(dir, addr, args);
}

void WriteJsonl(const std::string& path, int from, int to, const std::string& text) {
  std::ofstream f(path);
  for (int i = from; i < to; ++i) {
    Json line = {{"id", "d" + std::to_string(i)}, {"vector", {i, 1, 0}}, {"text", text + std::to_string(i)}};
    f << line.dump() << "\n";
  }
}

}  // namespace

TEST_CASE("the verity CLI: snapshots, --at SNAPSHOT, diff, restore, export and import", "[server][cli][snapshots]") {
  verity::test::TempDir dir;
  auto server = verity::test::StartServer(dir, {"--export-dir", dir.Sub("exports")});
  const std::string addr = server->address();

  Run r = RunCliOk(dir, addr, "collection create docs --dim 3 --keep-versions 50 --keep-seconds 0 --json");
  Json created = Json::parse(r.out)[0];
  REQUIRE(created["keep_versions"] == 50);
  REQUIRE(created["keep_seconds"] == 0);

  WriteJsonl(dir.Sub("one.jsonl"), 0, 10, "first ");
  RunCliOk(dir, addr, "import docs " + dir.Sub("one.jsonl"));  // version 1: d0..d9
  r = RunCliOk(dir, addr, "snapshot create docs before --description 'before the second load' --json");
  Json snap = Json::parse(r.out)[0];
  REQUIRE(snap["name"] == "before");
  REQUIRE(snap["version"] == 1);
  REQUIRE(snap["records"] == 10);
  REQUIRE(snap["description"] == "before the second load");
  r = Cli(dir, addr, "snapshot create docs before");
  REQUIRE(r.code == 1);
  REQUIRE(r.err.find("ALREADY_EXISTS") != std::string::npos);

  // Write more: d5..d14 rewritten / added (version 2), d0 deleted (version 3).
  WriteJsonl(dir.Sub("two.jsonl"), 5, 15, "second ");
  RunCliOk(dir, addr, "import docs " + dir.Sub("two.jsonl"));
  RunCliOk(dir, addr, "delete docs d0");
  r = RunCliOk(dir, addr, "snapshot create docs pinned-v2 --at 2 --json");
  REQUIRE(Json::parse(r.out)[0]["version"] == 2);

  // Reads at a snapshot name and at a version number.
  REQUIRE(Json::parse(RunCliOk(dir, addr, "count docs --json").out)["count"] == 14);
  REQUIRE(Json::parse(RunCliOk(dir, addr, "count docs --at before --json").out)["count"] == 10);
  REQUIRE(Json::parse(RunCliOk(dir, addr, "count docs --at 2 --json").out)["count"] == 15);
  r = RunCliOk(dir, addr, "search docs --vector '[0, 1, 0]' -k 1 --at before --json");
  Json found = Json::parse(r.out);
  REQUIRE(found["version"] == 1);
  REQUIRE(found["hits"][0]["id"] == "d0");
  r = RunCliOk(dir, addr, "get docs d7 --at before --json");
  REQUIRE(Json::parse(r.out)["text"] == "first 7");
  r = Cli(dir, addr, "count docs --at ghost");
  REQUIRE(r.code == 1);
  REQUIRE(r.err.find("NOT_FOUND") != std::string::npos);
  REQUIRE(r.err.find("ghost") != std::string::npos);

  // list / get
  r = RunCliOk(dir, addr, "snapshot list docs --json");
  Json listed = Json::parse(r.out);
  REQUIRE(listed.size() == 2);
  REQUIRE(listed[0]["name"] == "before");
  r = RunCliOk(dir, addr, "snapshot list docs");
  REQUIRE(r.out.find("NAME") != std::string::npos);
  REQUIRE(r.out.find("pinned-v2") != std::string::npos);
  REQUIRE(Json::parse(RunCliOk(dir, addr, "snapshot get docs pinned-v2 --json").out)[0]["records"] == 15);

  // diff: counts and entries; paged with --limit, all pages with --all.
  r = RunCliOk(dir, addr, "snapshot diff docs before 3 --json");
  Json diff = Json::parse(r.out);
  REQUIRE(diff["from"] == 1);
  REQUIRE(diff["to"] == 3);
  REQUIRE(diff["added"] == 5);    // d10..d14
  REQUIRE(diff["removed"] == 1);  // d0
  REQUIRE(diff["changed"] == 5);  // d5..d9 (new text)
  REQUIRE(diff["entries"].size() == 11);
  REQUIRE(diff["next_cursor"] == "");
  REQUIRE(diff["entries"][0]["id"] == "d0");
  REQUIRE(diff["entries"][0]["kind"] == "removed");
  REQUIRE(diff["entries"][0]["from_row_version"] == 1);
  REQUIRE(diff["entries"][0]["to_row_version"] == 0);
  for (const auto& e : diff["entries"]) {
    const std::string id = e["id"];
    const int n = std::stoi(id.substr(1));
    if (n >= 10) REQUIRE(e["kind"] == "added");
    else if (n >= 5) REQUIRE(e["kind"] == "changed");
  }
  r = RunCliOk(dir, addr, "snapshot diff docs before pinned-v2 --limit 4 --json");
  diff = Json::parse(r.out);
  REQUIRE(diff["entries"].size() == 4);
  REQUIRE(diff["added"] == 5);
  REQUIRE(diff["next_cursor"] != "");
  r = RunCliOk(dir, addr, "snapshot diff docs before pinned-v2 --limit 4 --all --json");
  diff = Json::parse(r.out);
  REQUIRE(diff["entries"].size() == 10);  // d0 is still live at version 2
  REQUIRE(diff["next_cursor"] == "");
  r = RunCliOk(dir, addr, "snapshot diff docs before 3");
  REQUIRE(r.out.find("5 added, 1 removed, 5 changed") != std::string::npos);
  REQUIRE(r.out.find("KIND") != std::string::npos);

  // versions shows the pins.
  r = RunCliOk(dir, addr, "versions docs --json");
  Json versions = Json::parse(r.out);
  REQUIRE(versions[1]["snapshots"] == Json::array({"before"}));
  REQUIRE(versions[1]["readable"] == true);

  // restore by snapshot name, into another collection too.
  r = RunCliOk(dir, addr, "snapshot restore docs before --json");
  Json restored = Json::parse(r.out);
  REQUIRE(restored["version"] == 4);
  REQUIRE(restored["restored_from"] == 1);
  REQUIRE(Json::parse(RunCliOk(dir, addr, "count docs --json").out)["count"] == 10);
  r = RunCliOk(dir, addr, "get docs d7 --json");
  REQUIRE(Json::parse(r.out)["text"] == "first 7");
  RunCliOk(dir, addr, "collection create side --dim 3");
  r = RunCliOk(dir, addr, "snapshot restore docs 3 --into side --json");
  REQUIRE(Json::parse(r.out)["collection"] == "side");
  REQUIRE(Json::parse(RunCliOk(dir, addr, "count side --json").out)["count"] == 14);
  r = RunCliOk(dir, addr, "versions docs");
  REQUIRE(r.out.find("restore of 1") != std::string::npos);

  // export at a snapshot, import under a new name: same records.
  r = RunCliOk(dir, addr, "snapshot export docs docs-before --at before --json");
  Json exported = Json::parse(r.out);
  REQUIRE(exported["name"] == "docs-before");
  REQUIRE(exported["collections"][0]["version"] == 1);
  REQUIRE(exported["collections"][0]["records"] == 10);
  r = RunCliOk(dir, addr, "snapshot import docs-before --as copy --json");
  Json imported = Json::parse(r.out);
  REQUIRE(imported["records"] == 10);
  REQUIRE(imported["collections"][0]["name"] == "copy");
  REQUIRE(Json::parse(RunCliOk(dir, addr, "count copy --json").out)["count"] == 10);
  r = RunCliOk(dir, addr, "get copy d7 --json");
  REQUIRE(Json::parse(r.out)["text"] == "first 7");
  r = Cli(dir, addr, "snapshot import docs-before --as copy");
  REQUIRE(r.code == 1);
  REQUIRE(r.err.find("ALREADY_EXISTS") != std::string::npos);
  r = RunCliOk(dir, addr, "snapshot import docs-before --as copy --replace");
  REQUIRE(r.out.find("imported 10 records") != std::string::npos);
  // Everything, human output.
  r = RunCliOk(dir, addr, "snapshot export --all all-of-it");
  REQUIRE(r.out.find("exported to all-of-it") != std::string::npos);
  REQUIRE(r.out.find("copy") != std::string::npos);
  r = Cli(dir, addr, "snapshot export docs ../escape");
  REQUIRE(r.code == 1);
  REQUIRE(r.err.find("INVALID_ARGUMENT") != std::string::npos);
  r = Cli(dir, addr, "snapshot export --all x --at 1");
  REQUIRE(r.code == 2);

  // retention and gc
  r = RunCliOk(dir, addr, "collection retention docs --keep-versions 2 --json");
  Json retention = Json::parse(r.out);
  REQUIRE(retention["keep_versions"] == 2);
  REQUIRE(retention["keep_seconds"] == 0);
  r = RunCliOk(dir, addr, "gc docs --json");
  REQUIRE(Json::parse(r.out).contains("rows_removed"));
  r = RunCliOk(dir, addr, "gc docs");
  REQUIRE(r.out.rfind("gc docs: ", 0) == 0);

  // delete
  RunCliOk(dir, addr, "snapshot delete docs pinned-v2");
  r = Cli(dir, addr, "snapshot get docs pinned-v2");
  REQUIRE(r.code == 1);
  REQUIRE(r.err.find("NOT_FOUND") != std::string::npos);
  REQUIRE(server->Stop(SIGTERM) == 0);
}

// An export is a directory the server writes inside its --export-dir, named
// by a plain name. A path (what a new user types first) is refused before
// anything is sent, with a message that says where exports go and what a
// name may hold; snapshot import says the same.
TEST_CASE("the verity CLI: an export name that is a path says exports are plain names in --export-dir",
          "[server][cli][snapshots]") {
  verity::test::TempDir dir;
  auto server = verity::test::ServerProcess::Start(dir.Sub("data"), dir.Sub("log"));
  REQUIRE(server);
  const std::string addr = server->address();
  RunCliOk(dir, addr, "collection create docs --dim 3");
  const std::string hint =
      "is not a plain name: exports are directories in the server's --export-dir (default <data dir>/exports), so "
      "give only the export's name there: 1..128 of A-Z a-z 0-9 _ . - (e.g. docs-2024-03), not a path\n";
  const std::string path = dir.Sub("elsewhere/x");
  for (const std::string& args : {"snapshot export docs " + path, "snapshot export --all " + path,
                                  "snapshot import " + path, "snapshot import " + path + " --as copy"}) {
    INFO(args);
    Run r = Cli(dir, addr, args);
    CHECK(r.code == 1);
    CHECK(r.err == "verity: INVALID_ARGUMENT: EXPORT_NAME: \"" + path + "\" " + hint);
  }
  Run r = Cli(dir, addr, "snapshot export docs ..");
  CHECK(r.err == "verity: INVALID_ARGUMENT: EXPORT_NAME: \"..\" " + hint);
  CHECK(!std::filesystem::exists(dir.Sub("elsewhere")));
  // A plain name goes into the default export directory, <data>/exports.
  r = RunCliOk(dir, addr, "snapshot export docs plain-name.1 --json");
  CHECK(std::filesystem::is_directory(dir.Sub("data") + "/exports/plain-name.1"));
  REQUIRE(server->Stop(SIGTERM) == 0);
}
