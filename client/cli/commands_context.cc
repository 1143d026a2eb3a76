// retrieve, answer, replay: the context service.
#include <cstdio>

#include "command_table.h"
#include "verity/log_json.h"

namespace verity::cli {
namespace {

// As search's output: a dense retrieval shows distances; a text, sparse or
// hybrid one its scores, and a hybrid one each leg's rank and score.
void PrintRetrieval(const Cli& cli, const RetrieveResult& r, bool dense_only) {
  UsedLegs used;
  for (const auto& c : r.chunks) {
    used.dense = used.dense || c.dense.found();
    used.text = used.text || c.text_leg.found();
    used.sparse = used.sparse || c.sparse.found();
  }
  if (cli.json) {
    Json chunks = Json::array();
    for (size_t i = 0; i < r.chunks.size(); ++i) {
      const auto& c = r.chunks[i];
      Json chunk = {{"rank", i + 1},
                    {"id", c.id},
                    {"row_version", c.row_version},
                    {"distance", c.distance},
                    {"tokens", c.tokens},
                    {"in_context", c.in_context},
                    {"text", c.text},
                    {"text_sha256", c.text_sha256},
                    {"document_id", c.document_id}};
      if (!dense_only) chunk["score"] = c.score;
      if (used.dense) chunk["dense"] = LegJson(c.dense);
      if (used.text) chunk["text_leg"] = LegJson(c.text_leg);
      if (used.sparse) chunk["sparse"] = LegJson(c.sparse);
      chunks.push_back(std::move(chunk));
    }
    std::cout << Json{{"retrieval_id", r.retrieval_id},
                      {"log_seq", r.log_seq},
                      {"version", r.version},
                      {"exact", r.exact},
                      {"chunks", chunks},
                      {"context", r.context},
                      {"context_sha256", r.context_sha256},
                      {"context_tokens", r.context_tokens},
                      {"prompt", r.prompt}}
                     .dump()
              << "\n";
    return;
  }
  std::cout << "retrieval " << r.retrieval_id << "  (log record " << r.log_seq << ", version " << r.version
            << (r.exact ? ", exact search" : "") << (r.prompt.empty() ? "" : ", prompt " + r.prompt) << ")\n";
  std::vector<std::string> header = {"RANK", "ID", "ROW_VERSION", dense_only ? "DISTANCE" : "SCORE"};
  if (used.dense) header.push_back("DENSE");
  if (used.text) header.push_back("BM25");
  if (used.sparse) header.push_back("SPARSE");
  for (const char* column : {"TOKENS", "IN_CONTEXT", "TEXT"}) header.push_back(column);
  std::vector<std::vector<std::string>> rows;
  size_t in_context = 0;
  for (size_t i = 0; i < r.chunks.size(); ++i) {
    const auto& c = r.chunks[i];
    if (c.in_context) ++in_context;
    std::vector<std::string> row = {std::to_string(i + 1), c.id, std::to_string(c.row_version),
                                    DistanceText(dense_only ? c.distance : c.score)};
    if (used.dense) row.push_back(LegText(c.dense));
    if (used.text) row.push_back(LegText(c.text_leg));
    if (used.sparse) row.push_back(LegText(c.sparse));
    for (std::string cell : {std::to_string(c.tokens), std::string(c.in_context ? "yes" : "no"), Truncate(c.text, 60)}) {
      row.push_back(std::move(cell));
    }
    rows.push_back(std::move(row));
  }
  PrintTable(header, rows);
  std::cout << "context sha256 " << r.context_sha256 << "  (" << in_context << " of " << r.chunks.size() << " chunks, "
            << r.context_tokens << " tokens)\n";
}

Status Retrieve(const Cli& cli, const Args& args) {
  RetrieveRequest request;
  request.collection = args.Arg(0);
  const QueryLegs legs = LegArgs(args);
  const bool dense = args.Option("vector") || args.Option("vector-file");
  // No vector, text or sparse vector but a filter: a retrieval by filter
  // alone, every match in document order; without -k the server's --max-k
  // bounds it (k 0).
  const bool by_filter = !dense && !legs.any() && args.Option("filter");
  if (!by_filter && !legs.any() && !dense) {
    throw UsageError{"retrieve needs --vector '[...]', --vector-file FILE, --text T, --sparse-field F --sparse JSON, "
                     "or --filter EXPR alone",
                     "retrieve"};
  }
  if (dense) {
    VERITY_ASSIGN_OR_RETURN(request.vector, VectorArg(args, "retrieve"));
  }
  request.text = legs.text;
  request.sparse_field = legs.sparse_field;
  request.sparse = legs.sparse;
  request.fusion = legs.fusion;
  request.query_text = args.Option("query-text").value_or("");
  request.k = args.Option("k") ? static_cast<uint32_t>(args.NumberIn("k", 10, 1, UINT32_MAX)) : (by_filter ? 0 : 10);
  request.ef = args.Count32("ef");
  request.filter = args.Option("filter").value_or("");
  request.at = args.At();
  request.token_budget = args.Count32("budget");
  // A registered prompt (NAME, NAME@VERSION, NAME@LABEL) is logged as the
  // exact version it resolves to; other text as given.
  request.prompt = args.Option("prompt").value_or("");
  request.client_trace_id = args.Option("trace-id").value_or("");
  VERITY_ASSIGN_OR_RETURN(RetrieveResult r, cli.client->Retrieve(request));
  PrintRetrieval(cli, r, !legs.any());
  return Status::Ok();
}

Status Answer(const Cli& cli, const Args& args) {
  AnswerRequest request;
  request.retrieval_id = args.Arg(0);
  VERITY_ASSIGN_OR_RETURN(request.answer, RequiredTextOrFile(args, "answer", "text", "file"));
  request.model = args.Option("model").value_or("");
  request.prompt_tokens = args.Count32("prompt-tokens");
  request.completion_tokens = args.Count32("completion-tokens");
  VERITY_ASSIGN_OR_RETURN(LogRecord record, cli.client->RecordAnswer(request));
  PrintResult(cli, LogRecordToJson(record),
              "answer recorded for " + record.retrieval_id + ": log record " + std::to_string(record.seq) + ", hash " +
                  record.hash);
  return Status::Ok();
}

// Only what the mode measured: a "collected" replay compared nothing, and a
// recall of 0 or a hash mismatch would read as a finding.
Json ReplayJson(const ReplayResult& r) {
  Json out = {{"retrieval_id", r.retrieval_id},
              {"mode", ReplayModeName(r.mode)},
              {"outcome", ReplayOutcomeName(r.outcome)},
              {"detail", r.detail},
              {"version", r.version}};
  if (r.outcome == ReplayOutcome::kCollected) return out;
  if (r.mode == ReplayMode::kContext) {
    Json chunks = Json::array();
    for (const auto& c : r.chunks)
      chunks.push_back({{"id", c.id}, {"row_version", c.row_version}, {"status", c.status}});
    out["chunks"] = chunks;
    out["context_sha256"] = r.context_sha256;
    out["context_hash_matches"] = r.context_hash_matches;
    return out;
  }
  Json changes = Json::array();
  for (const auto& c : r.rank_changes) {
    changes.push_back({{"id", c.id}, {"logged_rank", c.logged_rank}, {"replay_rank", c.replay_rank}});
  }
  if (r.mode == ReplayMode::kRetrieval) {
    out["recall"] = r.recall;
    out["missed"] = r.missed;
  }
  out["added"] = r.added;
  out["removed"] = r.removed;
  out["rank_changes"] = changes;
  if (r.mode == ReplayMode::kCounterfactual) out["changed"] = r.changed;
  return out;
}

void PrintIds(const char* label, const std::vector<std::string>& ids) {
  if (ids.empty()) return;
  std::cout << label << ":";
  for (const auto& id : ids) std::cout << " " << id;
  std::cout << "\n";
}

// The outcome first, then what it rests on.
void PrintReplay(const ReplayResult& r) {
  std::cout << ReplayOutcomeName(r.outcome) << (r.detail.empty() ? "" : ": " + r.detail) << "\n"
            << ReplayModeName(r.mode) << " replay of " << r.retrieval_id << " at version " << r.version << "\n";
  if (r.outcome == ReplayOutcome::kCollected) return;  // nothing was compared
  if (r.mode == ReplayMode::kContext) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : r.chunks) rows.push_back({c.id, std::to_string(c.row_version), c.status});
    if (!rows.empty()) PrintTable({"ID", "ROW_VERSION", "STATUS"}, rows);
    if (!r.context_sha256.empty()) {
      std::cout << "context sha256 " << r.context_sha256
                << (r.context_hash_matches ? " (matches the log)" : " (differs from the log)") << "\n";
    }
    return;
  }
  if (r.mode == ReplayMode::kRetrieval) {
    char recall[32];
    std::snprintf(recall, sizeof(recall), "%.4f", r.recall);
    std::cout << "recall " << recall << " of the logged results against exact search\n";
    PrintIds("missed", r.missed);
  }
  PrintIds("added", r.added);
  PrintIds("removed", r.removed);
  PrintIds("changed (a newer row)", r.changed);
  if (!r.rank_changes.empty()) {
    std::vector<std::vector<std::string>> rows;
    auto rank = [](int32_t x) { return x < 0 ? std::string("-") : std::to_string(x + 1); };
    for (const auto& c : r.rank_changes) rows.push_back({c.id, rank(c.logged_rank), rank(c.replay_rank)});
    PrintTable({"ID", "LOGGED_RANK", "REPLAY_RANK"}, rows);
  }
}

Status Replay(const Cli& cli, const Args& args) {
  ReplayRequest request;
  request.retrieval_id = args.Arg(0);
  const std::string mode = args.Option("mode").value_or("context");
  if (mode == "context")
    request.mode = ReplayMode::kContext;
  else if (mode == "retrieval")
    request.mode = ReplayMode::kRetrieval;
  else if (mode == "counterfactual")
    request.mode = ReplayMode::kCounterfactual;
  else
    throw UsageError{"--mode: expected context, retrieval or counterfactual, got \"" + mode + "\""};
  const ReadPoint at = args.At();
  if (!at.is_head() && request.mode != ReplayMode::kCounterfactual) {
    throw UsageError{"--at is only for --mode counterfactual (the other modes replay at the logged version)"};
  }
  request.at = at;
  VERITY_ASSIGN_OR_RETURN(ReplayResult r, cli.client->Replay(request));
  if (cli.json)
    std::cout << ReplayJson(r).dump() << "\n";
  else
    PrintReplay(r);
  return Status::Ok();
}

// retrieve's options: the dense leg's, the text and sparse legs' and the
// fusion's (LegOptions), then the rest.
std::vector<OptionSpec> RetrieveOptions() {
  std::vector<OptionSpec> options = {{"vector", "'[...]'", "the query vector, a JSON array"},
                                     {"vector-file", "FILE", "a file holding the query vector"}};
  for (OptionSpec& o : LegOptions()) options.push_back(std::move(o));
  const std::vector<OptionSpec> rest = {
      {"query-text", "T", "the question, kept in the log (default: --text)"},
        {"k", "N", "how many chunks (default 10; by --filter alone: at most N, default the server's --max-k)"},
        {"ef", "N", "search beam width (default: the collection's)"},
        {"filter", "EXPR",
         "only records whose metadata, id or document_id match (docs/filters.md); with no vector, text or "
         "sparse vector: every "
         "match, in document order"},
        {"at", "POINT", "read at this version or snapshot (default: the head)"},
        {"budget", "TOKENS", "fit the context into this many tokens (default: no limit)"},
        {"prompt", "PROMPT", "the prompt the context is for, logged (a registered one as NAME@VERSION)"},
        {"trace-id", "ID", "your trace id, kept in the log"}};
  options.insert(options.end(), rest.begin(), rest.end());
  return options;
}

const ArgSpec kRetrievalId{"RETRIEVAL_ID", "the id retrieve printed"};

}  // namespace

std::vector<Command> ContextCommands() {
  return {
      {"retrieve",
       "NAME (--vector '[...]' | --vector-file FILE | --text T | --sparse-field F --sparse JSON | --filter EXPR) "
       "[--fusion rrf|convex] [--rrf-k N] [--weights LEG=W,...] [--leg-limit N] "
       "[--query-text T] [-k 10] [--ef N] [--filter EXPR] [--at POINT] "
       "[--budget TOKENS] [--prompt PROMPT] [--trace-id ID]",
       "the context for a query, logged: the retrieval id, the chunks and the context's hash",
       {{"NAME", "the collection"}},
       RetrieveOptions(),
       "verity retrieve docs --vector-file q.json -k 5 --query-text 'how do I reset it?' --budget 2000\n"
       "verity retrieve notes --text 'how do I reset it?' -k 5",
       Retrieve},
      {"answer",
       "RETRIEVAL_ID (--text T | --file F) [--model M] [--prompt-tokens N] [--completion-tokens N]",
       "records the answer generated from a retrieval's context (once per retrieval)",
       {kRetrievalId},
       {{"text", "T", "the answer"},
        {"file", "F", "a file holding the answer"},
        {"model", "M", "the model that wrote it"},
        {"prompt-tokens", "N", "tokens the model read"},
        {"completion-tokens", "N", "tokens the model wrote"}},
       "verity answer \"$id\" --file answer.txt --model my-llm-7b --prompt-tokens 1830 --completion-tokens 95",
       Answer},
      {"replay",
       "RETRIEVAL_ID [--mode context|retrieval|counterfactual] [--at POINT]",
       "rebuilds or re-runs a logged retrieval and says whether it is identical",
       {kRetrievalId},
       {{"mode", "context|retrieval|counterfactual",
         "rebuild the context (default), re-run the search exactly, or run it at another version"},
        {"at", "POINT", "the version or snapshot of a counterfactual replay (default: the head)"}},
       "verity replay \"$id\" --mode counterfactual --at before-reindex",
       Replay},
  };
}

}  // namespace verity::cli
