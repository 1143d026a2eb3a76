// The health service of a real verityd (docs/server.md "Health"): Watch
// streams are limited per client address and in all, so that one client
// cannot take every stream; a database that turned read-only after a disk
// error says so (the write service NOT_SERVING, the metric at 1) while
// reads go on.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "engine/table_files.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "health_service.h"
#include "server/server_helpers.h"
#include "server/server_process.h"
#include "verity/client.h"
#include "verity/database.h"

using namespace verity;
using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

namespace {

// A channel of its own (its own TCP connection, not shared with others).
std::shared_ptr<grpc::Channel> OwnChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

struct WatchStream {
  grpc::ClientContext ctx;
  std::unique_ptr<grpc::ClientReader<HealthCheckResponse>> reader;
  HealthCheckResponse first;
  bool open = false;       // the first status came
  grpc::Status refusal;    // when not open: how it ended
};

// Opens a Watch of `service` on `stub`: open once its first status came,
// else the status it ended with.
std::unique_ptr<WatchStream> OpenWatch(Health::Stub& stub, const std::string& service = "") {
  auto stream = std::make_unique<WatchStream>();
  stream->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  HealthCheckRequest request;
  request.set_service(service);
  stream->reader = stub.Watch(&stream->ctx, request);
  stream->open = stream->reader->Read(&stream->first);
  if (!stream->open) stream->refusal = stream->reader->Finish();
  return stream;
}

void CloseAll(std::vector<std::unique_ptr<WatchStream>>& streams) {
  for (auto& s : streams) {
    if (!s->open) continue;
    s->ctx.TryCancel();
    (void)s->reader->Finish();
  }
  streams.clear();
}

HealthCheckResponse::ServingStatus CheckStatus(const std::shared_ptr<grpc::Channel>& channel,
                                               const std::string& service) {
  auto stub = Health::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  const grpc::Status status = stub->Check(&ctx, request, &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return response.status();
}

// GET /metrics on 127.0.0.1:port; the response's body ("" when none).
std::string ScrapeBody(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  const timeval guard{60, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof(guard));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  const std::string request = "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  REQUIRE(send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));
  std::string response;
  char buffer[4096];
  for (ssize_t n; (n = recv(fd, buffer, sizeof(buffer), 0)) > 0;) response.append(buffer, static_cast<size_t>(n));
  close(fd);
  const size_t body = response.find("\r\n\r\n");
  return body == std::string::npos ? "" : response.substr(body + 4);
}

int MetricsPort(const std::string& log_path) {
  const std::string marker = "\"metrics\":\"http://127.0.0.1:";
  for (int attempt = 0; attempt < 500; ++attempt) {
    const std::string log = test::ReadFile(log_path);
    if (const size_t at = log.find(marker); at != std::string::npos) return std::stoi(log.substr(at + marker.size()));
    usleep(10000);
  }
  FAIL("no metrics URL in " << log_path);
  return 0;
}

}  // namespace

TEST_CASE("health: Watch slots: per client address, then in all, and released slots are reused", "[server][health]") {
  using server::WatchSlots;
  CHECK(WatchSlots::PeerAddress("ipv4:10.0.0.1:5432") == "ipv4:10.0.0.1");
  CHECK(WatchSlots::PeerAddress("ipv6:[::1]:5432") == "ipv6:[::1]");
  CHECK(WatchSlots::PeerAddress("ipv6:%5B::1%5D:5432") == "ipv6:%5B::1%5D");
  CHECK(WatchSlots::PeerAddress("unix:/tmp/verity.sock") == "unix");
  CHECK(WatchSlots::PeerAddress("unix:") == "unix");

  WatchSlots slots(6, 2);
  CHECK(slots.Acquire("ipv4:10.0.0.1:1") == "");
  CHECK(slots.Acquire("ipv4:10.0.0.1:2") == "");
  // A third from the same address (another port: another connection).
  CHECK(slots.Acquire("ipv4:10.0.0.1:3") ==
        "health Watch: at most 2 streams per client address (ipv4:10.0.0.1 has 2); use Check, or close a stream");
  for (const char* other : {"ipv4:10.0.0.2:1", "ipv4:10.0.0.2:2", "ipv6:[::1]:1", "unix:"}) {
    CHECK(slots.Acquire(other) == "");
  }
  // Six in all: a new address is refused too, naming the total.
  CHECK(slots.Acquire("ipv4:10.0.0.3:1") == "health Watch: at most 6 streams at once (all taken); use Check, or retry later");
  slots.Release("ipv4:10.0.0.1:2");
  CHECK(slots.Acquire("ipv4:10.0.0.3:1") == "");
  CHECK(slots.Acquire("ipv4:10.0.0.1:4") != "");  // full again
  slots.Release("ipv4:10.0.0.3:1");
  CHECK(slots.Acquire("ipv4:10.0.0.1:4") == "");  // its second again
}

TEST_CASE("health: Watch streams are limited per client address: one client cannot take another's",
          "[server][health]") {
  test::TempDir dir;
  // On every address, dual stack (for the length of this test), so that
  // clients from 127.0.0.1 and from ::1 are two client addresses.
  const std::string port = std::to_string(test::FreePort());
  auto server = test::StartServer(dir, {"--listen", "[::]:" + port, "--allow-unauthenticated", "true"});
  auto stub_v4 = Health::NewStub(OwnChannel("127.0.0.1:" + port));
  constexpr int kPerPeer = server::HealthServiceImpl::kMaxWatchStreamsPerPeer;  // 4, as the message says

  // One client opens many streams: it gets its share, then a clear refusal.
  std::vector<std::unique_ptr<WatchStream>> mine;
  for (int i = 0; i < kPerPeer; ++i) {
    mine.push_back(OpenWatch(*stub_v4));
    INFO("stream " << i << ": " << mine.back()->refusal.error_message());
    REQUIRE(mine.back()->open);
    CHECK(mine.back()->first.status() == HealthCheckResponse::SERVING);
  }
  for (int i = 0; i < 12; ++i) {
    auto more = OpenWatch(*stub_v4);
    REQUIRE_FALSE(more->open);
    CHECK(more->refusal.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
    CHECK(more->refusal.error_message().find("at most 4 streams per client address") != std::string::npos);
  }
  // ... from its other connections too: the limit is per address.
  auto again = OpenWatch(*Health::NewStub(OwnChannel("127.0.0.1:" + port)));
  CHECK_FALSE(again->open);
  CHECK(again->refusal.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);

  // Another client (from ::1) still watches, and Check answers everyone.
  auto stub_v6 = Health::NewStub(OwnChannel("[::1]:" + port));
  std::vector<std::unique_ptr<WatchStream>> theirs;
  theirs.push_back(OpenWatch(*stub_v6));
  INFO(theirs.back()->refusal.error_message());
  REQUIRE(theirs.back()->open);
  CHECK(theirs.back()->first.status() == HealthCheckResponse::SERVING);
  CHECK(CheckStatus(server->channel(), "") == HealthCheckResponse::SERVING);

  // Closing one of the first client's streams gives it room for another.
  mine.back()->ctx.TryCancel();
  (void)mine.back()->reader->Finish();
  mine.pop_back();
  bool admitted = false;
  for (int attempt = 0; attempt < 50 && !admitted; ++attempt) {
    auto stream = OpenWatch(*stub_v4);
    admitted = stream->open;
    if (admitted) {
      mine.push_back(std::move(stream));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  CHECK(admitted);
  CloseAll(mine);
  CloseAll(theirs);
  CHECK(server->Stop(SIGTERM) == 0);
}

TEST_CASE("health: a database turned read-only by a disk error reports its writes NOT_SERVING and counts it",
          "[server][health]") {
  test::TempDir dir;
  // The disk error: verityd may not grow a file past 4 MiB (RLIMIT_FSIZE,
  // inherited across fork and exec), and a write past it fails with EFBIG
  // instead of killing it (SIGXFSZ ignored, which exec keeps too).
  struct rlimit saved {};
  REQUIRE(getrlimit(RLIMIT_FSIZE, &saved) == 0);
  struct rlimit small = saved;
  small.rlim_cur = 4 << 20;
  const auto old_handler = signal(SIGXFSZ, SIG_IGN);
  REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
  auto server = test::ServerProcess::Start(dir.Sub("data"), dir.Sub("log"), {"--metrics-listen", "127.0.0.1:0"});
  REQUIRE(setrlimit(RLIMIT_FSIZE, &saved) == 0);
  signal(SIGXFSZ, old_handler);
  REQUIRE(server);
  const int metrics_port = MetricsPort(dir.Sub("log"));
  const std::string kWrites = "verity.v1.Writes";  // HealthServiceImpl::kWritesService

  Client client(test::ClientOptionsFor(*server));
  const CollectionConfig config = test::CreateCollection(client, "docs", 256);
  CHECK(CheckStatus(server->channel(), kWrites) == HealthCheckResponse::SERVING);
  CHECK(ScrapeBody(metrics_port).find("\nverity_read_only 0\n") != std::string::npos);
  auto watch_stub = Health::NewStub(OwnChannel(server->address()));
  auto watch = OpenWatch(*watch_stub, kWrites);
  REQUIRE(watch->open);
  CHECK(watch->first.status() == HealthCheckResponse::SERVING);

  // Write until the WAL passes the limit: that write fails, and the
  // database turns read-only.
  Status failed = Status::Ok();
  for (int batch = 0; batch < 100 && failed.ok(); ++batch) {
    std::vector<Record> records;
    for (int i = 0; i < 200; ++i) {
      Record r;
      r.id = "b" + std::to_string(batch) + "-" + std::to_string(i);
      r.vector.assign(config.dimension, static_cast<float>(i % 7) + 0.5f);
      r.vector[static_cast<size_t>(i) % config.dimension] = static_cast<float>(batch);
      records.push_back(std::move(r));
    }
    auto written = client.Upsert(config.name, records);
    failed = written.status();
  }
  INFO(failed.ToString());
  REQUIRE_FALSE(failed.ok());
  Record late;
  late.id = "late";
  late.vector.assign(config.dimension, 1.0f);
  const auto refused = client.Upsert(config.name, {late});
  REQUIRE(refused.status().code() == StatusCode::kFailedPrecondition);
  CHECK(refused.status().message().find("read-only") != std::string::npos);

  // Health: writes NOT_SERVING, and the context service, all of whose
  // methods write the retrieval log; the server and its reads SERVING.
  CHECK(CheckStatus(server->channel(), kWrites) == HealthCheckResponse::NOT_SERVING);
  CHECK(CheckStatus(server->channel(), "verity.v1.ContextService") == HealthCheckResponse::NOT_SERVING);
  CHECK(CheckStatus(server->channel(), "") == HealthCheckResponse::SERVING);
  CHECK(CheckStatus(server->channel(), "verity.v1.SearchService") == HealthCheckResponse::SERVING);
  HealthCheckResponse next;
  REQUIRE(watch->reader->Read(&next));  // the watcher is told
  CHECK(next.status() == HealthCheckResponse::NOT_SERVING);
  watch->ctx.TryCancel();
  (void)watch->reader->Finish();
  CHECK(client.GetCollection(config.name).ok());  // reads go on
  const std::string metrics = ScrapeBody(metrics_port);
  CHECK(metrics.find("# TYPE verity_read_only gauge\n") != std::string::npos);
  CHECK(metrics.find("\nverity_read_only 1\n") != std::string::npos);
  CHECK(test::ReadFile(dir.Sub("log")).find("read-only") != std::string::npos);
  server->Stop(SIGKILL);  // a clean stop would try to write the graph files
}

TEST_CASE("health: a collection damaged on disk is unavailable: the server starts, serves the others and says so",
          "[server][health][unavailable]") {
  constexpr size_t kDim = 32;
  const auto data = test::ClusteredVectors(2000, kDim, 4, 3);
  test::TempDir dir;
  const std::string data_dir = dir.Sub("data");
  // "a", then (after a close: table files of their own) "b"; then a's
  // vectors table file is damaged and its graph file removed, so that the
  // start rebuilds a's graph and reads the damaged block.
  for (const std::string name : {"a", "b"}) {
    auto db = Database::Open(data_dir, test::QuietOptions());
    REQUIRE(db.ok());
    CollectionConfig config;
    config.name = name;
    config.dimension = kDim;
    REQUIRE((*db)->CreateCollection(config).ok());
    std::vector<Record> records;
    for (size_t i = 0; i < 2000; ++i) records.push_back(test::MakeRecord(i, data.data() + i * kDim, kDim));
    REQUIRE((*db)->Upsert(name, std::move(records)).ok());
    REQUIRE((*db)->Close().ok());
  }
  std::string damaged;
  for (const auto& f : test::TableFiles(data_dir + "/db")) {
    bool only_a = false;
    if (test::FamilyOf(f, 1, &only_a) == "vectors" && only_a) damaged = f;
  }
  REQUIRE_FALSE(damaged.empty());
  {
    const auto size = std::filesystem::file_size(damaged);
    std::fstream f(damaged, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 3));
    const std::string junk(512, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  REQUIRE(std::filesystem::remove(data_dir + "/graphs/1.graph"));
  const std::string file_name = std::filesystem::path(damaged).filename().string();

  // Before: "cannot open data directory: read vector of label N:
  // Corruption: block checksum mismatch", and no server.
  int exit_code = 0;
  auto server = test::ServerProcess::Start(data_dir, dir.Sub("log"), {"--metrics-listen", "127.0.0.1:0"}, &exit_code);
  INFO(test::ReadFile(dir.Sub("log")));
  REQUIRE(server);
  CHECK(CheckStatus(server->channel(), "") == HealthCheckResponse::SERVING);
  CHECK(CheckStatus(server->channel(), "verity.v1.Writes") == HealthCheckResponse::SERVING);
  CHECK(test::ReadFile(dir.Sub("log")).find("collection \\\"a\\\" is unavailable") != std::string::npos);
  const std::string metrics = ScrapeBody(MetricsPort(dir.Sub("log")));
  CHECK(metrics.find("\nverity_collections_unavailable 1\n") != std::string::npos);

  Client client(test::ClientOptionsFor(*server));
  ClientSearch search;
  search.vector.assign(data.begin(), data.begin() + kDim);
  search.k = 3;
  auto hits = client.Search("b", search);
  INFO(hits.status().ToString());
  CHECK(hits.ok());
  auto refused = client.Search("a", search);
  CHECK(refused.status().code() == StatusCode::kDataLoss);
  CHECK(refused.status().message().find(file_name) != std::string::npos);

  auto list = test::RunCli(dir, server->address(), "collection list");
  INFO(list.out << list.err);
  CHECK(list.code == 0);
  CHECK(list.out.find("UNAVAILABLE") != std::string::npos);
  CHECK(list.out.find(file_name) != std::string::npos);
  auto get = test::RunCli(dir, server->address(), "collection get a");
  CHECK(get.code != 0);
  CHECK(get.err.find(file_name) != std::string::npos);
  server->Stop(SIGTERM);
}
