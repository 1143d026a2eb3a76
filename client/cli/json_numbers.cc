#include "json_numbers.h"

#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace verity::cli {

using Json = nlohmann::json;

namespace {

bool IsBigInteger(const Json& value) {
  return value.is_binary() && value.get_binary().has_subtype() &&
         value.get_binary().subtype() == kBigIntegerSubtype;
}

std::string BigIntegerText(const Json& value) {
  const auto& bytes = value.get_binary();
  return std::string(bytes.begin(), bytes.end());
}

// Builds the document as nlohmann's own DOM parser does, but for an integer
// literal nlohmann could only read as a double (it overflows 64 bits): that
// one is kept as its text (see ParseJson). Containers on the stack are the
// open ones, innermost last; only the innermost grows, so the pointers to its
// ancestors stay valid.
class KeepingSax {
 public:
  explicit KeepingSax(Json* root) : root_(root) {}

  // Each event returns whether to go on: always, but for parse_error.
  bool null() { return Put(nullptr); }
  bool boolean(bool value) { return Put(value); }
  bool number_integer(Json::number_integer_t value) { return Put(value); }
  bool number_unsigned(Json::number_unsigned_t value) { return Put(value); }
  bool number_float(Json::number_float_t value, const std::string& text) {
    if (text.find_first_of(".eE") == std::string::npos) {  // an integer that overflowed 64 bits
      return Put(Json::binary(std::vector<std::uint8_t>(text.begin(), text.end()), kBigIntegerSubtype));
    }
    return Put(value);
  }
  bool string(std::string& value) { return Put(std::move(value)); }
  bool binary(Json::binary_t& value) { return Put(std::move(value)); }
  bool start_object(std::size_t) { return Open(Json::object()); }
  bool key(std::string& key) {
    key_ = std::move(key);
    return true;
  }
  bool end_object() {
    open_.pop_back();
    return true;
  }
  bool start_array(std::size_t) { return Open(Json::array()); }
  bool end_array() {
    open_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const Json::exception&) { return false; }

 private:
  bool Put(Json value) {
    Place(std::move(value));
    return true;
  }
  bool Open(Json container) {
    open_.push_back(Place(std::move(container)));
    return true;
  }
  // Stores `value` in the innermost open container (or as the root) and
  // returns where it now is.
  Json* Place(Json value) {
    if (open_.empty()) {
      *root_ = std::move(value);
      return root_;
    }
    Json& into = *open_.back();
    if (into.is_array()) {
      into.push_back(std::move(value));
      return &into.back();
    }
    Json& slot = into[key_];  // a repeated key: the last one wins, as in Json::parse
    slot = std::move(value);
    return &slot;
  }

  Json* root_;
  std::vector<Json*> open_;
  std::string key_;
};

// FLT_MAX plus half a unit in the last place, 2^128 - 2^103: a double below
// it rounds to a finite float, one at or above it to infinity.
constexpr double kFloatRoundingLimit = 0x1.ffffffp127;

}  // namespace

Json ParseJson(const std::string& text) {
  Json root;
  KeepingSax sax(&root);
  if (!Json::sax_parse(text, &sax)) return Json(Json::value_t::discarded);
  return root;
}

bool IsNumber(const Json& value) { return value.is_number() || IsBigInteger(value); }

bool IsInteger(const Json& value) { return value.is_number_integer() || IsBigInteger(value); }

std::string IntegerText(const Json& value) {
  if (value.is_number_unsigned()) return std::to_string(value.get<uint64_t>());
  if (value.is_number_integer()) return std::to_string(value.get<int64_t>());
  if (IsBigInteger(value)) return BigIntegerText(value);
  return "";
}

std::optional<int64_t> IntegerToInt64(const Json& value) {
  if (value.is_number_unsigned()) {
    const uint64_t u = value.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (value.is_number_integer()) return value.get<int64_t>();
  return std::nullopt;
}

std::string Int64RangeText() {
  return "does not fit a 64-bit signed integer (" + std::to_string(std::numeric_limits<int64_t>::min()) + " to " +
         std::to_string(std::numeric_limits<int64_t>::max()) + ")";
}

bool DoubleToFloat(double x, float* out) {
  if (!std::isfinite(x) || std::fabs(x) <= FLT_MAX) {
    *out = static_cast<float>(x);  // NaN and infinity convert as themselves
    return true;
  }
  if (std::fabs(x) < kFloatRoundingLimit) {
    *out = x > 0 ? FLT_MAX : -FLT_MAX;
    return true;
  }
  return false;
}

namespace {

// A JSON array of numbers as floats; errors name "<name>[i]".
Status FloatsFromJson(const Json& array, const std::string& name, std::vector<float>* out) {
  out->clear();
  out->reserve(array.size());
  for (size_t i = 0; i < array.size(); ++i) {
    const Json& x = array[i];
    const std::string field = name + "[" + std::to_string(i) + "]: ";
    if (!IsNumber(x)) return Status::InvalidArgument(field + Shown(x) + " is not a number");
    // A big integer is below 1e309 (nlohmann refuses a longer one), so
    // strtod gives a finite double.
    const double d = IsBigInteger(x) ? std::strtod(BigIntegerText(x).c_str(), nullptr) : x.get<double>();
    float f = 0;
    if (!DoubleToFloat(d, &f)) {
      return Status::InvalidArgument(field + Shown(x) + " is outside the float range ±3.4028235e38");
    }
    out->push_back(f);
  }
  return Status::Ok();
}

}  // namespace

Status VectorFromJson(const Json& array, std::vector<float>* out) { return FloatsFromJson(array, "vector", out); }

Status SparseFromJson(const Json& object, SparseVector* out) {
  out->indices.clear();
  out->values.clear();
  if (!object.is_object() || !object.contains("indices") || !object.contains("values")) {
    return Status::InvalidArgument("expected an object {\"indices\": [...], \"values\": [...]}, not " + Shown(object));
  }
  for (const auto& [key, value] : object.items()) {
    if (key != "indices" && key != "values") {
      return Status::InvalidArgument("unknown member \"" + key.substr(0, 40) + "\" (a sparse vector has indices and values)");
    }
  }
  const Json& indices = object["indices"];
  const Json& values = object["values"];
  if (!indices.is_array()) return Status::InvalidArgument("indices: must be an array of integers, not " + Shown(indices));
  if (!values.is_array()) return Status::InvalidArgument("values: must be an array of numbers, not " + Shown(values));
  out->indices.reserve(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) {
    const Json& x = indices[i];
    if (!x.is_number_unsigned() || x.get<uint64_t>() > std::numeric_limits<uint32_t>::max()) {
      return Status::InvalidArgument("indices[" + std::to_string(i) + "]: " + Shown(x) +
                                     " is not an integer in 0..4294967295");
    }
    out->indices.push_back(static_cast<uint32_t>(x.get<uint64_t>()));
  }
  return FloatsFromJson(values, "values", &out->values);
}

std::string Shown(const Json& value) {
  std::string text = IsBigInteger(value) ? BigIntegerText(value) : value.dump();
  if (text.size() <= 40) return text;
  size_t cut = 40;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + "...";
}

}  // namespace verity::cli
