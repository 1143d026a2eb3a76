// A real full disk under a real verityd: a small tmpfs is mounted for the
// data directory (root only; the test says so and passes vacuously where it
// cannot mount, e.g. in an unprivileged container — CI runs as root).
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "server/server_process.h"
#include "server/stubs.h"

using namespace verity;

namespace {

// A tmpfs of `mib` MiB at `path`, unmounted when it goes.
class Tmpfs {
 public:
  Tmpfs(const std::string& path, int mib) : path_(path) {
    std::filesystem::create_directories(path);
    const std::string size = "size=" + std::to_string(mib) + "m";
    mounted_ = ::mount("tmpfs", path.c_str(), "tmpfs", 0, size.c_str()) == 0;
    if (!mounted_) error_ = std::strerror(errno);
  }
  ~Tmpfs() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  std::string path_;
  bool mounted_ = false;
  std::string error_;
};

// Writes zeros to `path` until the disk is full.
void FillDisk(const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  const std::string block(1 << 16, '\0');
  while (out.write(block.data(), static_cast<std::streamsize>(block.size()))) out.flush();
}

v1::UpsertRequest Batch(size_t from, size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> unit(0, 1);
  v1::UpsertRequest upsert;
  upsert.set_collection("c");
  for (size_t i = from; i < from + n; ++i) {
    auto* r = upsert.add_records();
    r->set_id("r" + std::to_string(i));
    for (int d = 0; d < 64; ++d) r->add_vector(unit(rng));
    r->set_text(std::string(200, 'x'));
  }
  return upsert;
}

}  // namespace

TEST_CASE("a full disk: verityd stops cleanly on SIGTERM, restarts read-only while full, writable once freed",
          "[server][e2e][faults]") {
  test::TempDir dir;
  Tmpfs disk(dir.Sub("disk"), 24);
  if (!disk.mounted()) {
    WARN("cannot mount a tmpfs here (" << disk.error() << "): the full-disk test needs root");
    return;
  }
  const std::string data = dir.Sub("disk") + "/data";
  std::mt19937 rng(5);
  auto server = test::ServerProcess::Start(data, dir.Sub("log"));
  REQUIRE(server);
  test::Stubs s(server->channel());
  {
    v1::CreateCollectionRequest create;
    create.mutable_config()->set_name("c");
    create.mutable_config()->set_dimension(64);
    v1::CreateCollectionResponse created;
    grpc::ClientContext ctx;
    REQUIRE(s.collections->CreateCollection(&ctx, create, &created).ok());
  }
  size_t acknowledged = 0;
  for (int b = 0; b < 10; ++b) {  // ~1 MB: in the WAL and the memtable, not flushed
    v1::WriteResponse written;
    grpc::ClientContext ctx;
    REQUIRE(s.records->Upsert(&ctx, Batch(acknowledged, 200, rng), &written).ok());
    acknowledged += 200;
  }
  // The disk fills while the server runs; the stop's flush is the first
  // write to meet it (before: RocksDB's log file writer aborted verityd with
  // SIGABRT, no "stop" line, exit 134).
  FillDisk(dir.Sub("disk") + "/filler");
  REQUIRE(server->Stop(SIGTERM) == 0);
  const std::string first_log = test::ReadFile(dir.Sub("log"));
  CHECK(first_log.find("\"event\":\"stop\"") != std::string::npos);

  // Still full (what the failed stop freed is taken too): verityd starts,
  // read-only, and serves reads.
  FillDisk(dir.Sub("disk") + "/filler2");
  server = test::ServerProcess::Start(data, dir.Sub("log2"));
  REQUIRE(server);
  test::Stubs r(server->channel());
  {
    v1::CountRequest count;
    count.set_collection("c");
    v1::CountResponse counted;
    grpc::ClientContext ctx;
    REQUIRE(r.records->Count(&ctx, count, &counted).ok());
    CHECK(counted.count() == acknowledged);
    v1::WriteResponse written;
    grpc::ClientContext write_ctx;
    const grpc::Status refused = r.records->Upsert(&write_ctx, Batch(acknowledged, 10, rng), &written);
    CHECK(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
    CHECK(refused.error_message().find("read-only") != std::string::npos);
    CHECK(refused.error_message().find("No space left on device") != std::string::npos);
  }
  REQUIRE(server->Stop(SIGTERM) == 0);
  CHECK(test::ReadFile(dir.Sub("log2")).find("opened read-only") != std::string::npos);

  // Space freed: writable again, nothing lost.
  std::filesystem::remove(dir.Sub("disk") + "/filler");
  std::filesystem::remove(dir.Sub("disk") + "/filler2");
  server = test::ServerProcess::Start(data, dir.Sub("log3"));
  REQUIRE(server);
  test::Stubs w(server->channel());
  v1::WriteResponse written;
  grpc::ClientContext ctx;
  REQUIRE(w.records->Upsert(&ctx, Batch(acknowledged, 10, rng), &written).ok());
  v1::CountRequest count;
  count.set_collection("c");
  v1::CountResponse counted;
  grpc::ClientContext count_ctx;
  REQUIRE(w.records->Count(&count_ctx, count, &counted).ok());
  CHECK(counted.count() == acknowledged + 10);
  REQUIRE(server->Stop(SIGTERM) == 0);
}
