// Test helper: a helper binary (the crash writer, the kill child) run as a
// child process, its stdout read by the test through a pipe.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace verity::test {

struct ChildOptions {
  // Set in the child's environment only, e.g. {"VERITY_KILL_POINT", point}.
  std::vector<std::pair<std::string, std::string>> env;
  // Pipe the child's stdout to ChildProcess::output(); otherwise the child
  // writes to the test's own stdout.
  bool read_stdout = true;
};

// One child process, started once. Thread-safety: Kill() may be called from
// another thread while this one reads output(); everything else belongs to
// the thread that owns the object. The destructor SIGKILLs and reaps a child
// not yet waited for (a failed REQUIRE leaves no process behind) and closes
// the pipe.
class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Forks and runs `path` with `args` as argv[1..]. Returns false if the
  // pipe or the fork failed; a child that cannot exec exits with 127.
  bool Start(const std::string& path, const std::vector<std::string>& args, const ChildOptions& options);
  bool Start(const std::string& path, const std::vector<std::string>& args) {
    return Start(path, args, ChildOptions());
  }

  pid_t pid() const { return pid_; }
  // The child's stdout, to read with fgets; null without read_stdout.
  FILE* output() const { return out_; }
  // Closes output(); the child's later writes then fail (SIGPIPE).
  void CloseOutput();
  // Sends SIGKILL to the child, unless it was already waited for.
  void Kill() const;
  // Waits for the child to end; its wait status (WIFSIGNALED...), or nullopt
  // if waitpid failed. Once only.
  std::optional<int> Wait();

 private:
  pid_t pid_ = -1;
  std::atomic<bool> waited_{false};
  FILE* out_ = nullptr;
};

}  // namespace verity::test
