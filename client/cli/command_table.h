// The table of the `verity` CLI's commands: one entry per command with its
// words, synopsis, arguments, options (each with a line of help), an example
// and the function that runs it. main looks a command line up here, checks
// its options and argument count against the entry before anything is sent
// (a mistyped --filer for --filter is refused, not ignored), and prints
// `verity --help` (every synopsis) and `verity COMMAND --help` (one entry)
// from it. Each commands_*.cc contributes its group's entries.
//
// Built once on first use; read-only after that (the CLI is single-threaded).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cli.h"

namespace verity::cli {

struct OptionSpec {
  std::string name;   // without "--" ("k" is also written -k)
  std::string value;  // what follows it ("N", "POINT"); "" for a switch
  std::string help;   // one line
};

struct ArgSpec {
  std::string name;  // "FILE"; a name ending in "..." takes one or more
  std::string help;  // "a JSON Lines or .fvecs file"
};

using Handler = Status (*)(const Cli& cli, const Args& args);

struct Command {
  std::string words;     // "snapshot export"
  std::string synopsis;  // what follows the words in the usage: "NAME EXPORT_NAME [--at POINT]"
  std::string summary;   // what it does, one line
  std::vector<ArgSpec> args;
  std::vector<OptionSpec> options;
  std::string example;  // one or more "verity ..." lines
  Handler run = nullptr;

  // The most positional arguments it takes after its words (SIZE_MAX: no bound).
  size_t MaxArgs() const;
  bool TakesOption(const std::string& name) const;
};

// The groups, in the order `verity --help` lists them (commands_*.cc).
std::vector<Command> CollectionCommands();
std::vector<Command> RecordCommands();
std::vector<Command> SnapshotCommands();
std::vector<Command> ContextCommands();
std::vector<Command> LogCommands();
std::vector<Command> AuditCommands();
std::vector<Command> PromptCommands();
std::vector<Command> CacheCommands();
std::vector<Command> MonitorCommands();

// `verity audit --flags [COLLECTION]` (commands_monitor.cc), run by audit
// (commands_audit.cc) when --flags is given.
Status AuditFlags(const Cli& cli, const Args& args);

// The options of a query's text and sparse legs and their fusion, shared by
// search and retrieve (query_legs.cc).
std::vector<OptionSpec> LegOptions();

// Options that may be given more than once (collection create's
// --sparse-field): main joins their values with '\n'; the others keep the
// last one given.
bool IsRepeatable(const std::string& name);

// Every command, in the order above.
const std::vector<Command>& Commands();

// The command whose words start `words` (the command line's positional
// words, the command first), or nullptr.
const Command* FindCommand(const std::vector<std::string>& words);

// Whether `word` is the first word of a command with a subcommand
// ("collection", "snapshot", "log", "prompt", "cache").
bool IsGroup(const std::string& word);

// For a command of the table, throws UsageError for an option it does not
// take or an argument beyond those it takes; with no command (or an unknown
// one), for an option no command takes. Other mistakes (a missing argument,
// an unknown command) are the caller's to name.
void CheckCommandLine(const Command* command, const std::vector<std::string>& words,
                      const std::map<std::string, std::string>& options);

// Options that take no value (the table's switches and the global ones).
bool IsSwitch(const std::string& name);

// Throws the UsageError for a command line that names no command of the
// table: "unknown command", or a group's missing / unknown subcommand.
[[noreturn]] void ThrowNoCommand(const std::vector<std::string>& words);

// `verity --help`: the global options and every command's synopsis.
std::string Overview();
// `verity COMMAND --help`: its synopsis, arguments, options and example.
std::string CommandHelp(const Command& command);
// `verity GROUP --help`: the synopses of the group's commands.
std::string GroupHelp(const std::string& group);
// "verity import NAME FILE [--batch N]".
std::string Usage(const Command& command);

}  // namespace verity::cli
