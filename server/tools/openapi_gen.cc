// verity_openapi_gen: writes the OpenAPI 3.1 document of verityd's
// HTTP/JSON API (docs/http.md) from the wire API's descriptors, at build
// time (server/CMakeLists.txt runs it whenever a .proto changes).
//
//   verity_openapi_gen --descriptors FILE --version V --json OUT.json --cc OUT.cc
//
// The API's structure (services, methods, messages, fields, the permission
// each RPC declares) comes from the descriptors compiled into this binary
// (DescriptorPool::generated_pool(), the same ones verityd is built with).
// FILE is a FileDescriptorSet of proto/verity/v1/*.proto written by protoc
// with --include_source_info: it lists the files to describe and carries
// their comments, which become the summaries and descriptions (compiled-in
// descriptors keep no comments). A file of the set that is not compiled in
// is an error (it is missing from proto/CMakeLists.txt).
//
// Schemas follow protobuf's canonical JSON mapping as verityd prints and
// parses it (docs/http.md, "JSON mapping"): lowerCamelCase json names,
// 64-bit integers as strings, enums by name, bytes base64, repeated as
// arrays, maps as objects, the well-known types by their special forms.
//
// OUT.cc defines verity::server::OpenApiDocument() (server/src/
// openapi_document.h) returning the same JSON text as OUT.json. Both are
// written to a temporary file first and renamed, so a failed run leaves no
// half-written output. Exit code 0 on success, 1 on any error (on stderr).
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "verity/v1/auth.pb.h"

namespace {

using Json = nlohmann::ordered_json;
namespace pb = google::protobuf;

constexpr char kPackage[] = "verity.v1";
constexpr char kSchemaRef[] = "#/components/schemas/";

struct Options {
  std::string descriptors;
  std::string version = "0.0.0";
  std::string json_out;
  std::string cc_out;
};

// ---------------------------------------------------------------------------
// Comments, from the source descriptor set.

// Proto comments keep the space after "//" and end with a newline; this
// strips one leading space per line and trailing blanks, and drops empty
// lines at either end.
std::string CleanComment(const std::string& raw) {
  std::vector<std::string> lines;
  std::istringstream in(raw);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == ' ') line.erase(0, 1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.pop_back();
    lines.push_back(line);
  }
  while (!lines.empty() && lines.front().empty()) lines.erase(lines.begin());
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += '\n';
    out += lines[i];
  }
  return out;
}

// Leading comment, then trailing comment, of a descriptor of the source pool
// (nullptr: none).
template <typename D>
std::string CommentOf(const D* d) {
  if (d == nullptr) return "";
  pb::SourceLocation loc;
  if (!d->GetSourceLocation(&loc)) return "";
  std::string leading = CleanComment(loc.leading_comments);
  std::string trailing = CleanComment(loc.trailing_comments);
  if (leading.empty()) return trailing;
  if (trailing.empty()) return leading;
  return leading + "\n" + trailing;
}

// Joins non-empty paragraphs with a blank line.
std::string Paragraphs(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out += "\n\n";
    out += p;
  }
  return out;
}

std::string Upper(std::string s) {
  for (char& c : s) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  return s;
}

// The first sentence of a comment when it is short, for an operation's
// summary; else "".
std::string FirstSentence(const std::string& comment) {
  std::string flat;
  for (char c : comment) flat += (c == '\n') ? ' ' : c;
  size_t end = flat.find(". ");
  // "e.g. " and "i.e. " do not end a sentence.
  while (end != std::string::npos && end >= 3 &&
         (flat.compare(end - 3, 3, "e.g") == 0 || flat.compare(end - 3, 3, "i.e") == 0)) {
    end = flat.find(". ", end + 1);
  }
  if (end == std::string::npos && !flat.empty() && flat.back() == '.') end = flat.size() - 1;
  if (end == std::string::npos || end > 120) return "";
  // A sentence that starts with a status code ("NOT_FOUND if ...") lists
  // errors; it does not say what the method does.
  const std::string first_word = flat.substr(0, flat.find(' '));
  if (first_word.find('_') != std::string::npos && first_word == Upper(first_word)) return "";
  return flat.substr(0, end + 1);
}

// "CreateCollection" -> "Create collection": the summary of an RPC whose
// comment gives none.
std::string Words(const std::string& camel) {
  std::string out;
  for (size_t i = 0; i < camel.size(); ++i) {
    const char c = camel[i];
    const bool upper = c >= 'A' && c <= 'Z';
    if (i > 0 && upper) {
      out += ' ';
      out += static_cast<char>(c - 'A' + 'a');
    } else {
      out += c;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Schemas.

class SchemaBuilder {
 public:
  explicit SchemaBuilder(const pb::DescriptorPool* source) : source_(source) {}

  // A {"$ref": ...} to the message's schema, adding it (and everything it
  // refers to) to the components; or the inline schema of a well-known type.
  Json MessageRef(const pb::Descriptor* message) {
    Json wkt;
    if (WellKnown(message, &wkt)) return wkt;
    AddMessage(message);
    return Json{{"$ref", kSchemaRef + message->full_name()}};
  }

  Json& schemas() { return schemas_; }

 private:
  // The schema of a field's value (one element for a repeated field).
  Json ValueSchema(const pb::FieldDescriptor* field) {
    switch (field->type()) {
      case pb::FieldDescriptor::TYPE_INT64:
      case pb::FieldDescriptor::TYPE_SINT64:
      case pb::FieldDescriptor::TYPE_SFIXED64:
        return Int64Schema(true);
      case pb::FieldDescriptor::TYPE_UINT64:
      case pb::FieldDescriptor::TYPE_FIXED64:
        return Int64Schema(false);
      case pb::FieldDescriptor::TYPE_INT32:
      case pb::FieldDescriptor::TYPE_SINT32:
      case pb::FieldDescriptor::TYPE_SFIXED32:
        return Json{{"type", "integer"}, {"format", "int32"}};
      case pb::FieldDescriptor::TYPE_UINT32:
      case pb::FieldDescriptor::TYPE_FIXED32:
        return Json{{"type", "integer"}, {"format", "uint32"}, {"minimum", 0}, {"maximum", 4294967295u}};
      case pb::FieldDescriptor::TYPE_FLOAT:
        return Json{{"type", "number"}, {"format", "float"}};
      case pb::FieldDescriptor::TYPE_DOUBLE:
        return Json{{"type", "number"}, {"format", "double"}};
      case pb::FieldDescriptor::TYPE_BOOL:
        return Json{{"type", "boolean"}};
      case pb::FieldDescriptor::TYPE_STRING:
        return Json{{"type", "string"}};
      case pb::FieldDescriptor::TYPE_BYTES:
        return Json{{"type", "string"}, {"format", "byte"}, {"contentEncoding", "base64"}};
      case pb::FieldDescriptor::TYPE_ENUM:
        return EnumRef(field->enum_type());
      case pb::FieldDescriptor::TYPE_MESSAGE:
      case pb::FieldDescriptor::TYPE_GROUP:
        return MessageRef(field->message_type());
    }
    throw std::runtime_error("unknown type of field " + field->full_name());
  }

  static Json Int64Schema(bool is_signed) {
    return Json{{"type", "string"},
                {"format", is_signed ? "int64" : "uint64"},
                {"pattern", is_signed ? "^-?[0-9]+$" : "^[0-9]+$"}};
  }

  Json EnumRef(const pb::EnumDescriptor* e) {
    if (e->full_name() == "google.protobuf.NullValue") return Json{{"type", "null"}};
    const std::string name = e->full_name();
    if (!schemas_.contains(name)) {
      Json values = Json::array();
      std::vector<std::string> lines;
      const pb::EnumDescriptor* src = source_->FindEnumTypeByName(name);
      for (int i = 0; i < e->value_count(); ++i) {
        const auto* v = e->value(i);
        values.push_back(v->name());
        std::string comment = CommentOf(src == nullptr ? nullptr : src->FindValueByName(v->name()));
        for (char& c : comment) c = (c == '\n') ? ' ' : c;
        lines.push_back("- `" + v->name() + "` (" + std::to_string(v->number()) + ")" +
                        (comment.empty() ? "" : ": " + comment));
      }
      std::string list;
      for (const auto& l : lines) list += (list.empty() ? "" : "\n") + l;
      Json schema{{"type", "string"},
                  {"title", e->name()},
                  {"description", Paragraphs({CommentOf(src),
                                              "Enum `" + name + "`: printed by name; a request may also "
                                              "give the number.",
                                              list})},
                  {"enum", values}};
      schemas_[name] = schema;
    }
    return Json{{"$ref", kSchemaRef + name}};
  }

  // The inline schemas of the well-known types' special JSON forms.
  bool WellKnown(const pb::Descriptor* m, Json* out) {
    const std::string& n = m->full_name();
    if (n.rfind("google.protobuf.", 0) != 0) return false;
    auto wrapper = [&](const char* type) -> Json {
      const std::string t = type;
      if (t == "int64") return Int64Schema(true);
      if (t == "uint64") return Int64Schema(false);
      if (t == "int32") return Json{{"type", "integer"}, {"format", "int32"}};
      if (t == "uint32") return Json{{"type", "integer"}, {"format", "uint32"}, {"minimum", 0}};
      if (t == "float" || t == "double") return Json{{"type", "number"}, {"format", t}};
      if (t == "bool") return Json{{"type", "boolean"}};
      if (t == "bytes") return Json{{"type", "string"}, {"format", "byte"}, {"contentEncoding", "base64"}};
      return Json{{"type", "string"}};
    };
    static const std::map<std::string, std::string> kWrappers = {
        {"google.protobuf.DoubleValue", "double"}, {"google.protobuf.FloatValue", "float"},
        {"google.protobuf.Int64Value", "int64"},   {"google.protobuf.UInt64Value", "uint64"},
        {"google.protobuf.Int32Value", "int32"},   {"google.protobuf.UInt32Value", "uint32"},
        {"google.protobuf.BoolValue", "bool"},     {"google.protobuf.StringValue", "string"},
        {"google.protobuf.BytesValue", "bytes"}};
    if (auto it = kWrappers.find(n); it != kWrappers.end()) {
      *out = wrapper(it->second.c_str());
    } else if (n == "google.protobuf.Timestamp") {
      *out = Json{{"type", "string"}, {"format", "date-time"}, {"description", "RFC 3339, e.g. 2026-01-02T03:04:05Z"}};
    } else if (n == "google.protobuf.Duration") {
      *out = Json{{"type", "string"}, {"pattern", "^-?[0-9]+(\\.[0-9]{1,9})?s$"}, {"description", "seconds with an s suffix, e.g. 1.5s"}};
    } else if (n == "google.protobuf.Struct") {
      *out = Json{{"type", "object"}, {"additionalProperties", true}};
    } else if (n == "google.protobuf.Value") {
      *out = Json::object();  // any JSON value
    } else if (n == "google.protobuf.ListValue") {
      *out = Json{{"type", "array"}};
    } else if (n == "google.protobuf.Empty") {
      *out = Json{{"type", "object"}, {"maxProperties", 0}};
    } else if (n == "google.protobuf.FieldMask") {
      *out = Json{{"type", "string"}, {"description", "comma-separated lowerCamelCase paths"}};
    } else if (n == "google.protobuf.Any") {
      *out = Json{{"type", "object"}, {"required", {"@type"}}, {"properties", {{"@type", {{"type", "string"}}}}}};
    } else {
      return false;
    }
    return true;
  }

  void AddMessage(const pb::Descriptor* m) {
    const std::string name = m->full_name();
    if (schemas_.contains(name)) return;
    schemas_[name] = Json::object();  // placeholder: recursive messages stop here
    const pb::Descriptor* src = source_->FindMessageTypeByName(name);
    Json properties = Json::object();
    for (int i = 0; i < m->field_count(); ++i) {
      const auto* f = m->field(i);
      const auto* src_field = src == nullptr ? nullptr : src->FindFieldByName(f->name());
      Json schema;
      std::vector<std::string> notes;
      if (f->is_map()) {
        const auto* key = f->message_type()->map_key();
        const auto* value = f->message_type()->map_value();
        schema = Json{{"type", "object"}, {"additionalProperties", ValueSchema(value)}};
        if (key->type() != pb::FieldDescriptor::TYPE_STRING) {
          notes.push_back(std::string("Map keys: ") + key->type_name() + " written as JSON strings.");
        }
      } else if (f->is_repeated()) {
        schema = Json{{"type", "array"}, {"items", ValueSchema(f)}};
      } else {
        schema = ValueSchema(f);
      }
      const auto* oneof = f->real_containing_oneof();
      if (oneof != nullptr) {
        std::string others;
        for (int j = 0; j < oneof->field_count(); ++j) {
          others += std::string(others.empty() ? "" : ", ") + "`" + oneof->field(j)->json_name() + "`";
        }
        notes.push_back("One of " + others + " (oneof `" + oneof->name() + "`): set at most one; omitted when unset.");
      } else if (f->has_presence() && f->type() != pb::FieldDescriptor::TYPE_MESSAGE) {
        notes.push_back("Optional: omitted from responses when unset.");
      }
      if (f->json_name() != f->name()) notes.push_back("Proto name `" + f->name() + "` is accepted in requests.");
      std::string description = Paragraphs({CommentOf(src_field), Paragraphs(notes)});
      // Beside a $ref too: OpenAPI 3.1's schemas are JSON Schema 2020-12,
      // where $ref's siblings apply.
      if (!description.empty()) schema["description"] = description;
      properties[f->json_name()] = schema;
    }
    Json schema{{"type", "object"}, {"title", m->name()}};
    std::string description = CommentOf(src);
    description = Paragraphs({description, "Message `" + name + "`."});
    schema["description"] = description;
    schema["properties"] = properties;
    schemas_[name] = schema;
  }

  const pb::DescriptorPool* source_;
  Json schemas_ = Json::object();
};

// ---------------------------------------------------------------------------
// The document.

struct HttpError {
  const char* status;
  const char* grpc_codes;
};

// common.md's mapping of gRPC codes to HTTP statuses (the gateway's).
const std::vector<HttpError>& HttpErrors() {
  static const std::vector<HttpError> kErrors = {
      {"400", "INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE; or a body that is not valid JSON for the request message"},
      {"401", "UNAUTHENTICATED: no API key, or an unknown one (verityd runs with --keys)"},
      {"403", "PERMISSION_DENIED: the key's role does not grant the method's permission"},
      {"404", "NOT_FOUND (e.g. the collection); or an unknown route"},
      {"409", "ALREADY_EXISTS, ABORTED"},
      {"429", "RESOURCE_EXHAUSTED (e.g. over --max-concurrent-calls)"},
      {"499", "CANCELLED"},
      {"500", "INTERNAL, DATA_LOSS, UNKNOWN and any other code"},
      {"501", "UNIMPLEMENTED"},
      {"503", "UNAVAILABLE (e.g. the server is stopping)"},
      {"504", "DEADLINE_EXCEEDED (the call's deadline: X-Verity-Timeout-Ms or the server's default)"},
  };
  return kErrors;
}

Json ErrorSchema() {
  Json codes = Json::array();
  for (const char* c : {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
                        "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
                        "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
                        "UNAUTHENTICATED"}) {
    codes.push_back(c);
  }
  std::string table = "| HTTP status | gRPC codes |\n|---|---|";
  for (const auto& e : HttpErrors()) table += std::string("\n| ") + e.status + " | " + e.grpc_codes + " |";
  return Json{
      {"type", "object"},
      {"title", "Error"},
      {"description", Paragraphs({"The body of every error response: the gRPC status the call ended with, "
                                  "the same code and message a gRPC client gets.",
                                  table})},
      {"required", {"code", "status", "message"}},
      {"properties",
       {{"code", {{"type", "integer"}, {"format", "int32"}, {"minimum", 0}, {"maximum", 16},
                  {"description", "The gRPC status code number, e.g. 3"}}},
        {"status", {{"type", "string"}, {"enum", codes}, {"description", "The gRPC status code name, e.g. INVALID_ARGUMENT"}}},
        {"message", {{"type", "string"}, {"description", "What went wrong, naming the field and the limit"}}}}}};
}

Json StreamErrorSchema() {
  return Json{{"type", "object"},
              {"title", "StreamError"},
              {"description", "The last line of an NDJSON response when the call failed after the stream started."},
              {"required", {"error"}},
              {"properties", {{"error", {{"$ref", std::string(kSchemaRef) + "Error"}}}}}};
}

std::string PermissionName(verity::v1::Permission p) { return verity::v1::Permission_Name(p); }

class DocumentBuilder {
 public:
  DocumentBuilder(const pb::DescriptorPool* source, std::vector<std::string> files, std::string version)
      : source_(source), files_(std::move(files)), version_(std::move(version)), schemas_(source) {}

  Json Build() {
    Json doc;
    doc["openapi"] = "3.1.0";
    doc["info"] = Json{{"title", "Verity HTTP/JSON API"},
                       {"version", version_},
                       {"summary", "verityd's gRPC API (package verity.v1) as JSON over HTTP"},
                       {"description", InfoDescription()}};
    doc["servers"] = Json::array({Json{{"url", "/"}, {"description", "the verityd --http-listen address"}}});
    doc["security"] = Json::array({Json{{"bearerAuth", Json::array()}}, Json::object()});
    Json tags = Json::array();
    Json paths = Json::object();
    for (const auto& file_name : files_) {
      const pb::FileDescriptor* file = pb::DescriptorPool::generated_pool()->FindFileByName(file_name);
      if (file == nullptr) {
        throw std::runtime_error(file_name + " is not compiled into verity_proto (add it to proto/CMakeLists.txt)");
      }
      if (file->package() != kPackage) continue;
      for (int s = 0; s < file->service_count(); ++s) {
        const pb::ServiceDescriptor* service = file->service(s);
        const pb::ServiceDescriptor* src_service = source_->FindServiceByName(service->full_name());
        tags.push_back(Json{{"name", service->name()},
                            {"description", Paragraphs({CommentOf(src_service),
                                                        "gRPC service `" + service->full_name() + "`."})}});
        for (int m = 0; m < service->method_count(); ++m) {
          const pb::MethodDescriptor* method = service->method(m);
          const pb::MethodDescriptor* src_method =
              src_service == nullptr ? nullptr : src_service->FindMethodByName(method->name());
          const std::string path = "/v1/" + service->name() + "/" + method->name();
          if (paths.contains(path)) throw std::runtime_error("two RPCs map to " + path);
          paths[path] = Json{{"post", Operation(service, method, CommentOf(src_method))}};
        }
      }
    }
    tags.push_back(Json{{"name", "Server"}, {"description", "Endpoints of verityd's HTTP listener that are not RPCs."}});
    paths["/openapi.json"] = Json{{"get", OpenApiOperation()}};
    paths["/metrics"] = Json{{"get", MetricsOperation()}};
    doc["tags"] = tags;
    doc["paths"] = paths;

    Json components;
    Json& schemas = schemas_.schemas();
    schemas["Error"] = ErrorSchema();
    schemas["StreamError"] = StreamErrorSchema();
    components["schemas"] = SortedByName(schemas);
    Json responses = Json::object();
    for (const auto& e : HttpErrors()) {
      responses[std::string("Http") + e.status] =
          Json{{"description", e.grpc_codes},
               {"content", {{"application/json", {{"schema", {{"$ref", std::string(kSchemaRef) + "Error"}}}}}}}};
    }
    components["responses"] = responses;
    components["parameters"] = Json{
        {"Timeout",
         {{"name", "X-Verity-Timeout-Ms"},
          {"in", "header"},
          {"required", false},
          {"description", "The call's deadline in milliseconds (a positive integer); without it, the server's "
                          "--default-deadline-ms. Past it the call ends with 504 DEADLINE_EXCEEDED."},
          {"schema", {{"type", "integer"}, {"minimum", 1}}}}}};
    components["securitySchemes"] = Json{
        {"bearerAuth",
         {{"type", "http"},
          {"scheme", "bearer"},
          {"description", "`Authorization: Bearer <API key>`, as the gRPC metadata. Needed only when verityd runs "
                          "with --keys (docs/security.md); each RPC then requires the permission named in its "
                          "x-verity-permission, which the key's role must grant."}}}};
    doc["components"] = components;
    return doc;
  }

 private:
  static Json SortedByName(const Json& in) {
    std::map<std::string, Json> sorted;
    for (const auto& [k, v] : in.items()) sorted[k] = v;
    Json out = Json::object();
    for (const auto& [k, v] : sorted) out[k] = v;
    return out;
  }

  static std::string InfoDescription() {
    return "Every RPC of verityd's gRPC API (package `verity.v1`, proto/verity/v1/) is served as "
           "`POST /v1/<Service>/<Method>` when verityd runs with `--http-listen HOST:PORT` "
           "(docs/http.md).\n\n"
           "Bodies are the request and response messages in protobuf's canonical JSON mapping: "
           "lowerCamelCase field names (a request may also use the .proto's snake_case names); "
           "64-bit integers as JSON strings; enums by name; bytes as base64; an empty request body is `{}`. "
           "Responses print every field, defaults included, except unset `optional`, oneof and message fields.\n\n"
           "Errors carry the gRPC status as `{\"code\", \"status\", \"message\"}` with the HTTP status mapped "
           "from the code (components/schemas/Error). Streaming RPCs (`x-verity-streaming`) use "
           "`application/x-ndjson`: one message per line.\n\n"
           "This document is generated from the .proto files at build time and served at `GET /openapi.json`.";
  }

  Json Operation(const pb::ServiceDescriptor* service, const pb::MethodDescriptor* method, const std::string& comment) {
    const auto permission = method->options().GetExtension(verity::v1::required_permission);
    if (permission == verity::v1::PERMISSION_UNSPECIFIED) {
      throw std::runtime_error(method->full_name() + " declares no (verity.v1.required_permission)");
    }
    const bool client_streaming = method->client_streaming();
    const bool server_streaming = method->server_streaming();
    Json op;
    op["operationId"] = service->name() + "_" + method->name();
    op["tags"] = Json::array({service->name()});
    std::string summary = FirstSentence(comment);
    op["summary"] = summary.empty() ? Words(method->name()) : summary;
    std::vector<std::string> parts = {comment};
    parts.push_back("Requires the permission `" + PermissionName(permission) +
                    "` when verityd runs with API keys (docs/security.md). gRPC method `/" + service->full_name() +
                    "/" + method->name() + "`.");
    std::string streaming;
    if (client_streaming && server_streaming) {
      streaming = "bidi";
      parts.push_back("Streaming: the request body is NDJSON, one `" + method->input_type()->full_name() +
                      "` per line; the response is NDJSON, one `" + method->output_type()->full_name() +
                      "` per request line, in order. An error after the stream started is a last line "
                      "`{\"error\": {\"code\", \"status\", \"message\"}}`.");
    } else if (server_streaming) {
      streaming = "server";
      parts.push_back("Streaming: the response is NDJSON, one `" + method->output_type()->full_name() +
                      "` per line. An error after the stream started is a last line "
                      "`{\"error\": {\"code\", \"status\", \"message\"}}`.");
    } else if (client_streaming) {
      streaming = "client";
      parts.push_back("Streaming: the request body is NDJSON, one `" + method->input_type()->full_name() +
                      "` per line.");
    }
    op["description"] = Paragraphs(parts);
    op["x-verity-permission"] = PermissionName(permission);
    op["x-verity-grpc-method"] = "/" + service->full_name() + "/" + method->name();
    if (!streaming.empty()) op["x-verity-streaming"] = streaming;
    op["parameters"] = Json::array({Json{{"$ref", "#/components/parameters/Timeout"}}});

    Json request = schemas_.MessageRef(method->input_type());
    if (client_streaming) {
      op["requestBody"] = Json{
          {"required", false},
          {"description", "NDJSON: one request message per line."},
          {"content", {{"application/x-ndjson", {{"schema", request}}}}}};
    } else {
      op["requestBody"] = Json{
          {"required", false},
          {"description", "The request message; an empty body is `{}`."},
          {"content", {{"application/json", {{"schema", request}}}}}};
    }
    Json response = schemas_.MessageRef(method->output_type());
    Json responses;
    if (server_streaming) {
      Json line{{"oneOf", Json::array({response, Json{{"$ref", std::string(kSchemaRef) + "StreamError"}}})}};
      responses["200"] = Json{{"description", "NDJSON: one response message per line; a failure after the "
                                              "stream started is a last `{\"error\": ...}` line."},
                              {"content", {{"application/x-ndjson", {{"schema", line}}}}}};
    } else {
      responses["200"] = Json{{"description", "The response message, every field printed (defaults included)."},
                              {"content", {{"application/json", {{"schema", response}}}}}};
    }
    for (const auto& e : HttpErrors()) {
      responses[e.status] = Json{{"$ref", std::string("#/components/responses/Http") + e.status}};
    }
    responses["default"] = Json{
        {"description", "Any other error, with its gRPC status."},
        {"content", {{"application/json", {{"schema", {{"$ref", std::string(kSchemaRef) + "Error"}}}}}}}};
    op["responses"] = responses;
    return op;
  }

  static Json OpenApiOperation() {
    return Json{{"operationId", "GetOpenApi"},
                {"tags", {"Server"}},
                {"summary", "This document."},
                {"description", "The OpenAPI document of this API, generated from the .proto files when verityd "
                                "was built."},
                {"security", Json::array()},
                {"responses",
                 {{"200",
                   {{"description", "The OpenAPI 3.1 document."},
                    {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}}}}}};
  }

  static Json MetricsOperation() {
    return Json{{"operationId", "GetMetrics"},
                {"tags", {"Server"}},
                {"summary", "Prometheus metrics."},
                {"description", "The same metrics as `--metrics-listen` serves (docs/metrics.md), in the Prometheus "
                                "text exposition format 0.0.4. When verityd runs with --keys, any known API key "
                                "may read them (no permission needed); without one the answer is 401."},
                {"responses",
                 {{"200",
                   {{"description", "Prometheus text format."},
                    {"content", {{"text/plain", {{"schema", {{"type", "string"}}}}}}}}},
                  {"401", {{"$ref", "#/components/responses/Http401"}}}}}};
  }

  const pb::DescriptorPool* source_;
  std::vector<std::string> files_;
  std::string version_;
  SchemaBuilder schemas_;
};

// ---------------------------------------------------------------------------
// Output.

void WriteFileAtomically(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + tmp);
    out << content;
    out.close();
    if (!out) throw std::runtime_error("cannot write " + tmp);
  }
  std::filesystem::rename(tmp, path);
}

std::string CcSource(const std::string& json) {
  static const std::string kDelimiter = "verity_openapi";
  if (json.find(")" + kDelimiter + "\"") != std::string::npos) {
    throw std::runtime_error("the document contains the raw string's delimiter");
  }
  std::string out =
      "// Generated by verity_openapi_gen (server/tools/openapi_gen.cc) from\n"
      "// proto/verity/v1/*.proto. Do not edit.\n"
      "#include \"openapi_document.h\"\n\n"
      "namespace verity::server {\n"
      "namespace {\n"
      "constexpr char kDocument[] = R\"" + kDelimiter + "(";
  out += json;
  out += ")" + kDelimiter + "\";\n"
         "}  // namespace\n\n"
         "std::string_view OpenApiDocument() { return std::string_view(kDocument, sizeof(kDocument) - 1); }\n\n"
         "}  // namespace verity::server\n";
  return out;
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--descriptors") {
      o.descriptors = value();
    } else if (arg == "--version") {
      o.version = value();
    } else if (arg == "--json") {
      o.json_out = value();
    } else if (arg == "--cc") {
      o.cc_out = value();
    } else {
      throw std::runtime_error("unknown argument " + arg +
                               " (usage: verity_openapi_gen --descriptors FILE [--version V] [--json OUT] [--cc OUT])");
    }
  }
  if (o.descriptors.empty()) throw std::runtime_error("--descriptors FILE is required");
  return o;
}

int Run(int argc, char** argv) {
  const Options options = ParseArgs(argc, argv);
  pb::FileDescriptorSet set;
  {
    std::ifstream in(options.descriptors, std::ios::binary);
    if (!in || !set.ParseFromIstream(&in)) {
      throw std::runtime_error("cannot read a FileDescriptorSet from " + options.descriptors);
    }
  }
  pb::DescriptorPool source;
  std::vector<std::string> files;
  for (const auto& file : set.file()) {
    if (source.BuildFile(file) == nullptr) throw std::runtime_error("cannot build " + file.name());
    if (file.package() == kPackage) files.push_back(file.name());
  }
  if (files.empty()) throw std::runtime_error(options.descriptors + " holds no file of package verity.v1");
  DocumentBuilder builder(&source, files, options.version);
  const std::string json = builder.Build().dump(2) + "\n";
  if (!options.json_out.empty()) WriteFileAtomically(options.json_out, json);
  if (!options.cc_out.empty()) WriteFileAtomically(options.cc_out, CcSource(json));
  if (options.json_out.empty() && options.cc_out.empty()) std::cout << json;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "verity_openapi_gen: " << e.what() << "\n";
    return 1;
  }
}
