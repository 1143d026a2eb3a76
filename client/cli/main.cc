// verity: the command-line client of verityd. `verity --help` lists the
// commands; docs/cli.md has examples. Human-readable tables by default,
// --json for machine-readable output. Exit code 0 on success; otherwise 1
// with one line "verity: CODE: message" on stderr (2 for usage errors).
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "import_file.h"
#include "verity/client.h"

namespace verity::cli {
namespace {

using Json = nlohmann::json;

constexpr char kUsage[] =
    "usage: verity [--addr HOST:PORT] [--json] [--timeout-ms N] <command> ...\n"
    "\n"
    "  health\n"
    "  collection create NAME --dim N [--metric l2|ip|cosine] [--m M] [--ef-construction N] [--default-ef N]\n"
    "                    [--keep-versions N] [--keep-seconds S]\n"
    "  collection list | collection get NAME | collection drop NAME\n"
    "  collection retention NAME [--keep-versions N] [--keep-seconds S]\n"
    "  versions NAME\n"
    "  gc NAME\n"
    "  import NAME FILE [--batch N]        JSON Lines ({\"id\",\"vector\",\"text\",\"document_id\",\"metadata\"}) or .fvecs\n"
    "  get NAME ID [--at POINT]\n"
    "  delete NAME ID...\n"
    "  count NAME [--at POINT] [--filter EXPR]\n"
    "  search NAME (--vector '[...]' | --vector-file FILE) [-k 10] [--ef N] [--filter EXPR] [--at POINT] [--exact]\n"
    "  snapshot create NAME SNAP [--at POINT] [--description TEXT]\n"
    "  snapshot list NAME | snapshot get NAME SNAP | snapshot delete NAME SNAP\n"
    "  snapshot diff NAME FROM TO [--limit N] [--after CURSOR] [--all]\n"
    "  snapshot restore NAME POINT [--into OTHER]\n"
    "  snapshot export NAME EXPORT_NAME [--at POINT] | snapshot export --all EXPORT_NAME\n"
    "  snapshot import EXPORT_NAME [--as NEW] [--replace]\n"
    "\n"
    "POINT (also FROM, TO): a version number, or a snapshot name of the collection\n"
    "filters: lang = \"en\" and year >= 2020 and tags any [\"a\", \"b\"]   (docs/filters.md)\n"
    "defaults: --addr 127.0.0.1:7420 (or $VERITY_ADDR), --timeout-ms 30000\n";

struct UsageError {
  std::string message;
};

// Arguments after global flags: positionals and --name value options.
class Args {
 public:
  Args(std::vector<std::string> positional, std::map<std::string, std::string> options)
      : positional_(std::move(positional)), options_(std::move(options)) {}
  const std::string& At(size_t i, const char* what) const {
    if (i >= positional_.size()) throw UsageError{std::string("missing ") + what};
    return positional_[i];
  }
  size_t size() const { return positional_.size(); }
  const std::vector<std::string>& positional() const { return positional_; }
  std::optional<std::string> Option(const std::string& name) const {
    auto it = options_.find(name);
    if (it == options_.end()) return std::nullopt;
    return it->second;
  }
  bool Flag(const std::string& name) const { return options_.count(name) > 0; }
  uint64_t Number(const std::string& name, uint64_t fallback) const {
    auto v = Option(name);
    if (!v) return fallback;
    try {
      size_t used = 0;
      const uint64_t n = std::stoull(*v, &used);
      if (used != v->size()) throw std::invalid_argument("");
      return n;
    } catch (const std::exception&) {
      throw UsageError{"--" + name + ": \"" + *v + "\" is not a number"};
    }
  }
  // --at: head when absent.
  ReadPoint At() const {
    auto v = Option("at");
    if (!v) return ReadPoint();
    return Point(*v, "--at");
  }
  // A read point as typed: a string of digits is a version, anything else a
  // snapshot name.
  static ReadPoint Point(const std::string& text, const std::string& what) {
    if (text.empty()) throw UsageError{what + ": expected a version number or a snapshot name"};
    if (text.find_first_not_of("0123456789") != std::string::npos) return ReadPoint::Snapshot(text);
    try {
      return ReadPoint(static_cast<Version>(std::stoull(text)));
    } catch (const std::exception&) {
      throw UsageError{what + ": \"" + text + "\" is out of range"};
    }
  }

 private:
  std::vector<std::string> positional_;
  std::map<std::string, std::string> options_;
};

const char* MetricText(Metric m) { return MetricName(m); }

Json MetadataJson(const Metadata& metadata) {
  Json j = Json::object();
  for (const auto& [key, value] : metadata) {
    std::visit([&](const auto& x) { j[key] = x; }, value);
  }
  return j;
}

Json RecordJson(const Record& r, bool with_vector) {
  Json j = {{"id", r.id}, {"text", r.text}, {"document_id", r.document_id}, {"metadata", MetadataJson(r.metadata)}};
  if (with_vector) j["vector"] = r.vector;
  return j;
}

Json CollectionJson(const CollectionInfo& c) {
  return {{"name", c.config.name},          {"dimension", c.config.dimension},
          {"metric", MetricText(c.config.metric)}, {"m", c.config.m},
          {"ef_construction", c.config.ef_construction}, {"default_ef", c.config.default_ef},
          {"keep_versions", c.config.retention.keep_versions}, {"keep_seconds", c.config.retention.keep_seconds},
          {"head_version", c.head_version},  {"live_records", c.live_records},
          {"graph_nodes", c.graph_nodes},    {"created_at_us", c.created_at_us},
          {"oldest_retained", c.oldest_retained}, {"snapshots", c.snapshots}};
}

Json SnapshotJson(const SnapshotInfo& s) {
  return {{"collection", s.collection}, {"name", s.name},       {"description", s.description},
          {"version", s.version},       {"records", s.records}, {"created_at_us", s.created_at_us}};
}

const char* KindText(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::kAdded: return "added";
    case ChangeKind::kRemoved: return "removed";
    case ChangeKind::kChanged: return "changed";
  }
  return "changed";
}

// Unix microseconds as "YYYY-MM-DD HH:MM:SS" UTC.
std::string TimeText(int64_t us) {
  const std::time_t seconds = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S", &tm);
  return text;
}

std::string BytesText(uint64_t bytes) {
  char text[32];
  if (bytes < 1024) std::snprintf(text, sizeof(text), "%llu B", static_cast<unsigned long long>(bytes));
  else if (bytes < (1u << 20)) std::snprintf(text, sizeof(text), "%.1f KiB", bytes / 1024.0);
  else if (bytes < (1u << 30)) std::snprintf(text, sizeof(text), "%.1f MiB", bytes / 1048576.0);
  else std::snprintf(text, sizeof(text), "%.2f GiB", bytes / 1073741824.0);
  return text;
}

// A progress bar on stderr for byte transfers (export, import); inactive
// unless stderr is a terminal and the output is not --json.
class ByteProgress {
 public:
  explicit ByteProgress(bool active) : active_(active) {}
  ~ByteProgress() { Done(); }
  ProgressFunction Function() {
    if (!active_) return nullptr;
    return [this](uint64_t done, uint64_t total) {
      const double fraction = total ? std::min(1.0, double(done) / double(total)) : 0.0;
      const int filled = static_cast<int>(fraction * 30);
      std::fprintf(stderr, "\r[%s%s] %3d%%  %s of %s   ", std::string(filled, '#').c_str(),
                   std::string(30 - filled, ' ').c_str(), static_cast<int>(fraction * 100), BytesText(done).c_str(),
                   BytesText(total).c_str());
      shown_ = true;
      total_ = total;
    };
  }
  // Draws the bar full (when it was shown), after the result arrived.
  void Complete() {
    if (shown_) Function()(total_, total_);
  }
  void Done() {
    if (shown_) std::fputs("\n", stderr);
    shown_ = false;
  }

 private:
  bool active_;
  bool shown_ = false;
  uint64_t total_ = 0;
};

std::string Truncate(const std::string& s, size_t n) {
  std::string one_line = s;
  for (char& ch : one_line) if (ch == '\n' || ch == '\t') ch = ' ';
  return one_line.size() <= n ? one_line : one_line.substr(0, n - 3) + "...";
}

// Prints rows as an aligned table with a header.
void PrintTable(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& row : rows) for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  auto print = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(width[c] - row[c].size() + 2, ' ');
    }
    std::cout << line << "\n";
  };
  print(header);
  for (const auto& row : rows) print(row);
}

class Cli {
 public:
  Cli(Client* client, bool json) : client_(client), json_(json) {}

  Status Run(const std::string& command, const Args& args);

 private:
  Status Collection(const Args& args);
  Status Retention(const std::string& name, const Args& args);
  Status Versions(const Args& args);
  Status Gc(const Args& args);
  Status Snapshot(const Args& args);
  Status SnapshotDiff(const Args& args);
  Status SnapshotExport(const Args& args);
  Status SnapshotImport(const Args& args);
  Status Import(const Args& args);
  Status Get(const Args& args);
  Status Delete(const Args& args);
  Status Count(const Args& args);
  Status Search(const Args& args);

  void PrintCollections(const std::vector<CollectionInfo>& all);
  void PrintSnapshots(const std::vector<SnapshotInfo>& all);

  Client* client_;
  bool json_;
};

Status Cli::Run(const std::string& command, const Args& args) {
  if (command == "health") {
    VERITY_RETURN_IF_ERROR(client_->Health());
    if (json_) std::cout << Json{{"status", "SERVING"}}.dump() << "\n";
    else std::cout << "SERVING\n";
    return Status::Ok();
  }
  if (command == "collection") return Collection(args);
  if (command == "versions") return Versions(args);
  if (command == "gc") return Gc(args);
  if (command == "snapshot") return Snapshot(args);
  if (command == "import") return Import(args);
  if (command == "get") return Get(args);
  if (command == "delete") return Delete(args);
  if (command == "count") return Count(args);
  if (command == "search") return Search(args);
  throw UsageError{"unknown command \"" + command + "\""};
}

void Cli::PrintCollections(const std::vector<CollectionInfo>& all) {
  if (json_) {
    Json j = Json::array();
    for (const auto& c : all) j.push_back(CollectionJson(c));
    std::cout << j.dump() << "\n";
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : all) {
    rows.push_back({c.config.name, std::to_string(c.config.dimension), MetricText(c.config.metric),
                    std::to_string(c.live_records), std::to_string(c.head_version), std::to_string(c.config.m),
                    std::to_string(c.config.ef_construction), std::to_string(c.snapshots),
                    std::to_string(c.oldest_retained)});
  }
  PrintTable({"NAME", "DIM", "METRIC", "RECORDS", "VERSION", "M", "EF_CONSTRUCTION", "SNAPSHOTS", "OLDEST_RETAINED"},
             rows);
}

void Cli::PrintSnapshots(const std::vector<SnapshotInfo>& all) {
  if (json_) {
    Json j = Json::array();
    for (const auto& s : all) j.push_back(SnapshotJson(s));
    std::cout << j.dump() << "\n";
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : all) {
    rows.push_back({s.name, std::to_string(s.version), std::to_string(s.records), TimeText(s.created_at_us),
                    Truncate(s.description, 60)});
  }
  PrintTable({"NAME", "VERSION", "RECORDS", "CREATED (UTC)", "DESCRIPTION"}, rows);
}

Status Cli::Collection(const Args& args) {
  const std::string& sub = args.At(0, "collection subcommand (create, list, get, drop, retention)");
  if (sub == "list") {
    VERITY_ASSIGN_OR_RETURN(auto all, client_->ListCollections());
    PrintCollections(all);
    return Status::Ok();
  }
  const std::string& name = args.At(1, "collection name");
  if (sub == "create") {
    CollectionConfig config;
    config.name = name;
    if (!args.Option("dim")) throw UsageError{"collection create needs --dim N"};
    config.dimension = static_cast<uint32_t>(args.Number("dim", 0));
    const std::string metric = args.Option("metric").value_or("l2");
    if (!ParseMetric(metric, &config.metric)) throw UsageError{"--metric: expected l2, ip or cosine, got \"" + metric + "\""};
    config.m = static_cast<uint32_t>(args.Number("m", config.m));
    config.ef_construction = static_cast<uint32_t>(args.Number("ef-construction", config.ef_construction));
    config.default_ef = static_cast<uint32_t>(args.Number("default-ef", config.default_ef));
    config.retention.keep_versions =
        static_cast<uint32_t>(args.Number("keep-versions", config.retention.keep_versions));
    config.retention.keep_seconds = static_cast<int64_t>(args.Number("keep-seconds", config.retention.keep_seconds));
    VERITY_ASSIGN_OR_RETURN(CollectionInfo info, client_->CreateCollection(config));
    PrintCollections({info});
    return Status::Ok();
  }
  if (sub == "get") {
    VERITY_ASSIGN_OR_RETURN(CollectionInfo info, client_->GetCollection(name));
    PrintCollections({info});
    return Status::Ok();
  }
  if (sub == "drop") {
    VERITY_RETURN_IF_ERROR(client_->DropCollection(name));
    if (json_) std::cout << Json{{"dropped", name}}.dump() << "\n";
    else std::cout << "dropped " << name << "\n";
    return Status::Ok();
  }
  if (sub == "retention") return Retention(name, args);
  throw UsageError{"unknown collection subcommand \"" + sub + "\""};
}

Status Cli::Retention(const std::string& name, const Args& args) {
  std::optional<uint32_t> keep_versions;
  std::optional<int64_t> keep_seconds;
  if (args.Option("keep-versions")) {
    const uint64_t n = args.Number("keep-versions", 0);
    if (n > UINT32_MAX) throw UsageError{"--keep-versions: at most " + std::to_string(UINT32_MAX)};
    keep_versions = static_cast<uint32_t>(n);
  }
  if (args.Option("keep-seconds")) {
    const uint64_t n = args.Number("keep-seconds", 0);
    if (n > static_cast<uint64_t>(INT64_MAX)) throw UsageError{"--keep-seconds: out of range"};
    keep_seconds = static_cast<int64_t>(n);
  }
  // With neither option this only shows the current retention.
  VERITY_ASSIGN_OR_RETURN(CollectionInfo info, client_->SetRetention(name, keep_versions, keep_seconds));
  const RetentionPolicy& r = info.config.retention;
  if (json_) {
    std::cout << Json{{"name", name}, {"keep_versions", r.keep_versions}, {"keep_seconds", r.keep_seconds},
                      {"oldest_retained", info.oldest_retained}, {"head_version", info.head_version}}
                     .dump()
              << "\n";
  } else {
    std::cout << name << ": keep the newest " << r.keep_versions << " versions"
              << (r.keep_versions == 0 ? " (off)" : "") << " and those of the last " << r.keep_seconds << " s"
              << (r.keep_seconds == 0 ? " (off)" : "") << "; oldest retained version " << info.oldest_retained
              << ", head " << info.head_version << "\n";
  }
  return Status::Ok();
}

Status Cli::Gc(const Args& args) {
  const std::string& name = args.At(0, "collection name");
  VERITY_ASSIGN_OR_RETURN(GcResult r, client_->Gc(name));
  if (json_) {
    std::cout << Json{{"oldest_retained", r.oldest_retained}, {"rows_removed", r.rows_removed},
                      {"nodes_dropped", r.nodes_dropped},     {"graph_rebuilt", r.graph_rebuilt},
                      {"bytes_before", r.bytes_before},       {"bytes_after", r.bytes_after}}
                     .dump()
              << "\n";
  } else {
    std::cout << "gc " << name << ": removed " << r.rows_removed << " row versions, dropped " << r.nodes_dropped
              << " graph nodes" << (r.graph_rebuilt ? " (graph rebuilt)" : "") << "; oldest retained version "
              << r.oldest_retained << "; " << BytesText(r.bytes_before) << " -> " << BytesText(r.bytes_after) << "\n";
  }
  return Status::Ok();
}

Status Cli::Versions(const Args& args) {
  VERITY_ASSIGN_OR_RETURN(auto versions, client_->ListVersions(args.At(0, "collection name")));
  if (json_) {
    Json j = Json::array();
    for (const auto& v : versions) {
      Json row = {{"version", v.version},   {"committed_at_us", v.committed_at_us},
                  {"upserted", v.upserted}, {"deleted", v.deleted},
                  {"readable", v.readable}, {"snapshots", v.snapshots}};
      if (v.is_restore) row["restored_from"] = v.restored_from;
      j.push_back(row);
    }
    std::cout << j.dump() << "\n";
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& v : versions) {
    std::string snapshots;
    for (const auto& name : v.snapshots) snapshots += (snapshots.empty() ? "" : ",") + name;
    rows.push_back({std::to_string(v.version), TimeText(v.committed_at_us), std::to_string(v.upserted),
                    std::to_string(v.deleted), v.readable ? "yes" : "no",
                    v.is_restore ? "restore of " + std::to_string(v.restored_from) : "", snapshots});
  }
  PrintTable({"VERSION", "COMMITTED (UTC)", "UPSERTED", "DELETED", "READABLE", "NOTE", "SNAPSHOTS"}, rows);
  return Status::Ok();
}

Status Cli::Snapshot(const Args& args) {
  const std::string& sub = args.At(0, "snapshot subcommand (create, list, get, delete, diff, restore, export, import)");
  if (sub == "diff") return SnapshotDiff(args);
  if (sub == "export") return SnapshotExport(args);
  if (sub == "import") return SnapshotImport(args);
  const std::string& name = args.At(1, "collection name");
  if (sub == "list") {
    VERITY_ASSIGN_OR_RETURN(auto all, client_->ListSnapshots(name));
    PrintSnapshots(all);
    return Status::Ok();
  }
  if (sub == "create") {
    const std::string& snapshot = args.At(2, "snapshot name");
    VERITY_ASSIGN_OR_RETURN(SnapshotInfo info, client_->CreateSnapshot(name, snapshot,
                                                                       args.Option("description").value_or(""),
                                                                       args.At()));
    PrintSnapshots({info});
    return Status::Ok();
  }
  if (sub == "get") {
    VERITY_ASSIGN_OR_RETURN(SnapshotInfo info, client_->GetSnapshot(name, args.At(2, "snapshot name")));
    PrintSnapshots({info});
    return Status::Ok();
  }
  if (sub == "delete") {
    const std::string& snapshot = args.At(2, "snapshot name");
    VERITY_RETURN_IF_ERROR(client_->DeleteSnapshot(name, snapshot));
    if (json_) std::cout << Json{{"deleted", snapshot}}.dump() << "\n";
    else std::cout << "deleted snapshot " << snapshot << " of " << name << "\n";
    return Status::Ok();
  }
  if (sub == "restore") {
    const ReadPoint at = Args::Point(args.At(2, "snapshot name or version"), "restore");
    const std::string into = args.Option("into").value_or("");
    VERITY_ASSIGN_OR_RETURN(RestoreResult r, client_->Restore(name, at, into));
    const std::string target = into.empty() ? name : into;
    if (json_) {
      std::cout << Json{{"collection", target},   {"version", r.version},   {"restored_from", r.restored_from},
                        {"upserted", r.upserted}, {"deleted", r.deleted}}
                       .dump()
                << "\n";
    } else {
      std::cout << "restored " << name << " at version " << r.restored_from << " as version " << r.version << " of "
                << target << " (" << r.upserted << " records written back, " << r.deleted << " removed)\n";
    }
    return Status::Ok();
  }
  throw UsageError{"unknown snapshot subcommand \"" + sub + "\""};
}

Status Cli::SnapshotDiff(const Args& args) {
  const std::string& name = args.At(1, "collection name");
  const ReadPoint from = Args::Point(args.At(2, "FROM (version or snapshot)"), "FROM");
  const ReadPoint to = Args::Point(args.At(3, "TO (version or snapshot)"), "TO");
  const uint64_t limit = args.Number("limit", 100);
  if (limit == 0 || limit > UINT32_MAX) throw UsageError{"--limit must be at least 1"};
  const bool all = args.Flag("all");
  std::string cursor = args.Option("after").value_or("");
  DiffPage diff;
  bool first = true;
  do {
    VERITY_ASSIGN_OR_RETURN(DiffPage page, client_->Diff(name, from, to, cursor, static_cast<uint32_t>(limit)));
    if (first) {
      diff = std::move(page);
      first = false;
    } else {
      diff.entries.insert(diff.entries.end(), std::make_move_iterator(page.entries.begin()),
                          std::make_move_iterator(page.entries.end()));
      diff.next_cursor = page.next_cursor;
    }
    cursor = diff.next_cursor;
  } while (all && !cursor.empty());
  if (json_) {
    Json entries = Json::array();
    for (const auto& e : diff.entries) {
      entries.push_back({{"id", e.id},
                         {"kind", KindText(e.kind)},
                         {"from_row_version", e.from_row_version},
                         {"to_row_version", e.to_row_version}});
    }
    std::cout << Json{{"from", diff.from},       {"to", diff.to},         {"added", diff.added},
                      {"removed", diff.removed}, {"changed", diff.changed}, {"entries", entries},
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
      rows.push_back({KindText(e.kind), e.id, e.from_row_version ? std::to_string(e.from_row_version) : "-",
                      e.to_row_version ? std::to_string(e.to_row_version) : "-"});
    }
    PrintTable({"KIND", "ID", "FROM_ROW", "TO_ROW"}, rows);
  }
  if (!diff.next_cursor.empty()) {
    std::cout << "(more: --all, or --after '" << diff.next_cursor << "' for the next page)\n";
  }
  return Status::Ok();
}

Status Cli::SnapshotExport(const Args& args) {
  std::string collection, export_name;
  if (args.Flag("all")) {
    if (args.Option("at")) throw UsageError{"--at needs a collection: --all exports every collection at its head"};
    export_name = args.At(1, "export name");
  } else {
    collection = args.At(1, "collection name (or --all)");
    export_name = args.At(2, "export name");
  }
  const auto start = std::chrono::steady_clock::now();
  ByteProgress progress(!json_ && isatty(STDERR_FILENO));
  auto result = client_->Export(collection, args.At(), export_name, progress.Function());
  if (result.ok()) progress.Complete();
  progress.Done();
  VERITY_RETURN_IF_ERROR(result.status());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (json_) {
    Json collections = Json::array();
    for (const auto& c : result->collections) {
      collections.push_back({{"name", c.name}, {"version", c.version}, {"records", c.records}});
    }
    std::cout << Json{{"name", export_name}, {"collections", collections}, {"bytes", result->bytes},
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

Status Cli::SnapshotImport(const Args& args) {
  const std::string& export_name = args.At(1, "export name");
  const auto start = std::chrono::steady_clock::now();
  ByteProgress progress(!json_ && isatty(STDERR_FILENO));
  auto result = client_->Import(export_name, args.Option("as").value_or(""), args.Flag("replace"),
                                progress.Function());
  if (result.ok()) progress.Complete();
  progress.Done();
  VERITY_RETURN_IF_ERROR(result.status());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (json_) {
    Json collections = Json::array();
    for (const auto& c : result->collections) collections.push_back(CollectionJson(c));
    std::cout << Json{{"collections", collections}, {"records", result->records}, {"bytes", result->bytes},
                      {"seconds", seconds}}
                     .dump()
              << "\n";
    return Status::Ok();
  }
  PrintCollections(result->collections);
  char line[200];
  std::snprintf(line, sizeof(line), "imported %llu records (%s) from %s in %.2f s\n",
                static_cast<unsigned long long>(result->records), BytesText(result->bytes).c_str(),
                export_name.c_str(), seconds);
  std::cout << line;
  return Status::Ok();
}

Status Cli::Import(const Args& args) {
  const std::string& name = args.At(0, "collection name");
  const std::string& path = args.At(1, "file");
  const size_t batch_size = args.Number("batch", 1000);
  if (batch_size == 0) throw UsageError{"--batch must be at least 1"};
  VERITY_ASSIGN_OR_RETURN(auto reader, ImportReader::Open(path));
  const bool progress = !json_ && isatty(STDERR_FILENO);
  const auto start = std::chrono::steady_clock::now();
  uint64_t imported = 0;
  Version version = 0;
  std::vector<Record> batch;
  auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  for (;;) {
    VERITY_RETURN_IF_ERROR(reader->Next(batch_size, &batch));
    if (batch.empty()) break;
    auto written = client_->Upsert(name, batch);
    if (!written.ok()) {
      // Point at the line of the offending record when the server names one.
      const std::string& m = written.status().message();
      size_t index = 0;
      std::string where = path;
      if (std::sscanf(m.c_str(), "records[%zu]", &index) == 1 && index < batch.size()) {
        where += reader->fvecs() ? ": vector " + std::to_string(reader->LineOf(index))
                                 : ":" + std::to_string(reader->LineOf(index));
      }
      if (progress) std::cerr << "\n";
      return Status(written.status().code(), where + ": " + m + " (" + std::to_string(imported) +
                                                 " records imported before it)");
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
  const double elapsed = seconds();
  const double rate = imported / std::max(elapsed, 1e-9);
  if (json_) {
    std::cout << Json{{"records", imported}, {"seconds", elapsed}, {"records_per_second", rate}, {"version", version}}.dump()
              << "\n";
  } else {
    char line[200];
    std::snprintf(line, sizeof(line), "imported %llu records in %.2f s (%.0f records/s), version %llu\n",
                  static_cast<unsigned long long>(imported), elapsed, rate, static_cast<unsigned long long>(version));
    std::cout << line;
  }
  return Status::Ok();
}

Status Cli::Get(const Args& args) {
  VERITY_ASSIGN_OR_RETURN(StoredRecord r, client_->Get(args.At(0, "collection name"), args.At(1, "record id"), args.At()));
  Json j = RecordJson(r.record, true);
  j["row_version"] = r.row_version;
  std::cout << (json_ ? j.dump() : j.dump(2)) << "\n";
  return Status::Ok();
}

Status Cli::Delete(const Args& args) {
  const std::string& name = args.At(0, "collection name");
  std::vector<std::string> ids(args.positional().begin() + 1, args.positional().end());
  if (ids.empty()) throw UsageError{"delete needs at least one id"};
  VERITY_ASSIGN_OR_RETURN(WriteResult w, client_->Delete(name, ids));
  if (json_) std::cout << Json{{"version", w.version}, {"deleted", w.applied}}.dump() << "\n";
  else std::cout << "deleted " << w.applied << " of " << ids.size() << " ids, version " << w.version << "\n";
  return Status::Ok();
}

Status Cli::Count(const Args& args) {
  VERITY_ASSIGN_OR_RETURN(uint64_t n, client_->Count(args.At(0, "collection name"), args.At(),
                                                     args.Option("filter").value_or("")));
  if (json_) std::cout << Json{{"count", n}}.dump() << "\n";
  else std::cout << n << "\n";
  return Status::Ok();
}

Status Cli::Search(const Args& args) {
  const std::string& name = args.At(0, "collection name");
  std::string vector_text;
  if (auto v = args.Option("vector")) {
    vector_text = *v;
  } else if (auto file = args.Option("vector-file")) {
    std::ifstream in(*file);
    if (!in) return Status::NotFound("--vector-file: cannot read " + *file);
    std::stringstream s;
    s << in.rdbuf();
    vector_text = s.str();
  } else {
    throw UsageError{"search needs --vector '[...]' or --vector-file FILE"};
  }
  Json parsed = Json::parse(vector_text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_array()) throw UsageError{"the vector must be a JSON array of numbers"};
  ClientSearch query;
  for (const auto& x : parsed) {
    if (!x.is_number()) throw UsageError{"the vector holds a non-number: " + x.dump()};
    query.vector.push_back(x.get<float>());
  }
  query.k = static_cast<uint32_t>(args.Number("k", 10));
  query.ef = static_cast<uint32_t>(args.Number("ef", 0));
  query.at = args.At();
  query.filter = args.Option("filter").value_or("");
  if (args.Flag("exact")) query.plan = SearchPlan::kExact;
  VERITY_ASSIGN_OR_RETURN(SearchResult result, client_->Search(name, query));
  if (json_) {
    Json hits = Json::array();
    for (const auto& h : result.hits) {
      Json hit = {{"id", h.id}, {"row_version", h.row_version}, {"distance", h.distance}};
      if (h.record) {
        hit["text"] = h.record->text;
        hit["document_id"] = h.record->document_id;
        hit["metadata"] = MetadataJson(h.record->metadata);
      }
      hits.push_back(hit);
    }
    std::cout << Json{{"version", result.version}, {"exact", result.exact}, {"hits", hits}}.dump() << "\n";
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < result.hits.size(); ++i) {
    const auto& h = result.hits[i];
    char distance[32];
    std::snprintf(distance, sizeof(distance), "%.6g", h.distance);
    rows.push_back({std::to_string(i + 1), h.id, distance, std::to_string(h.row_version),
                    h.record ? Truncate(h.record->text, 60) : ""});
  }
  PrintTable({"RANK", "ID", "DISTANCE", "ROW_VERSION", "TEXT"}, rows);
  std::cout << "(version " << result.version << (result.exact ? ", exact search" : "") << ")\n";
  return Status::Ok();
}

}  // namespace
}  // namespace verity::cli

int main(int argc, char** argv) {
  using namespace verity::cli;
  verity::ClientOptions options;
  if (const char* env = std::getenv("VERITY_ADDR")) options.address = env;
  bool json = false;
  std::vector<std::string> positional;
  std::map<std::string, std::string> named;
  // Options that take no value.
  const std::set<std::string> flags = {"json", "exact", "help", "all", "replace"};
  try {
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg == "-k") arg = "--k";
      if (arg.rfind("--", 0) == 0 && arg.size() > 2) {
        std::string name = arg.substr(2), value;
        const auto eq = name.find('=');
        if (eq != std::string::npos) {
          value = name.substr(eq + 1);
          name = name.substr(0, eq);
        } else if (!flags.count(name)) {
          if (i + 1 >= argc) throw UsageError{"--" + name + " needs a value"};
          value = argv[++i];
        }
        named[name] = value;
      } else {
        positional.push_back(arg);
      }
    }
    if (named.count("help") || positional.empty()) {
      std::cout << kUsage;
      return positional.empty() && !named.count("help") ? 2 : 0;
    }
    json = named.count("json") > 0;
    if (named.count("addr")) options.address = named["addr"];
    if (named.count("timeout-ms")) options.timeout = std::chrono::milliseconds(std::stoll(named["timeout-ms"]));
    named.erase("json");
    named.erase("addr");
    named.erase("timeout-ms");
    verity::Client client(options);
    Cli cli(&client, json);
    const std::string command = positional[0];
    positional.erase(positional.begin());
    verity::Status status = cli.Run(command, Args(positional, named));
    if (!status.ok()) {
      std::cerr << "verity: " << status.ToString() << "\n";
      return 1;
    }
    return 0;
  } catch (const UsageError& e) {
    std::cerr << "verity: " << e.message << " (see verity --help)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "verity: " << e.what() << "\n";
    return 2;
  }
}
