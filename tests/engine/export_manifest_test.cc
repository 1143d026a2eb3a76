#include <catch2/catch.hpp>

#include <string>

#include "history/export_manifest.h"

using namespace verity;

namespace {

std::string Manifest(const std::string& dimension, const std::string& records = "5") {
  return R"({"format":"verity-export","format_version":1,"collections":[{"name":"a","dimension":)" + dimension +
         R"(,"metric":"l2","m":16,"ef_construction":200,"default_ef":64,"keep_versions":0,"keep_seconds":0,)"
         R"("version":7,"records":)" + records + R"(,"files":[{"path":"a/records.bin","bytes":100,"sha256":"00"}]}]})";
}

}  // namespace

TEST_CASE("export manifest: integers are checked for type and range", "[engine][export]") {
  auto ok = ParseManifest(Manifest("8"));
  REQUIRE(ok.ok());
  REQUIRE(ok->size() == 1);
  CHECK((*ok)[0].config.dimension == 8);
  CHECK((*ok)[0].records == 5);
  // A float, a negative number or a value beyond the field's type is a
  // damaged manifest (DataLoss naming the field), not undefined behaviour.
  // (fuzz_export_manifest found 8.66666e+10 converted to uint32.)
  for (const std::string bad : {"86666.6e6", "8.5", "-8", "4294967296", "\"8\""}) {
    INFO("dimension " << bad);
    auto r = ParseManifest(Manifest(bad));
    CHECK(r.status().code() == StatusCode::kDataLoss);
    CHECK(r.status().message().find("dimension") != std::string::npos);
  }
  CHECK(ParseManifest(Manifest("8", "-1")).status().code() == StatusCode::kDataLoss);
  CHECK(ParseManifest(Manifest("8", "1e3")).status().code() == StatusCode::kDataLoss);
}

TEST_CASE("export manifest: a version must leave room for one more write", "[engine][export]") {
  auto with_version = [](uint64_t version) {
    std::string text = Manifest("8");
    const std::string from = "\"version\":7";
    text.replace(text.find(from), from.size(), "\"version\":" + std::to_string(version));
    return ParseManifest(text);
  };
  // The write path refuses a write to a head at Limits::kMaxVersion: an
  // import at that version could never be written (issue #23).
  auto at_limit = with_version(Limits::kMaxVersion);
  CHECK(at_limit.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(at_limit.status().message(),
             Catch::Contains("collection \"a\": version " + std::to_string(Limits::kMaxVersion) +
                             " is above the limit " + std::to_string(Limits::kMaxVersion - 1)));
  auto below = with_version(Limits::kMaxVersion - 1);
  REQUIRE(below.ok());
  CHECK((*below)[0].version == Limits::kMaxVersion - 1);
  CHECK(kMaxImportVersion + 1 == Limits::kMaxVersion);
}
