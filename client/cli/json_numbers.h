// How the CLI reads numbers out of the JSON it is given (import lines,
// --vector, --vector-file) without wrapping or narrowing any silently.
//
// nlohmann-json alone parses 18446744073709551615 as an unsigned integer that
// get<int64_t>() wraps to -1, an integer beyond 64 bits as a double (its
// digits lost), and turns 1e39 into a finite double that get<float>() cannot
// represent (the conversion is undefined behaviour). Here an integer keeps
// its digits and a conversion that does not fit is refused, naming the value.
// Stateless functions: safe from any thread.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "verity/status.h"
#include "verity/types.h"

namespace verity::cli {

// Parses `text` like Json::parse(text, nullptr, false) (a discarded value
// when it is not JSON; nothing is thrown), except that an integer literal too
// large for 64 bits is kept as written, as a binary value of subtype
// kBigIntegerSubtype holding its decimal text: JSON text never yields a
// binary value, so the marker cannot be mistaken for one. Use the functions
// below on numbers rather than nlohmann's is_number() and get<>().
nlohmann::json ParseJson(const std::string& text);
inline constexpr std::uint64_t kBigIntegerSubtype = 0x69;  // 'i'

// True for a number, the big-integer marker included.
bool IsNumber(const nlohmann::json& value);
// True for an integer as the text wrote it (no fraction, no exponent), of any
// size.
bool IsInteger(const nlohmann::json& value);
// The decimal text of an integer (IsInteger), digit for digit: "-1",
// "18446744073709551615", "123456789012345678901234567890".
std::string IntegerText(const nlohmann::json& value);
// An integer within int64, or nullopt when it does not fit (or is no
// integer).
std::optional<int64_t> IntegerToInt64(const nlohmann::json& value);

// "does not fit a 64-bit signed integer (-9223372036854775808 to
// 9223372036854775807)": the end of the refusal of an integer out of int64.
std::string Int64RangeText();

// `x` as the nearest float. False when `x` is finite but too large for a
// float (it would round to infinity): beyond ±3.4028235e38, the float range.
// A value between FLT_MAX and the rounding limit becomes ±FLT_MAX, as the
// rounding of IEEE 754 makes it.
bool DoubleToFloat(double x, float* out);

// A JSON array of numbers as floats, into *out (cleared first). Errors:
// InvalidArgument "vector[2]: 1e+39 is outside the float range
// ±3.4028235e38", or "vector[1]: "x" is not a number"; the caller prefixes
// where the vector came from.
Status VectorFromJson(const nlohmann::json& array, std::vector<float>* out);

// {"indices": [...], "values": [...]} as a SparseVector, into *out. Errors:
// InvalidArgument "indices[2]: -1 is not an integer in 0..4294967295",
// "values[1]: ...", or for another shape; the caller prefixes where it came
// from. Order, lengths and the field's dimension are the server's to check.
Status SparseFromJson(const nlohmann::json& object, SparseVector* out);

// A JSON value as an error message shows it: at most ~40 bytes, cut at a
// character boundary; a big integer as its digits.
std::string Shown(const nlohmann::json& value);

}  // namespace verity::cli
