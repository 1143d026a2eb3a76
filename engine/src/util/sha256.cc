#include "util/sha256.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace verity {

struct Sha256::Context {
  EVP_MD_CTX* md = nullptr;
};

namespace {

// Fetched once: OpenSSL 3 looks a digest up in its provider tables on every
// implicit fetch (EVP_sha256() in EVP_DigestInit_ex), which costs more than
// hashing a short text.
const EVP_MD* Sha256Digest() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

}  // namespace

Sha256::Sha256() : context_(std::make_unique<Context>()) {
  context_->md = EVP_MD_CTX_new();
  if (context_->md == nullptr || Sha256Digest() == nullptr ||
      EVP_DigestInit_ex(context_->md, Sha256Digest(), nullptr) != 1) {
    throw std::bad_alloc();
  }
}

Sha256::~Sha256() { EVP_MD_CTX_free(context_->md); }

void Sha256::Update(const void* data, size_t n) { EVP_DigestUpdate(context_->md, data, n); }

std::string Sha256::FinishRaw() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(context_->md, digest, &length);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string Sha256::FinishHex() { return ToHex(FinishRaw()); }

std::string Sha256::ToHex(std::string_view raw) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::string Sha256::Raw(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.FinishRaw();
}

std::string Sha256::Hex(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.FinishHex();
}

}  // namespace verity
