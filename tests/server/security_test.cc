// API keys, roles and TLS against a real verityd (docs/security.md).
#include <google/protobuf/descriptor.h>
#include <httplib.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "engine/test_data.h"
#include "server/raw_call.h"
#include "server/server_helpers.h"
#include "server/server_process.h"
#include "verity/client.h"
#include "verity/v1/auth.pb.h"

using namespace verity;

namespace {

using test::Sha256Hex;

// One key per role, written to a keys file as the operator would.
const std::map<std::string, std::string> kKeys = {
    {"reader", "rk-7f3a9c21d4e5b6a8"},
    {"writer", "wk-0b1c2d3e4f5a6b7c"},
    {"auditor", "ak-99887766554433aa"},
    {"admin", "dk-a1b2c3d4e5f60718"},
};

std::string WriteKeysFile(const test::TempDir& dir) {
  const std::string path = dir.Sub("keys");
  std::ofstream out(path);
  out << "# name role sha256\n";
  for (const auto& [role, key] : kKeys) out << role << "-key  " << role << "  " << Sha256Hex(key) << "\n";
  return path;
}

// What each role may do: the table documented in auth.proto and
// docs/security.md, written out here independently of the server's.
bool Grants(const std::string& role, v1::Permission p) {
  if (role == "admin") return true;
  if (p == v1::PERMISSION_READ) return true;
  if (p == v1::PERMISSION_RETRIEVE) return role == "reader" || role == "writer";
  if (p == v1::PERMISSION_WRITE) return role == "writer";
  if (p == v1::PERMISSION_AUDIT) return role == "auditor";
  return false;
}

// The permission of each RPC as docs/security.md's table states it: the
// rows "| `READ` | `GetCollection`, ... |", method names being the
// capitalised names in backticks.
std::map<std::string, v1::Permission> DocumentedPermissions() {
  const std::map<std::string, v1::Permission> rows = {{"READ", v1::PERMISSION_READ},
                                                      {"RETRIEVE", v1::PERMISSION_RETRIEVE},
                                                      {"WRITE", v1::PERMISSION_WRITE},
                                                      {"AUDIT", v1::PERMISSION_AUDIT},
                                                      {"ADMIN", v1::PERMISSION_ADMIN}};
  std::map<std::string, v1::Permission> out;
  std::ifstream in(VERITY_DOCS_DIR "/security.md");
  std::string line;
  while (std::getline(in, line)) {
    for (const auto& [word, permission] : rows) {
      const std::string head = "| `" + word + "` |";
      if (line.rfind(head, 0) != 0) continue;
      for (size_t at = line.find('`', head.size()); at != std::string::npos; at = line.find('`', at + 1)) {
        const size_t end = line.find('`', at + 1);
        if (end == std::string::npos) break;
        const std::string name = line.substr(at + 1, end - at - 1);
        if (!name.empty() && std::isupper(static_cast<unsigned char>(name[0]))) out[name] = permission;
        at = end;
      }
    }
  }
  return out;
}

}  // namespace

TEST_CASE("API keys: each RPC's declared permission is the one docs/security.md states", "[server][security]") {
  const auto documented = DocumentedPermissions();
  REQUIRE(documented.size() >= 30);
  std::set<std::string> declared;
  for (const auto* service : test::WireServices()) {
    for (int i = 0; i < service->method_count(); ++i) {
      const auto* method = service->method(i);
      INFO(service->full_name() << "/" << method->name());
      declared.insert(method->name());
      const auto it = documented.find(method->name());
      REQUIRE(it != documented.end());  // every RPC is in the table
      CHECK(method->options().GetExtension(v1::required_permission) == it->second);
    }
  }
  for (const auto& [name, permission] : documented) {
    INFO(name << " is in the table but is no RPC");
    CHECK(declared.count(name) == 1);
  }
}

TEST_CASE("API keys: every method of every service requires its declared permission", "[server][security]") {
  test::TempDir dir;
  auto server = test::StartServer(dir, {"--keys", WriteKeysFile(dir)});
  const auto walk_start = std::chrono::steady_clock::now();

  int methods = 0;
  for (const auto* service : test::WireServices()) {
    for (int i = 0; i < service->method_count(); ++i) {
      const auto* method = service->method(i);
      const std::string path = "/" + service->full_name() + "/" + method->name();
      INFO(path);
      const auto permission = method->options().GetExtension(v1::required_permission);
      REQUIRE(permission != v1::PERMISSION_UNSPECIFIED);
      ++methods;

      CHECK(test::RawCall(server->channel(), path, "").status.error_code() == grpc::StatusCode::UNAUTHENTICATED);
      CHECK(test::RawCall(server->channel(), path, "not-a-key").status.error_code() ==
            grpc::StatusCode::UNAUTHENTICATED);
      for (const auto& [role, key] : kKeys) {
        INFO("role " << role);
        const grpc::Status status = test::RawCall(server->channel(), path, key).status;
        if (Grants(role, permission)) {
          // Allowed through: whatever the (empty) request itself earns.
          CHECK(status.error_code() != grpc::StatusCode::UNAUTHENTICATED);
          CHECK(status.error_code() != grpc::StatusCode::PERMISSION_DENIED);
        } else {
          CHECK(status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
          CHECK(status.error_message().find(role) != std::string::npos);
        }
      }
    }
  }
  CHECK(methods >= 30);
  // The health service answers without a key (load balancers, probes).
  CHECK(test::RawCall(server->channel(), "/grpc.health.v1.Health/Check", "").status.ok());
  // Refusals are logged without the key itself, and at most one line a
  // second (the walk made several refused calls per method).
  const auto walk_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - walk_start).count();
  const std::string log = test::ReadFile(dir.Sub("log"));
  size_t denied_lines = 0;
  for (size_t at = log.find("\"event\":\"request_denied\""); at != std::string::npos;
       at = log.find("\"event\":\"request_denied\"", at + 1)) {
    ++denied_lines;
  }
  CHECK(denied_lines >= 1);
  CHECK(denied_lines <= static_cast<size_t>(walk_seconds) + 2);
  CHECK(log.find("\"denied_since_last_line\"") != std::string::npos);
  for (const auto& [role, key] : kKeys) CHECK(log.find(key) == std::string::npos);
}

TEST_CASE("API keys: the client library and CLI send keys, and a refused call changes nothing", "[server][security]") {
  test::TempDir dir;
  auto server = test::StartServer(dir, {"--keys", WriteKeysFile(dir)});
  auto client_with = [&](const std::string& role) {
    ClientOptions options;
    options.address = server->address();
    options.api_key = role.empty() ? "" : kKeys.at(role);
    return std::make_unique<Client>(options);
  };
  auto writer = client_with("writer");
  auto reader = client_with("reader");
  CollectionConfig config;
  config.name = "kb";
  config.dimension = 4;
  REQUIRE(writer->CreateCollection(config).ok());
  std::vector<float> v = {1, 2, 3, 4};
  REQUIRE(writer->Upsert("kb", {test::MakeRecord(1, v.data(), 4)}).ok());

  const auto no_key = client_with("")->Count("kb");
  REQUIRE(no_key.status().code() == StatusCode::kUnauthenticated);
  const auto denied = reader->Upsert("kb", {test::MakeRecord(2, v.data(), 4)});
  REQUIRE(denied.status().code() == StatusCode::kPermissionDenied);
  CHECK(denied.status().message().find("PERMISSION_WRITE") != std::string::npos);
  REQUIRE(reader->DropCollection("kb").code() == StatusCode::kPermissionDenied);
  REQUIRE(writer->DropCollection("kb").code() == StatusCode::kPermissionDenied);
  // Nothing changed: the collection is there with its one record.
  auto count = reader->Count("kb");
  REQUIRE(count.ok());
  CHECK(*count == 1);

  // The CLI reads the key from a file (never from its command line).
  std::ofstream(dir.Sub("admin.key")) << kKeys.at("admin") << "\n";
  auto listed = test::RunCli(dir, server->address(), "--api-key-file " + dir.Sub("admin.key") + " collection list --json");
  CHECK(listed.code == 0);
  CHECK(listed.out.find("\"kb\"") != std::string::npos);
  auto refused = test::RunCli(dir, server->address(), "collection list");
  CHECK(refused.code == 1);
  CHECK(refused.err.find("UNAUTHENTICATED") != std::string::npos);
  CHECK(listed.err.find("warning") == std::string::npos);  // a local address: no warning
  // A switch with =false is off (--tls=false must not turn TLS on against
  // this plaintext server); any other value is a usage error.
  auto tls_off = test::RunCli(dir, server->address(),
                              "--api-key-file " + dir.Sub("admin.key") + " --tls=false --json=true collection list");
  CHECK(tls_off.code == 0);
  CHECK(tls_off.out.find("\"kb\"") != std::string::npos);
  auto bad_switch = test::RunCli(dir, server->address(), "--tls=yes collection list");
  CHECK(bad_switch.code == 2);
  CHECK(bad_switch.err.find("--tls takes no value") != std::string::npos);
  // A key about to go out in plaintext to another host: a warning first
  // (192.0.2.1 is a documentation address; the call itself then times out).
  auto remote = test::RunCli(dir, "192.0.2.1:7420",
                             "--api-key-file " + dir.Sub("admin.key") + " --timeout-ms 200 collection list");
  CHECK(remote.code == 1);
  CHECK(remote.err.find("warning: sending an API key without TLS to 192.0.2.1:7420") != std::string::npos);
  CHECK(remote.err.find(kKeys.at("admin")) == std::string::npos);
  auto dropped = test::RunCli(dir, server->address(), "--api-key-file " + dir.Sub("admin.key") + " collection drop kb");
  CHECK(dropped.code == 0);
}

TEST_CASE("API keys: who may start without keys, and bad keys files", "[server][security]") {
  test::TempDir dir;
  const std::string port = std::to_string(test::FreePort());
  // A non-local address without keys: refused, exit code 1 (bad flags).
  CHECK(test::RunVerityd({"--data", dir.Sub("d"), "--listen", "0.0.0.0:" + port}, dir.Sub("log1")) == 1);
  CHECK(test::ReadFile(dir.Sub("log1")).find("without API keys") != std::string::npos);
  // ... unless told so explicitly.
  auto open = test::ServerProcess::Start(dir.Sub("d"), dir.Sub("log2"),
                                         {"--listen", "0.0.0.0:" + port, "--allow-unauthenticated", "true"});
  REQUIRE(open);
  open->Stop(SIGTERM);

  struct Bad {
    std::string content;
    std::string error;
  };
  const std::vector<Bad> bad = {
      {"", "holds no key"},
      {"app writer\n", ":1: expected 'NAME ROLE SHA256'"},
      {"app owner " + Sha256Hex("k") + "\n", ":1: unknown role \"owner\""},
      {"# ok\napp writer abc\n", ":2: the hash must be 64 hex digits"},
      {"a writer " + Sha256Hex("k") + "\na reader " + Sha256Hex("j") + "\n", ":2: key name \"a\" repeated"},
      {"a writer " + Sha256Hex("k") + "\nb reader " + Sha256Hex("k") + "\n", ":2: the same key is listed twice"},
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    INFO(bad[i].content);
    const std::string keys = dir.Sub("keys" + std::to_string(i)), log = dir.Sub("badlog" + std::to_string(i));
    std::ofstream(keys) << bad[i].content;
    CHECK(test::RunVerityd({"--data", dir.Sub("d"), "--keys", keys}, log) == 1);
    CHECK(test::ReadFile(log).find(bad[i].error) != std::string::npos);
  }
  CHECK(test::RunVerityd({"--data", dir.Sub("d"), "--keys", dir.Sub("missing")}, dir.Sub("log3")) == 1);
  CHECK(test::ReadFile(dir.Sub("log3")).find("cannot read") != std::string::npos);
}

namespace {

// A CA, a server certificate for 127.0.0.1 / localhost and a client
// certificate, made with the openssl command (EC keys: fast to make).
struct Certificates {
  explicit Certificates(const test::TempDir& dir) : dir_(dir.path()) {
    const std::string d = dir_ + "/";
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    const std::string script =
        "cd " + dir_ + " && set -e && exec 2>openssl.log && "
        "openssl req -x509" + ec + " -keyout ca.key -out ca.pem -days 2 -subj '/CN=Verity test CA' && "
        "openssl req" + ec + " -keyout server.key -out server.csr -subj '/CN=localhost' && "
        "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext && "
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 "
        "-extfile san.ext && "
        "openssl req" + ec + " -keyout client.key -out client.csr -subj '/CN=verity test client' && "
        "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 && "
        "openssl req -x509" + ec + " -keyout other-ca.key -out other-ca.pem -days 2 -subj '/CN=Another CA' && "
        "openssl req" + ec + " -keyout stranger.key -out stranger.csr -subj '/CN=stranger' && "
        "openssl x509 -req -in stranger.csr -CA other-ca.pem -CAkey other-ca.key -CAcreateserial -out stranger.pem "
        "-days 2";
    ok = std::system(("bash -c \"" + script + "\"").c_str()) == 0;
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  std::string Read(const std::string& name) const { return test::ReadFile(Path(name)); }

  bool ok = false;

 private:
  std::string dir_;
};

}  // namespace

TEST_CASE("TLS and mTLS: encrypted connections, and who is refused", "[server][security]") {
  test::TempDir dir;
  Certificates certs(dir);
  INFO(test::ReadFile(certs.Path("openssl.log")));
  REQUIRE(certs.ok);
  grpc::SslCredentialsOptions trusted;
  trusted.pem_root_certs = certs.Read("ca.pem");
  trusted.pem_cert_chain = certs.Read("client.pem");
  trusted.pem_private_key = certs.Read("client.key");

  auto client_for = [](const std::string& address, const std::string& ca, const std::string& cert,
                       const std::string& key) {
    ClientOptions options;
    options.address = address;
    options.timeout = std::chrono::milliseconds(5000);
    options.tls_ca_file = ca;
    options.tls_cert_file = cert;
    options.tls_key_file = key;
    return std::make_unique<Client>(options);
  };

  SECTION("TLS: a client trusting the CA connects; plaintext and untrusting clients are refused") {
    auto server = test::ServerProcess::Start(
        dir.Sub("data"), dir.Sub("log"), {"--tls-cert", certs.Path("server.pem"), "--tls-key", certs.Path("server.key")},
        nullptr, grpc::SslCredentials(trusted));
    REQUIRE(server);
    CHECK(test::ReadFile(dir.Sub("log")).find("\"tls\":\"tls\"") != std::string::npos);
    auto good = client_for(server->address(), certs.Path("ca.pem"), "", "");
    REQUIRE(good->Health().ok());
    REQUIRE(good->ListCollections().ok());

    ClientOptions plain;
    plain.address = server->address();
    plain.timeout = std::chrono::milliseconds(3000);
    CHECK(Client(plain).Health().code() == StatusCode::kUnavailable);
    // Trusts another CA: the server's certificate does not verify.
    CHECK(client_for(server->address(), certs.Path("other-ca.pem"), "", "")->Health().code() ==
          StatusCode::kUnavailable);
    // The CLI over TLS.
    auto listed = test::RunCli(dir, server->address(), "--tls-ca " + certs.Path("ca.pem") + " collection list --json");
    CHECK(listed.code == 0);
    auto plain_cli = test::RunCli(dir, server->address(), "--timeout-ms 3000 collection list");
    CHECK(plain_cli.code == 1);
    // The server kept serving through the refused handshakes.
    REQUIRE(good->Health().ok());
  }

  SECTION("mTLS: only clients with a certificate from the client CA get in") {
    auto server = test::ServerProcess::Start(dir.Sub("data"), dir.Sub("log"),
                                             {"--tls-cert", certs.Path("server.pem"), "--tls-key",
                                              certs.Path("server.key"), "--tls-client-ca", certs.Path("ca.pem")},
                                             nullptr, grpc::SslCredentials(trusted));
    REQUIRE(server);
    CHECK(test::ReadFile(dir.Sub("log")).find("\"tls\":\"mtls\"") != std::string::npos);
    auto with_cert = client_for(server->address(), certs.Path("ca.pem"), certs.Path("client.pem"),
                                certs.Path("client.key"));
    REQUIRE(with_cert->Health().ok());
    CHECK(client_for(server->address(), certs.Path("ca.pem"), "", "")->Health().code() == StatusCode::kUnavailable);
    CHECK(client_for(server->address(), certs.Path("ca.pem"), certs.Path("stranger.pem"), certs.Path("stranger.key"))
              ->Health()
              .code() == StatusCode::kUnavailable);
    auto cli = test::RunCli(dir, server->address(),
                            "--tls-ca " + certs.Path("ca.pem") + " --tls-cert " + certs.Path("client.pem") +
                                " --tls-key " + certs.Path("client.key") + " health");
    CHECK(cli.code == 0);
    REQUIRE(with_cert->Health().ok());
  }

  SECTION("bad TLS options: a clear error and exit code 1") {
    CHECK(test::RunVerityd({"--data", dir.Sub("d"), "--tls-cert", certs.Path("server.pem")}, dir.Sub("l1")) == 1);
    CHECK(test::ReadFile(dir.Sub("l1")).find("--tls-cert and --tls-key go together") != std::string::npos);
    CHECK(test::RunVerityd({"--data", dir.Sub("d"), "--tls-cert", certs.Path("missing.pem"), "--tls-key",
                            certs.Path("server.key")},
                           dir.Sub("l2")) == 1);
    CHECK(test::ReadFile(dir.Sub("l2")).find("--tls-cert: cannot read") != std::string::npos);
    CHECK(test::RunVerityd({"--data", dir.Sub("d"), "--tls-client-ca", certs.Path("ca.pem")}, dir.Sub("l3")) == 1);
    // Readable files with damaged PEM, or a key of another certificate:
    // refused before listening (exit code 1, not 3), naming the flag.
    {
      std::string damaged = test::ReadFile(certs.Path("server.pem"));
      damaged.replace(damaged.size() / 2, 40, std::string(40, '#'));
      std::ofstream(certs.Path("damaged.pem")) << damaged;
    }
    CHECK(test::RunVerityd(
              {"--data", dir.Sub("d"), "--tls-cert", certs.Path("damaged.pem"), "--tls-key", certs.Path("server.key")},
              dir.Sub("l4")) == 1);
    CHECK(test::ReadFile(dir.Sub("l4")).find("no readable PEM certificate") != std::string::npos);
    CHECK(test::RunVerityd(
              {"--data", dir.Sub("d"), "--tls-cert", certs.Path("server.pem"), "--tls-key", certs.Path("client.key")},
              dir.Sub("l5")) == 1);
    CHECK(test::ReadFile(dir.Sub("l5")).find("does not belong to the certificate") != std::string::npos);
    // The client library names an unreadable file on every call.
    auto broken = client_for("127.0.0.1:1", certs.Path("nope.pem"), "", "");
    auto status = broken->Health();
    CHECK(status.code() == StatusCode::kInvalidArgument);
    CHECK(status.message().find("tls_ca_file: cannot read") != std::string::npos);
  }
}

TEST_CASE("TLS and mTLS on the HTTP API: the gRPC listener's certificate, and who is refused", "[server][security][http]") {
  test::TempDir dir;
  Certificates certs(dir);
  INFO(test::ReadFile(certs.Path("openssl.log")));
  REQUIRE(certs.ok);
  const int http_port = test::FreePort();
  grpc::SslCredentialsOptions trusted;
  trusted.pem_root_certs = certs.Read("ca.pem");
  trusted.pem_cert_chain = certs.Read("client.pem");
  trusted.pem_private_key = certs.Read("client.key");
  auto server = test::ServerProcess::Start(
      dir.Sub("data"), dir.Sub("log"),
      {"--tls-cert", certs.Path("server.pem"), "--tls-key", certs.Path("server.key"), "--tls-client-ca",
       certs.Path("ca.pem"), "--http-listen", "127.0.0.1:" + std::to_string(http_port)},
      nullptr, grpc::SslCredentials(trusted));
  REQUIRE(server != nullptr);
  const auto list = [&](httplib::SSLClient& client) {
    client.set_ca_cert_path(certs.Path("ca.pem").c_str());
    client.enable_server_certificate_verification(true);
    client.set_connection_timeout(10, 0);
    return client.Post("/v1/CollectionService/ListCollections", "{}", "application/json");
  };
  // With the client certificate mTLS asks for: served, over TLS.
  httplib::SSLClient with_cert("127.0.0.1", http_port, certs.Path("client.pem"), certs.Path("client.key"));
  auto served = list(with_cert);
  REQUIRE(served);
  CHECK(served->status == 200);
  CHECK(served->body.find("collections") != std::string::npos);
  // Without one, or with one another CA signed: no handshake.
  httplib::SSLClient without_cert("127.0.0.1", http_port);
  CHECK(!list(without_cert));
  httplib::SSLClient stranger("127.0.0.1", http_port, certs.Path("stranger.pem"), certs.Path("stranger.key"));
  CHECK(!list(stranger));
  // Plaintext HTTP gets no answer from a TLS listener.
  httplib::Client plain("127.0.0.1", http_port);
  plain.set_read_timeout(10, 0);
  CHECK(!plain.Post("/v1/CollectionService/ListCollections", "{}", "application/json"));
  // And the listener still serves.
  httplib::SSLClient again("127.0.0.1", http_port, certs.Path("client.pem"), certs.Path("client.key"));
  auto after = list(again);
  REQUIRE(after);
  CHECK(after->status == 200);
  CHECK(test::ReadFile(dir.Sub("log")).find("\"http\":\"https://127.0.0.1:") != std::string::npos);
}
