// The text and sparse legs of `search` and `retrieve`, their fusion options,
// and how a hybrid hit's legs are shown (cli.h, docs/cli.md "Text and hybrid
// search").
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "cli.h"
#include "command_table.h"
#include "json_numbers.h"

namespace verity::cli {

float ParseFloatOption(const std::string& text, const std::string& what) {
  errno = 0;
  char* end = nullptr;
  const float value = std::strtof(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(value)) {
    throw UsageError{what + ": \"" + text + "\" is not a finite number"};
  }
  return value;
}

namespace {

// --weights dense=1,text=0.5,sparse=1: the named legs' weights; a leg left
// out keeps its default 1.
void ParseWeights(const std::string& text, FusionConfig* fusion) {
  const std::string syntax = "expected NAME=WEIGHT[,NAME=WEIGHT...] with NAME dense, text or sparse";
  std::istringstream items(text);
  bool any = false;
  for (std::string item; std::getline(items, item, ',');) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos) throw UsageError{"--weights: \"" + item + "\": " + syntax + "; got \"" + text + "\""};
    const std::string name = item.substr(0, eq);
    const float weight = ParseFloatOption(item.substr(eq + 1), "--weights " + name);
    if (weight < 0) throw UsageError{"--weights " + name + ": " + item.substr(eq + 1) + " is negative"};
    if (name == "dense") {
      fusion->dense_weight = weight;
    } else if (name == "text") {
      fusion->text_weight = weight;
    } else if (name == "sparse") {
      fusion->sparse_weight = weight;
    } else {
      throw UsageError{"--weights: unknown leg \"" + name + "\": " + syntax};
    }
    any = true;
  }
  if (!any) throw UsageError{"--weights: " + syntax + "; got \"" + text + "\""};
}

}  // namespace

QueryLegs LegArgs(const Args& args) {
  QueryLegs legs;
  legs.text = args.Option("text").value_or("");
  if (args.Option("text") && legs.text.empty()) throw UsageError{"--text: empty (leave it out for no text query)"};
  const std::optional<std::string> field = args.Option("sparse-field");
  const std::optional<std::string> sparse = args.Option("sparse");
  if (field && field->find('\n') != std::string::npos) {
    throw UsageError{"--sparse-field: given more than once (a query has one sparse leg)"};
  }
  if (field.has_value() != sparse.has_value()) {
    throw UsageError{field ? "--sparse-field needs --sparse '{\"indices\": [...], \"values\": [...]}'"
                           : "--sparse needs --sparse-field NAME (the sparse field it is a vector of)"};
  }
  if (field) {
    legs.sparse_field = *field;
    const Json parsed = ParseJson(*sparse);
    if (parsed.is_discarded()) throw UsageError{"--sparse: not valid JSON"};
    if (Status read = SparseFromJson(parsed, &legs.sparse); !read.ok()) {
      throw UsageError{"--sparse: " + read.message()};
    }
  }
  if (const auto method = args.Option("fusion"); method && !ParseFusionMethod(*method, &legs.fusion.method)) {
    throw UsageError{"--fusion: expected rrf or convex, got \"" + *method + "\""};
  }
  legs.fusion.rrf_k = static_cast<uint32_t>(args.NumberIn("rrf-k", legs.fusion.rrf_k, 1, 100000));
  legs.fusion.leg_limit = static_cast<uint32_t>(args.NumberIn("leg-limit", legs.fusion.leg_limit, 1, UINT32_MAX));
  if (const auto weights = args.Option("weights")) ParseWeights(*weights, &legs.fusion);
  return legs;
}

std::vector<OptionSpec> LegOptions() {
  return {{"text", "T", "a full-text (BM25) query; needs the collection's text index"},
          {"sparse-field", "F", "the sparse field of a sparse query (with --sparse)"},
          {"sparse", "JSON", "the sparse query vector: {\"indices\": [...], \"values\": [...]}"},
          {"fusion", "rrf|convex", "how a hybrid query's legs are fused (default rrf)"},
          {"rrf-k", "N", "RRF's constant (default 60)"},
          {"weights", "LEG=W,...", "the legs' weights in the fusion, LEG dense, text or sparse (default 1 each)"},
          {"leg-limit", "N", "hits each leg fetches before fusion (default 100)"}};
}

Json LegJson(const LegScore& leg) {
  if (!leg.found()) return Json{{"rank", nullptr}, {"score", nullptr}};
  return Json{{"rank", leg.rank + 1}, {"score", leg.score}};
}

std::string LegText(const LegScore& leg) {
  if (!leg.found()) return "-";
  return "#" + std::to_string(leg.rank + 1) + " " + DistanceText(leg.score);
}

}  // namespace verity::cli
