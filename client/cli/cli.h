// Shared pieces of the `verity` command-line client: the parsed arguments of
// one command (Args), what a command runs with (Cli), usage errors, and the
// helpers every command group uses: reading an option's text or its file,
// query vectors, times, and output as a table or as JSON. The commands are
// in commands_*.cc, listed by command_table.h; main.cc parses the global
// options and runs one. Single-threaded: the CLI runs one command and exits.
#pragma once

#include <cstdint>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "verity/client.h"

namespace verity::cli {

using Json = nlohmann::json;

struct Command;

// A mistake in the command line, found before anything is sent. main prints
// "verity: MESSAGE (see verity --help)" ("see verity COMMAND --help" when
// `help_command` is set) and exits with 2.
struct UsageError {
  UsageError(std::string message, std::string help_command = "")
      : message(std::move(message)), help_command(std::move(help_command)) {}
  std::string message;
  std::string help_command;  // "import"; "" for the overview
};

// What a command runs with: the connection and the output mode.
struct Cli {
  Client* client;
  bool json;  // --json: one JSON document on stdout instead of a table
};

// A command's arguments after its words: positionals and --name value
// options (already checked against the command's table entry).
class Args {
 public:
  // `command` (not owned) must outlive the Args.
  Args(const Command* command, std::vector<std::string> positional, std::map<std::string, std::string> options)
      : command_(command), positional_(std::move(positional)), options_(std::move(options)) {}

  // Positional argument i. When absent, throws UsageError "import: missing
  // FILE (a JSON Lines or .fvecs file); usage: verity import NAME FILE ..."
  // naming the argument from the command's table entry.
  const std::string& Arg(size_t i) const;
  // The same for an argument whose place depends on an option (snapshot
  // export --all): `name` and `help` name it.
  const std::string& Arg(size_t i, const std::string& name, const std::string& help) const;
  size_t size() const { return positional_.size(); }
  const std::vector<std::string>& positional() const { return positional_; }

  std::optional<std::string> Option(const std::string& name) const;
  bool Flag(const std::string& name) const { return options_.count(name) > 0; }
  // A whole number option (digits only: "-1" is refused, not wrapped);
  // `fallback` when absent.
  uint64_t Number(const std::string& name, uint64_t fallback) const;
  // Number, refused outside [min, max] with a message naming the option.
  uint64_t NumberIn(const std::string& name, uint64_t fallback, uint64_t min, uint64_t max) const;
  // A 32-bit count option (--budget, --prompt-tokens, ...); absent = 0.
  uint32_t Count32(const std::string& name) const;
  // --at: the head when absent.
  ReadPoint At() const;
  // --since / --until: RFC 3339 in UTC ("2026-11-27T10:00:00Z", optionally
  // with a fraction of a second; "+00:00" also accepted) or Unix seconds, as
  // Unix microseconds; 0 when absent.
  int64_t Time(const std::string& name) const;

  static uint64_t ParseNumber(const std::string& text, const std::string& what);
  // A read point as typed: a string of digits is a version, anything else a
  // snapshot name.
  static ReadPoint Point(const std::string& text, const std::string& what);

 private:
  const Command* command_;
  std::vector<std::string> positional_;
  std::map<std::string, std::string> options_;
};

// The text of an option given inline or in a file: `--TEXT_OPTION T` or
// `--FILE_OPTION F` (the file's whole content). nullopt when neither is given;
// UsageError "COMMAND takes --T or --F, not both" when both are; NotFound
// naming the option when the file cannot be read.
Result<std::optional<std::string>> TextOrFile(const Args& args, const std::string& command,
                                              const std::string& text_option, const std::string& file_option);
// The same, required: UsageError "COMMAND needs --T T or --F F" when neither is given.
Result<std::string> RequiredTextOrFile(const Args& args, const std::string& command, const std::string& text_option,
                                       const std::string& file_option);
// The whole file as a string; NotFound naming `what` if it cannot be read.
Result<std::string> ReadWholeFile(const std::string& path, const std::string& what);
// The query vector of `command`: --vector '[...]' or --vector-file FILE;
// UsageError naming the option for anything but a JSON array of floats.
Result<std::vector<float>> VectorArg(const Args& args, const std::string& command);

// A float option's value (--k1, --weights' numbers): UsageError naming
// `what` for anything but a finite number.
float ParseFloatOption(const std::string& text, const std::string& what);
// A fraction option (--threshold, --low-g) as a double; `fallback` when
// absent. UsageError naming the option for anything but a number; the range
// is the server's to check (INVALID_ARGUMENT names the field).
double FractionArg(const Args& args, const std::string& name, double fallback);

// The text and sparse legs of a search or retrieval, and their fusion
// (query_legs.cc): --text T, --sparse-field F with --sparse JSON, --fusion
// rrf|convex, --rrf-k N, --weights dense=W,text=W,sparse=W, --leg-limit N.
struct QueryLegs {
  std::string text;
  std::string sparse_field;
  SparseVector sparse;
  FusionConfig fusion;
  bool any() const { return !text.empty() || !sparse_field.empty(); }
};
// UsageError naming the option for a bad value (an unknown --fusion, a
// --weights that is not NAME=WEIGHT,..., --sparse that is not a sparse
// vector, --sparse-field without --sparse).
QueryLegs LegArgs(const Args& args);

// Which legs a hybrid result shows: those that found at least one hit.
struct UsedLegs {
  bool dense = false;
  bool text = false;
  bool sparse = false;
  bool any() const { return dense || text || sparse; }
};
// A leg of a hit in JSON: {"rank": from 1, "score": S}, both null when the
// leg did not find it.
Json LegJson(const LegScore& leg);
// In a table: "#3 0.8125" (rank from 1, then the leg's score or distance),
// "-" when the leg did not find the hit.
std::string LegText(const LegScore& leg);

// ----- Output ------------------------------------------------------------------

// Prints rows as an aligned table with a header.
void PrintTable(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

// The table-or-JSON output of a list: with --json one JSON array of
// to_json(item), else a table of `header` and to_row(item) per item.
template <typename T, typename ToJson, typename ToRow>
void PrintListing(const Cli& cli, const std::vector<T>& items, ToJson to_json, const std::vector<std::string>& header,
                  ToRow to_row) {
  if (cli.json) {
    Json out = Json::array();
    for (const T& item : items) out.push_back(to_json(item));
    std::cout << out.dump() << "\n";
    return;
  }
  std::vector<std::vector<std::string>> rows;
  rows.reserve(items.size());
  for (const T& item : items) rows.push_back(to_row(item));
  PrintTable(header, rows);
}

// The output of a command with one result: `json` with --json, else `text`
// (a newline is added).
void PrintResult(const Cli& cli, const Json& json, const std::string& text);

// Unix microseconds as "YYYY-MM-DD HH:MM:SS" UTC.
std::string TimeText(int64_t us);
// "512 B", "1.5 KiB", "2.0 MiB", "1.25 GiB".
std::string BytesText(uint64_t bytes);
// `s` on one line, cut to `n` characters ("..." at the end when cut).
std::string Truncate(const std::string& s, size_t n);
// "%.6g".
std::string DistanceText(float distance);
// Fixed 4 decimals, as the groundedness scorer's canonical JSON writes its
// floats (the CLI never calls setlocale, so the decimal point is '.').
std::string Fixed4(double x);
// `list` joined with `separator`.
std::string Join(const std::vector<std::string>& list, const std::string& separator);

Json MetadataJson(const Metadata& metadata);
Json CollectionJson(const CollectionInfo& c);
// Collections as a table (a damaged one's error below it) or a JSON array.
void PrintCollections(const Cli& cli, const std::vector<CollectionInfo>& all);

// A progress bar on stderr for byte transfers (export, import); inactive
// unless stderr is a terminal and the output is not --json.
class ByteProgress {
 public:
  explicit ByteProgress(bool active) : active_(active) {}
  ~ByteProgress() { Done(); }
  ByteProgress(const ByteProgress&) = delete;
  ByteProgress& operator=(const ByteProgress&) = delete;
  // The callback to hand the client; nullptr when inactive.
  ProgressFunction Function();
  // Draws the bar full (when it was shown), after the result arrived.
  void Complete();
  void Done();

 private:
  bool active_;
  bool shown_ = false;
  uint64_t total_ = 0;
};

}  // namespace verity::cli
