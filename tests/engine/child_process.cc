#include "engine/child_process.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

namespace verity::test {

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !waited_) {
    ::kill(pid_, SIGKILL);
    Wait();
  }
  CloseOutput();
}

bool ChildProcess::Start(const std::string& path, const std::vector<std::string>& args, const ChildOptions& options) {
  // Everything the child needs is built before the fork: between fork and
  // exec it only rewires descriptors, sets the environment and execs.
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(path.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  int fds[2] = {-1, -1};
  if (options.read_stdout && pipe(fds) != 0) return false;
  const pid_t pid = fork();
  if (pid < 0) {
    if (options.read_stdout) {
      close(fds[0]);
      close(fds[1]);
    }
    return false;
  }
  if (pid == 0) {
    if (options.read_stdout) {
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      close(fds[1]);
    }
    for (const auto& [name, value] : options.env) setenv(name.c_str(), value.c_str(), 1);
    execv(path.c_str(), argv.data());
    _exit(127);
  }
  pid_ = pid;
  waited_ = false;
  if (options.read_stdout) {
    close(fds[1]);
    out_ = fdopen(fds[0], "r");
  }
  return true;
}

void ChildProcess::CloseOutput() {
  if (out_ != nullptr) std::fclose(out_);
  out_ = nullptr;
}

void ChildProcess::Kill() const {
  if (pid_ > 0 && !waited_) ::kill(pid_, SIGKILL);
}

std::optional<int> ChildProcess::Wait() {
  int status = 0;
  const bool reaped = pid_ > 0 && waitpid(pid_, &status, 0) == pid_;
  waited_ = true;
  if (!reaped) return std::nullopt;
  return status;
}

}  // namespace verity::test
