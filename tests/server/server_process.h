// Test helper: runs the real verityd binary on a free loopback port.
#pragma once

#include "engine/test_data.h"

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace verity::test {

// A free TCP port on 127.0.0.1 (bound and released; small race accepted).
int FreePort();

class ServerProcess {
 public:
  // Starts verityd --data data_dir --listen 127.0.0.1:<free port> plus
  // `extra` flags, with stderr in `log_path`, and waits (up to 30 s) until
  // its health service answers SERVING. Returns nullptr if it exits first;
  // *exit_code then holds its exit status. `credentials`: how channel()
  // connects (default plaintext; a TLS server needs TLS credentials).
  // When the port it picked was taken meanwhile (exit code 3, and no
  // --listen in `extra`), it tries another, up to five times.
  static std::unique_ptr<ServerProcess> Start(const std::string& data_dir, const std::string& log_path,
                                              const std::vector<std::string>& extra = {}, int* exit_code = nullptr,
                                              std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr);
  ~ServerProcess();

  const std::string& address() const { return address_; }
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  pid_t pid() const { return pid_; }

  // Sends `signal` and waits; returns the exit code (or 128 + signal).
  int Stop(int signal);

 private:
  static std::unique_ptr<ServerProcess> StartOnce(const std::string& data_dir, const std::string& log_path,
                                                  const std::vector<std::string>& extra, int* exit_code,
                                                  std::shared_ptr<grpc::ChannelCredentials> credentials);
  pid_t pid_ = -1;
  std::string address_;
  std::shared_ptr<grpc::Channel> channel_;
};

// Runs verityd with `args` to completion; returns its exit code.
int RunVerityd(const std::vector<std::string>& args, const std::string& log_path);

std::string ReadFile(const std::string& path);

// One run of the `verity` CLI (VERITY_CLI_PATH): exit code, stdout, stderr.
struct CliRun {
  int code;
  std::string out;
  std::string err;
};
// Runs the CLI against `addr` with `args` (shell-quoted by the caller); its
// output goes through files in `dir`.
CliRun RunCli(const TempDir& dir, const std::string& addr, const std::string& args);

}  // namespace verity::test
