#include "server/server_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"

namespace verity::test {
namespace {

pid_t Spawn(const std::vector<std::string>& args, const std::string& log_path) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, STDERR_FILENO);
      dup2(fd, STDOUT_FILENO);
    }
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(VERITYD_PATH));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(VERITYD_PATH, argv.data());
    _exit(127);
  }
  return pid;
}

int ExitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

std::unique_ptr<ServerProcess> ServerProcess::Start(const std::string& data_dir, const std::string& log_path,
                                                    const std::vector<std::string>& extra, int* exit_code,
                                                    std::shared_ptr<grpc::ChannelCredentials> credentials) {
  // FreePort's port can be taken by another process before verityd binds
  // it (tests run in parallel): verityd then exits with 3 (a taken port),
  // and a new port is tried. A --listen the test gave is not retried.
  const bool own_port = std::find(extra.begin(), extra.end(), "--listen") == extra.end();
  for (int attempt = 1;; ++attempt) {
    int code = 0;
    auto server = StartOnce(data_dir, log_path, extra, &code, credentials);
    if (server || !own_port || code != 3 || attempt == 5) {
      if (exit_code) *exit_code = code;
      return server;
    }
  }
}

std::unique_ptr<ServerProcess> ServerProcess::StartOnce(const std::string& data_dir, const std::string& log_path,
                                                        const std::vector<std::string>& extra, int* exit_code,
                                                        std::shared_ptr<grpc::ChannelCredentials> credentials) {
  auto server = std::unique_ptr<ServerProcess>(new ServerProcess());
  // A --listen in `extra` wins (e.g. 0.0.0.0:PORT); the test connects to
  // its port on 127.0.0.1.
  std::vector<std::string> args = {"--data", data_dir};
  const auto listen = std::find(extra.begin(), extra.end(), "--listen");
  if (listen != extra.end() && listen + 1 != extra.end()) {
    const std::string& value = *(listen + 1);
    server->address_ = value.rfind("unix:", 0) == 0 ? value : "127.0.0.1:" + value.substr(value.rfind(':') + 1);
  } else {
    server->address_ = "127.0.0.1:" + std::to_string(FreePort());
    args.insert(args.end(), {"--listen", server->address_});
  }
  args.insert(args.end(), extra.begin(), extra.end());
  const size_t log_start = ReadFile(log_path).size();
  server->pid_ = Spawn(args, log_path);
  // Connect only once the server says it listens: a connection refused
  // earlier would put the channel into gRPC's reconnect backoff.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (ReadFile(log_path).find("\"event\":\"start\"", log_start) == std::string::npos) {
    int status = 0;
    if (waitpid(server->pid_, &status, WNOHANG) == server->pid_) {
      if (exit_code) *exit_code = ExitCode(status);
      server->pid_ = -1;
      return nullptr;
    }
    if (std::chrono::steady_clock::now() > deadline) return nullptr;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  grpc::ChannelArguments channel_args;
  channel_args.SetMaxReceiveMessageSize(256 << 20);
  channel_args.SetMaxSendMessageSize(256 << 20);
  server->channel_ = grpc::CreateCustomChannel(
      server->address_, credentials ? credentials : grpc::InsecureChannelCredentials(), channel_args);
  auto health = grpc::health::v1::Health::NewStub(server->channel_);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(server->pid_, &status, WNOHANG) == server->pid_) {
      if (exit_code) *exit_code = ExitCode(status);
      server->pid_ = -1;
      return nullptr;
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    if (health->Check(&ctx, request, &response).ok() &&
        response.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
      return server;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return nullptr;
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) Stop(SIGKILL);
}

int ServerProcess::Stop(int signal) {
  if (pid_ <= 0) return -1;
  kill(pid_, signal);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return ExitCode(status);
}

int RunVerityd(const std::vector<std::string>& args, const std::string& log_path) {
  pid_t pid = Spawn(args, log_path);
  int status = 0;
  waitpid(pid, &status, 0);
  return ExitCode(status);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

CliRun RunCli(const TempDir& dir, const std::string& addr, const std::string& args) {
  const std::string out = dir.Sub("cli.out"), err = dir.Sub("cli.err");
  const std::string command = std::string(VERITY_CLI_PATH) + " --addr " + addr + " " + args + " >" + out + " 2>" + err;
  const int status = std::system(command.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadFile(out), ReadFile(err)};
}

}  // namespace verity::test
