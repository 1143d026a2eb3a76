#include "command_table.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <set>
#include <sstream>

namespace verity::cli {
namespace {

struct Group {
  const char* title;
  std::vector<Command> (*commands)();
};

constexpr Group kGroups[] = {
    {"collections", CollectionCommands}, {"records", RecordCommands},     {"snapshots", SnapshotCommands},
    {"context", ContextCommands},        {"retrieval log", LogCommands},  {"audit", AuditCommands},
    {"prompts", PromptCommands},         {"answer cache", CacheCommands},  {"monitoring", MonitorCommands},
};

// Options every command takes (main reads them before the command's).
const char* const kGlobalSwitches[] = {"json", "help", "tls"};

constexpr size_t kWidth = 100;  // of the usage text

constexpr char kOverviewHead[] =
    "usage: verity [--addr HOST:PORT] [--json] [--timeout-ms N] <command> ...\n"
    "       verity <command> --help      that command's arguments, options and an example\n";

constexpr char kOverviewTail[] =
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

std::vector<std::string> SplitWords(const std::string& text) {
  std::istringstream split(text);
  return {std::istream_iterator<std::string>(split), {}};
}

// The synopsis split at the spaces outside brackets, parentheses and quotes:
// "[--metric l2|ip|cosine]" and "(--vector '[...]' | --vector-file FILE)"
// stay whole when the usage is wrapped.
std::vector<std::string> SynopsisTokens(const std::string& synopsis) {
  std::vector<std::string> tokens;
  std::string token;
  int depth = 0;
  bool quoted = false;
  for (char c : synopsis) {
    if (c == '\'') quoted = !quoted;
    if (!quoted && (c == '[' || c == '(')) ++depth;
    if (!quoted && (c == ']' || c == ')')) --depth;
    if (c == ' ' && depth == 0 && !quoted) {
      if (!token.empty()) tokens.push_back(token);
      token.clear();
    } else {
      token += c;
    }
  }
  if (!token.empty()) tokens.push_back(token);
  return tokens;
}

// `prefix`, the words and the synopsis, wrapped at kWidth; continuation
// lines start under the synopsis. A synopsis of several forms ("audit ID ...\n
// audit --collection NAME ...") has a line for each, the later ones starting
// with their own words.
std::string Wrapped(const std::string& first_prefix, const std::string& next_prefix, const Command& c) {
  std::string out;
  std::istringstream forms(c.words + " " + c.synopsis);
  for (std::string form; std::getline(forms, form);) {
    const std::string& prefix = out.empty() ? first_prefix : next_prefix;
    const std::string indent(prefix.size() + c.words.size() + 1, ' ');
    std::string line = prefix;
    if (!out.empty()) out += "\n";
    out += prefix;
    bool first = true;
    for (const std::string& token : SynopsisTokens(form)) {
      if (!first && line.size() + 1 + token.size() > kWidth && line.size() > indent.size()) {
        out += "\n" + indent + token;
        line = indent + token;
      } else {
        out += (first ? "" : " ") + token;
        line += (first ? "" : " ") + token;
      }
      first = false;
    }
  }
  return out;
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

std::set<std::string> OptionNames(const Command& c) {
  std::set<std::string> names;
  for (const OptionSpec& o : c.options) names.insert(o.name);
  return names;
}

// The commands of the group `word` ("snapshot create", ...).
std::vector<const Command*> GroupCommands(const std::string& word) {
  std::vector<const Command*> found;
  for (const Command& c : Commands()) {
    if (c.words.rfind(word + " ", 0) == 0) found.push_back(&c);
  }
  return found;
}

std::string OptionName(const OptionSpec& o) { return (o.name.size() == 1 ? "-" : "--") + o.name; }

}  // namespace

size_t Command::MaxArgs() const {
  if (!args.empty() && args.back().name.size() > 3 && args.back().name.substr(args.back().name.size() - 3) == "...") {
    return SIZE_MAX;
  }
  return args.size();
}

bool Command::TakesOption(const std::string& name) const {
  return std::any_of(options.begin(), options.end(), [&](const OptionSpec& o) { return o.name == name; });
}

const std::vector<Command>& Commands() {
  static const std::vector<Command> all = [] {
    std::vector<Command> out;
    for (const Group& g : kGroups) {
      for (Command& c : g.commands()) out.push_back(std::move(c));
    }
    return out;
  }();
  return all;
}

const Command* FindCommand(const std::vector<std::string>& words) {
  for (const Command& c : Commands()) {
    const std::vector<std::string> command_words = SplitWords(c.words);
    if (words.size() >= command_words.size() && std::equal(command_words.begin(), command_words.end(), words.begin())) {
      return &c;
    }
  }
  return nullptr;
}

bool IsGroup(const std::string& word) { return !GroupCommands(word).empty(); }

bool IsRepeatable(const std::string& name) { return name == "sparse-field" || name == "text-field"; }

bool IsSwitch(const std::string& name) {
  for (const char* global : kGlobalSwitches) {
    if (name == global) return true;
  }
  for (const Command& c : Commands()) {
    for (const OptionSpec& o : c.options) {
      if (o.name == name && o.value.empty()) return true;
    }
  }
  return false;
}

void CheckCommandLine(const Command* command, const std::vector<std::string>& words,
                      const std::map<std::string, std::string>& options) {
  if (command) {
    const std::set<std::string> known = OptionNames(*command);
    for (const auto& [name, value] : options) {
      if (!known.count(name)) throw UsageError{command->words + " takes no option --" + name + DidYouMean(name, known)};
    }
    const size_t first_arg = SplitWords(command->words).size();
    const size_t max_args = command->MaxArgs();
    if (max_args != SIZE_MAX && words.size() - first_arg > max_args) {
      throw UsageError{command->words + ": unexpected argument \"" + words[first_arg + max_args] + "\""};
    }
    return;
  }
  std::set<std::string> every_option;
  for (const Command& c : Commands()) {
    const std::set<std::string> names = OptionNames(c);
    every_option.insert(names.begin(), names.end());
  }
  for (const auto& [name, value] : options) {
    if (!every_option.count(name)) throw UsageError{"unknown option --" + name + DidYouMean(name, every_option)};
  }
}

void ThrowNoCommand(const std::vector<std::string>& words) {
  const std::string& first = words.at(0);
  if (!IsGroup(first)) throw UsageError{"unknown command \"" + first + "\""};
  if (words.size() > 1) throw UsageError{"unknown " + first + " subcommand \"" + words[1] + "\"", first};
  std::vector<std::string> subcommands;
  for (const Command* c : GroupCommands(first)) subcommands.push_back(c->words.substr(first.size() + 1));
  throw UsageError{"missing " + first + " subcommand (" + Join(subcommands, ", ") + ")", first};
}

std::string Usage(const Command& command) {
  const std::string first_form = command.synopsis.substr(0, command.synopsis.find('\n'));
  return "verity " + command.words + (first_form.empty() ? "" : " " + first_form);
}

std::string Overview() {
  std::string out = kOverviewHead;
  for (const Group& g : kGroups) {
    out += std::string("\n") + g.title + ":\n";
    for (const Command& c : g.commands()) {
      std::string entry = Wrapped("  ", "  ", c);
      const size_t last_line = entry.size() - (entry.rfind('\n') == std::string::npos ? 0 : entry.rfind('\n') + 1);
      // The summary beside the synopsis when it fits, else under it (indented
      // deeper than a command, so that it never reads as one).
      constexpr size_t kSummaryColumn = 48;
      if (last_line + 2 <= kSummaryColumn) {
        entry += std::string(kSummaryColumn - last_line, ' ') + c.summary;
      } else {
        entry += "\n" + std::string(kSummaryColumn, ' ') + c.summary;
      }
      out += entry + "\n";
    }
  }
  return out + kOverviewTail;
}

std::string CommandHelp(const Command& command) {
  std::string out = Wrapped("usage: verity ", "       verity ", command) + "\n\n" + command.summary + "\n";
  auto column = [](const std::vector<std::pair<std::string, std::string>>& rows) {
    size_t width = 0;
    for (const auto& [left, right] : rows) width = std::max(width, left.size());
    std::string text;
    for (const auto& [left, right] : rows)
      text += "  " + left + std::string(width - left.size() + 3, ' ') + right + "\n";
    return text;
  };
  if (!command.args.empty()) {
    std::vector<std::pair<std::string, std::string>> rows;
    for (const ArgSpec& a : command.args) rows.emplace_back(a.name, a.help);
    out += "\narguments:\n" + column(rows);
  }
  if (!command.options.empty()) {
    std::vector<std::pair<std::string, std::string>> rows;
    for (const OptionSpec& o : command.options) {
      rows.emplace_back(OptionName(o) + (o.value.empty() ? "" : " " + o.value), o.help);
    }
    out += "\noptions:\n" + column(rows);
  }
  out += "\nexample:\n";
  std::istringstream lines(command.example);
  for (std::string line; std::getline(lines, line);) out += "  " + line + "\n";
  return out + "\nglobal options (--addr, --json, --timeout-ms, TLS, API key): verity --help\n";
}

std::string GroupHelp(const std::string& group) {
  std::string out = "usage: verity " + group + " <subcommand> ...\n\n";
  for (const Command* c : GroupCommands(group)) {
    out += Wrapped("  ", "  ", *c) + "\n      " + c->summary + "\n";
  }
  return out + "\nverity " + group + " <subcommand> --help: its arguments, options and an example\n";
}

}  // namespace verity::cli
