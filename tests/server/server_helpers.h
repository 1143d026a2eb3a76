// Test helpers shared by the end-to-end server tests: start verityd in a
// test's directory, connect the C++ client, create and fill collections,
// and check a refused call's code and message. Each helper checks its own
// steps with Catch2's REQUIRE, so a failed step fails the calling test there.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/test_data.h"
#include "server/server_process.h"
#include "server/stubs.h"
#include "verity/client.h"

namespace verity::test {

// Starts verityd with data in dir/data, stderr in dir/<log> and `extra`
// flags; REQUIREs that it answers.
std::unique_ptr<ServerProcess> StartServer(const TempDir& dir, const std::vector<std::string>& extra = {},
                                           const std::string& log = "log");

// Options for a C++ client that reaches `server` (plaintext, no key).
ClientOptions ClientOptionsFor(const ServerProcess& server);

// Creates collection `name` of `dimension` components (L2, the defaults);
// REQUIREs success. The Client form returns the config it sent.
CollectionConfig CreateCollection(Client& client, const std::string& name, uint32_t dimension);
void CreateCollection(Stubs& stubs, const std::string& name, uint32_t dimension);

// Upserts, in one call, records 0..n-1 of test::MakeRecord over
// ClusteredVectors(n, dim, clusters, seed); REQUIREs success. Returns the
// records written.
std::vector<Record> UpsertClustered(Client& client, const std::string& collection, size_t n, size_t dim,
                                    size_t clusters, uint64_t seed);

// Runs the CLI as RunCli does and REQUIREs exit code 0 (the failure shows
// the arguments and stderr).
CliRun RunCliOk(const TempDir& dir, const std::string& addr, const std::string& args);

// REQUIREs that `status` has `code` and a message containing `needle`.
void ExpectError(const grpc::Status& status, grpc::StatusCode code, const std::string& needle);

// The SHA-256 of `text` in lowercase hex: an API key's line in a keys file.
std::string Sha256Hex(const std::string& text);

}  // namespace verity::test
