// verity_bench_groundedness: the groundedness benchmark of issue #25.
//
//   verity_bench_groundedness --cases FILE [--markdown FILE] [--scores FILE]
//                             [--threshold 0.6]
//
// Reads the cases that bench/groundedness/make_cases.py writes (one JSON
// object per line: id, split, chunking, kind, label, answer, chunks...),
// scores each answer with ScoreGroundedness against its chunks, and prints
// one JSON object per line on stdout: per split, the AUC of the verdict and
// of the support score, precision and recall of "unsupported"; per split and
// perturbation kind, and per split and chunking, the detection rate
// (unfaithful -> unsupported) or the pass rate (faithful -> supported).
// --markdown writes the same figures as the tables of docs/groundedness.md;
// --scores writes one line per case (its verdict, support and why).
//
// A case is "supported" when every scored sentence of its answer is (an
// answer the scorer splits in two needs both); its support score is the
// lowest support among its scored sentences. A case with no scored sentence
// is counted apart and left out of the figures.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "verity/groundedness.h"

namespace verity::bench {
namespace {

using Json = nlohmann::json;

const char* const kChunkings[] = {"sentence", "passage", "document"};
const char* const kSplits[] = {"train", "test"};

struct Case {
  std::string id, split, chunking, kind;
  bool faithful = false;
  size_t answer_words = 0;
  // Outcome.
  bool scored = false;
  bool supported = false;
  double support = 0;
  // For an unsupported case: low_support, missing_critical, negation,
  // contradiction, role, short_evidence.
  std::string why;
  std::string result;  // ToJson of the result, for --scores
};

struct Args {
  std::string cases, markdown, scores;
  double threshold = 0.6;
};

constexpr char kUsage[] =
    "usage: verity_bench_groundedness --cases FILE [--markdown FILE] [--scores FILE] [--threshold T]\n";

[[noreturn]] void Usage(const char* message) {
  std::fprintf(stderr, "verity_bench_groundedness: %s\n%s", message, kUsage);
  std::exit(2);
}

Args ParseArgs(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf("%s", kUsage);
      std::exit(0);
    }
    if (i + 1 >= argc) Usage(("missing value after " + a).c_str());
    std::string v = argv[++i];
    if (a == "--cases") {
      args.cases = v;
    } else if (a == "--markdown") {
      args.markdown = v;
    } else if (a == "--scores") {
      args.scores = v;
    } else if (a == "--threshold") {
      args.threshold = std::atof(v.c_str());
    } else {
      Usage(("unknown argument " + a).c_str());
    }
  }
  if (args.cases.empty()) Usage("--cases is required");
  return args;
}

size_t CountWords(const std::string& s) {
  size_t n = 0;
  bool in_word = false;
  for (char c : s) {
    bool space = c == ' ' || c == '\t' || c == '\n';
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

// Scores one case; fills the outcome fields.
void ScoreCase(const Json& j, const GroundednessOptions& options, Case& c) {
  std::vector<SourceChunk> chunks;
  for (const Json& ch : j.at("chunks"))
    chunks.push_back({ch.at("id").get<std::string>(), ch.at("text").get<std::string>()});
  const std::string answer = j.at("answer").get<std::string>();
  c.answer_words = CountWords(answer);
  Result<GroundednessResult> r = ScoreGroundedness(answer, chunks, options);
  if (!r.ok()) {
    std::fprintf(stderr, "verity_bench_groundedness: %s: %s\n", c.id.c_str(), r.status().ToString().c_str());
    std::exit(1);
  }
  c.result = ToJson(*r);
  c.scored = r->scored > 0;
  c.supported = c.scored && r->supported == r->scored;
  c.support = 1;
  for (const SentenceScore& s : r->sentences) {
    if (!s.scored()) continue;
    c.support = std::min(c.support, s.support);
    if (s.verdict == SentenceVerdict::kUnsupported && c.why.empty()) {
      // Version 3's penalties lower the support: name them first.
      c.why = !s.contradictions.empty()          ? "contradiction"
              : !s.role_conflicts.empty()        ? "role"
              : s.support < options.threshold    ? "low_support"
              : !s.missing_critical.empty()      ? "missing_critical"
              : !s.conflicting_negations.empty() ? "negation"
              : s.short_evidence                 ? "short_evidence"
                                                 : "other";
    }
  }
}

std::vector<Case> LoadAndScore(const Args& args, std::ofstream* scores) {
  std::ifstream in(args.cases);
  if (!in) Usage(("cannot read " + args.cases).c_str());
  GroundednessOptions options;
  options.threshold = args.threshold;
  std::vector<Case> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    Json j = Json::parse(line);
    Case c;
    c.id = j.at("id").get<std::string>();
    c.split = j.at("split").get<std::string>();
    c.chunking = j.at("chunking").get<std::string>();
    c.kind = j.at("kind").get<std::string>();
    c.faithful = j.at("label").get<std::string>() == "faithful";
    ScoreCase(j, options, c);
    if (scores) {
      Json out = {{"id", c.id},
                  {"split", c.split},
                  {"chunking", c.chunking},
                  {"kind", c.kind},
                  {"faithful", c.faithful},
                  {"scored", c.scored},
                  {"supported", c.supported},
                  {"support", c.support},
                  {"why", c.why},
                  {"result", Json::parse(c.result)}};
      *scores << out.dump() << "\n";
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

// Area under the ROC curve of `score` for telling faithful (positive) from
// unfaithful cases: the probability that a random faithful case scores
// higher than a random unfaithful one, ties counting half (Mann-Whitney).
double Auc(std::vector<const Case*> cases, bool verdict) {
  auto score = [verdict](const Case* c) { return verdict ? (c->supported ? 1.0 : 0.0) : c->support; };
  std::sort(cases.begin(), cases.end(), [&](const Case* a, const Case* b) { return score(a) < score(b); });
  double rank_sum = 0;
  size_t positives = 0;
  for (size_t i = 0; i < cases.size();) {
    size_t j = i;
    while (j < cases.size() && score(cases[j]) == score(cases[i])) ++j;
    double mid_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;  // 1-based average
    for (size_t k = i; k < j; ++k) {
      if (cases[k]->faithful) {
        rank_sum += mid_rank;
        ++positives;
      }
    }
    i = j;
  }
  size_t negatives = cases.size() - positives;
  if (positives == 0 || negatives == 0) return 0;
  double p = static_cast<double>(positives);
  return (rank_sum - p * (p + 1) / 2) / (p * static_cast<double>(negatives));
}

// Counts over a group of scored cases.
struct Tally {
  size_t n = 0, faithful = 0, passed = 0, unfaithful = 0, detected = 0;
  size_t low_support = 0, gate = 0;  // why the unsupported ones are
  double support_sum = 0;
  void Add(const Case& c) {
    ++n;
    support_sum += c.support;
    if (c.faithful) {
      ++faithful;
      passed += c.supported ? 1 : 0;
    } else {
      ++unfaithful;
      detected += c.supported ? 0 : 1;
    }
    if (!c.supported) (c.why == "low_support" ? low_support : gate)++;
  }
  // Pass rate for faithful groups, detection rate for unfaithful ones.
  double Rate() const {
    if (faithful > 0 && unfaithful == 0) return static_cast<double>(passed) / faithful;
    if (unfaithful > 0 && faithful == 0) return static_cast<double>(detected) / unfaithful;
    return n == 0 ? 0 : static_cast<double>(passed + detected) / n;  // accuracy when mixed
  }
};

double Round4(double v) { return static_cast<double>(static_cast<long long>(v * 10000 + 0.5)) / 10000; }

std::string Fixed(double v, int decimals = 3) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string Percent(double v) { return Fixed(100 * v, 1) + " %"; }

// The figures of one split, as computed from its scored cases.
struct SplitFigures {
  std::vector<const Case*> cases;  // scored only
  size_t not_scored = 0;
  Tally all;
  std::map<std::string, Tally> by_kind_chunking;  // "kind/chunking" and "kind/all"
  std::map<std::string, Tally> by_chunking;       // chunking -> all kinds
  std::map<std::string, std::vector<const Case*>> chunking_cases;
  // "kind/short" (answers of <= kShortWords words) and "kind/long": within
  // a kind, since the kinds' own lengths differ.
  std::map<std::string, Tally> by_kind_length;
  double auc_verdict = 0, auc_support = 0;
};

constexpr size_t kShortWords = 10;

SplitFigures Figures(const std::vector<Case>& cases, const std::string& split) {
  SplitFigures f;
  for (const Case& c : cases) {
    if (c.split != split) continue;
    if (!c.scored) {
      ++f.not_scored;
      continue;
    }
    f.cases.push_back(&c);
    f.all.Add(c);
    f.by_kind_chunking[c.kind + "/" + c.chunking].Add(c);
    f.by_kind_chunking[c.kind + "/all"].Add(c);
    f.by_chunking[c.chunking].Add(c);
    f.chunking_cases[c.chunking].push_back(&c);
    f.by_kind_length[c.kind + (c.answer_words <= kShortWords ? "/short" : "/long")].Add(c);
  }
  f.auc_verdict = Auc(f.cases, true);
  f.auc_support = Auc(f.cases, false);
  return f;
}

double Ratio(size_t a, size_t b) { return b == 0 ? 0 : static_cast<double>(a) / static_cast<double>(b); }

// Precision and recall of "unsupported" for telling the unfaithful cases.
double PrecisionUnsupported(const Tally& t) { return Ratio(t.detected, t.detected + (t.faithful - t.passed)); }
double RecallUnsupported(const Tally& t) { return Ratio(t.detected, t.unfaithful); }

void PrintJson(const std::string& split, const SplitFigures& f, const std::vector<std::string>& kinds,
               double threshold) {
  Json base = {
      {"bench", "groundedness"}, {"scorer", kGroundednessScorerVersion}, {"threshold", threshold}, {"split", split}};
  Json all = base;
  all.update({{"group", "all"},
              {"cases", f.all.n},
              {"faithful", f.all.faithful},
              {"unfaithful", f.all.unfaithful},
              {"not_scored", f.not_scored},
              {"auc_verdict", Round4(f.auc_verdict)},
              {"auc_support", Round4(f.auc_support)},
              {"precision_unsupported", Round4(PrecisionUnsupported(f.all))},
              {"recall_unsupported", Round4(RecallUnsupported(f.all))},
              {"faithful_pass_rate", Round4(Ratio(f.all.passed, f.all.faithful))}});
  std::cout << all.dump() << "\n";
  for (const char* chunking : kChunkings) {
    auto it = f.by_chunking.find(chunking);
    if (it == f.by_chunking.end()) continue;
    const Tally& t = it->second;
    Json j = base;
    j.update({{"group", "chunking"},
              {"chunking", chunking},
              {"cases", t.n},
              {"faithful_pass_rate", Round4(Ratio(t.passed, t.faithful))},
              {"unfaithful_detection_rate", Round4(Ratio(t.detected, t.unfaithful))},
              {"auc_support", Round4(Auc(f.chunking_cases.at(chunking), false))}});
    std::cout << j.dump() << "\n";
  }
  for (const std::string& kind : kinds) {
    for (const std::string chunking : {"sentence", "passage", "document", "all"}) {
      auto it = f.by_kind_chunking.find(kind + "/" + chunking);
      if (it == f.by_kind_chunking.end()) continue;
      const Tally& t = it->second;
      Json j = base;
      j.update({{"group", "kind"},
                {"kind", kind},
                {"label", t.faithful > 0 ? "faithful" : "unfaithful"},
                {"chunking", chunking},
                {"cases", t.n},
                {t.faithful > 0 ? "pass_rate" : "detection_rate", Round4(t.Rate())},
                {"mean_support", Round4(t.support_sum / static_cast<double>(t.n))},
                {"unsupported_low_support", t.low_support},
                {"unsupported_by_gate", t.gate}});
      std::cout << j.dump() << "\n";
    }
  }
  for (const std::string& kind : kinds) {
    for (const char* length : {"short", "long"}) {
      auto it = f.by_kind_length.find(kind + "/" + length);
      if (it == f.by_kind_length.end()) continue;
      const Tally& t = it->second;
      Json j = base;
      j.update({{"group", "kind_length"},
                {"kind", kind},
                {"length", length},
                {"short_max_words", kShortWords},
                {"cases", t.n},
                {t.faithful > 0 ? "pass_rate" : "detection_rate", Round4(t.Rate())}});
      std::cout << j.dump() << "\n";
    }
  }
}

std::string Cell(const std::map<std::string, Tally>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() || it->second.n == 0 ? "–" : Percent(it->second.Rate());
}

void MarkdownSummary(std::ostream& md, const std::map<std::string, SplitFigures>& figures) {
  md << "| split | cases (faithful / unfaithful) | AUC verdict | AUC support | precision \"unsupported\" | "
        "recall \"unsupported\" | faithful passed |\n"
        "|---|---|---|---|---|---|---|\n";
  for (const char* split : kSplits) {
    const SplitFigures& f = figures.at(split);
    md << "| " << split << " | " << f.all.n << " (" << f.all.faithful << " / " << f.all.unfaithful << ")"
       << (f.not_scored ? ", " + std::to_string(f.not_scored) + " not scored" : "") << " | " << Fixed(f.auc_verdict)
       << " | " << Fixed(f.auc_support) << " | " << Percent(PrecisionUnsupported(f.all)) << " | "
       << Percent(RecallUnsupported(f.all)) << " | " << Percent(Ratio(f.all.passed, f.all.faithful)) << " |\n";
  }
}

void MarkdownKinds(std::ostream& md, const std::map<std::string, SplitFigures>& figures,
                   const std::vector<std::string>& kinds) {
  md << "| kind | rate | train: sentence | passage | document | all | test: sentence | passage | document | all | "
        "unsupported by low support / by a gate |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const std::string& kind : kinds) {
    bool faithful = false;
    size_t low = 0, gate = 0;
    for (const char* split : kSplits) {
      auto it = figures.at(split).by_kind_chunking.find(kind + "/all");
      if (it == figures.at(split).by_kind_chunking.end()) continue;
      faithful = it->second.faithful > 0;
      low += it->second.low_support;
      gate += it->second.gate;
    }
    md << "| " << kind << " | " << (faithful ? "passed" : "detected");
    for (const char* split : kSplits) {
      for (const char* chunking : {"sentence", "passage", "document", "all"}) {
        md << " | " << Cell(figures.at(split).by_kind_chunking, kind + "/" + chunking);
      }
    }
    md << " | " << low << " / " << gate << " |\n";
  }
}

void MarkdownChunkings(std::ostream& md, const std::map<std::string, SplitFigures>& figures) {
  md << "| chunking | train: faithful passed | unfaithful detected | AUC support | test: faithful passed | "
        "unfaithful detected | AUC support |\n"
        "|---|---|---|---|---|---|---|\n";
  for (const char* chunking : kChunkings) {
    md << "| " << chunking;
    for (const char* split : kSplits) {
      const SplitFigures& f = figures.at(split);
      auto it = f.by_chunking.find(chunking);
      if (it == f.by_chunking.end()) {
        md << " | – | – | –";
        continue;
      }
      md << " | " << Percent(Ratio(it->second.passed, it->second.faithful)) << " | "
         << Percent(Ratio(it->second.detected, it->second.unfaithful)) << " | "
         << Fixed(Auc(f.chunking_cases.at(chunking), false));
    }
    md << " |\n";
  }
}

// Short against long answers, kind by kind (cases in parentheses).
void MarkdownLengths(std::ostream& md, const std::map<std::string, SplitFigures>& figures,
                     const std::vector<std::string>& kinds) {
  md << "| kind | rate | train: ≤ " << kShortWords << " words | longer | test: ≤ " << kShortWords
     << " words | longer |\n|---|---|---|---|---|---|\n";
  for (const std::string& kind : kinds) {
    std::string row;
    bool faithful = false;
    for (const char* split : kSplits) {
      for (const char* length : {"/short", "/long"}) {
        const auto& m = figures.at(split).by_kind_length;
        auto it = m.find(kind + length);
        if (it == m.end()) {
          row += " | –";
          continue;
        }
        faithful = it->second.faithful > 0;
        row += " | " + Percent(it->second.Rate()) + " (" + std::to_string(it->second.n) + ")";
      }
    }
    md << "| " << kind << " | " << (faithful ? "passed" : "detected") << row << " |\n";
  }
}

int Main(int argc, char** argv) {
  const Args args = ParseArgs(argc, argv);
  const auto start = std::chrono::steady_clock::now();
  std::ofstream scores;
  if (!args.scores.empty()) scores.open(args.scores);
  const std::vector<Case> cases = LoadAndScore(args, args.scores.empty() ? nullptr : &scores);
  std::vector<std::string> kinds;  // in the order the cases list them
  for (const Case& c : cases) {
    if (std::find(kinds.begin(), kinds.end(), c.kind) == kinds.end()) kinds.push_back(c.kind);
  }
  std::map<std::string, SplitFigures> figures;
  for (const char* split : kSplits) {
    figures[split] = Figures(cases, split);
    PrintJson(split, figures[split], kinds, args.threshold);
  }
  if (!args.markdown.empty()) {
    std::ofstream md(args.markdown);
    md << "Scorer " << kGroundednessScorerVersion << ", threshold " << Fixed(args.threshold, 2) << ", " << cases.size()
       << " cases.\n\n";
    MarkdownSummary(md, figures);
    md << "\nPer kind (pass rate of a faithful kind, detection rate of an unfaithful one), by chunking:\n\n";
    MarkdownKinds(md, figures, kinds);
    md << "\nPer chunking, all kinds:\n\n";
    MarkdownChunkings(md, figures);
    md << "\nPer kind and answer length:\n\n";
    MarkdownLengths(md, figures, kinds);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "verity_bench_groundedness: %zu cases scored in %.1f s\n", cases.size(), seconds);
  return 0;
}

}  // namespace
}  // namespace verity::bench

int main(int argc, char** argv) { return verity::bench::Main(argc, argv); }
