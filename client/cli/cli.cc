#include "cli.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

#include "command_table.h"
#include "json_numbers.h"

namespace verity::cli {

// ----- Args ----------------------------------------------------------------------

const std::string& Args::Arg(size_t i) const {
  if (i < positional_.size()) return positional_[i];
  const ArgSpec* spec = nullptr;
  if (command_ && !command_->args.empty()) spec = &command_->args[std::min(i, command_->args.size() - 1)];
  return Arg(i, spec ? spec->name : "argument", spec ? spec->help : "");
}

const std::string& Args::Arg(size_t i, const std::string& name, const std::string& help) const {
  if (i < positional_.size()) return positional_[i];
  std::string message = "missing " + name + (help.empty() ? "" : " (" + help + ")");
  if (!command_) throw UsageError{message};
  throw UsageError{command_->words + ": " + message + "; usage: " + Usage(*command_), command_->words};
}

std::optional<std::string> Args::Option(const std::string& name) const {
  auto it = options_.find(name);
  if (it == options_.end()) return std::nullopt;
  return it->second;
}

uint64_t Args::Number(const std::string& name, uint64_t fallback) const {
  auto v = Option(name);
  if (!v) return fallback;
  return ParseNumber(*v, "--" + name);
}

uint64_t Args::NumberIn(const std::string& name, uint64_t fallback, uint64_t min, uint64_t max) const {
  const uint64_t n = Number(name, fallback);
  if (n < min || n > max) {
    throw UsageError{"--" + name + ": " + std::to_string(n) + " is out of range (" + std::to_string(min) + " to " +
                     std::to_string(max) + ")"};
  }
  return n;
}

uint32_t Args::Count32(const std::string& name) const {
  return static_cast<uint32_t>(NumberIn(name, 0, 0, UINT32_MAX));
}

uint64_t Args::ParseNumber(const std::string& text, const std::string& what) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
    throw UsageError{what + ": \"" + text + "\" is not a whole number"};
  }
  try {
    return std::stoull(text);
  } catch (const std::exception&) {
    throw UsageError{what + ": " + text + " is out of range"};
  }
}

ReadPoint Args::At() const {
  auto v = Option("at");
  if (!v) return ReadPoint();
  return Point(*v, "--at");
}

ReadPoint Args::Point(const std::string& text, const std::string& what) {
  if (text.empty()) throw UsageError{what + ": expected a version number or a snapshot name"};
  if (text.find_first_not_of("0123456789") != std::string::npos) return ReadPoint::AtSnapshot(text);
  try {
    return ReadPoint(static_cast<Version>(std::stoull(text)));
  } catch (const std::exception&) {
    throw UsageError{what + ": \"" + text + "\" is out of range"};
  }
}

int64_t Args::Time(const std::string& name) const {
  auto v = Option(name);
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
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
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

// ----- Option text and files -------------------------------------------------------

Result<std::string> ReadWholeFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(what + ": cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Result<std::optional<std::string>> TextOrFile(const Args& args, const std::string& command,
                                              const std::string& text_option, const std::string& file_option) {
  auto text = args.Option(text_option);
  auto file = args.Option(file_option);
  if (text && file) throw UsageError{command + " takes --" + text_option + " or --" + file_option + ", not both"};
  if (text) return std::optional<std::string>(*text);
  if (!file) return std::optional<std::string>();
  VERITY_ASSIGN_OR_RETURN(std::string content, ReadWholeFile(*file, "--" + file_option));
  return std::optional<std::string>(std::move(content));
}

Result<std::string> RequiredTextOrFile(const Args& args, const std::string& command, const std::string& text_option,
                                       const std::string& file_option) {
  VERITY_ASSIGN_OR_RETURN(std::optional<std::string> text, TextOrFile(args, command, text_option, file_option));
  if (!text) throw UsageError{command + " needs --" + text_option + " T or --" + file_option + " F"};
  return std::move(*text);
}

Result<std::vector<float>> VectorArg(const Args& args, const std::string& command) {
  std::optional<std::string> text;
  VERITY_ASSIGN_OR_RETURN(text, TextOrFile(args, command, "vector", "vector-file"));
  if (!text) throw UsageError{command + " needs --vector '[...]' or --vector-file FILE"};
  const Json parsed = ParseJson(*text);
  if (parsed.is_discarded() || !parsed.is_array()) throw UsageError{"the vector must be a JSON array of numbers"};
  std::vector<float> vector;
  if (Status converted = VectorFromJson(parsed, &vector); !converted.ok()) {
    throw UsageError{(args.Option("vector") ? "--vector: " : "--vector-file " + *args.Option("vector-file") + ": ") +
                     converted.message()};
  }
  return vector;
}

// ----- Output ------------------------------------------------------------------------

void PrintTable(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
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

void PrintResult(const Cli& cli, const Json& json, const std::string& text) {
  if (cli.json)
    std::cout << json.dump() << "\n";
  else
    std::cout << text << "\n";
}

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
  if (bytes < 1024)
    std::snprintf(text, sizeof(text), "%llu B", static_cast<unsigned long long>(bytes));
  else if (bytes < (1u << 20))
    std::snprintf(text, sizeof(text), "%.1f KiB", bytes / 1024.0);
  else if (bytes < (1u << 30))
    std::snprintf(text, sizeof(text), "%.1f MiB", bytes / 1048576.0);
  else
    std::snprintf(text, sizeof(text), "%.2f GiB", bytes / 1073741824.0);
  return text;
}

std::string Truncate(const std::string& s, size_t n) {
  std::string one_line = s;
  for (char& ch : one_line) {
    if (ch == '\n' || ch == '\t') ch = ' ';
  }
  return one_line.size() <= n ? one_line : one_line.substr(0, n - 3) + "...";
}

std::string DistanceText(float distance) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.6g", distance);
  return text;
}

std::string Fixed4(double x) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.4f", x);
  return text;
}

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

std::string Join(const std::vector<std::string>& list, const std::string& separator) {
  std::string out;
  for (const auto& item : list) out += (out.empty() ? "" : separator) + item;
  return out;
}

Json MetadataJson(const Metadata& metadata) {
  Json j = Json::object();
  for (const auto& [key, value] : metadata) {
    std::visit([&](const auto& x) { j[key] = x; }, value);
  }
  return j;
}

namespace {

// null without a text index.
Json TextIndexJson(const TextIndexConfig& t) {
  if (!t.enabled) return nullptr;
  const AnalyzerConfig& a = t.analyzer;
  Json fields = Json::object();
  for (const TextFieldConfig& f : t.fields) fields[f.name] = f.weight;
  return {{"analyzer",
           {{"preset", a.preset},
            {"case_fold", a.case_fold},
            {"ascii_fold", a.ascii_fold},
            {"stopwords", a.stopwords},
            {"stemmer", a.stemmer},
            {"max_term_bytes", a.max_term_bytes}}},
          {"k1", t.k1},
          {"b", t.b},
          {"analyzer_version", t.analyzer_version},
          {"fields", std::move(fields)}};
}

Json SparseFieldsJson(const std::vector<SparseFieldConfig>& fields) {
  Json out = Json::array();
  for (const auto& f : fields) out.push_back({{"name", f.name}, {"dimension", f.dimension}});
  return out;
}

// "english", "-" without a text index.
std::string TextIndexText(const TextIndexConfig& t) { return t.enabled ? t.analyzer.preset : "-"; }

// "splade:30522,bm42", "-" without sparse fields.
std::string SparseFieldsText(const std::vector<SparseFieldConfig>& fields) {
  std::vector<std::string> names;
  for (const auto& f : fields) names.push_back(f.name + ":" + std::to_string(f.dimension));
  return names.empty() ? "-" : Join(names, ",");
}

}  // namespace

Json CollectionJson(const CollectionInfo& c) {
  return {{"name", c.config.name},
          {"dimension", c.config.dimension},
          {"metric", MetricName(c.config.metric)},
          {"m", c.config.m},
          {"ef_construction", c.config.ef_construction},
          {"default_ef", c.config.default_ef},
          {"keep_versions", c.config.retention.keep_versions},
          {"keep_seconds", c.config.retention.keep_seconds},
          {"text_index", TextIndexJson(c.config.text_index)},
          {"sparse_fields", SparseFieldsJson(c.config.sparse_fields)},
          {"head_version", c.head_version},
          {"live_records", c.live_records},
          {"graph_nodes", c.graph_nodes},
          {"created_at_us", c.created_at_us},
          {"oldest_retained", c.oldest_retained},
          {"snapshots", c.snapshots},
          {"unavailable", c.unavailable}};
}

void PrintCollections(const Cli& cli, const std::vector<CollectionInfo>& all) {
  auto row = [](const CollectionInfo& c) -> std::vector<std::string> {
    const bool damaged = !c.unavailable.empty();
    return {c.config.name,
            std::to_string(c.config.dimension),
            MetricName(c.config.metric),
            damaged ? "UNAVAILABLE" : std::to_string(c.live_records),
            std::to_string(c.head_version),
            std::to_string(c.config.m),
            std::to_string(c.config.ef_construction),
            damaged ? "-" : std::to_string(c.snapshots),
            damaged ? "-" : std::to_string(c.oldest_retained),
            TextIndexText(c.config.text_index),
            SparseFieldsText(c.config.sparse_fields)};
  };
  PrintListing(cli, all, CollectionJson,
               {"NAME", "DIM", "METRIC", "RECORDS", "VERSION", "M", "EF_CONSTRUCTION", "SNAPSHOTS", "OLDEST_RETAINED",
                "TEXT_INDEX", "SPARSE_FIELDS"},
               row);
  if (cli.json) return;
  // Why, below the table (the error names a file: too long for a column).
  for (const CollectionInfo& c : all) {
    if (c.unavailable.empty()) continue;
    std::cout << c.config.name << " is UNAVAILABLE: " << c.unavailable
              << "\n  (drop it, or import it again from an export: verity snapshot import EXPORT --replace)\n";
  }
}

// ----- ByteProgress ------------------------------------------------------------------

ProgressFunction ByteProgress::Function() {
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

void ByteProgress::Complete() {
  if (shown_) Function()(total_, total_);
}

void ByteProgress::Done() {
  if (shown_) std::fputs("\n", stderr);
  shown_ = false;
}

}  // namespace verity::cli
