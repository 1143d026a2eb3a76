// snapshot create / list / get / delete / diff / restore / export / import.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iterator>

#include "command_table.h"

namespace verity::cli {
namespace {

Json SnapshotJson(const SnapshotInfo& s) {
  return {{"collection", s.collection}, {"name", s.name},       {"description", s.description},
          {"version", s.version},       {"records", s.records}, {"created_at_us", s.created_at_us}};
}

void PrintSnapshots(const Cli& cli, const std::vector<SnapshotInfo>& all) {
  PrintListing(cli, all, SnapshotJson, {"NAME", "VERSION", "RECORDS", "CREATED (UTC)", "DESCRIPTION"},
               [](const SnapshotInfo& s) -> std::vector<std::string> {
                 return {s.name, std::to_string(s.version), std::to_string(s.records), TimeText(s.created_at_us),
                         Truncate(s.description, 60)};
               });
}

// An export is a directory the server writes inside its own --export-dir,
// so its name is a plain name, never a path (the server's rule, checked here
// first so that the message can say where exports go). INVALID_ARGUMENT, as
// the server would answer.
Status CheckExportName(const std::string& name) {
  bool plain = !name.empty() && name.size() <= 128 && name != "." && name != "..";
  for (char c : name) {
    plain = plain && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                      c == '.' || c == '-');
  }
  if (plain) return Status::Ok();
  std::string shown = name;
  for (char& ch : shown) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = '?';
  }
  return Status::InvalidArgument(
      "EXPORT_NAME: \"" + shown +
      "\" is not a plain name: exports are directories in the server's --export-dir (default <data dir>/exports), "
      "so give only the export's name there: 1..128 of A-Z a-z 0-9 _ . - (e.g. docs-2024-03), not a path");
}

Status SnapshotCreate(const Cli& cli, const Args& args) {
  VERITY_ASSIGN_OR_RETURN(
      SnapshotInfo info,
      cli.client->CreateSnapshot(args.Arg(0), args.Arg(1), args.Option("description").value_or(""), args.At()));
  PrintSnapshots(cli, {info});
  return Status::Ok();
}

Status SnapshotList(const Cli& cli, const Args& args) {
  VERITY_ASSIGN_OR_RETURN(auto all, cli.client->ListSnapshots(args.Arg(0)));
  PrintSnapshots(cli, all);
  return Status::Ok();
}

Status SnapshotGet(const Cli& cli, const Args& args) {
  VERITY_ASSIGN_OR_RETURN(SnapshotInfo info, cli.client->GetSnapshot(args.Arg(0), args.Arg(1)));
  PrintSnapshots(cli, {info});
  return Status::Ok();
}

Status SnapshotDelete(const Cli& cli, const Args& args) {
  const std::string& name = args.Arg(0);
  const std::string& snapshot = args.Arg(1);
  VERITY_RETURN_IF_ERROR(cli.client->DeleteSnapshot(name, snapshot));
  PrintResult(cli, Json{{"deleted", snapshot}}, "deleted snapshot " + snapshot + " of " + name);
  return Status::Ok();
}

Status SnapshotRestore(const Cli& cli, const Args& args) {
  const std::string& name = args.Arg(0);
  const ReadPoint at = Args::Point(args.Arg(1), "restore");
  const std::string into = args.Option("into").value_or("");
  VERITY_ASSIGN_OR_RETURN(RestoreResult r, cli.client->Restore(name, at, into));
  const std::string target = into.empty() ? name : into;
  PrintResult(cli,
              Json{{"collection", target},
                   {"version", r.version},
                   {"restored_from", r.restored_from},
                   {"upserted", r.upserted},
                   {"deleted", r.deleted}},
              "restored " + name + " at version " + std::to_string(r.restored_from) + " as version " +
                  std::to_string(r.version) + " of " + target + " (" + std::to_string(r.upserted) +
                  " records written back, " + std::to_string(r.deleted) + " removed)");
  return Status::Ok();
}

// The diff's first page, or with --all every page. Later pages compare the
// versions the first one resolved: a snapshot deleted and taken again
// meanwhile must not change them.
Result<DiffPage> FetchDiff(const Cli& cli, const Args& args) {
  const std::string& name = args.Arg(0);
  ReadPoint from = Args::Point(args.Arg(1), "FROM");
  ReadPoint to = Args::Point(args.Arg(2), "TO");
  const uint32_t limit = static_cast<uint32_t>(args.NumberIn("limit", 100, 1, UINT32_MAX));
  std::string cursor = args.Option("after").value_or("");
  VERITY_ASSIGN_OR_RETURN(DiffPage diff, cli.client->Diff(name, from, to, cursor, limit));
  from = ReadPoint(diff.from);
  to = ReadPoint(diff.to);
  while (args.Flag("all") && !diff.next_cursor.empty()) {
    VERITY_ASSIGN_OR_RETURN(DiffPage page, cli.client->Diff(name, from, to, diff.next_cursor, limit));
    diff.entries.insert(diff.entries.end(), std::make_move_iterator(page.entries.begin()),
                        std::make_move_iterator(page.entries.end()));
    diff.next_cursor = page.next_cursor;
  }
  return diff;
}

Status SnapshotDiff(const Cli& cli, const Args& args) {
  VERITY_ASSIGN_OR_RETURN(DiffPage diff, FetchDiff(cli, args));
  if (cli.json) {
    Json entries = Json::array();
    for (const auto& e : diff.entries) {
      entries.push_back({{"id", e.id},
                         {"kind", ChangeKindName(e.kind)},
                         {"from_row_version", e.from_row_version},
                         {"to_row_version", e.to_row_version}});
    }
    std::cout << Json{{"from", diff.from},
                      {"to", diff.to},
                      {"added", diff.added},
                      {"removed", diff.removed},
                      {"changed", diff.changed},
                      {"entries", entries},
                      {"next_cursor", diff.next_cursor}}
                     .dump()
              << "\n";
    return Status::Ok();
  }
  std::cout << "version " << diff.from << " -> " << diff.to << ": " << diff.added << " added, " << diff.removed
            << " removed, " << diff.changed << " changed\n";
  if (!diff.entries.empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : diff.entries) {
      rows.push_back({ChangeKindName(e.kind), e.id, e.from_row_version ? std::to_string(e.from_row_version) : "-",
                      e.to_row_version ? std::to_string(e.to_row_version) : "-"});
    }
    PrintTable({"KIND", "ID", "FROM_ROW", "TO_ROW"}, rows);
  }
  if (!diff.next_cursor.empty()) {
    std::cout << "(more: --all, or --after '" << diff.next_cursor << "' for the next page)\n";
  }
  return Status::Ok();
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

const char kExportNameHelp[] = "a plain name (A-Z a-z 0-9 _ . -): exports live in the server's --export-dir";

Status SnapshotExport(const Cli& cli, const Args& args) {
  std::string collection, export_name;
  if (args.Flag("all")) {
    if (args.Option("at")) throw UsageError{"--at needs a collection: --all exports every collection at its head"};
    export_name = args.Arg(0, "EXPORT_NAME", kExportNameHelp);
  } else {
    collection = args.Arg(0, "NAME", "the collection; or --all for every collection");
    export_name = args.Arg(1);
  }
  VERITY_RETURN_IF_ERROR(CheckExportName(export_name));
  const auto start = std::chrono::steady_clock::now();
  ByteProgress progress(!cli.json && isatty(STDERR_FILENO));
  auto result = cli.client->Export(collection, args.At(), export_name, progress.Function());
  if (result.ok()) progress.Complete();
  progress.Done();
  VERITY_RETURN_IF_ERROR(result.status());
  const double seconds = SecondsSince(start);
  if (cli.json) {
    Json collections = Json::array();
    for (const auto& c : result->collections) {
      collections.push_back({{"name", c.name}, {"version", c.version}, {"records", c.records}});
    }
    std::cout << Json{{"name", export_name},
                      {"collections", collections},
                      {"bytes", result->bytes},
                      {"seconds", seconds}}
                     .dump()
              << "\n";
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : result->collections) {
    rows.push_back({c.name, std::to_string(c.version), std::to_string(c.records)});
  }
  PrintTable({"COLLECTION", "VERSION", "RECORDS"}, rows);
  char line[200];
  std::snprintf(line, sizeof(line), "exported to %s: %s in %.2f s\n", export_name.c_str(),
                BytesText(result->bytes).c_str(), seconds);
  std::cout << line;
  return Status::Ok();
}

Status SnapshotImport(const Cli& cli, const Args& args) {
  const std::string& export_name = args.Arg(0);
  VERITY_RETURN_IF_ERROR(CheckExportName(export_name));
  const auto start = std::chrono::steady_clock::now();
  ByteProgress progress(!cli.json && isatty(STDERR_FILENO));
  auto result =
      cli.client->Import(export_name, args.Option("as").value_or(""), args.Flag("replace"), progress.Function());
  if (result.ok()) progress.Complete();
  progress.Done();
  VERITY_RETURN_IF_ERROR(result.status());
  const double seconds = SecondsSince(start);
  if (cli.json) {
    Json collections = Json::array();
    for (const auto& c : result->collections) collections.push_back(CollectionJson(c));
    std::cout << Json{{"collections", collections},
                      {"records", result->records},
                      {"bytes", result->bytes},
                      {"seconds", seconds}}
                     .dump()
              << "\n";
    return Status::Ok();
  }
  PrintCollections(cli, result->collections);
  char line[200];
  std::snprintf(line, sizeof(line), "imported %llu records (%s) from %s in %.2f s\n",
                static_cast<unsigned long long>(result->records), BytesText(result->bytes).c_str(), export_name.c_str(),
                seconds);
  std::cout << line;
  return Status::Ok();
}

const ArgSpec kCollection{"NAME", "the collection"};
const ArgSpec kSnapshot{"SNAP", "the snapshot's name"};
const ArgSpec kExportName{"EXPORT_NAME", kExportNameHelp};

}  // namespace

std::vector<Command> SnapshotCommands() {
  return {
      {"snapshot create",
       "NAME SNAP [--at POINT] [--description TEXT]",
       "pins the head (or POINT) under a name",
       {kCollection, kSnapshot},
       {{"at", "POINT", "the version or snapshot to pin (default: the head)"},
        {"description", "TEXT", "a note kept with the snapshot"}},
       "verity snapshot create docs before-reindex --description 'before the March re-embedding'",
       SnapshotCreate},
      {"snapshot list",
       "NAME",
       "the collection's snapshots",
       {kCollection},
       {},
       "verity snapshot list docs",
       SnapshotList},
      {"snapshot get",
       "NAME SNAP",
       "one snapshot",
       {kCollection, kSnapshot},
       {},
       "verity snapshot get docs before-reindex",
       SnapshotGet},
      {"snapshot delete",
       "NAME SNAP",
       "unpins a snapshot (GC may then collect its version)",
       {kCollection, kSnapshot},
       {},
       "verity snapshot delete docs before-reindex",
       SnapshotDelete},
      {"snapshot diff",
       "NAME FROM TO [--limit N] [--after CURSOR] [--all]",
       "the ids added, removed and changed from FROM to TO",
       {kCollection, {"FROM", "a version or snapshot"}, {"TO", "a version or snapshot"}},
       {{"limit", "N", "entries per page (default 100)"},
        {"after", "CURSOR", "the page after this cursor (printed with the previous page)"},
        {"all", "", "every page"}},
       "verity snapshot diff docs before-reindex 57 --all --json",
       SnapshotDiff},
      {"snapshot restore",
       "NAME POINT [--into OTHER]",
       "a new head version whose records equal those at POINT",
       {kCollection, {"POINT", "the version or snapshot to restore"}},
       {{"into", "OTHER", "write them into another collection of the same dimension and metric"}},
       "verity snapshot restore docs before-reindex",
       SnapshotRestore},
      {"snapshot export",
       "NAME EXPORT_NAME [--at POINT]\nsnapshot export --all EXPORT_NAME",
       "writes a collection (or every one) into the server's export directory",
       {kCollection, kExportName},
       {{"at", "POINT", "export the collection at this version or snapshot (default: the head)"},
        {"all", "", "every collection at its head (then only EXPORT_NAME)"}},
       "verity snapshot export docs docs-2024-03 --at before-reindex\nverity snapshot export --all everything",
       SnapshotExport},
      {"snapshot import",
       "EXPORT_NAME [--as NEW] [--replace]",
       "reads an export from the server's export directory back",
       {kExportName},
       {{"as", "NEW", "under a new collection name"}, {"replace", "", "replace an existing collection of that name"}},
       "verity snapshot import docs-2024-03 --as docs-march",
       SnapshotImport},
  };
}

}  // namespace verity::cli
