#include "request_parsing.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/stubs/common.h>
#include <google/protobuf/unknown_field_set.h>
#include <google/protobuf/wire_format_lite.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

namespace verity::wire {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;

// Where ParseKeepingError keeps its error: an unknown length-delimited
// field with the largest field number protobuf allows, which no .proto of
// ours uses.
constexpr int kParseErrorField = (1 << 29) - 1;
// Protobuf's own nesting limit.
constexpr int kMaxDepth = 100;

// The offset of the first byte of `text` that does not start a valid UTF-8
// sequence, judged sequence by sequence with protobuf's own check (so that
// this agrees with the parser that refused the request).
size_t FirstInvalidByte(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const size_t length = lead < 0x80 ? 1 : (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : 4;
    if (i + length > text.size() ||
        !google::protobuf::internal::IsStructurallyValidUTF8(text.data() + i, static_cast<int>(length))) {
      return i;
    }
    i += length;
  }
  return text.size();
}

// "PATH: is not valid UTF-8 (...)" when `value` is not UTF-8.
std::optional<std::string> CheckUtf8(std::string_view value, const std::string& path) {
  const size_t bad = FirstInvalidByte(value);
  if (bad == value.size()) return std::nullopt;
  char detail[64];
  std::snprintf(detail, sizeof(detail), "byte 0x%02X at offset %zu", static_cast<unsigned char>(value[bad]), bad);
  return path + ": is not valid UTF-8 (" + detail + "); string fields must be UTF-8";
}

std::optional<std::string> FindInvalidUtf8(const Descriptor* type, std::string_view bytes, const std::string& prefix,
                                           int depth);

// Calls fn(bytes) for each length-delimited occurrence of field `number` in
// the wire bytes of a message, in order, until fn returns an error text;
// returns that, or nullopt (also when the bytes are malformed).
template <typename Fn>
std::optional<std::string> FirstFound(std::string_view message, int number, Fn fn) {
  CodedInputStream in(reinterpret_cast<const uint8_t*>(message.data()), static_cast<int>(message.size()));
  while (uint32_t tag = in.ReadTag()) {
    if (static_cast<int>(WireFormatLite::GetTagFieldNumber(tag)) != number ||
        WireFormatLite::GetTagWireType(tag) != WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      if (!WireFormatLite::SkipField(&in, tag)) return std::nullopt;
      continue;
    }
    uint32_t length = 0;
    std::string bytes;
    if (!in.ReadVarint32(&length) || !in.ReadString(&bytes, static_cast<int>(length))) return std::nullopt;
    if (auto found = fn(std::move(bytes))) return found;
  }
  return std::nullopt;
}

// One entry of a map field `map` (wire bytes `entry`, the index-th entry
// sent; the key is its field 1, the value field 2). Named by its key when
// the key is short readable text, as in records[0].metadata["lang"]; else by
// its index (a key with quotes, backslashes or other than printable ASCII).
std::optional<std::string> FindInMapEntry(const FieldDescriptor* map, std::string_view entry, const std::string& path,
                                          int index, int depth) {
  const FieldDescriptor* value_field = map->message_type()->map_value();
  std::string label = "[" + std::to_string(index) + "]";
  if (map->message_type()->map_key()->type() == FieldDescriptor::TYPE_STRING) {
    std::optional<std::string> key;  // the last one sent wins, as in protobuf
    FirstFound(entry, 1, [&](std::string bytes) -> std::optional<std::string> {
      key = std::move(bytes);
      return std::nullopt;
    });
    if (key) {
      if (auto found = CheckUtf8(*key, path + label + ".key")) return found;
      const bool plain = key->size() <= 64 && std::all_of(key->begin(), key->end(), [](char ch) {
                           return ch >= 0x20 && ch < 0x7F && ch != '"' && ch != '\\';
                         });
      if (plain) label = "[\"" + *key + "\"]";
    }
  }
  return FirstFound(entry, 2, [&](std::string bytes) -> std::optional<std::string> {
    if (value_field->type() == FieldDescriptor::TYPE_STRING) return CheckUtf8(bytes, path + label);
    if (value_field->type() == FieldDescriptor::TYPE_MESSAGE) {
      return FindInvalidUtf8(value_field->message_type(), bytes, path + label + ".", depth + 1);
    }
    return std::nullopt;
  });
}

// Walks the wire bytes of a message of type `type` and returns the path of
// the first string field that is not UTF-8, with why; nullopt when there is
// none or the bytes are not well-formed.
std::optional<std::string> FindInvalidUtf8(const Descriptor* type, std::string_view bytes, const std::string& prefix,
                                           int depth) {
  if (depth > kMaxDepth) return std::nullopt;
  CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()), static_cast<int>(bytes.size()));
  std::map<int, int> seen;  // field number -> occurrences so far (the index of a repeated field)
  while (uint32_t tag = in.ReadTag()) {
    const int number = static_cast<int>(WireFormatLite::GetTagFieldNumber(tag));
    const auto wire_type = WireFormatLite::GetTagWireType(tag);
    if (wire_type != WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      if (!WireFormatLite::SkipField(&in, tag)) return std::nullopt;
      continue;
    }
    uint32_t length = 0;
    std::string value;
    if (!in.ReadVarint32(&length) || !in.ReadString(&value, static_cast<int>(length))) return std::nullopt;
    const FieldDescriptor* field = type->FindFieldByNumber(number);
    if (field == nullptr) continue;  // an unknown field: protobuf keeps it unchecked
    const int index = seen[number]++;
    if (field->is_map()) {
      if (auto found = FindInMapEntry(field, value, prefix + field->name(), index, depth + 1)) return found;
      continue;
    }
    std::string path = prefix + field->name();
    if (field->is_repeated()) path += "[" + std::to_string(index) + "]";
    if (field->type() == FieldDescriptor::TYPE_STRING) {
      if (auto found = CheckUtf8(value, path)) return found;
    } else if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
      if (auto found = FindInvalidUtf8(field->message_type(), value, path + ".", depth + 1)) return found;
    }
  }
  return std::nullopt;
}

// Why `bytes` do not parse as `type`.
std::string ParseErrorText(const Descriptor* type, std::string_view bytes) {
  if (auto found = FindInvalidUtf8(type, bytes, "", 0)) return *found;
  return "not a well-formed " + type->full_name() + " (" + std::to_string(bytes.size()) +
         " bytes that protobuf cannot parse)";
}

// Parses; on failure returns the reason (and leaves `message` cleared).
std::optional<std::string> Parse(grpc::ByteBuffer* buffer, google::protobuf::MessageLite* message) {
  if (buffer == nullptr) return "no message";
  bool parsed = false;
  {
    grpc::ProtoBufferReader reader(buffer);
    if (!reader.status().ok()) return "the message could not be read: " + reader.status().error_message();
    parsed = message->ParseFromZeroCopyStream(&reader);
  }
  if (parsed) {
    buffer->Clear();
    return std::nullopt;
  }
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (buffer->Dump(&slices).ok()) {
    for (const grpc::Slice& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  buffer->Clear();
  message->Clear();
  // Only the wire API's messages come here (ParseMessage passes others to
  // gRPC's default), and protoc generates them all as full Messages.
  return ParseErrorText(static_cast<const google::protobuf::Message*>(message)->GetDescriptor(), bytes);
}

bool IsRequest(const google::protobuf::MessageLite& message) {
  const std::string name = message.GetTypeName();
  return name.size() >= 7 && name.compare(name.size() - 7, 7, "Request") == 0;
}

}  // namespace

grpc::Status ParseRequest(grpc::ByteBuffer* buffer, google::protobuf::MessageLite* message) {
  if (auto error = Parse(buffer, message)) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, *error);
  return grpc::Status::OK;
}

grpc::Status ParseMessage(grpc::ByteBuffer* buffer, google::protobuf::MessageLite* message) {
  // Another API's message in the same program: exactly gRPC's default.
  const std::string type = message->GetTypeName();
  const bool ours = type.rfind("verity.", 0) == 0;
  if (!ours && type.rfind("grpc.health.", 0) != 0) {
    return grpc::GenericDeserialize<grpc::ProtoBufferReader, grpc::protobuf::MessageLite>(buffer, message);
  }
  if (ours && IsRequest(*message)) return ParseKeepingError(buffer, message);
  if (auto error = Parse(buffer, message)) {
    return grpc::Status(IsRequest(*message) ? grpc::StatusCode::INVALID_ARGUMENT : grpc::StatusCode::INTERNAL, *error);
  }
  return grpc::Status::OK;
}

grpc::Status ParseKeepingError(grpc::ByteBuffer* buffer, google::protobuf::MessageLite* lite) {
  auto* message = static_cast<google::protobuf::Message*>(lite);
  const google::protobuf::Reflection* reflection = message->GetReflection();
  if (auto error = Parse(buffer, message)) {
    reflection->MutableUnknownFields(message)->AddLengthDelimited(kParseErrorField, *error);
  } else if (!reflection->GetUnknownFields(*message).empty()) {
    // A caller cannot make its own request look refused.
    reflection->MutableUnknownFields(message)->DeleteByNumber(kParseErrorField);
  }
  return grpc::Status::OK;
}

std::string RequestParseError(const google::protobuf::Message& message) {
  const auto& unknown = message.GetReflection()->GetUnknownFields(message);
  for (int i = 0; i < unknown.field_count(); ++i) {
    const auto& field = unknown.field(i);
    if (field.number() == kParseErrorField && field.type() == google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED) {
      return field.length_delimited();
    }
  }
  return "";
}

}  // namespace verity::wire
