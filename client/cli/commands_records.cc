// import, get, delete, count, search.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "command_table.h"
#include "import_file.h"

namespace verity::cli {
namespace {

// Whether a batch the server answered with `code` may have been written all
// the same. A refusal (a bad record, an unknown collection, no permission, a
// read-only server) comes before the batch's one atomic write; a lost
// connection, a deadline or a server fault (a full disk is
// RESOURCE_EXHAUSTED) may come after it.
bool MayHaveBeenApplied(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
    case StatusCode::kAlreadyExists:
    case StatusCode::kPermissionDenied:
    case StatusCode::kUnauthenticated:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kOutOfRange:
    case StatusCode::kUnimplemented:
      return false;
    default:
      return true;
  }
}

// The error of a batch the server refused: where in the file (the line of
// the offending record when the server names one), which records the batch
// held, and whether it may have been written.
Status BatchError(const Status& refused, const ImportReader& reader, size_t batch_size, uint64_t imported) {
  const std::string& m = refused.message();
  size_t index = 0;
  std::string where = reader.path();
  if (std::sscanf(m.c_str(), "records[%zu]", &index) == 1 && index < batch_size) {
    where += reader.fvecs() ? ": vector " + std::to_string(reader.LineOf(index))
                            : ":" + std::to_string(reader.LineOf(index));
  }
  // Their numbers in the file (from 1) and their lines (vector numbers in an
  // .fvecs, from 0).
  const bool one = batch_size == 1;
  const std::string span = (one ? "record " : "records ") + std::to_string(imported + 1) +
                           (one ? "" : ".." + std::to_string(imported + batch_size)) +
                           (reader.fvecs() ? (one ? ", vector " : ", vectors ") : (one ? ", line " : ", lines ")) +
                           std::to_string(reader.LineOf(0)) +
                           (one ? "" : ".." + std::to_string(reader.LineOf(batch_size - 1)));
  const std::string after =
      MayHaveBeenApplied(refused.code())
          ? " (" + std::to_string(imported) + " records acknowledged; the batch in flight (" + span +
                ") may also have been applied; importing the file again is safe: records are upserted by id)"
          : " (" + std::to_string(imported) + " records imported before it; this batch (" + span + ") was not written)";
  return Status(refused.code(), where + ": " + m + after);
}

void PrintImported(const Cli& cli, const std::string& path, uint64_t imported, double seconds, Version version) {
  const double rate = imported / std::max(seconds, 1e-9);
  if (cli.json) {
    std::cout
        << Json{{"records", imported}, {"seconds", seconds}, {"records_per_second", rate}, {"version", version}}.dump()
        << "\n";
  } else if (imported == 0) {
    std::cout << "imported 0 records: " << path << " holds none; nothing was written\n";
  } else {
    char line[200];
    std::snprintf(line, sizeof(line), "imported %llu records in %.2f s (%.0f records/s), version %llu\n",
                  static_cast<unsigned long long>(imported), seconds, rate, static_cast<unsigned long long>(version));
    std::cout << line;
  }
}

Status Import(const Cli& cli, const Args& args) {
  const std::string& name = args.Arg(0);
  const std::string& path = args.Arg(1);
  const size_t batch_size = args.NumberIn("batch", 1000, 1, UINT32_MAX);
  // An export (a directory the server wrote) is read back by another command.
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return Status::InvalidArgument("FILE: " + path +
                                   " is a directory; import reads a JSON Lines or .fvecs file (an export is read "
                                   "back with verity snapshot import EXPORT_NAME)");
  }
  VERITY_ASSIGN_OR_RETURN(auto reader, ImportReader::Open(path));
  const bool progress = !cli.json && isatty(STDERR_FILENO);
  const auto start = std::chrono::steady_clock::now();
  uint64_t imported = 0;
  Version version = 0;
  std::vector<Record> batch;
  auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  for (;;) {
    if (Status read = reader->Next(batch_size, &batch); !read.ok()) {
      if (progress) std::cerr << "\n";
      return Status(read.code(), read.message() + " (" + std::to_string(imported) + " records imported before it)");
    }
    if (batch.empty()) break;
    auto written = cli.client->Upsert(name, batch);
    if (!written.ok()) {
      if (progress) std::cerr << "\n";
      return BatchError(written.status(), *reader, batch.size(), imported);
    }
    imported += batch.size();
    version = written->version;
    if (progress) {
      const double fraction = reader->file_bytes() ? double(reader->bytes_read()) / double(reader->file_bytes()) : 1.0;
      const int filled = static_cast<int>(fraction * 30);
      std::fprintf(stderr, "\r[%s%s] %3d%%  %llu records  %.0f records/s", std::string(filled, '#').c_str(),
                   std::string(30 - filled, ' ').c_str(), static_cast<int>(fraction * 100),
                   static_cast<unsigned long long>(imported), imported / std::max(seconds(), 1e-9));
    }
  }
  if (progress) std::cerr << "\n";
  PrintImported(cli, path, imported, seconds(), version);
  return Status::Ok();
}

Status Get(const Cli& cli, const Args& args) {
  VERITY_ASSIGN_OR_RETURN(StoredRecord r, cli.client->Get(args.Arg(0), args.Arg(1), args.At()));
  Json j = {{"id", r.record.id},
            {"text", r.record.text},
            {"document_id", r.record.document_id},
            {"metadata", MetadataJson(r.record.metadata)},
            {"vector", r.record.vector},
            {"row_version", r.row_version}};
  if (!r.record.sparse.empty()) {
    Json sparse = Json::object();
    for (const auto& [field, v] : r.record.sparse) sparse[field] = {{"indices", v.indices}, {"values", v.values}};
    j["sparse"] = sparse;
  }
  std::cout << (cli.json ? j.dump() : j.dump(2)) << "\n";
  return Status::Ok();
}

Status Delete(const Cli& cli, const Args& args) {
  const std::string& name = args.Arg(0);
  args.Arg(1);  // at least one id
  std::vector<std::string> ids(args.positional().begin() + 1, args.positional().end());
  VERITY_ASSIGN_OR_RETURN(WriteResult w, cli.client->Delete(name, ids));
  PrintResult(cli, Json{{"version", w.version}, {"deleted", w.applied}},
              "deleted " + std::to_string(w.applied) + " of " + std::to_string(ids.size()) + " ids, version " +
                  std::to_string(w.version));
  return Status::Ok();
}

Status Count(const Cli& cli, const Args& args) {
  VERITY_ASSIGN_OR_RETURN(uint64_t n, cli.client->Count(args.Arg(0), args.At(), args.Option("filter").value_or("")));
  PrintResult(cli, Json{{"count", n}}, std::to_string(n));
  return Status::Ok();
}

// Dense-only results show distances; text, sparse and hybrid ones their
// score, and hybrid ones each leg's rank and score (the legs that found
// some hit).
void PrintHits(const Cli& cli, const SearchResult& result, bool dense_only) {
  UsedLegs used;
  for (const auto& h : result.hits) {
    used.dense = used.dense || h.dense.found();
    used.text = used.text || h.text.found();
    used.sparse = used.sparse || h.sparse.found();
  }
  if (cli.json) {
    Json hits = Json::array();
    for (const auto& h : result.hits) {
      Json hit = {{"id", h.id}, {"row_version", h.row_version}, {"distance", h.distance}};
      if (!dense_only) hit["score"] = h.score;
      if (used.dense) hit["dense"] = LegJson(h.dense);
      if (used.text) hit["text_leg"] = LegJson(h.text);
      if (used.sparse) hit["sparse"] = LegJson(h.sparse);
      if (h.record) {
        hit["text"] = h.record->text;
        hit["document_id"] = h.record->document_id;
        hit["metadata"] = MetadataJson(h.record->metadata);
      }
      hits.push_back(hit);
    }
    std::cout << Json{{"version", result.version}, {"exact", result.exact}, {"hits", hits}}.dump() << "\n";
    return;
  }
  std::vector<std::string> header = {"RANK", "ID", dense_only ? "DISTANCE" : "SCORE"};
  if (used.dense) header.push_back("DENSE");
  if (used.text) header.push_back("BM25");
  if (used.sparse) header.push_back("SPARSE");
  for (const char* column : {"ROW_VERSION", "TEXT"}) header.push_back(column);
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < result.hits.size(); ++i) {
    const auto& h = result.hits[i];
    std::vector<std::string> row = {std::to_string(i + 1), h.id, DistanceText(dense_only ? h.distance : h.score)};
    if (used.dense) row.push_back(LegText(h.dense));
    if (used.text) row.push_back(LegText(h.text));
    if (used.sparse) row.push_back(LegText(h.sparse));
    row.push_back(std::to_string(h.row_version));
    row.push_back(h.record ? Truncate(h.record->text, 60) : "");
    rows.push_back(std::move(row));
  }
  PrintTable(header, rows);
  std::cout << "(version " << result.version << (result.exact ? ", exact search" : "") << ")\n";
}

Status Search(const Cli& cli, const Args& args) {
  const std::string& name = args.Arg(0);
  ClientSearch query;
  const QueryLegs legs = LegArgs(args);
  // The dense leg is optional when a text or sparse one is given.
  if (!legs.any() || args.Option("vector") || args.Option("vector-file")) {
    if (!legs.any() && !args.Option("vector") && !args.Option("vector-file")) {
      throw UsageError{"search needs --vector '[...]', --vector-file FILE, --text T or --sparse-field F --sparse JSON",
                       "search"};
    }
    VERITY_ASSIGN_OR_RETURN(query.vector, VectorArg(args, "search"));
  }
  query.text = legs.text;
  query.sparse_field = legs.sparse_field;
  query.sparse = legs.sparse;
  query.fusion = legs.fusion;
  query.k = static_cast<uint32_t>(args.NumberIn("k", 10, 1, UINT32_MAX));
  query.ef = static_cast<uint32_t>(args.NumberIn("ef", 0, 0, UINT32_MAX));
  query.at = args.At();
  query.filter = args.Option("filter").value_or("");
  if (args.Flag("exact")) query.plan = SearchPlan::kExact;
  VERITY_ASSIGN_OR_RETURN(SearchResult result, cli.client->Search(name, query));
  PrintHits(cli, result, !legs.any());
  return Status::Ok();
}

// search's options: the dense leg's, then the text and sparse legs' and the
// fusion's (LegOptions), then the rest.
std::vector<OptionSpec> SearchOptions(const OptionSpec& filter, const OptionSpec& at) {
  std::vector<OptionSpec> options = {{"vector", "'[...]'", "the query vector, a JSON array"},
                                     {"vector-file", "FILE", "a file holding the query vector"}};
  for (OptionSpec& o : LegOptions()) options.push_back(std::move(o));
  options.push_back({"k", "N", "how many hits (default 10)"});
  options.push_back({"ef", "N", "search beam width (default: the collection's)"});
  options.push_back(filter);
  options.push_back(at);
  options.push_back({"exact", "", "exact search instead of the graph"});
  return options;
}

const ArgSpec kCollection{"NAME", "the collection"};
const OptionSpec kAt{"at", "POINT", "read at this version or snapshot (default: the head)"};
const OptionSpec kFilter{"filter", "EXPR", "only records whose metadata match (docs/filters.md)"};

}  // namespace

std::vector<Command> RecordCommands() {
  return {
      {"import",
       "NAME FILE [--batch N]",
       "writes the records of a JSON Lines or .fvecs file, in batches",
       {kCollection, {"FILE", "a JSON Lines or .fvecs file"}},
       // The formats in full: docs/cli.md, "Import formats".,
       {{"batch", "N", "records per write, each one version (default 1000)"}},
       "verity import docs chunks.jsonl",
       Import},
      {"get",
       "NAME ID [--at POINT]",
       "one record as JSON",
       {kCollection, {"ID", "the record's id"}},
       {kAt},
       "verity get docs doc-7#3 --at before-reindex",
       Get},
      {"delete",
       "NAME ID...",
       "deletes records in one version (ids not live are ignored)",
       {kCollection, {"ID...", "one or more record ids"}},
       {},
       "verity delete docs doc-7#3 doc-7#4",
       Delete},
      {"count",
       "NAME [--at POINT] [--filter EXPR]",
       "the number of live records",
       {kCollection},
       {kAt, kFilter},
       "verity count docs --filter 'not (draft = true)'",
       Count},
      {"search",
       "NAME [--vector '[...]' | --vector-file FILE] [--text T] [--sparse-field F --sparse JSON] "
       "[--fusion rrf|convex] [--rrf-k N] [--weights LEG=W,...] [--leg-limit N] [-k 10] [--ef N] "
       "[--filter EXPR] [--at POINT] [--exact]",
       "the best records for a vector, a text, a sparse vector, or several (hybrid, fused)",
       {kCollection},
       SearchOptions(kFilter, kAt),
       "verity search docs --vector-file q.json -k 5 --filter 'lang = \"en\"'\n"
       "verity search docs --text 'reset the router' --vector-file q.json --fusion rrf",
       Search},
  };
}

}  // namespace verity::cli
