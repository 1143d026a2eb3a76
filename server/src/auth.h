// API keys and roles: who may call which RPC of verityd (docs/security.md).
//
// A caller sends its key as call metadata `authorization: Bearer <key>`.
// The server keeps only SHA-256 hashes of keys, in a keys file of lines
//
//   # name    role     sha256 of the key (64 hex digits)
//   ingest    writer   5f0c...e1
//
// and compares a presented key's hash with every stored hash in constant
// time. Each RPC requires one permission, declared in the .proto files
// (option (verity.v1.required_permission)); a key's role grants a set of
// permissions (auth.proto lists them).
//
// Thread-safety: an Authorizer is immutable once built; Check may be called
// from any number of threads at once.
#pragma once

#include <grpcpp/server_context.h>

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "address.h"
#include "verity/status.h"
#include "verity/v1/auth.pb.h"

namespace verity::server {

// "reader", "writer", "auditor", "admin"; InvalidArgument otherwise.
Result<v1::Role> ParseRole(const std::string& name);
const char* RoleName(v1::Role role);
// Whether `role` grants `permission` (the table in auth.proto).
bool RoleGrants(v1::Role role, v1::Permission permission);

// The permission each RPC of `services` (full names, e.g.
// "verity.v1.SearchService") requires, by method name ("Search"), read from
// the compiled-in descriptors. Internal if a service is unknown, a method
// declares no permission, or two services share a method name (the server
// names calls by method name alone).
Result<std::map<std::string, v1::Permission>> MethodPermissions(const std::vector<std::string>& services);

using wire::IsLocalAddress;  // address.h

class Authorizer {
 public:
  // No keys: every call is allowed. For loopback, or when told so.
  static Authorizer AllowAll();
  // Keys from `keys_file`, checked against `permissions`. InvalidArgument
  // naming file:line for a malformed line, an unknown role, a repeated name
  // or hash; or when the file cannot be read or holds no key.
  static Result<Authorizer> FromKeysFile(const std::string& keys_file,
                                         std::map<std::string, v1::Permission> permissions);

  bool enabled() const { return enabled_; }
  size_t key_count() const { return keys_.size(); }

  // Ok when the call may go ahead; *caller is then the key's name (or ""
  // without keys). Unauthenticated when the key is missing or unknown;
  // PermissionDenied when the key's role lacks the permission `method`
  // requires; Internal for a method with no declared permission (fails
  // closed).
  Status Check(const grpc::ServerContextBase& ctx, const std::string& method, std::string* caller) const;

  // Whether `authorization` (an HTTP header's value, "Bearer <key>") names
  // a known key, whatever its role: for the HTTP endpoints that are not
  // RPCs (/metrics on --http-listen). Ok without keys; Unauthenticated
  // otherwise, as Check.
  Status Authenticate(const std::string& authorization, std::string* caller) const;

 private:
  struct Key {
    std::string name;
    v1::Role role;
    std::array<uint8_t, 32> hash;
  };

  // The key whose hash `presented`'s is (compared with all, in constant
  // time), or nullptr with *status Unauthenticated.
  const Key* Find(const std::string& presented, Status* status) const;

  bool enabled_ = false;
  std::vector<Key> keys_;
  std::map<std::string, v1::Permission> permissions_;
};

}  // namespace verity::server
