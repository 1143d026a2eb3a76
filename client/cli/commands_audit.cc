// audit: the groundedness of answers against their logged context, one
// retrieval or a collection's.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "command_table.h"

namespace verity::cli {
namespace {

// A JSON string literal; invalid UTF-8 becomes U+FFFD, as in the scorer's JSON.
std::string JsonString(const std::string& s) { return Json(s).dump(-1, ' ', false, Json::error_handler_t::replace); }

// One audit as canonical JSON: the scorer's ToJson(result), byte for byte,
// wrapped with where the answer came from. Deterministic: identical audits
// give identical bytes.
std::string AuditJsonText(const AuditResult& a) {
  return "{\"retrieval_id\":" + JsonString(a.retrieval_id) +
         (a.source_retrieval_id.empty() ? "" : ",\"source_retrieval_id\":" + JsonString(a.source_retrieval_id)) +
         ",\"collection\":" + JsonString(a.collection) + ",\"version\":" + std::to_string(a.version) +
         ",\"answer_recorded\":" + (a.answer_recorded ? "true" : "false") + ",\"groundedness\":" + ToJson(a.result) +
         "}";
}

std::string AuditListJson(const std::vector<AuditResult>& audits) {
  std::string text = "[";
  for (size_t i = 0; i < audits.size(); ++i) text += (i ? "," : "") + AuditJsonText(audits[i]);
  return text + "]";
}

AuditReportEntry ReportEntry(const AuditResult& a) {
  AuditReportEntry entry;
  entry.retrieval_id = a.retrieval_id;
  entry.collection = a.collection;
  entry.version = a.version;
  entry.answer = a.answer;
  entry.chunks = a.chunks;
  entry.result = a.result;
  return entry;
}

// Writes AuditHtml(audits) to `path`, complete or not at all (a temporary
// file renamed at the end).
Status WriteAuditHtml(const std::string& path, const std::vector<AuditResult>& audits,
                      const AuditReportOptions& options) {
  std::vector<AuditReportEntry> entries;
  entries.reserve(audits.size());
  for (const auto& a : audits) entries.push_back(ReportEntry(a));
  const std::string html = AuditHtml(entries, options);
  const std::string partial = path + ".partial";
  {
    std::ofstream file(partial, std::ios::binary | std::ios::trunc);
    if (!file) return Status::Unavailable("--html: cannot write " + partial);
    file << html;
    file.flush();
    if (!file) {
      std::error_code ignored;
      std::filesystem::remove(partial, ignored);
      return Status::Unavailable("--html: write failed: " + partial);
    }
  }
  std::error_code error;
  std::filesystem::rename(partial, path, error);
  if (error) return Status::Unavailable("--html: cannot rename to " + path + ": " + error.message());
  return Status::Ok();
}

// Human output of one audit: G, then per sentence the verdict, support, the
// cited chunk and missing critical tokens.
void PrintAudit(const AuditResult& a) {
  const GroundednessResult& r = a.result;
  std::cout << "audit of " << a.retrieval_id << " (collection " << a.collection << ", version " << a.version << ", "
            << (a.answer_recorded ? "recorded answer" : "answer given") << ")\n";
  if (!a.source_retrieval_id.empty()) {
    std::cout << "a cache hit: the answer of " << a.source_retrieval_id << ", scored against its context\n";
  }
  std::cout << "G " << Fixed4(r.g) << ": " << r.supported << " of " << r.scored << " scored sentences supported"
            << " (threshold " << Fixed4(r.threshold) << ", " << r.scorer_version << ")\n";
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < r.sentences.size(); ++i) {
    const SentenceScore& s = r.sentences[i];
    std::string missing;
    for (const auto& t : s.missing_critical) missing += (missing.empty() ? "" : ", ") + t;
    for (const auto& t : s.conflicting_negations) missing += (missing.empty() ? "" : ", ") + ("drops '" + t + "'");
    rows.push_back({std::to_string(i + 1), SentenceVerdictName(s.verdict), s.scored() ? Fixed4(s.support) : "-",
                    s.chunk_index < 0 ? "-" : s.chunk_id, missing.empty() ? "-" : missing, Truncate(s.text, 60)});
  }
  if (!rows.empty()) PrintTable({"#", "VERDICT", "SUPPORT", "CHUNK", "MISSING", "SENTENCE"}, rows);
}

void PrintBatchAudit(const Cli& cli, const BatchAuditRequest& request, const BatchAuditResult& b) {
  if (cli.json) {
    std::cout << "{\"collection\":" << JsonString(request.collection) << ",\"retrievals\":" << b.retrievals
              << ",\"audited\":" << b.audited << ",\"unanswered\":" << b.unanswered
              << ",\"unavailable\":" << b.unavailable << ",\"scored\":" << b.scored
              << ",\"mean_g\":" << Fixed4(b.mean_g) << ",\"low_g\":" << Fixed4(request.low_g)
              << ",\"share_below\":" << Fixed4(b.share_below) << ",\"worst\":" << AuditListJson(b.worst)
              << ",\"audits\":" << AuditListJson(b.audits) << "}\n";
    return;
  }
  std::cout << "collection " << request.collection << ": " << b.retrievals << " retrievals, " << b.audited
            << " audited, " << b.unanswered << " unanswered, " << b.unavailable << " context no longer stored\n";
  if (b.scored > 0) {
    std::cout << "mean G " << Fixed4(b.mean_g) << " over the " << b.scored << " answers with scored sentences, "
              << Fixed4(b.share_below) << " of them below G " << Fixed4(request.low_g) << "\n";
  }
  if (!b.worst.empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& a : b.worst) {
      rows.push_back({a.retrieval_id, Fixed4(a.result.g),
                      std::to_string(a.result.supported) + "/" + std::to_string(a.result.scored),
                      std::to_string(a.version)});
    }
    std::cout << "lowest G:\n";
    PrintTable({"RETRIEVAL_ID", "G", "SUPPORTED", "VERSION"}, rows);
  }
}

Status AuditCollection(const Cli& cli, const Args& args) {
  BatchAuditRequest request;
  request.collection = *args.Option("collection");
  request.since_us = args.Time("since");
  request.until_us = args.Time("until");
  if (args.Option("threshold")) request.threshold = FractionArg(args, "threshold", 0);
  request.low_g = FractionArg(args, "low-g", request.low_g);
  request.worst = static_cast<uint32_t>(args.NumberIn("worst", request.worst, 0, UINT32_MAX));
  if (args.Option("answer") || args.Option("answer-file")) {
    throw UsageError{"--answer and --answer-file are for auditing one retrieval"};
  }
  VERITY_ASSIGN_OR_RETURN(BatchAuditResult b, cli.client->AuditCollection(request));
  const std::optional<std::string> html = args.Option("html");
  if (html) {
    AuditReportOptions options;
    options.low_g_threshold = request.low_g;
    options.worst_count = request.worst;
    VERITY_RETURN_IF_ERROR(WriteAuditHtml(*html, b.audits, options));
  }
  PrintBatchAudit(cli, request, b);
  if (html && !cli.json) std::cout << "report written to " << *html << " (" << b.audits.size() << " answers)\n";
  return Status::Ok();
}

Status Audit(const Cli& cli, const Args& args) {
  if (args.Flag("flags")) return AuditFlags(cli, args);
  if (args.Option("collection")) {
    if (args.size() > 0) throw UsageError{"audit takes a retrieval id or --collection NAME, not both"};
    return AuditCollection(cli, args);
  }
  AuditRequest request;
  request.retrieval_id = args.Arg(0);
  VERITY_ASSIGN_OR_RETURN(request.answer, TextOrFile(args, "audit", "answer", "answer-file"));
  if (args.Option("threshold")) request.threshold = FractionArg(args, "threshold", 0);
  VERITY_ASSIGN_OR_RETURN(AuditResult a, cli.client->Audit(request));
  const std::optional<std::string> html = args.Option("html");
  if (html) VERITY_RETURN_IF_ERROR(WriteAuditHtml(*html, {a}, AuditReportOptions{}));
  if (cli.json) {
    std::cout << AuditJsonText(a) << "\n";
    return Status::Ok();
  }
  PrintAudit(a);
  if (html) std::cout << "report written to " << *html << "\n";
  return Status::Ok();
}

}  // namespace

std::vector<Command> AuditCommands() {
  return {
      {"audit",
       "RETRIEVAL_ID [--answer-file F | --answer TEXT] [--threshold X] [--html FILE]\n"
       "audit --collection NAME [--since T] [--until T] [--threshold X] [--low-g X] [--worst N] [--html FILE]\n"
       "audit --flags [COLLECTION] [--since T] [--until T]",
       "groundedness of answers against their logged context: G and per-sentence verdicts",
       {{"RETRIEVAL_ID", "the id retrieve printed (or --collection NAME instead); with --flags, a collection"}},
       {{"answer", "TEXT", "score this answer instead of the recorded one"},
        {"answer-file", "F", "score the answer in F instead of the recorded one"},
        {"threshold", "X", "support a sentence needs, in [0, 1] (default the scorer's, 0.6)"},
        {"html", "FILE", "also write the self-contained HTML report"},
        {"collection", "NAME", "audit every answered retrieval of the collection"},
        {"since", "T", "with --collection or --flags: only retrievals from T on"},
        {"until", "T", "with --collection or --flags: only retrievals before T"},
        {"low-g", "X", "with --collection: count the answers with G below X (default 0.5)"},
        {"worst", "N", "with --collection: list the N lowest-G retrievals (default 5)"},
        {"flags", "", "list the flagged answers (docs/monitoring.md) of COLLECTION, or of every collection"}},
       "verity audit \"$id\"\nverity audit --collection docs --since 2026-11-01T00:00:00Z --low-g 0.6 --html "
       "audit.html\nverity audit --flags docs --since 2026-12-07T00:00:00Z",
       Audit},
  };
}

}  // namespace verity::cli
