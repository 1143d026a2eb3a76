// SHA-256 (OpenSSL's libcrypto), as lowercase hex. Used for export
// manifests. Thread-safe: every Sha256 object is independent.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace verity {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, size_t n);
  void Update(std::string_view data) { Update(data.data(), data.size()); }
  // 64 hex digits. Call once.
  std::string FinishHex();
  // 32 raw bytes. Call once (instead of FinishHex).
  std::string FinishRaw();

  static std::string Hex(std::string_view data);
  static std::string Raw(std::string_view data);
  static std::string ToHex(std::string_view raw);

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

}  // namespace verity
