// verity: the command-line client of verityd. `verity --help` lists the
// commands; docs/cli.md has examples. Human-readable tables by default,
// --json for machine-readable output. Exit code 0 on success; otherwise 1
// with one line "verity: CODE: message" on stderr (2 for usage errors).
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
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
    "  collection list | collection get NAME | collection drop NAME\n"
    "  versions NAME\n"
    "  import NAME FILE [--batch N]        JSON Lines ({\"id\",\"vector\",\"text\",\"document_id\",\"metadata\"}) or .fvecs\n"
    "  get NAME ID [--at VERSION]\n"
    "  delete NAME ID...\n"
    "  count NAME [--at VERSION] [--filter EXPR]\n"
    "  search NAME (--vector '[...]' | --vector-file FILE) [-k 10] [--ef N] [--filter EXPR] [--at VERSION] [--exact]\n"
    "\n"
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
  std::optional<Version> At() const {
    if (!Option("at")) return std::nullopt;
    return Number("at", 0);
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
          {"head_version", c.head_version},  {"live_records", c.live_records},
          {"graph_nodes", c.graph_nodes},    {"created_at_us", c.created_at_us}};
}

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
  Status Versions(const Args& args);
  Status Import(const Args& args);
  Status Get(const Args& args);
  Status Delete(const Args& args);
  Status Count(const Args& args);
  Status Search(const Args& args);

  void PrintCollections(const std::vector<CollectionInfo>& all);

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
                    std::to_string(c.config.ef_construction)});
  }
  PrintTable({"NAME", "DIM", "METRIC", "RECORDS", "VERSION", "M", "EF_CONSTRUCTION"}, rows);
}

Status Cli::Collection(const Args& args) {
  const std::string& sub = args.At(0, "collection subcommand (create, list, get, drop)");
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
  throw UsageError{"unknown collection subcommand \"" + sub + "\""};
}

Status Cli::Versions(const Args& args) {
  VERITY_ASSIGN_OR_RETURN(auto versions, client_->ListVersions(args.At(0, "collection name")));
  if (json_) {
    Json j = Json::array();
    for (const auto& v : versions) {
      j.push_back({{"version", v.version}, {"committed_at_us", v.committed_at_us}, {"upserted", v.upserted},
                   {"deleted", v.deleted}});
    }
    std::cout << j.dump() << "\n";
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& v : versions) {
    rows.push_back({std::to_string(v.version), std::to_string(v.committed_at_us), std::to_string(v.upserted),
                    std::to_string(v.deleted)});
  }
  PrintTable({"VERSION", "COMMITTED_AT_US", "UPSERTED", "DELETED"}, rows);
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
  const std::set<std::string> flags = {"json", "exact", "help"};
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
