// verity: the command-line client of verityd. `verity --help` lists the
// commands, `verity COMMAND --help` shows one (command_table.h); docs/cli.md
// has examples. Human-readable tables by default, --json for machine-readable
// output. Exit code 0 on success; otherwise 1 with one line "verity: CODE:
// message" on stderr (2 for usage errors).
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "address.h"
#include "cli.h"
#include "command_table.h"

namespace verity::cli {
namespace {

// A command line split into positional words and --name value options.
struct CommandLine {
  std::vector<std::string> positional;
  std::map<std::string, std::string> named;
};

CommandLine Parse(int argc, char** argv) {
  CommandLine line;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-k") arg = "--k";
    if (arg.rfind("--", 0) != 0 || arg.size() <= 2) {
      line.positional.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2), value;
    const auto eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      if (IsSwitch(name)) {
        // --json=true / --tls=false: an explicit switch, nothing else.
        if (value != "true" && value != "false") {
          throw UsageError{"--" + name + " takes no value, or =true / =false; got \"" + value + "\""};
        }
        if (value == "false") {
          line.named.erase(name);
          continue;
        }
        value.clear();
      }
    } else if (!IsSwitch(name)) {
      if (i + 1 >= argc) throw UsageError{"--" + name + " needs a value"};
      value = argv[++i];
    }
    if (IsRepeatable(name) && line.named.count(name)) {
      line.named[name] += "\n" + value;
    } else {
      line.named[name] = value;
    }
  }
  return line;
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

// Takes the global options out of `named` into the client's options.
ClientOptions GlobalOptions(std::map<std::string, std::string>* named) {
  ClientOptions options;
  if (const char* env = std::getenv("VERITY_ADDR")) options.address = env;
  if (named->count("addr")) options.address = (*named)["addr"];
  if (named->count("timeout-ms")) {
    const uint64_t ms = Args::ParseNumber((*named)["timeout-ms"], "--timeout-ms");
    if (ms == 0 || ms > 86400000) {
      throw UsageError{"--timeout-ms: " + std::to_string(ms) + " is out of range (1 to 86400000)"};
    }
    options.timeout = std::chrono::milliseconds(ms);
  }
  if (const char* env = std::getenv("VERITY_API_KEY")) options.api_key = env;
  if (named->count("api-key-file")) options.api_key = ReadApiKey((*named)["api-key-file"]);
  options.tls = named->count("tls") > 0;
  if (named->count("tls-ca")) options.tls_ca_file = (*named)["tls-ca"];
  if (named->count("tls-cert")) options.tls_cert_file = (*named)["tls-cert"];
  if (named->count("tls-key")) options.tls_key_file = (*named)["tls-key"];
  for (const char* global : {"json", "addr", "timeout-ms", "api-key-file", "tls", "tls-ca", "tls-cert", "tls-key"}) {
    named->erase(global);
  }
  // A gRPC target with a scheme (dns:///h:p, ipv4:..., unix:...) is gRPC's
  // to read; a plain HOST:PORT is checked here, so that "host:99999" is a
  // usage error, not a resolver's message.
  const std::string& addr = options.address;
  const bool has_scheme = addr.find("://") != std::string::npos || addr.rfind("ipv4:", 0) == 0 ||
                          addr.rfind("ipv6:", 0) == 0 || addr.rfind("dns:", 0) == 0;
  if (std::string error = wire::AddressError(addr, "--addr", false); !has_scheme && !error.empty()) {
    throw UsageError{error};
  }
  return options;
}

// `verity --help`, `verity help [COMMAND]`, `verity COMMAND --help`: the
// overview, a group's commands or one command's help on stdout.
void PrintHelp(std::vector<std::string> words) {
  if (!words.empty() && words[0] == "help") words.erase(words.begin());
  if (words.empty()) {
    std::cout << Overview();
  } else if (const Command* command = FindCommand(words)) {
    std::cout << CommandHelp(*command);
  } else if (IsGroup(words[0]) && words.size() == 1) {
    std::cout << GroupHelp(words[0]);
  } else {
    ThrowNoCommand(words);
  }
}

int Run(int argc, char** argv) {
  CommandLine line = Parse(argc, argv);
  if (line.named.count("help") || (!line.positional.empty() && line.positional[0] == "help")) {
    PrintHelp(line.positional);
    return 0;
  }
  const bool json = line.named.count("json") > 0;
  const ClientOptions options = GlobalOptions(&line.named);
  const Command* command = FindCommand(line.positional);
  CheckCommandLine(command, line.positional, line.named);
  if (line.positional.empty()) {
    std::cout << Overview();
    return 2;
  }
  if (!command) ThrowNoCommand(line.positional);
  if (!options.api_key.empty() && !options.tls && options.tls_ca_file.empty() &&
      !wire::IsLocalAddress(options.address)) {
    std::cerr << "verity: warning: sending an API key without TLS to " << options.address
              << "; anyone on the network path can read it (use --tls or --tls-ca FILE)\n";
  }
  Client client(options);
  const size_t words = std::count(command->words.begin(), command->words.end(), ' ') + 1;
  std::vector<std::string> positional(line.positional.begin() + words, line.positional.end());
  const Status status = command->run(Cli{&client, json}, Args(command, std::move(positional), std::move(line.named)));
  if (!status.ok()) {
    std::cerr << "verity: " << status.ToString() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace verity::cli

int main(int argc, char** argv) {
  try {
    return verity::cli::Run(argc, argv);
  } catch (const verity::cli::UsageError& e) {
    const std::string help = e.help_command.empty() ? "verity --help" : "verity " + e.help_command + " --help";
    std::cerr << "verity: " << e.message << " (see " << help << ")\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "verity: " << e.what() << "\n";
    return 2;
  }
}
