// UTF-8 decoding for the text code (groundedness scorer and report): strict
// (no overlong forms, no surrogates, nothing above U+10FFFF), never throws,
// and an invalid byte is reported as such rather than guessed at.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace verity::utf8 {

// Marks an invalid byte in Decode's output.
inline constexpr uint32_t kInvalid = 0xFFFFFFFFu;

// Decodes the code point at text[i] (i < text.size()). Sets *cp and returns
// its length in bytes; for an invalid or truncated sequence sets *cp to
// kInvalid and returns 1.
inline size_t Decode(std::string_view text, size_t i, uint32_t* cp) {
  const auto b0 = static_cast<unsigned char>(text[i]);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  size_t len = 0;
  uint32_t value = 0;
  uint32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, value = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, value = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, value = b0 & 0x07, min = 0x10000;
  } else {
    *cp = kInvalid;
    return 1;
  }
  if (i + len > text.size()) {
    *cp = kInvalid;
    return 1;
  }
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(text[i + k]);
    if ((b & 0xC0) != 0x80) {
      *cp = kInvalid;
      return 1;
    }
    value = (value << 6) | (b & 0x3F);
  }
  if (value < min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
    *cp = kInvalid;
    return 1;
  }
  *cp = value;
  return len;
}

// True when text[i] continues a multi-byte sequence (is not a code point's
// first byte).
inline bool IsContinuation(std::string_view text, size_t i) {
  return (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80;
}

// Largest offset <= i that does not split a code point (of valid text).
inline size_t FloorBoundary(std::string_view text, size_t i) {
  if (i >= text.size()) return text.size();
  while (i > 0 && IsContinuation(text, i)) --i;
  return i;
}

// Smallest offset >= i that does not split a code point (of valid text).
inline size_t CeilBoundary(std::string_view text, size_t i) {
  while (i < text.size() && IsContinuation(text, i)) ++i;
  return i;
}

}  // namespace verity::utf8
