// The groundedness HTML report: its structure, escaping and determinism, and
// that it renders in headless Chromium (scripts/setup.sh installs the
// `chromium` package; without it the rendering test fails, never skips).
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "verity/groundedness.h"

using namespace verity;

namespace {

// A fresh directory, removed on destruction.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "verity-html-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string Sub(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  REQUIRE(out.good());
}

// The first executable `name` on $PATH (or in /usr/bin), or "".
std::string FindProgram(const std::string& name) {
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/bin:/bin";
  std::stringstream dirs(path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// Runs a shell command; its exit code (or -1 when it did not exit normally).
int Run(const std::string& command) {
  int status = std::system(command.c_str());
  if (status == -1 || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Chromium headless with `mode` (e.g. --dump-dom); bounded to 60 s.
int RunChromium(const std::string& chromium, const ScratchDir& dir, const std::string& mode, const std::string& url,
                const std::string& stdout_path) {
  const std::string cmd = "timeout -k 5 60 " + Quote(chromium) +
                          " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run"
                          " --hide-scrollbars --user-data-dir=" +
                          Quote(dir.Sub("profile")) + " --window-size=1200,1600 " + mode + " " + Quote(url) + " > " +
                          Quote(stdout_path) + " 2>> " + Quote(dir.Sub("chromium.log"));
  return Run(cmd);
}

uint32_t BigEndian32(const std::string& s, size_t at) {
  return (uint32_t{static_cast<unsigned char>(s[at])} << 24) | (uint32_t{static_cast<unsigned char>(s[at + 1])} << 16) |
         (uint32_t{static_cast<unsigned char>(s[at + 2])} << 8) | uint32_t{static_cast<unsigned char>(s[at + 3])};
}

// Two audited answers: one fully grounded, one with an invented number, a
// swapped name and a filler sentence. Texts carry characters to escape.
std::vector<AuditReportEntry> Fixture() {
  std::vector<AuditReportEntry> entries(2);
  entries[0].retrieval_id = "rtv-00000000000000000000000000000001";
  entries[0].collection = "handbook";
  entries[0].version = 7;
  entries[0].chunks = {{"pricing#2", "Plans: the Team plan costs 12 dollars per seat <monthly> & is billed yearly."},
                       {"history#0", "Alice founded Acme in 2010."}};
  entries[0].answer = "The Team plan costs 12 dollars per seat. Alice founded Acme in 2010.";
  entries[1].retrieval_id = "rtv-00000000000000000000000000000002";
  entries[1].collection = "handbook";
  entries[1].version = 9;
  entries[1].chunks = entries[0].chunks;
  entries[1].answer =
      "The Team plan costs 15 dollars per seat <script>alert(1)</script>. Bob founded Acme in 2010.\nYes.";
  for (AuditReportEntry& e : entries) {
    Result<GroundednessResult> r = ScoreGroundedness(e.answer, e.chunks);
    REQUIRE(r.ok());
    e.result = std::move(r).value();
  }
  return entries;
}

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("the audit report marks sentences, citations and the summary", "[groundedness]") {
  const std::vector<AuditReportEntry> entries = Fixture();
  REQUIRE(entries[0].result.g == 1.0);
  REQUIRE(entries[1].result.scored == 2);
  REQUIRE(entries[1].result.supported == 0);
  const std::string html = AuditHtml(entries);
  CHECK(html == AuditHtml(entries));  // deterministic
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  // Self-contained: no script, no external resource.
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("http://") == std::string::npos);
  CHECK(html.find("https://") == std::string::npos);
  CHECK(html.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  CHECK(html.find("&lt;monthly&gt; &amp; is billed") != std::string::npos);

  CHECK(html.find("<section class=\"answer\" id=\"answer-0\" data-g=\"1.0000\">") != std::string::npos);
  CHECK(html.find("<span class=\"sentence supported\" id=\"answer-0-s-0\"") != std::string::npos);
  CHECK(html.find("<span class=\"sentence unsupported\" id=\"answer-1-s-0\"") != std::string::npos);
  CHECK(html.find("<span class=\"sentence not_scored\" id=\"answer-1-s-2\"") != std::string::npos);
  CHECK(Count(html, "class=\"sentence ") == 5);
  CHECK(Count(html, "<li class=\"citation ") == 4);  // the scored sentences
  CHECK(html.find("<li class=\"citation unsupported\" id=\"answer-1-c-1\"") != std::string::npos);
  CHECK(html.find("<code class=\"chunk-id\">history#0</code>") != std::string::npos);
  CHECK(html.find("<mark class=\"match\">Team plan costs 12 dollars per seat</mark>") != std::string::npos);
  CHECK(html.find("<span class=\"token\">15</span>") != std::string::npos);
  CHECK(html.find("<span class=\"token\">Bob</span>") != std::string::npos);
  CHECK(html.find(kGroundednessScorerVersion) != std::string::npos);
  CHECK(html.find("<code class=\"retrieval-id\">rtv-00000000000000000000000000000002</code>") != std::string::npos);
  // Summary: 2 answers, mean G 0.5, half below 0.5, the worst one first.
  CHECK(html.find("<td class=\"count\">2</td>") != std::string::npos);
  CHECK(html.find("<td class=\"mean-g\">0.5000</td>") != std::string::npos);
  CHECK(html.find("<td class=\"share-low\">0.5000</td>") != std::string::npos);
  const size_t worst = html.find("<ol class=\"worst\">");
  REQUIRE(worst != std::string::npos);
  CHECK(html.find("#answer-1", worst) < html.find("#answer-0", worst));
}

TEST_CASE("the audit report renders in headless Chromium", "[groundedness][html]") {
  const std::string chromium = FindProgram("chromium");
  INFO("chromium is not installed: run scripts/setup.sh (Debian package `chromium`)");
  REQUIRE_FALSE(chromium.empty());

  ScratchDir dir;
  const std::string report = dir.Sub("report.html");
  WriteFile(report, AuditHtml(Fixture()));
  const std::string blank = dir.Sub("blank.html");
  WriteFile(blank, "<!DOCTYPE html><html><body></body></html>");

  const std::string shot = dir.Sub("report.png");
  const std::string blank_shot = dir.Sub("blank.png");
  const int shot_rc = RunChromium(chromium, dir, "--screenshot=" + Quote(shot), "file://" + report, dir.Sub("o1"));
  const int blank_rc =
      RunChromium(chromium, dir, "--screenshot=" + Quote(blank_shot), "file://" + blank, dir.Sub("o2"));
  const std::string dom_path = dir.Sub("dom.html");
  const int dom_rc = RunChromium(chromium, dir, "--dump-dom", "file://" + report, dom_path);
  INFO("chromium log:\n" << ReadFile(dir.Sub("chromium.log")).substr(0, 4000));
  REQUIRE(shot_rc == 0);
  REQUIRE(blank_rc == 0);
  REQUIRE(dom_rc == 0);

  // A real PNG of the window's size, with much more in it than a blank page.
  const std::string png = ReadFile(shot);
  REQUIRE(png.size() > 24);
  CHECK(png.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
  CHECK(png.compare(12, 4, "IHDR") == 0);
  CHECK(BigEndian32(png, 16) == 1200);
  CHECK(BigEndian32(png, 20) == 1600);
  const size_t blank_size = ReadFile(blank_shot).size();
  INFO("report screenshot " << png.size() << " bytes, blank page " << blank_size << " bytes");
  CHECK(png.size() > 2 * blank_size);

  // The DOM as Chromium parsed it: the sentence elements, their verdict
  // classes and the citations survived parsing.
  const std::string dom = ReadFile(dom_path);
  CHECK(dom.find("class=\"sentence supported\" id=\"answer-0-s-0\"") != std::string::npos);
  CHECK(dom.find("class=\"sentence unsupported\" id=\"answer-1-s-0\"") != std::string::npos);
  CHECK(dom.find("class=\"sentence not_scored\" id=\"answer-1-s-2\"") != std::string::npos);
  CHECK(Count(dom, "class=\"sentence ") == 5);
  CHECK(Count(dom, "<li class=\"citation ") == 4);
  CHECK(dom.find("<li class=\"citation supported\" id=\"answer-0-c-1\"") != std::string::npos);
  CHECK(dom.find("<code class=\"chunk-id\">history#0</code>") != std::string::npos);
  CHECK(dom.find("<mark class=\"match\">Team plan costs 12 dollars per seat</mark>") != std::string::npos);
  CHECK(dom.find("<span class=\"token\">Bob</span>") != std::string::npos);
  // The escaped script stayed text.
  CHECK(dom.find("<script") == std::string::npos);
}
