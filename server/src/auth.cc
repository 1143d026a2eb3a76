#include "auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include <google/protobuf/descriptor.h>

namespace verity::server {
namespace {

constexpr char kMetadataKey[] = "authorization";
constexpr char kScheme[] = "bearer ";

std::array<uint8_t, 32> HashKey(const std::string& key) {
  std::array<uint8_t, 32> out{};
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), out.data());
  return out;
}

bool ParseHex32(const std::string& hex, std::array<uint8_t, 32>* out) {
  if (hex.size() != 64) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < 32; ++i) {
    const int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return true;
}

// The key from `authorization: Bearer <key>`, or "" when there is none.
// The key in an `authorization` value ("Bearer <key>", the scheme in any
// case), or "" when there is none.
std::string KeyOf(const std::string& value) {
  const size_t n = sizeof(kScheme) - 1;
  if (value.size() <= n) return "";
  for (size_t i = 0; i < n; ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) != kScheme[i]) return "";
  }
  return value.substr(n);
}

std::string PresentedKey(const grpc::ServerContextBase& ctx) {
  const auto& metadata = ctx.client_metadata();
  const auto it = metadata.find(kMetadataKey);
  if (it == metadata.end()) return "";
  return KeyOf(std::string(it->second.data(), it->second.size()));
}

}  // namespace

Result<v1::Role> ParseRole(const std::string& name) {
  if (name == "reader") return v1::ROLE_READER;
  if (name == "writer") return v1::ROLE_WRITER;
  if (name == "auditor") return v1::ROLE_AUDITOR;
  if (name == "admin") return v1::ROLE_ADMIN;
  return Status::InvalidArgument("unknown role \"" + name + "\" (expected reader, writer, auditor or admin)");
}

const char* RoleName(v1::Role role) {
  switch (role) {
    case v1::ROLE_READER: return "reader";
    case v1::ROLE_WRITER: return "writer";
    case v1::ROLE_AUDITOR: return "auditor";
    case v1::ROLE_ADMIN: return "admin";
    default: return "none";
  }
}

bool RoleGrants(v1::Role role, v1::Permission permission) {
  switch (role) {
    case v1::ROLE_ADMIN:
      return permission != v1::PERMISSION_UNSPECIFIED;
    case v1::ROLE_WRITER:
      return permission == v1::PERMISSION_READ || permission == v1::PERMISSION_RETRIEVE ||
             permission == v1::PERMISSION_WRITE;
    case v1::ROLE_READER:
      return permission == v1::PERMISSION_READ || permission == v1::PERMISSION_RETRIEVE;
    case v1::ROLE_AUDITOR:
      return permission == v1::PERMISSION_READ || permission == v1::PERMISSION_AUDIT;
    default:
      return false;
  }
}

Result<std::map<std::string, v1::Permission>> MethodPermissions(const std::vector<std::string>& services) {
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  std::map<std::string, v1::Permission> out;
  for (const auto& name : services) {
    const auto* service = pool->FindServiceByName(name);
    if (service == nullptr) return Status::Internal("no descriptor for service " + name);
    for (int i = 0; i < service->method_count(); ++i) {
      const auto* method = service->method(i);
      const auto permission = method->options().GetExtension(v1::required_permission);
      if (permission == v1::PERMISSION_UNSPECIFIED) {
        return Status::Internal(method->full_name() + " declares no (verity.v1.required_permission)");
      }
      if (!out.emplace(method->name(), permission).second) {
        return Status::Internal("method name " + method->name() + " is used by two services");
      }
    }
  }
  return out;
}

Authorizer Authorizer::AllowAll() { return Authorizer(); }

Result<Authorizer> Authorizer::FromKeysFile(const std::string& keys_file,
                                            std::map<std::string, v1::Permission> permissions) {
  std::ifstream in(keys_file);
  if (!in) return Status::InvalidArgument("--keys: cannot read " + keys_file);
  Authorizer auth;
  auth.enabled_ = true;
  auth.permissions_ = std::move(permissions);
  std::set<std::string> names;
  std::set<std::array<uint8_t, 32>> hashes;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const std::string where = keys_file + ":" + std::to_string(number) + ": ";
    std::istringstream fields(line.substr(0, line.find('#')));
    std::string name, role_name, hex, extra;
    if (!(fields >> name)) continue;  // blank or comment
    if (!(fields >> role_name >> hex) || (fields >> extra)) {
      return Status::InvalidArgument(where + "expected 'NAME ROLE SHA256' (three fields)");
    }
    Key key;
    key.name = name;
    auto role = ParseRole(role_name);
    if (!role.ok()) return Status::InvalidArgument(where + role.status().message());
    key.role = *role;
    if (!ParseHex32(hex, &key.hash)) {
      return Status::InvalidArgument(where + "the hash must be 64 hex digits (the SHA-256 of the key)");
    }
    if (!names.insert(name).second) return Status::InvalidArgument(where + "key name \"" + name + "\" repeated");
    if (!hashes.insert(key.hash).second) return Status::InvalidArgument(where + "the same key is listed twice");
    auth.keys_.push_back(std::move(key));
  }
  if (auth.keys_.empty()) return Status::InvalidArgument("--keys: " + keys_file + " holds no key");
  return auth;
}

const Authorizer::Key* Authorizer::Find(const std::string& presented, Status* status) const {
  if (presented.empty()) {
    *status = Status::Unauthenticated("no API key: send call metadata 'authorization: Bearer <key>'");
    return nullptr;
  }
  // Compare with every stored hash, always all of them, in constant time:
  // how long this takes says nothing about which key, or how much of one,
  // matched.
  const auto hash = HashKey(presented);
  const Key* match = nullptr;
  for (const auto& key : keys_) {
    const bool equal = CRYPTO_memcmp(hash.data(), key.hash.data(), hash.size()) == 0;
    if (equal) match = &key;
  }
  if (match == nullptr) *status = Status::Unauthenticated("unknown API key");
  return match;
}

Status Authorizer::Authenticate(const std::string& authorization, std::string* caller) const {
  caller->clear();
  if (!enabled_) return Status::Ok();
  Status status;
  const Key* key = Find(KeyOf(authorization), &status);
  if (key != nullptr) *caller = key->name;
  return status;
}

Status Authorizer::Check(const grpc::ServerContextBase& ctx, const std::string& method, std::string* caller) const {
  caller->clear();
  if (!enabled_) return Status::Ok();
  Status status;
  const Key* match = Find(PresentedKey(ctx), &status);
  if (match == nullptr) return status;
  *caller = match->name;
  const auto it = permissions_.find(method);
  if (it == permissions_.end()) return Status::Internal("no permission is declared for method " + method);
  if (!RoleGrants(match->role, it->second)) {
    return Status::PermissionDenied(method + " requires " + v1::Permission_Name(it->second) + ", which the role " +
                                    RoleName(match->role) + " of key \"" + match->name + "\" does not grant");
  }
  return Status::Ok();
}

}  // namespace verity::server
