// verity: the command-line client of verityd. `verity --help` lists the
// commands; docs/cli.md has examples. Human-readable tables by default,
// --json for machine-readable output. Exit code 0 on success; otherwise 1
// with one line "verity: CODE: message" on stderr (2 for usage errors).
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "address.h"
#include "import_file.h"
#include "json_numbers.h"
#include "verity/client.h"
#include "verity/log_json.h"

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
    "  retrieve NAME (--vector '[...]' | --vector-file FILE) [--query-text T] [-k 10] [--ef N] [--filter EXPR]\n"
    "           [--at POINT] [--budget TOKENS] [--prompt PROMPT] [--trace-id ID]\n"
    "  answer RETRIEVAL_ID (--text T | --file F) [--model M] [--prompt-tokens N] [--completion-tokens N]\n"
    "  log list [--collection NAME] [--since T] [--until T] [--kind retrieval|answer|cache_hit]\n"
    "           [--limit 100]\n"
    "  log show RETRIEVAL_ID | log verify\n"
    "  log export [--collection NAME] [--since T] [--until T] [--output FILE]\n"
    "                                      JSON Lines with OpenTelemetry GenAI attribute names\n"
    "  replay RETRIEVAL_ID [--mode context|retrieval|counterfactual] [--at POINT]\n"
    "  audit RETRIEVAL_ID [--answer-file F | --answer TEXT] [--threshold X] [--html FILE]\n"
    "  audit --collection NAME [--since T] [--until T] [--threshold X] [--low-g X] [--worst N] [--html FILE]\n"
    "                                      groundedness of answers against their logged context\n"
    "  prompt create NAME (--template T | --template-file F) [--config JSON] [--author A] [--message M]\n"
    "                [--label L[,L...]]   a new immutable version; labels move to it\n"
    "  prompt get PROMPT | prompt list | prompt versions NAME | prompt diff NAME FROM TO\n"
    "  prompt label NAME LABEL VERSION [--actor A]   (rollback: move production back)\n"
    "  prompt history NAME [--label L]\n"
    "  prompt render PROMPT [--vars JSON | --vars-file F]\n"
    "  cache stats | cache clear             the answer cache (docs/answer-cache.md)\n"
    "\n"
    "T: RFC 3339 UTC (2026-11-27T10:00:00Z) or Unix seconds\n"
    "PROMPT: NAME (its production label), NAME@VERSION or NAME@LABEL   (docs/prompts.md)\n"
    "POINT (also FROM, TO): a version number, or a snapshot name of the collection\n"
    "filters: lang = \"en\" and year >= 2020 and tags any [\"a\", \"b\"]   (docs/filters.md)\n"
    "defaults: --addr 127.0.0.1:7420 (or $VERITY_ADDR), --timeout-ms 30000\n"
    "\n"
    "security (docs/security.md):\n"
    "  --api-key-file FILE   send the API key in FILE (or $VERITY_API_KEY; never on the command line)\n"
    "  --tls                 connect with TLS, trusting the system's CAs\n"
    "  --tls-ca FILE         connect with TLS, trusting this CA (PEM)\n"
    "  --tls-cert FILE --tls-key FILE   mTLS: this client's certificate and key (PEM)\n";

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
  // A whole number option (digits only: "-1" is refused, not wrapped);
  // `fallback` when absent.
  uint64_t Number(const std::string& name, uint64_t fallback) const {
    auto v = Option(name);
    if (!v) return fallback;
    return ParseNumber(*v, "--" + name);
  }
  // Number, refused outside [min, max] with a message naming the option.
  uint64_t NumberIn(const std::string& name, uint64_t fallback, uint64_t min, uint64_t max) const {
    const uint64_t n = Number(name, fallback);
    if (n < min || n > max) {
      throw UsageError{"--" + name + ": " + std::to_string(n) + " is out of range (" + std::to_string(min) + " to " +
                       std::to_string(max) + ")"};
    }
    return n;
  }
  static uint64_t ParseNumber(const std::string& text, const std::string& what) {
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
      throw UsageError{what + ": \"" + text + "\" is not a whole number"};
    }
    try {
      return std::stoull(text);
    } catch (const std::exception&) {
      throw UsageError{what + ": " + text + " is out of range"};
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

// What each command accepts: its words, at most how many arguments follow
// them, and its options. main checks a command line against this before
// anything is sent, so a mistyped option (--filer for --filter) or a stray
// word is refused instead of silently ignored. A command added to Cli::Run
// needs its line here (the CLI test runs every command of the usage text).
struct CommandSpec {
  const char* words;  // "collection create"
  size_t max_args;    // after the words; kAnyCount: no bound
  std::set<std::string> options;
};
constexpr size_t kAnyCount = SIZE_MAX;

const std::vector<CommandSpec>& CommandSpecs() {
  static const std::vector<CommandSpec> specs = {
      {"health", 0, {}},
      {"collection create",
       1,
       {"dim", "metric", "m", "ef-construction", "default-ef", "keep-versions", "keep-seconds"}},
      {"collection list", 0, {}},
      {"collection get", 1, {}},
      {"collection drop", 1, {}},
      {"collection retention", 1, {"keep-versions", "keep-seconds"}},
      {"versions", 1, {}},
      {"gc", 1, {}},
      {"import", 2, {"batch"}},
      {"get", 2, {"at"}},
      {"delete", kAnyCount, {}},
      {"count", 1, {"at", "filter"}},
      {"search", 1, {"vector", "vector-file", "k", "ef", "filter", "at", "exact"}},
      {"snapshot create", 2, {"at", "description"}},
      {"snapshot list", 1, {}},
      {"snapshot get", 2, {}},
      {"snapshot delete", 2, {}},
      {"snapshot diff", 3, {"limit", "after", "all"}},
      {"snapshot restore", 2, {"into"}},
      {"snapshot export", 2, {"at", "all"}},
      {"snapshot import", 1, {"as", "replace"}},
      {"retrieve",
       1,
       {"vector", "vector-file", "query-text", "k", "ef", "filter", "at", "budget", "prompt", "trace-id"}},
      {"answer", 1, {"text", "file", "model", "prompt-tokens", "completion-tokens"}},
      {"log list", 0, {"collection", "since", "until", "kind", "limit"}},
      {"log show", 1, {}},
      {"log verify", 0, {}},
      {"log export", 0, {"collection", "since", "until", "kind", "output"}},
      {"replay", 1, {"mode", "at"}},
      {"audit", 1, {"answer", "answer-file", "threshold", "html", "collection", "since", "until", "low-g", "worst"}},
      {"prompt create", 1, {"template", "template-file", "config", "author", "message", "label"}},
      {"prompt get", 1, {}},
      {"prompt list", 0, {}},
      {"prompt versions", 1, {}},
      {"prompt diff", 3, {}},
      {"prompt label", 3, {"actor"}},
      {"prompt history", 1, {"label"}},
      {"prompt render", 1, {"vars", "vars-file"}},
      {"cache stats", 0, {}},
      {"cache clear", 0, {}},
  };
  return specs;
}

// The number of single-character edits between a and b (for "did you mean").
size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// " (did you mean --X?)" for the closest of `known` within two edits, else "".
std::string DidYouMean(const std::string& name, const std::set<std::string>& known) {
  std::string best;
  size_t best_distance = 3;
  for (const auto& k : known) {
    const size_t d = EditDistance(name, k);
    if (d < best_distance) {
      best = k;
      best_distance = d;
    }
  }
  return best.empty() ? "" : " (did you mean --" + best + "?)";
}

// For a command of CommandSpecs, refuses an option it does not take or an
// argument beyond those it takes; for any other command line (no command,
// an unknown one), an option no command knows. Other mistakes (a missing
// argument, an unknown subcommand) are Cli::Run's to name. `words` is the command line's positional words, the command
// first.
void CheckCommandLine(const std::vector<std::string>& words, const std::map<std::string, std::string>& options) {
  for (const auto& spec : CommandSpecs()) {
    std::istringstream split(spec.words);
    const std::vector<std::string> spec_words{std::istream_iterator<std::string>(split), {}};
    if (words.size() < spec_words.size() || !std::equal(spec_words.begin(), spec_words.end(), words.begin())) {
      continue;
    }
    for (const auto& [name, value] : options) {
      if (!spec.options.count(name)) {
        throw UsageError{std::string(spec.words) + " takes no option --" + name + DidYouMean(name, spec.options)};
      }
    }
    const size_t args = words.size() - spec_words.size();
    if (spec.max_args != kAnyCount && args > spec.max_args) {
      throw UsageError{std::string(spec.words) + ": unexpected argument \"" + words[spec_words.size() + spec.max_args] +
                       "\""};
    }
    return;
  }
  std::set<std::string> every_option;
  for (const auto& spec : CommandSpecs()) every_option.insert(spec.options.begin(), spec.options.end());
  for (const auto& [name, value] : options) {
    if (!every_option.count(name)) throw UsageError{"unknown option --" + name + DidYouMean(name, every_option)};
  }
}

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
          {"oldest_retained", c.oldest_retained}, {"snapshots", c.snapshots},
          {"unavailable", c.unavailable}};
}

Json SnapshotJson(const SnapshotInfo& s) {
  return {{"collection", s.collection}, {"name", s.name},       {"description", s.description},
          {"version", s.version},       {"records", s.records}, {"created_at_us", s.created_at_us}};
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
  Status Retrieve(const Args& args);
  Status Answer(const Args& args);
  Status Log(const Args& args);
  Status LogList(const Args& args);
  Status LogShow(const Args& args);
  Status LogVerify(const Args& args);
  Status LogExport(const Args& args);
  Status Replay(const Args& args);
  Status Audit(const Args& args);
  Status AuditCollection(const Args& args);
  Status Prompt(const Args& args);
  Status Cache(const Args& args);
  void PrintPrompt(const PromptVersion& p);

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
  if (command == "retrieve") return Retrieve(args);
  if (command == "answer") return Answer(args);
  if (command == "log") return Log(args);
  if (command == "replay") return Replay(args);
  if (command == "audit") return Audit(args);
  if (command == "prompt") return Prompt(args);
  if (command == "cache") return Cache(args);
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
  std::vector<const CollectionInfo*> damaged;
  for (const auto& c : all) {
    if (!c.unavailable.empty()) {
      damaged.push_back(&c);
      rows.push_back({c.config.name, std::to_string(c.config.dimension), MetricText(c.config.metric), "UNAVAILABLE",
                      std::to_string(c.head_version), std::to_string(c.config.m),
                      std::to_string(c.config.ef_construction), "-", "-"});
      continue;
    }
    rows.push_back({c.config.name, std::to_string(c.config.dimension), MetricText(c.config.metric),
                    std::to_string(c.live_records), std::to_string(c.head_version), std::to_string(c.config.m),
                    std::to_string(c.config.ef_construction), std::to_string(c.snapshots),
                    std::to_string(c.oldest_retained)});
  }
  PrintTable({"NAME", "DIM", "METRIC", "RECORDS", "VERSION", "M", "EF_CONSTRUCTION", "SNAPSHOTS", "OLDEST_RETAINED"},
             rows);
  // Why, below the table (the error names a file: too long for a column).
  for (const CollectionInfo* c : damaged) {
    std::cout << c->config.name << " is UNAVAILABLE: " << c->unavailable
              << "\n  (drop it, or or import it again from an export: verity snapshot import EXPORT --replace)\n";
  }
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
    config.dimension = static_cast<uint32_t>(args.NumberIn("dim", 0, 0, UINT32_MAX));
    const std::string metric = args.Option("metric").value_or("l2");
    if (!ParseMetric(metric, &config.metric)) throw UsageError{"--metric: expected l2, ip or cosine, got \"" + metric + "\""};
    config.m = static_cast<uint32_t>(args.NumberIn("m", config.m, 0, UINT32_MAX));
    config.ef_construction =
        static_cast<uint32_t>(args.NumberIn("ef-construction", config.ef_construction, 0, UINT32_MAX));
    config.default_ef = static_cast<uint32_t>(args.NumberIn("default-ef", config.default_ef, 0, UINT32_MAX));
    config.retention.keep_versions =
        static_cast<uint32_t>(args.NumberIn("keep-versions", config.retention.keep_versions, 0, UINT32_MAX));
    config.retention.keep_seconds = static_cast<int64_t>(
        args.NumberIn("keep-seconds", static_cast<uint64_t>(config.retention.keep_seconds), 0, INT64_MAX));
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
    keep_versions = static_cast<uint32_t>(args.NumberIn("keep-versions", 0, 0, UINT32_MAX));
  }
  if (args.Option("keep-seconds")) {
    keep_seconds = static_cast<int64_t>(args.NumberIn("keep-seconds", 0, 0, INT64_MAX));
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
  ReadPoint from = Args::Point(args.At(2, "FROM (version or snapshot)"), "FROM");
  ReadPoint to = Args::Point(args.At(3, "TO (version or snapshot)"), "TO");
  const uint64_t limit = args.NumberIn("limit", 100, 1, UINT32_MAX);
  const bool all = args.Flag("all");
  std::string cursor = args.Option("after").value_or("");
  DiffPage diff;
  bool first = true;
  do {
    VERITY_ASSIGN_OR_RETURN(DiffPage page, client_->Diff(name, from, to, cursor, static_cast<uint32_t>(limit)));
    if (first) {
      diff = std::move(page);
      first = false;
      // Later pages compare the versions the first one resolved: a
      // snapshot deleted and taken again meanwhile must not change them.
      from = ReadPoint(diff.from);
      to = ReadPoint(diff.to);
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
                         {"kind", ChangeKindName(e.kind)},
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

Status Cli::Import(const Args& args) {
  const std::string& name = args.At(0, "collection name");
  const std::string& path = args.At(1, "file");
  const size_t batch_size = args.NumberIn("batch", 1000, 1, UINT32_MAX);
  VERITY_ASSIGN_OR_RETURN(auto reader, ImportReader::Open(path));
  const bool progress = !json_ && isatty(STDERR_FILENO);
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
      // Which records the failed batch held: their numbers in the file (from
      // 1) and their lines (vector numbers in an .fvecs, from 0).
      const bool one = batch.size() == 1;
      const std::string span =
          (one ? "record " : "records ") + std::to_string(imported + 1) +
          (one ? "" : ".." + std::to_string(imported + batch.size())) +
          (reader->fvecs() ? (one ? ", vector " : ", vectors ") : (one ? ", line " : ", lines ")) +
          std::to_string(reader->LineOf(0)) + (one ? "" : ".." + std::to_string(reader->LineOf(batch.size() - 1)));
      const std::string after =
          MayHaveBeenApplied(written.status().code())
              ? " (" + std::to_string(imported) + " records acknowledged; the batch in flight (" + span +
                    ") may also have been applied; importing the file again is safe: records are upserted by id)"
              : " (" + std::to_string(imported) + " records imported before it; this batch (" + span +
                    ") was not written)";
      if (progress) std::cerr << "\n";
      return Status(written.status().code(), where + ": " + m + after);
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
    if (imported == 0)
      std::cout << "imported 0 records: " << path << " holds none; nothing was written\n";
    else
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

// The whole file as a string; NotFound naming `what` if it cannot be read.
Result<std::string> ReadWholeFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(what + ": cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The query vector of `command`: --vector '[...]' or --vector-file FILE.
Result<std::vector<float>> VectorArg(const Args& args, const std::string& command) {
  std::string vector_text;
  if (auto v = args.Option("vector")) {
    vector_text = *v;
  } else if (auto file = args.Option("vector-file")) {
    VERITY_ASSIGN_OR_RETURN(vector_text, ReadWholeFile(*file, "--vector-file"));
  } else {
    throw UsageError{command + " needs --vector '[...]' or --vector-file FILE"};
  }
  const Json parsed = ParseJson(vector_text);
  if (parsed.is_discarded() || !parsed.is_array()) throw UsageError{"the vector must be a JSON array of numbers"};
  std::vector<float> vector;
  if (Status converted = VectorFromJson(parsed, &vector); !converted.ok()) {
    throw UsageError{(args.Option("vector") ? "--vector: " : "--vector-file " + *args.Option("vector-file") + ": ") +
                     converted.message()};
  }
  return vector;
}

Status Cli::Search(const Args& args) {
  const std::string& name = args.At(0, "collection name");
  ClientSearch query;
  VERITY_ASSIGN_OR_RETURN(query.vector, VectorArg(args, "search"));
  query.k = static_cast<uint32_t>(args.NumberIn("k", 10, 1, UINT32_MAX));
  query.ef = static_cast<uint32_t>(args.NumberIn("ef", 0, 0, UINT32_MAX));
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

// ----- Context service and retrieval log --------------------------------------

// A 32-bit count option (--budget, --prompt-tokens, ...); absent = 0.
uint32_t Count32(const Args& args, const std::string& name) {
  return static_cast<uint32_t>(args.NumberIn(name, 0, 0, UINT32_MAX));
}

// --since / --until: RFC 3339 in UTC ("2026-11-27T10:00:00Z", optionally with
// a fraction of a second; "+00:00" also accepted) or Unix seconds. Returns
// Unix microseconds, 0 when the option is absent.
int64_t TimeArg(const Args& args, const std::string& name) {
  auto v = args.Option(name);
  if (!v) return 0;
  const std::string& text = *v;
  const UsageError bad{"--" + name + ": \"" + text +
                       "\" is neither RFC 3339 UTC (2026-11-27T10:00:00Z) nor Unix seconds"};
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) {
    if (text.size() > 12) throw bad;  // past year 33658: a typo
    return static_cast<int64_t>(std::stoll(text)) * 1000000;
  }
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
      consumed != 19) {
    throw bad;
  }
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60) {
    throw bad;
  }
  std::string rest = text.substr(19);
  int64_t micros = 0;
  if (!rest.empty() && rest[0] == '.') {
    size_t digits = 1;
    while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) ++digits;
    std::string fraction = rest.substr(1, digits - 1);
    if (fraction.empty()) throw bad;
    fraction = (fraction + "000000").substr(0, 6);
    micros = std::stoll(fraction);
    rest = rest.substr(digits);
  }
  if (rest != "Z" && rest != "z" && rest != "+00:00") throw bad;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000000 + micros;
}

std::string DistanceText(float distance) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.6g", distance);
  return text;
}

// The first `n` hex digits of a hash, for tables.
std::string ShortHash(const std::string& hash, size_t n = 16) { return hash.substr(0, n); }

Status Cli::Retrieve(const Args& args) {
  RetrieveRequest request;
  request.collection = args.At(0, "collection name");
  VERITY_ASSIGN_OR_RETURN(request.vector, VectorArg(args, "retrieve"));
  request.query_text = args.Option("query-text").value_or("");
  request.k = static_cast<uint32_t>(args.NumberIn("k", 10, 1, UINT32_MAX));
  request.ef = Count32(args, "ef");
  request.filter = args.Option("filter").value_or("");
  const ReadPoint at = args.At();
  request.at = at.snapshot.empty() ? at.version : std::nullopt;
  request.snapshot = at.snapshot;
  request.token_budget = Count32(args, "budget");
  // A registered prompt (NAME, NAME@VERSION, NAME@LABEL) is logged as the
  // exact version it resolves to; other text as given.
  request.prompt = args.Option("prompt").value_or("");
  request.client_trace_id = args.Option("trace-id").value_or("");
  VERITY_ASSIGN_OR_RETURN(RetrieveResult r, client_->Retrieve(request));
  if (json_) {
    Json chunks = Json::array();
    for (size_t i = 0; i < r.chunks.size(); ++i) {
      const auto& c = r.chunks[i];
      chunks.push_back({{"rank", i + 1},
                        {"id", c.id},
                        {"row_version", c.row_version},
                        {"distance", c.distance},
                        {"tokens", c.tokens},
                        {"in_context", c.in_context},
                        {"text", c.text},
                        {"text_sha256", c.text_sha256},
                        {"document_id", c.document_id}});
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
    return Status::Ok();
  }
  std::cout << "retrieval " << r.retrieval_id << "  (log record " << r.log_seq << ", version " << r.version
            << (r.exact ? ", exact search" : "") << (r.prompt.empty() ? "" : ", prompt " + r.prompt) << ")\n";
  std::vector<std::vector<std::string>> rows;
  size_t in_context = 0;
  for (size_t i = 0; i < r.chunks.size(); ++i) {
    const auto& c = r.chunks[i];
    if (c.in_context) ++in_context;
    rows.push_back({std::to_string(i + 1), c.id, std::to_string(c.row_version), DistanceText(c.distance),
                    std::to_string(c.tokens), c.in_context ? "yes" : "no", Truncate(c.text, 60)});
  }
  PrintTable({"RANK", "ID", "ROW_VERSION", "DISTANCE", "TOKENS", "IN_CONTEXT", "TEXT"}, rows);
  std::cout << "context sha256 " << r.context_sha256 << "  (" << in_context << " of " << r.chunks.size()
            << " chunks, " << r.context_tokens << " tokens)\n";
  return Status::Ok();
}

Status Cli::Answer(const Args& args) {
  AnswerRequest request;
  request.retrieval_id = args.At(0, "retrieval id");
  if (auto text = args.Option("text")) {
    if (args.Option("file")) throw UsageError{"answer takes --text or --file, not both"};
    request.answer = *text;
  } else if (auto file = args.Option("file")) {
    VERITY_ASSIGN_OR_RETURN(request.answer, ReadWholeFile(*file, "--file"));
  } else {
    throw UsageError{"answer needs --text T or --file F"};
  }
  request.model = args.Option("model").value_or("");
  request.prompt_tokens = Count32(args, "prompt-tokens");
  request.completion_tokens = Count32(args, "completion-tokens");
  VERITY_ASSIGN_OR_RETURN(LogRecord record, client_->RecordAnswer(request));
  if (json_) {
    std::cout << LogRecordToJson(record).dump() << "\n";
  } else {
    std::cout << "answer recorded for " << record.retrieval_id << ": log record " << record.seq << ", hash "
              << record.hash << "\n";
  }
  return Status::Ok();
}

Status Cli::Log(const Args& args) {
  const std::string& sub = args.At(0, "log subcommand (list, show, verify, export)");
  if (sub == "list") return LogList(args);
  if (sub == "show") return LogShow(args);
  if (sub == "verify") return LogVerify(args);
  if (sub == "export") return LogExport(args);
  throw UsageError{"unknown log subcommand \"" + sub + "\""};
}

namespace {

// The filters shared by `log list` and `log export`.
LogQuery LogQueryArgs(const Args& args) {
  LogQuery query;
  query.collection = args.Option("collection").value_or("");
  query.since_us = TimeArg(args, "since");
  query.until_us = TimeArg(args, "until");
  if (auto kind = args.Option("kind")) {
    if (*kind == "retrieval") query.kind = LogKind::kRetrieval;
    else if (*kind == "answer") query.kind = LogKind::kAnswer;
    else if (*kind == "cache_hit") query.kind = LogKind::kCacheHit;
    else throw UsageError{"--kind: expected retrieval, answer or cache_hit, got \"" + *kind + "\""};
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

}  // namespace

Status Cli::LogList(const Args& args) {
  LogQuery query = LogQueryArgs(args);
  const uint64_t limit = args.NumberIn("limit", 100, 1, UINT64_MAX);
  std::vector<LogRecord> records;
  bool more = false;
  for (;;) {
    query.limit = static_cast<uint32_t>(std::min<uint64_t>(limit - records.size(), 1000));
    VERITY_ASSIGN_OR_RETURN(LogPage page, client_->ListLog(query));
    for (auto& r : page.records) records.push_back(std::move(r));
    more = page.next_cursor != 0;
    if (!more || records.size() >= limit) break;
    query.start_after = page.next_cursor;
  }
  if (json_) {
    Json j = Json::array();
    for (const auto& r : records) j.push_back(LogRecordToJson(r));
    std::cout << j.dump() << "\n";
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : records) {
    rows.push_back({std::to_string(r.seq), TimeText(r.time_us), LogKindName(r.kind), r.retrieval_id, r.collection,
                    std::to_string(r.version), RecordSummary(r)});
  }
  PrintTable({"SEQ", "TIME (UTC)", "KIND", "RETRIEVAL_ID", "COLLECTION", "VERSION", "SUMMARY"}, rows);
  if (more) std::cout << "(more records: raise --limit, or narrow with --since / --until)\n";
  return Status::Ok();
}

Status Cli::LogShow(const Args& args) {
  VERITY_ASSIGN_OR_RETURN(auto found, client_->GetRetrieval(args.At(1, "retrieval id")));
  const LogRecord& r = found.first;
  const std::optional<LogRecord>& answer = found.second;
  if (json_) {
    std::cout << Json{{"retrieval", LogRecordToJson(r)}, {"answer", answer ? LogRecordToJson(*answer) : Json()}}.dump()
              << "\n";
    return Status::Ok();
  }
  if (r.kind == LogKind::kCacheHit) {
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
    return Status::Ok();
  }
  std::cout << "retrieval " << r.retrieval_id << "\n"
            << "  log record " << r.seq << ", " << TimeText(r.time_us) << " UTC\n"
            << "  collection " << r.collection << ", version " << r.version
            << (r.snapshot.empty() ? "" : " (snapshot " + r.snapshot + ")") << ", k " << r.k << ", ef "
            << (r.ef ? std::to_string(r.ef) : "default") << (r.exact ? ", exact search" : "") << "\n";
  if (!r.filter.empty()) std::cout << "  filter: " << r.filter << "\n";
  if (!r.query_text.empty()) std::cout << "  query: " << r.query_text << "\n";
  std::cout << "  query vector sha256 " << r.query_vector_sha256 << " (" << r.query_vector.size()
            << " dimensions)\n";
  if (r.token_budget) std::cout << "  token budget " << r.token_budget << "\n";
  if (!r.prompt.empty()) std::cout << "  prompt " << r.prompt << "\n";
  if (!r.client_trace_id.empty()) std::cout << "  trace id " << r.client_trace_id << "\n";
  if (!r.client_id.empty()) std::cout << "  client " << r.client_id << "\n";
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < r.chunks.size(); ++i) {
    const auto& c = r.chunks[i];
    rows.push_back({std::to_string(i + 1), c.id, std::to_string(c.row_version), DistanceText(c.distance),
                    std::to_string(c.tokens), c.in_context ? "yes" : "no", ShortHash(c.text_sha256)});
  }
  PrintTable({"RANK", "ID", "ROW_VERSION", "DISTANCE", "TOKENS", "IN_CONTEXT", "TEXT_SHA256"}, rows);
  std::cout << "context sha256 " << r.context_sha256 << " (" << r.context_tokens << " tokens)\n"
            << "record hash " << r.hash << "\n";
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

Status Cli::LogVerify(const Args&) {
  VERITY_ASSIGN_OR_RETURN(LogVerifyResult v, client_->VerifyLog());
  if (json_) {
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

Status Cli::LogExport(const Args& args) {
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
    auto page = client_->ListLog(query);
    if (!page.ok()) return fail(page.status());
    for (const auto& r : page->records) out << LogRecordToJson(r).dump() << "\n";
    exported += page->records.size();
    if (page->next_cursor == 0) break;
    query.start_after = page->next_cursor;
  }
  out.flush();
  if (!out) return fail(Status::Unavailable("--output: write failed"));
  if (output) {
    file.close();
    std::error_code error;
    std::filesystem::rename(partial, *output, error);
    if (error) return fail(Status::Unavailable("--output: cannot rename to " + *output + ": " + error.message()));
    if (json_) std::cout << Json{{"records", exported}, {"output", *output}}.dump() << "\n";
    else std::cout << "exported " << exported << " log records to " << *output << "\n";
  }
  return Status::Ok();
}

Status Cli::Replay(const Args& args) {
  ReplayRequest request;
  request.retrieval_id = args.At(0, "retrieval id");
  const std::string mode = args.Option("mode").value_or("context");
  if (mode == "context") request.mode = ReplayMode::kContext;
  else if (mode == "retrieval") request.mode = ReplayMode::kRetrieval;
  else if (mode == "counterfactual") request.mode = ReplayMode::kCounterfactual;
  else throw UsageError{"--mode: expected context, retrieval or counterfactual, got \"" + mode + "\""};
  const ReadPoint at = args.At();
  if (!at.is_head() && request.mode != ReplayMode::kCounterfactual) {
    throw UsageError{"--at is only for --mode counterfactual (the other modes replay at the logged version)"};
  }
  request.at = at.snapshot.empty() ? at.version : std::nullopt;
  request.snapshot = at.snapshot;
  VERITY_ASSIGN_OR_RETURN(ReplayResult r, client_->Replay(request));
  if (json_) {
    Json chunks = Json::array();
    for (const auto& c : r.chunks) {
      chunks.push_back({{"id", c.id}, {"row_version", c.row_version}, {"status", c.status}});
    }
    Json changes = Json::array();
    for (const auto& c : r.rank_changes) {
      changes.push_back({{"id", c.id}, {"logged_rank", c.logged_rank}, {"replay_rank", c.replay_rank}});
    }
    // Only what the mode measured: a "collected" replay compared nothing,
    // and a recall of 0 or a hash mismatch would read as a finding.
    Json out = {{"retrieval_id", r.retrieval_id},
                {"mode", ReplayModeName(r.mode)},
                {"outcome", ReplayOutcomeName(r.outcome)},
                {"detail", r.detail},
                {"version", r.version}};
    if (r.outcome != ReplayOutcome::kCollected) {
      if (r.mode == ReplayMode::kContext) {
        out["chunks"] = chunks;
        out["context_sha256"] = r.context_sha256;
        out["context_hash_matches"] = r.context_hash_matches;
      } else {
        if (r.mode == ReplayMode::kRetrieval) {
          out["recall"] = r.recall;
          out["missed"] = r.missed;
        }
        out["added"] = r.added;
        out["removed"] = r.removed;
        out["rank_changes"] = changes;
        if (r.mode == ReplayMode::kCounterfactual) out["changed"] = r.changed;
      }
    }
    std::cout << out.dump() << "\n";
    return Status::Ok();
  }
  // The outcome first, then what it rests on.
  std::cout << ReplayOutcomeName(r.outcome) << (r.detail.empty() ? "" : ": " + r.detail) << "\n"
            << ReplayModeName(r.mode) << " replay of " << r.retrieval_id << " at version " << r.version << "\n";
  if (r.outcome == ReplayOutcome::kCollected) return Status::Ok();  // nothing was compared
  if (r.mode == ReplayMode::kContext) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : r.chunks) rows.push_back({c.id, std::to_string(c.row_version), c.status});
    if (!rows.empty()) PrintTable({"ID", "ROW_VERSION", "STATUS"}, rows);
    if (!r.context_sha256.empty()) {
      std::cout << "context sha256 " << r.context_sha256
                << (r.context_hash_matches ? " (matches the log)" : " (differs from the log)") << "\n";
    }
    return Status::Ok();
  }
  if (r.mode == ReplayMode::kRetrieval) {
    char recall[32];
    std::snprintf(recall, sizeof(recall), "%.4f", r.recall);
    std::cout << "recall " << recall << " of the logged results against exact search\n";
    if (!r.missed.empty()) {
      std::cout << "missed:";
      for (const auto& id : r.missed) std::cout << " " << id;
      std::cout << "\n";
    }
  }
  auto print_ids = [](const char* label, const std::vector<std::string>& ids) {
    if (ids.empty()) return;
    std::cout << label << ":";
    for (const auto& id : ids) std::cout << " " << id;
    std::cout << "\n";
  };
  print_ids("added", r.added);
  print_ids("removed", r.removed);
  print_ids("changed (a newer row)", r.changed);
  if (!r.rank_changes.empty()) {
    std::vector<std::vector<std::string>> rows;
    auto rank = [](int32_t x) { return x < 0 ? std::string("-") : std::to_string(x + 1); };
    for (const auto& c : r.rank_changes) rows.push_back({c.id, rank(c.logged_rank), rank(c.replay_rank)});
    PrintTable({"ID", "LOGGED_RANK", "REPLAY_RANK"}, rows);
  }
  return Status::Ok();
}


// ----- Audit ------------------------------------------------------------------

namespace {

// A fraction option (--threshold, --low-g); `fallback` when absent. The
// range is the server's to check (INVALID_ARGUMENT names the field).
double FractionArg(const Args& args, const std::string& name, double fallback) {
  auto v = args.Option(name);
  if (!v) return fallback;
  try {
    size_t used = 0;
    const double x = std::stod(*v, &used);
    if (used != v->size()) throw std::invalid_argument("");
    return x;
  } catch (const std::exception&) {
    throw UsageError{"--" + name + ": \"" + *v + "\" is not a number"};
  }
}

// Fixed 4 decimals, as the scorer's canonical JSON writes its floats (the
// CLI never calls setlocale, so the decimal point is '.').
std::string Fixed4(double x) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.4f", x);
  return text;
}

// A JSON string literal; invalid UTF-8 becomes U+FFFD, as in the scorer's JSON.
std::string JsonString(const std::string& s) {
  return Json(s).dump(-1, ' ', false, Json::error_handler_t::replace);
}

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

}  // namespace

Status Cli::Audit(const Args& args) {
  if (args.Option("collection")) {
    if (args.size() > 0) throw UsageError{"audit takes a retrieval id or --collection NAME, not both"};
    return AuditCollection(args);
  }
  AuditRequest request;
  request.retrieval_id = args.At(0, "retrieval id (or --collection NAME)");
  if (auto text = args.Option("answer")) {
    if (args.Option("answer-file")) throw UsageError{"audit takes --answer or --answer-file, not both"};
    request.answer = *text;
  } else if (auto file = args.Option("answer-file")) {
    VERITY_ASSIGN_OR_RETURN(request.answer, ReadWholeFile(*file, "--answer-file"));
  }
  request.threshold = FractionArg(args, "threshold", 0);
  VERITY_ASSIGN_OR_RETURN(AuditResult a, client_->Audit(request));
  if (auto html = args.Option("html")) VERITY_RETURN_IF_ERROR(WriteAuditHtml(*html, {a}, AuditReportOptions{}));
  if (json_) {
    std::cout << AuditJsonText(a) << "\n";
    return Status::Ok();
  }
  PrintAudit(a);
  if (auto html = args.Option("html")) std::cout << "report written to " << *html << "\n";
  return Status::Ok();
}

Status Cli::AuditCollection(const Args& args) {
  BatchAuditRequest request;
  request.collection = *args.Option("collection");
  request.since_us = TimeArg(args, "since");
  request.until_us = TimeArg(args, "until");
  request.threshold = FractionArg(args, "threshold", 0);
  request.low_g = FractionArg(args, "low-g", request.low_g);
  request.worst = static_cast<uint32_t>(args.NumberIn("worst", request.worst, 0, UINT32_MAX));
  if (args.Option("answer") || args.Option("answer-file")) {
    throw UsageError{"--answer and --answer-file are for auditing one retrieval"};
  }
  VERITY_ASSIGN_OR_RETURN(BatchAuditResult b, client_->AuditCollection(request));
  if (auto html = args.Option("html")) {
    AuditReportOptions options;
    options.low_g_threshold = request.low_g;
    options.worst_count = request.worst;
    VERITY_RETURN_IF_ERROR(WriteAuditHtml(*html, b.audits, options));
  }
  if (json_) {
    auto list = [](const std::vector<AuditResult>& audits) {
      std::string text = "[";
      for (size_t i = 0; i < audits.size(); ++i) text += (i ? "," : "") + AuditJsonText(audits[i]);
      return text + "]";
    };
    std::cout << "{\"collection\":" << JsonString(request.collection) << ",\"retrievals\":" << b.retrievals
              << ",\"audited\":" << b.audited << ",\"unanswered\":" << b.unanswered
              << ",\"unavailable\":" << b.unavailable << ",\"scored\":" << b.scored
              << ",\"mean_g\":" << Fixed4(b.mean_g) << ",\"low_g\":" << Fixed4(request.low_g)
              << ",\"share_below\":" << Fixed4(b.share_below) << ",\"worst\":" << list(b.worst)
              << ",\"audits\":" << list(b.audits) << "}\n";
    return Status::Ok();
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
  if (auto html = args.Option("html")) {
    std::cout << "report written to " << *html << " (" << b.audits.size() << " answers)\n";
  }
  return Status::Ok();
}

// --- prompt ----------------------------------------------------------------------

Json PromptJson(const PromptVersion& p) {
  return {{"name", p.name},       {"version", p.version},   {"template", p.template_text},
          {"config_json", p.config_json}, {"author", p.author}, {"message", p.message},
          {"created_at_us", p.created_at_us}, {"variables", p.variables}, {"labels", p.labels}};
}

Json LabelMoveJson(const PromptLabelEvent& m) {
  return {{"name", m.name},   {"label", m.label}, {"version", m.version}, {"previous_version", m.previous_version},
          {"actor", m.actor}, {"moved_at_us", m.moved_at_us}};
}

// NAME, NAME@VERSION or NAME@LABEL.
PromptRef PromptArg(const std::string& text) {
  Result<PromptRef> ref = ParsePromptRef(text);
  if (!ref.ok()) throw UsageError{ref.status().message()};
  return *ref;
}

uint32_t VersionArg(const std::string& text, const char* what) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 10 ||
      std::stoull(text) == 0 || std::stoull(text) > UINT32_MAX) {
    throw UsageError{std::string(what) + " \"" + text + "\" is not a version number (1, 2, ...)"};
  }
  return static_cast<uint32_t>(std::stoull(text));
}

void Cli::PrintPrompt(const PromptVersion& p) {
  if (json_) {
    std::cout << PromptJson(p).dump() << "\n";
    return;
  }
  std::string labels;
  for (const auto& l : p.labels) labels += (labels.empty() ? "" : ", ") + l;
  std::cout << p.name << "@" << p.version << (labels.empty() ? "" : "  (" + labels + ")") << "\n"
            << "created " << TimeText(p.created_at_us) << " UTC" << (p.author.empty() ? "" : " by " + p.author)
            << (p.message.empty() ? "" : ": " + p.message) << "\n";
  if (!p.variables.empty()) {
    std::string vars;
    for (const auto& v : p.variables) vars += (vars.empty() ? "" : ", ") + v;
    std::cout << "variables: " << vars << "\n";
  }
  if (!p.config_json.empty()) std::cout << "config: " << p.config_json << "\n";
  std::cout << "---\n" << p.template_text << (p.template_text.empty() || p.template_text.back() != '\n' ? "\n" : "");
}

Status Cli::Prompt(const Args& args) {
  const std::string& sub = args.At(0, "prompt subcommand (create, get, list, versions, diff, label, history, render)");
  if (sub == "list") {
    VERITY_ASSIGN_OR_RETURN(auto all, client_->ListPrompts());
    if (json_) {
      Json out = Json::array();
      for (const auto& p : all) out.push_back({{"name", p.name}, {"latest_version", p.latest_version}, {"labels", p.labels}});
      std::cout << out.dump() << "\n";
      return Status::Ok();
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& p : all) {
      std::string labels;
      for (const auto& [label, version] : p.labels) {
        labels += (labels.empty() ? "" : ", ") + label + "=" + std::to_string(version);
      }
      rows.push_back({p.name, std::to_string(p.latest_version), labels});
    }
    PrintTable({"NAME", "LATEST", "LABELS"}, rows);
    return Status::Ok();
  }
  if (sub == "create") {
    PromptDraft draft;
    draft.name = args.At(1, "prompt name");
    if (auto text = args.Option("template")) {
      if (args.Option("template-file")) throw UsageError{"prompt create takes --template or --template-file, not both"};
      draft.template_text = *text;
    } else if (auto file = args.Option("template-file")) {
      VERITY_ASSIGN_OR_RETURN(draft.template_text, ReadWholeFile(*file, "--template-file"));
    } else {
      throw UsageError{"prompt create needs --template T or --template-file F"};
    }
    draft.config_json = args.Option("config").value_or("");
    draft.author = args.Option("author").value_or("");
    draft.message = args.Option("message").value_or("");
    if (auto labels = args.Option("label")) {
      std::stringstream list(*labels);
      for (std::string label; std::getline(list, label, ',');) draft.labels.push_back(label);
    }
    VERITY_ASSIGN_OR_RETURN(PromptVersion p, client_->CreatePromptVersion(draft));
    PrintPrompt(p);
    return Status::Ok();
  }
  if (sub == "get") {
    VERITY_ASSIGN_OR_RETURN(PromptVersion p, client_->GetPrompt(PromptArg(args.At(1, "prompt (NAME[@VERSION|@LABEL])"))));
    PrintPrompt(p);
    return Status::Ok();
  }
  if (sub == "versions") {
    VERITY_ASSIGN_OR_RETURN(auto versions, client_->ListPromptVersions(args.At(1, "prompt name")));
    if (json_) {
      Json out = Json::array();
      for (const auto& p : versions) out.push_back(PromptJson(p));
      std::cout << out.dump() << "\n";
      return Status::Ok();
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& p : versions) {
      std::string labels;
      for (const auto& l : p.labels) labels += (labels.empty() ? "" : ", ") + l;
      rows.push_back({std::to_string(p.version), TimeText(p.created_at_us), p.author, labels, p.message});
    }
    PrintTable({"VERSION", "CREATED (UTC)", "AUTHOR", "LABELS", "MESSAGE"}, rows);
    return Status::Ok();
  }
  if (sub == "diff") {
    const std::string& name = args.At(1, "prompt name");
    const uint32_t from = VersionArg(args.At(2, "FROM version"), "FROM");
    const uint32_t to = VersionArg(args.At(3, "TO version"), "TO");
    VERITY_ASSIGN_OR_RETURN(PromptDiff d, client_->DiffPrompt(name, from, to));
    if (json_) {
      std::cout << Json{{"name", name},
                        {"from", from},
                        {"to", to},
                        {"template_diff", d.template_diff},
                        {"config_changed", d.config_changed},
                        {"from_config_json", d.from_config},
                        {"to_config_json", d.to_config}}
                       .dump()
                << "\n";
      return Status::Ok();
    }
    std::cout << "--- " << name << "@" << from << "\n+++ " << name << "@" << to << "\n";
    std::cout << (d.template_diff.empty() ? "(templates are equal)\n" : d.template_diff);
    if (d.config_changed) std::cout << "config: " << d.from_config << " -> " << d.to_config << "\n";
    return Status::Ok();
  }
  if (sub == "label") {
    const std::string& name = args.At(1, "prompt name");
    const std::string& label = args.At(2, "label");
    const uint32_t version = VersionArg(args.At(3, "version"), "VERSION");
    VERITY_ASSIGN_OR_RETURN(PromptLabelEvent m,
                            client_->SetPromptLabel(name, label, version, args.Option("actor").value_or("")));
    if (json_) {
      std::cout << LabelMoveJson(m).dump() << "\n";
    } else {
      std::cout << name << ": " << label << " -> " << m.version
                << (m.previous_version ? " (was " + std::to_string(m.previous_version) + ")" : " (new label)") << "\n";
    }
    return Status::Ok();
  }
  if (sub == "history") {
    const std::string& name = args.At(1, "prompt name");
    VERITY_ASSIGN_OR_RETURN(auto moves, client_->PromptLabelHistory(name, args.Option("label").value_or("")));
    if (json_) {
      Json out = Json::array();
      for (const auto& m : moves) out.push_back(LabelMoveJson(m));
      std::cout << out.dump() << "\n";
      return Status::Ok();
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& m : moves) {
      rows.push_back({TimeText(m.moved_at_us), m.label, m.previous_version ? std::to_string(m.previous_version) : "-",
                      std::to_string(m.version), m.actor});
    }
    PrintTable({"MOVED (UTC)", "LABEL", "FROM", "TO", "ACTOR"}, rows);
    return Status::Ok();
  }
  if (sub == "render") {
    const PromptRef ref = PromptArg(args.At(1, "prompt (NAME[@VERSION|@LABEL])"));
    std::string vars_text = "{}";
    if (auto vars = args.Option("vars")) {
      if (args.Option("vars-file")) throw UsageError{"prompt render takes --vars or --vars-file, not both"};
      vars_text = *vars;
    } else if (auto file = args.Option("vars-file")) {
      VERITY_ASSIGN_OR_RETURN(vars_text, ReadWholeFile(*file, "--vars-file"));
    }
    const Json parsed = Json::parse(vars_text, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) {
      throw UsageError{"--vars: expected a JSON object of strings, e.g. '{\"question\": \"...\"}'"};
    }
    std::map<std::string, std::string> variables;
    for (const auto& [key, value] : parsed.items()) {
      if (!value.is_string()) throw UsageError{"--vars: the value of \"" + key + "\" is not a string"};
      variables[key] = value.get<std::string>();
    }
    VERITY_ASSIGN_OR_RETURN(auto rendered, client_->RenderPrompt(ref, variables));
    if (json_) {
      std::cout << Json{{"name", ref.name}, {"version", rendered.second}, {"text", rendered.first}}.dump() << "\n";
    } else {
      std::cout << rendered.first << (rendered.first.empty() || rendered.first.back() != '\n' ? "\n" : "");
    }
    return Status::Ok();
  }
  throw UsageError{"unknown prompt subcommand \"" + sub + "\""};
}

Status Cli::Cache(const Args& args) {
  const std::string& sub = args.At(0, "cache subcommand (stats, clear)");
  if (sub == "stats") {
    VERITY_ASSIGN_OR_RETURN(CacheStats st, client_->GetCacheStats());
    if (json_) {
      std::cout << Json{{"entries", st.entries},
                        {"bytes", st.bytes},
                        {"max_entries", st.max_entries},
                        {"max_bytes", st.max_bytes},
                        {"stores", st.stores},
                        {"exact_hits", st.exact_hits},
                        {"semantic_hits", st.semantic_hits},
                        {"misses", st.misses},
                        {"refused_false_hits", st.refused_false_hits},
                        {"evictions", st.evictions}}
                       .dump()
                << "\n";
      return Status::Ok();
    }
    const uint64_t lookups = st.exact_hits + st.semantic_hits + st.misses;
    char rate[32];
    std::snprintf(rate, sizeof(rate), "%.1f%%", lookups ? 100.0 * (st.exact_hits + st.semantic_hits) / lookups : 0.0);
    std::cout << "entries " << st.entries << " of " << st.max_entries << ", " << BytesText(st.bytes) << " of "
              << BytesText(st.max_bytes) << "\n"
              << "lookups " << lookups << ": " << st.exact_hits << " exact hits, " << st.semantic_hits
              << " semantic hits, " << st.misses << " misses (hit rate " << rate << "), " << st.refused_false_hits
              << " refused false hits\n"
              << "stores " << st.stores << ", evictions " << st.evictions << "\n";
    return Status::Ok();
  }
  if (sub == "clear") {
    VERITY_RETURN_IF_ERROR(client_->ClearCache());
    if (json_) std::cout << Json{{"cleared", true}}.dump() << "\n";
    else std::cout << "answer cache cleared\n";
    return Status::Ok();
  }
  throw UsageError{"unknown cache subcommand \"" + sub + "\""};
}

// The key in `path` (its first line, without surrounding white space).
std::string ReadApiKey(const std::string& path) {
  std::ifstream in(path);
  std::string key;
  if (!in || !std::getline(in, key)) throw UsageError{"--api-key-file: cannot read " + path};
  const auto begin = key.find_first_not_of(" \t\r");
  const auto end = key.find_last_not_of(" \t\r");
  if (begin == std::string::npos) throw UsageError{"--api-key-file: " + path + " is empty"};
  return key.substr(begin, end - begin + 1);
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
  const std::set<std::string> flags = {"json", "exact", "help", "all", "replace", "tls"};
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
          if (flags.count(name)) {
            // --json=true / --tls=false: an explicit switch, nothing else.
            if (value != "true" && value != "false") {
              throw UsageError{"--" + name + " takes no value, or =true / =false; got \"" + value + "\""};
            }
            if (value == "false") {
              named.erase(name);
              continue;
            }
            value.clear();
          }
        } else if (!flags.count(name)) {
          if (i + 1 >= argc) throw UsageError{"--" + name + " needs a value"};
          value = argv[++i];
        }
        named[name] = value;
      } else {
        positional.push_back(arg);
      }
    }
    if (named.count("help")) {
      std::cout << kUsage;
      return 0;
    }
    json = named.count("json") > 0;
    if (named.count("addr")) options.address = named["addr"];
    if (named.count("timeout-ms")) {
      const uint64_t ms = Args::ParseNumber(named["timeout-ms"], "--timeout-ms");
      if (ms == 0 || ms > 86400000) {
        throw UsageError{"--timeout-ms: " + std::to_string(ms) + " is out of range (1 to 86400000)"};
      }
      options.timeout = std::chrono::milliseconds(ms);
    }
    if (const char* env = std::getenv("VERITY_API_KEY")) options.api_key = env;
    if (named.count("api-key-file")) options.api_key = ReadApiKey(named["api-key-file"]);
    options.tls = named.count("tls") > 0;
    if (named.count("tls-ca")) options.tls_ca_file = named["tls-ca"];
    if (named.count("tls-cert")) options.tls_cert_file = named["tls-cert"];
    if (named.count("tls-key")) options.tls_key_file = named["tls-key"];
    for (const char* global : {"json", "addr", "timeout-ms", "api-key-file", "tls", "tls-ca", "tls-cert", "tls-key"}) {
      named.erase(global);
    }
    // A gRPC target with a scheme (dns:///h:p, ipv4:..., unix:...) is gRPC's
    // to read; a plain HOST:PORT is checked here, so that "host:99999" is a
    // usage error, not a resolver's message.
    const std::string& addr = options.address;
    const bool has_scheme = addr.find("://") != std::string::npos || addr.rfind("ipv4:", 0) == 0 ||
                            addr.rfind("ipv6:", 0) == 0 || addr.rfind("dns:", 0) == 0;
    if (std::string error = verity::wire::AddressError(addr, "--addr", false); !has_scheme && !error.empty()) {
      throw UsageError{error};
    }
    CheckCommandLine(positional, named);
    if (positional.empty()) {
      std::cout << kUsage;
      return 2;
    }
    if (!options.api_key.empty() && !options.tls && options.tls_ca_file.empty() &&
        !verity::wire::IsLocalAddress(options.address)) {
      std::cerr << "verity: warning: sending an API key without TLS to " << options.address
                << "; anyone on the network path can read it (use --tls or --tls-ca FILE)\n";
    }
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
