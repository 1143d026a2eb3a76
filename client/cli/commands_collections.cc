// health, collection create / list / get / drop / retention, versions, gc.
#include <optional>
#include <sstream>

#include "command_table.h"

namespace verity::cli {
namespace {

Status Health(const Cli& cli, const Args&) {
  VERITY_RETURN_IF_ERROR(cli.client->Health());
  PrintResult(cli, Json{{"status", "SERVING"}}, "SERVING");
  return Status::Ok();
}

// --sparse-field NAME[:DIM], once per field (main joins repeats with '\n').
std::vector<SparseFieldConfig> SparseFieldArgs(const Args& args) {
  std::vector<SparseFieldConfig> fields;
  const auto given = args.Option("sparse-field");
  if (!given) return fields;
  std::istringstream lines(*given);
  for (std::string item; std::getline(lines, item);) {
    SparseFieldConfig f;
    const size_t colon = item.find(':');
    f.name = item.substr(0, colon);
    if (f.name.empty()) throw UsageError{"--sparse-field: expected NAME or NAME:DIM, got \"" + item + "\""};
    if (colon != std::string::npos) {
      const uint64_t dim = Args::ParseNumber(item.substr(colon + 1), "--sparse-field " + f.name + " (its dimension)");
      if (dim < 1 || dim > (1ull << 31)) {
        throw UsageError{"--sparse-field " + f.name + ": dimension " + std::to_string(dim) +
                         " is out of range (1 to 2147483648)"};
      }
      f.dimension = static_cast<uint32_t>(dim);
    }
    fields.push_back(f);
  }
  return fields;
}

// --text-index PRESET [--k1 X] [--b Y].
TextIndexConfig TextIndexArgs(const Args& args) {
  TextIndexConfig t;
  const auto preset = args.Option("text-index");
  if (!preset) {
    for (const char* option : {"k1", "b", "text-field"}) {
      if (args.Option(option)) throw UsageError{std::string("--") + option + " needs --text-index standard|english"};
    }
    return t;
  }
  auto analyzer = AnalyzerPresetConfig(*preset);
  if (!analyzer.ok()) throw UsageError{"--text-index: expected standard or english, got \"" + *preset + "\""};
  t.enabled = true;
  t.analyzer = *analyzer;
  if (const auto k1 = args.Option("k1")) t.k1 = ParseFloatOption(*k1, "--k1");
  if (const auto fields = args.Option("text-field")) {  // NAME=WEIGHT, repeatable
    std::istringstream lines(*fields);
    for (std::string item; std::getline(lines, item);) {
      const size_t eq = item.find('=');
      TextFieldConfig f;
      f.name = item.substr(0, eq);
      if (f.name.empty()) throw UsageError{"--text-field: expected NAME or NAME=WEIGHT, got \"" + item + "\""};
      if (eq != std::string::npos) {
        f.weight = static_cast<uint32_t>(Args::ParseNumber(item.substr(eq + 1), "--text-field " + f.name + " (its weight)"));
      }
      t.fields.push_back(f);
    }
  }
  if (const auto b = args.Option("b")) t.b = ParseFloatOption(*b, "--b");
  return t;
}

Status CollectionCreate(const Cli& cli, const Args& args) {
  CollectionConfig config;
  config.name = args.Arg(0);
  config.text_index = TextIndexArgs(args);
  config.sparse_fields = SparseFieldArgs(args);
  // Without dense vectors (dimension 0) a collection is searched by text or
  // sparse vectors: --dim may then be left out.
  if (!args.Option("dim") && !config.text_index.enabled && config.sparse_fields.empty()) {
    throw UsageError{"collection create needs --dim N (or --text-index / --sparse-field for a collection without "
                     "dense vectors)",
                     "collection create"};
  }
  config.dimension = static_cast<uint32_t>(args.NumberIn("dim", 0, 0, UINT32_MAX));
  const std::string metric = args.Option("metric").value_or("l2");
  if (!ParseMetric(metric, &config.metric)) {
    throw UsageError{"--metric: expected l2, ip or cosine, got \"" + metric + "\""};
  }
  config.m = static_cast<uint32_t>(args.NumberIn("m", config.m, 0, UINT32_MAX));
  config.ef_construction =
      static_cast<uint32_t>(args.NumberIn("ef-construction", config.ef_construction, 0, UINT32_MAX));
  config.default_ef = static_cast<uint32_t>(args.NumberIn("default-ef", config.default_ef, 0, UINT32_MAX));
  config.retention.keep_versions =
      static_cast<uint32_t>(args.NumberIn("keep-versions", config.retention.keep_versions, 0, UINT32_MAX));
  config.retention.keep_seconds = static_cast<int64_t>(
      args.NumberIn("keep-seconds", static_cast<uint64_t>(config.retention.keep_seconds), 0, INT64_MAX));
  VERITY_ASSIGN_OR_RETURN(CollectionInfo info, cli.client->CreateCollection(config));
  PrintCollections(cli, {info});
  return Status::Ok();
}

Status CollectionList(const Cli& cli, const Args&) {
  VERITY_ASSIGN_OR_RETURN(auto all, cli.client->ListCollections());
  PrintCollections(cli, all);
  return Status::Ok();
}

Status CollectionTextIndex(const Cli& cli, const Args& args) {
  if (!args.Option("text-index")) {
    throw UsageError{"collection text-index needs --text-index standard|english", "collection text-index"};
  }
  VERITY_ASSIGN_OR_RETURN(CollectionInfo info, cli.client->SetTextIndex(args.Arg(0), TextIndexArgs(args)));
  PrintCollections(cli, {info});
  return Status::Ok();
}

Status CollectionGet(const Cli& cli, const Args& args) {
  VERITY_ASSIGN_OR_RETURN(CollectionInfo info, cli.client->GetCollection(args.Arg(0)));
  PrintCollections(cli, {info});
  return Status::Ok();
}

Status CollectionDrop(const Cli& cli, const Args& args) {
  const std::string& name = args.Arg(0);
  VERITY_RETURN_IF_ERROR(cli.client->DropCollection(name));
  PrintResult(cli, Json{{"dropped", name}}, "dropped " + name);
  return Status::Ok();
}

Status CollectionRetention(const Cli& cli, const Args& args) {
  const std::string& name = args.Arg(0);
  std::optional<uint32_t> keep_versions;
  std::optional<int64_t> keep_seconds;
  if (args.Option("keep-versions")) {
    keep_versions = static_cast<uint32_t>(args.NumberIn("keep-versions", 0, 0, UINT32_MAX));
  }
  if (args.Option("keep-seconds")) {
    keep_seconds = static_cast<int64_t>(args.NumberIn("keep-seconds", 0, 0, INT64_MAX));
  }
  // With neither option this only shows the current retention.
  VERITY_ASSIGN_OR_RETURN(CollectionInfo info, cli.client->SetRetention(name, keep_versions, keep_seconds));
  const RetentionPolicy& r = info.config.retention;
  PrintResult(cli,
              Json{{"name", name},
                   {"keep_versions", r.keep_versions},
                   {"keep_seconds", r.keep_seconds},
                   {"oldest_retained", info.oldest_retained},
                   {"head_version", info.head_version}},
              name + ": keep the newest " + std::to_string(r.keep_versions) + " versions" +
                  (r.keep_versions == 0 ? " (off)" : "") + " and those of the last " + std::to_string(r.keep_seconds) +
                  " s" + (r.keep_seconds == 0 ? " (off)" : "") + "; oldest retained version " +
                  std::to_string(info.oldest_retained) + ", head " + std::to_string(info.head_version));
  return Status::Ok();
}

Status Versions(const Cli& cli, const Args& args) {
  VERITY_ASSIGN_OR_RETURN(auto versions, cli.client->ListVersions(args.Arg(0)));
  auto json = [](const VersionInfo& v) {
    Json row = {{"version", v.version},   {"committed_at_us", v.committed_at_us},
                {"upserted", v.upserted}, {"deleted", v.deleted},
                {"readable", v.readable}, {"snapshots", v.snapshots}};
    if (v.is_restore) row["restored_from"] = v.restored_from;
    return row;
  };
  auto row = [](const VersionInfo& v) -> std::vector<std::string> {
    return {std::to_string(v.version),  TimeText(v.committed_at_us),
            std::to_string(v.upserted), std::to_string(v.deleted),
            v.readable ? "yes" : "no",  v.is_restore ? "restore of " + std::to_string(v.restored_from) : "",
            Join(v.snapshots, ",")};
  };
  PrintListing(cli, versions, json,
               {"VERSION", "COMMITTED (UTC)", "UPSERTED", "DELETED", "READABLE", "NOTE", "SNAPSHOTS"}, row);
  return Status::Ok();
}

Status Gc(const Cli& cli, const Args& args) {
  const std::string& name = args.Arg(0);
  VERITY_ASSIGN_OR_RETURN(GcResult r, cli.client->Gc(name));
  PrintResult(cli,
              Json{{"oldest_retained", r.oldest_retained},
                   {"rows_removed", r.rows_removed},
                   {"nodes_dropped", r.nodes_dropped},
                   {"graph_rebuilt", r.graph_rebuilt},
                   {"bytes_before", r.bytes_before},
                   {"bytes_after", r.bytes_after}},
              "gc " + name + ": removed " + std::to_string(r.rows_removed) + " row versions, dropped " +
                  std::to_string(r.nodes_dropped) + " graph nodes" + (r.graph_rebuilt ? " (graph rebuilt)" : "") +
                  "; oldest retained version " + std::to_string(r.oldest_retained) + "; " + BytesText(r.bytes_before) +
                  " -> " + BytesText(r.bytes_after));
  return Status::Ok();
}

const ArgSpec kCollection{"NAME", "the collection"};
const OptionSpec kKeepVersions{"keep-versions", "N", "keep the newest N versions readable (0: no such rule)"};
const OptionSpec kKeepSeconds{"keep-seconds", "S",
                              "keep the versions of the last S seconds readable (0: no such rule)"};

}  // namespace

std::vector<Command> CollectionCommands() {
  return {
      {"health", "", "whether the server is serving", {}, {}, "verity health", Health},
      {"collection create",
       "NAME --dim N [--metric l2|ip|cosine] [--m M] [--ef-construction N] [--default-ef N] [--keep-versions N] "
       "[--keep-seconds S] [--text-index standard|english [--k1 X] [--b Y] [--text-field NAME[=WEIGHT]]...] "
       "[--sparse-field NAME[:DIM]]...",
       "creates a collection (retention: 100 versions and 7 days unless given)",
       {kCollection},
       {{"dim", "N",
         "the vectors' dimension (required; 0 or left out with --text-index or --sparse-field: no dense vectors)"},
        {"metric", "l2|ip|cosine", "the distance (default l2)"},
        {"m", "M", "HNSW links per node (default 16)"},
        {"ef-construction", "N", "HNSW build beam width (default 200)"},
        {"default-ef", "N", "search beam width when a query gives none (default 64)"},
        kKeepVersions,
        kKeepSeconds,
        {"text-index", "standard|english", "a full-text (BM25) index of the records' text, with this analyzer"},
        {"k1", "X", "BM25 term-frequency saturation, 0..3 (default 1.2)"},
        {"b", "Y", "BM25 length normalisation, 0..1 (default 0.75)"},
        {"text-field", "NAME[=WEIGHT]", "a string metadata field indexed beside the text, its terms counted WEIGHT (1..16, default 1) times (BM25F); repeatable"},
        {"sparse-field", "NAME[:DIM]", "a sparse-vector field (indices below DIM, default 2^31); repeatable"}},
       "verity collection create docs --dim 384 --metric cosine\n"
       "verity collection create notes --dim 0 --text-index english",
       CollectionCreate},
      {"collection list",
       "",
       "every collection: size, version, snapshots, oldest retained version",
       {},
       {},
       "verity collection list --json",
       CollectionList},
      {"collection get", "NAME", "one collection", {kCollection}, {}, "verity collection get docs", CollectionGet},
      {"collection text-index",
       "NAME --text-index standard|english [--k1 X] [--b Y] [--text-field NAME[=WEIGHT]]...",
       "changes the collection's full-text index, or adds one: a new analyzer version, every row analysed again",
       {kCollection},
       {{"text-index", "standard|english", "the analyzer preset"},
        {"k1", "X", "BM25 term-frequency saturation, 0..3 (default 1.2)"},
        {"b", "Y", "BM25 length normalisation, 0..1 (default 0.75)"},
        {"text-field", "NAME[=WEIGHT]", "a string metadata field indexed beside the text (BM25F); repeatable"}},
       "verity collection text-index notes --text-index english --k1 1.5",
       CollectionTextIndex},
      {"collection drop",
       "NAME",
       "removes a collection and its data",
       {kCollection},
       {},
       "verity collection drop docs",
       CollectionDrop},
      {"collection retention",
       "NAME [--keep-versions N] [--keep-seconds S]",
       "changes the retention (an option left out keeps its value); with neither, shows it",
       {kCollection},
       {kKeepVersions, kKeepSeconds},
       "verity collection retention docs --keep-versions 20 --keep-seconds 0",
       CollectionRetention},
      {"versions",
       "NAME",
       "every version: commit time, records written, readable or not, snapshots",
       {kCollection},
       {},
       "verity versions docs",
       Versions},
      {"gc",
       "NAME",
       "garbage-collects now: what was removed, size before and after",
       {kCollection},
       {},
       "verity gc docs",
       Gc},
  };
}

}  // namespace verity::cli
