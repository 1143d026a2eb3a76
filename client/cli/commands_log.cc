// log list / show / verify / export: the retrieval log.
#include <algorithm>
#include <filesystem>
#include <fstream>

#include "command_table.h"
#include "verity/log_json.h"

namespace verity::cli {
namespace {

// The filters shared by `log list` and `log export`.
LogQuery LogQueryArgs(const Args& args) {
  LogQuery query;
  query.collection = args.Option("collection").value_or("");
  query.since_us = args.Time("since");
  query.until_us = args.Time("until");
  if (auto kind = args.Option("kind")) {
    if (*kind == "retrieval")
      query.kind = LogKind::kRetrieval;
    else if (*kind == "answer")
      query.kind = LogKind::kAnswer;
    else if (*kind == "cache_hit")
      query.kind = LogKind::kCacheHit;
    else
      throw UsageError{"--kind: expected retrieval, answer or cache_hit, got \"" + *kind + "\""};
  }
  return query;
}

// One line describing a record, for `log list`.
std::string RecordSummary(const LogRecord& r) {
  if (r.kind == LogKind::kAnswer) {
    std::string s = r.model.empty() ? "" : r.model + ": ";
    return s + Truncate(r.answer, 60);
  }
  if (r.kind == LogKind::kCacheHit) {
    return std::string(CacheMatchName(r.cache_match)) + " hit of " + r.source_retrieval_id +
           (r.query_text.empty() ? "" : ", \"" + Truncate(r.query_text, 40) + "\"");
  }
  std::string s = "k=" + std::to_string(r.k) + ", " + std::to_string(r.chunks.size()) + " chunks";
  if (!r.query_text.empty()) s += ", \"" + Truncate(r.query_text, 40) + "\"";
  return s;
}

Status LogList(const Cli& cli, const Args& args) {
  LogQuery query = LogQueryArgs(args);
  const uint64_t limit = args.NumberIn("limit", 100, 1, UINT64_MAX);
  std::vector<LogRecord> records;
  bool more = false;
  for (;;) {
    query.limit = static_cast<uint32_t>(std::min<uint64_t>(limit - records.size(), 1000));
    VERITY_ASSIGN_OR_RETURN(LogPage page, cli.client->ListLog(query));
    for (auto& r : page.records) records.push_back(std::move(r));
    more = page.next_cursor != 0;
    if (!more || records.size() >= limit) break;
    query.start_after = page.next_cursor;
  }
  PrintListing(cli, records, LogRecordToJson,
               {"SEQ", "TIME (UTC)", "KIND", "RETRIEVAL_ID", "COLLECTION", "VERSION", "SUMMARY"},
               [](const LogRecord& r) -> std::vector<std::string> {
                 return {std::to_string(r.seq), TimeText(r.time_us),       LogKindName(r.kind), r.retrieval_id,
                         r.collection,          std::to_string(r.version), RecordSummary(r)};
               });
  if (more && !cli.json) std::cout << "(more records: raise --limit, or narrow with --since / --until)\n";
  return Status::Ok();
}

void PrintCacheHit(const LogRecord& r) {
  std::cout << "cache hit " << r.retrieval_id << "\n"
            << "  log record " << r.seq << ", " << TimeText(r.time_us) << " UTC\n"
            << "  collection " << r.collection << ", version " << r.version << "\n"
            << "  served the answer of " << r.source_retrieval_id << " (" << CacheMatchName(r.cache_match)
            << " match, similarity " << r.similarity << ")\n";
  if (!r.query_text.empty()) std::cout << "  query: " << r.query_text << "\n";
  if (!r.prompt.empty()) std::cout << "  prompt " << r.prompt << "\n";
  if (!r.model.empty()) std::cout << "  model " << r.model << "\n";
  if (!r.client_trace_id.empty()) std::cout << "  trace id " << r.client_trace_id << "\n";
  if (!r.client_id.empty()) std::cout << "  client " << r.client_id << "\n";
  std::cout << "  context sha256 " << r.context_sha256 << " (the source's)\n"
            << "answer served:\n"
            << r.answer << "\n"
            << "record hash " << r.hash << "\n";
}

void PrintRetrievalRecord(const LogRecord& r) {
  std::cout << "retrieval " << r.retrieval_id << "\n"
            << "  log record " << r.seq << ", " << TimeText(r.time_us) << " UTC\n"
            << "  collection " << r.collection << ", version " << r.version
            << (r.snapshot.empty() ? "" : " (snapshot " + r.snapshot + ")") << ", k " << r.k << ", ef "
            << (r.ef ? std::to_string(r.ef) : "default") << (r.exact ? ", exact search" : "") << "\n";
  if (!r.filter.empty()) std::cout << "  filter: " << r.filter << "\n";
  if (!r.query_text.empty()) std::cout << "  query: " << r.query_text << "\n";
  std::cout << "  query vector sha256 " << r.query_vector_sha256 << " (" << r.query_vector.size() << " dimensions)\n";
  if (r.token_budget) std::cout << "  token budget " << r.token_budget << "\n";
  if (!r.prompt.empty()) std::cout << "  prompt " << r.prompt << "\n";
  if (!r.client_trace_id.empty()) std::cout << "  trace id " << r.client_trace_id << "\n";
  if (!r.client_id.empty()) std::cout << "  client " << r.client_id << "\n";
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < r.chunks.size(); ++i) {
    const auto& c = r.chunks[i];
    rows.push_back({std::to_string(i + 1), c.id, std::to_string(c.row_version), DistanceText(c.distance),
                    std::to_string(c.tokens), c.in_context ? "yes" : "no", c.text_sha256.substr(0, 16)});
  }
  PrintTable({"RANK", "ID", "ROW_VERSION", "DISTANCE", "TOKENS", "IN_CONTEXT", "TEXT_SHA256"}, rows);
  std::cout << "context sha256 " << r.context_sha256 << " (" << r.context_tokens << " tokens)\n"
            << "record hash " << r.hash << "\n";
}

Status LogShow(const Cli& cli, const Args& args) {
  VERITY_ASSIGN_OR_RETURN(auto found, cli.client->GetRetrieval(args.Arg(0)));
  const LogRecord& r = found.first;
  const std::optional<LogRecord>& answer = found.second;
  if (cli.json) {
    std::cout << Json{{"retrieval", LogRecordToJson(r)}, {"answer", answer ? LogRecordToJson(*answer) : Json()}}.dump()
              << "\n";
    return Status::Ok();
  }
  if (r.kind == LogKind::kCacheHit) {
    PrintCacheHit(r);
    return Status::Ok();
  }
  PrintRetrievalRecord(r);
  if (!answer) {
    std::cout << "no answer recorded\n";
    return Status::Ok();
  }
  std::cout << "answer (log record " << answer->seq << ", " << TimeText(answer->time_us) << " UTC"
            << (answer->model.empty() ? "" : ", model " + answer->model) << ", tokens " << answer->prompt_tokens
            << " in / " << answer->completion_tokens << " out):\n"
            << answer->answer << "\n"
            << "record hash " << answer->hash << "\n";
  return Status::Ok();
}

Status LogVerify(const Cli& cli, const Args&) {
  VERITY_ASSIGN_OR_RETURN(LogVerifyResult v, cli.client->VerifyLog());
  if (cli.json) {
    std::cout << Json{{"ok", v.ok},
                      {"records", v.records},
                      {"first_seq", v.first_seq},
                      {"last_seq", v.last_seq},
                      {"head_hash", v.head_hash},
                      {"first_bad_seq", v.first_bad_seq},
                      {"problem", v.problem}}
                     .dump()
              << "\n";
  } else if (v.ok) {
    std::cout << "ok: " << v.records << " records checked";
    if (v.records) std::cout << " (" << v.first_seq << ".." << v.last_seq << ")";
    std::cout << "\nhead hash " << (v.head_hash.empty() ? "(empty log)" : v.head_hash) << "\n";
  } else {
    std::cout << "FAILED at record " << v.first_bad_seq << ": " << v.problem << "\n"
              << "(" << v.records << " records checked before it)\n";
  }
  if (!v.ok) {
    return Status::DataLoss("the retrieval log does not verify: record " + std::to_string(v.first_bad_seq) + ": " +
                            v.problem);
  }
  return Status::Ok();
}

Status LogExport(const Cli& cli, const Args& args) {
  LogQuery query = LogQueryArgs(args);
  query.limit = 1000;
  const std::optional<std::string> output = args.Option("output");
  // A file appears only complete: written under a temporary name, renamed at the end.
  const std::string partial = output ? *output + ".partial" : "";
  std::ofstream file;
  if (output) {
    file.open(partial, std::ios::binary | std::ios::trunc);
    if (!file) return Status::Unavailable("--output: cannot write " + partial);
  }
  std::ostream& out = output ? static_cast<std::ostream&>(file) : std::cout;
  uint64_t exported = 0;
  auto fail = [&](const Status& status) {
    if (output) {
      file.close();
      std::error_code ignored;
      std::filesystem::remove(partial, ignored);
    }
    return status;
  };
  for (;;) {
    auto page = cli.client->ListLog(query);
    if (!page.ok()) return fail(page.status());
    for (const auto& r : page->records) out << LogRecordToJson(r).dump() << "\n";
    exported += page->records.size();
    if (page->next_cursor == 0) break;
    query.start_after = page->next_cursor;
  }
  out.flush();
  if (!out) return fail(Status::Unavailable("--output: write failed"));
  if (!output) return Status::Ok();
  file.close();
  std::error_code error;
  std::filesystem::rename(partial, *output, error);
  if (error) return fail(Status::Unavailable("--output: cannot rename to " + *output + ": " + error.message()));
  PrintResult(cli, Json{{"records", exported}, {"output", *output}},
              "exported " + std::to_string(exported) + " log records to " + *output);
  return Status::Ok();
}

const OptionSpec kCollection{"collection", "NAME", "only this collection's records"};
const OptionSpec kSince{"since", "T", "only records from T on (inclusive)"};
const OptionSpec kUntil{"until", "T", "only records before T"};
const OptionSpec kKind{"kind", "retrieval|answer|cache_hit", "only records of this kind"};

}  // namespace

std::vector<Command> LogCommands() {
  return {
      {"log list",
       "[--collection NAME] [--since T] [--until T] [--kind retrieval|answer|cache_hit] [--limit 100]",
       "log records, oldest first: sequence number, time, kind, retrieval id, summary",
       {},
       {kCollection, kSince, kUntil, kKind, {"limit", "N", "at most N records (default 100)"}},
       "verity log list --since 2026-11-27T00:00:00Z --kind answer",
       LogList},
      {"log show",
       "RETRIEVAL_ID",
       "a retrieval's record (query, chunks, hashes) and its answer",
       {{"RETRIEVAL_ID", "the id retrieve printed"}},
       {},
       "verity log show \"$id\"",
       LogShow},
      {"log verify",
       "",
       "walks the hash chain; exit code 0 only when it holds",
       {},
       {},
       "verity log verify",
       LogVerify},
      {"log export",
       "[--collection NAME] [--since T] [--until T] [--kind retrieval|answer|cache_hit] [--output FILE]",
       "the log as JSON Lines with OpenTelemetry GenAI attribute names",
       {},
       {kCollection,
        kSince,
        kUntil,
        kKind,
        {"output", "FILE", "write to FILE (complete or not at all) instead of stdout"}},
       "verity log export --collection docs --since 2026-11-01T00:00:00Z --output audit.jsonl",
       LogExport},
  };
}

}  // namespace verity::cli
