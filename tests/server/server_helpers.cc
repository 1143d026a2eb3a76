#include "server/server_helpers.h"

#include <openssl/sha.h>

#include <catch2/catch.hpp>

#include "verity/v1/collections.grpc.pb.h"

namespace verity::test {

std::unique_ptr<ServerProcess> StartServer(const TempDir& dir, const std::vector<std::string>& extra,
                                           const std::string& log) {
  auto server = ServerProcess::Start(dir.Sub("data"), dir.Sub(log), extra);
  REQUIRE(server);
  return server;
}

ClientOptions ClientOptionsFor(const ServerProcess& server) {
  ClientOptions options;
  options.address = server.address();
  return options;
}

CollectionConfig CreateCollection(Client& client, const std::string& name, uint32_t dimension) {
  CollectionConfig config;
  config.name = name;
  config.dimension = dimension;
  REQUIRE(client.CreateCollection(config).ok());
  return config;
}

void CreateCollection(Stubs& stubs, const std::string& name, uint32_t dimension) {
  v1::CreateCollectionRequest req;
  req.mutable_config()->set_name(name);
  req.mutable_config()->set_dimension(dimension);
  v1::CreateCollectionResponse resp;
  REQUIRE(CALL(stubs.collections, CreateCollection, req, &resp).ok());
}

std::vector<Record> UpsertClustered(Client& client, const std::string& collection, size_t n, size_t dim,
                                    size_t clusters, uint64_t seed) {
  const std::vector<float> data = ClusteredVectors(n, dim, clusters, seed);
  std::vector<Record> batch;
  for (size_t i = 0; i < n; ++i) batch.push_back(MakeRecord(i, data.data() + i * dim, dim));
  REQUIRE(client.Upsert(collection, batch).ok());
  return batch;
}

CliRun RunCliOk(const TempDir& dir, const std::string& addr, const std::string& args) {
  CliRun r = RunCli(dir, addr, args);
  INFO("verity " << args << "\n" << r.err);
  REQUIRE(r.code == 0);
  return r;
}

void ExpectError(const grpc::Status& status, grpc::StatusCode code, const std::string& needle) {
  INFO("status " << status.error_code() << ": " << status.error_message());
  REQUIRE(status.error_code() == code);
  REQUIRE(status.error_message().find(needle) != std::string::npos);
}

std::string Sha256Hex(const std::string& text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : digest) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

}  // namespace verity::test
