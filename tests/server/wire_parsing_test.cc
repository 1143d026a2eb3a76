// Requests that protobuf cannot parse, against a real verityd: every method
// of every service answers INVALID_ARGUMENT naming the string field that is
// not UTF-8, or saying the bytes are not its request type, and the server
// keeps serving (proto/wire/request_parsing.h).
#include <google/protobuf/descriptor.h>

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/test_data.h"
#include "server/raw_call.h"
#include "server/server_helpers.h"
#include "server/server_process.h"
#include "server/stubs.h"
#include "verity/v1/search.pb.h"

using namespace verity;
namespace v1 = verity::v1;
using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

namespace {

std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}

// A length-delimited field on the wire.
std::string LengthDelimited(int number, const std::string& bytes) {
  return Varint((static_cast<uint64_t>(number) << 3) | 2) + Varint(bytes.size()) + bytes;
}

struct BadString {
  std::string bytes;  // a request whose string field holds "ok\xFF"
  std::string path;   // that field, as the error names it
};

// The first string field reachable from `type` (declaration order, depth
// first, at most 4 messages deep), set to bytes that are not UTF-8.
std::optional<BadString> NotUtf8Request(const Descriptor* type, int depth = 0) {
  if (depth > 4) return std::nullopt;
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* f = type->field(i);
    const std::string name = f->name() + (f->is_repeated() ? "[0]" : "");
    if (f->type() == FieldDescriptor::TYPE_STRING) {
      return BadString{LengthDelimited(f->number(), std::string("ok\xFF", 3)), name};
    }
    if (f->type() == FieldDescriptor::TYPE_MESSAGE) {
      if (auto inner = NotUtf8Request(f->message_type(), depth + 1)) {
        return BadString{LengthDelimited(f->number(), inner->bytes), name + "." + inner->path};
      }
    }
  }
  return std::nullopt;
}

// The refusal a call got: its status, or for SearchStream the in-stream
// answer (a stream answers a bad query and goes on).
std::pair<grpc::StatusCode, std::string> Refusal(const std::string& path, const test::RawResult& result) {
  if (path != "/verity.v1.SearchService/SearchStream") {
    return {result.status.error_code(), result.status.error_message()};
  }
  REQUIRE(result.status.ok());
  REQUIRE(result.responses.size() == 1);
  v1::SearchStreamResponse answer;
  REQUIRE(answer.ParseFromString(result.responses[0]));
  return {static_cast<grpc::StatusCode>(answer.code()), answer.message()};
}

}  // namespace

TEST_CASE("every method names a string field that is not UTF-8, and bytes that are no request", "[server][e2e]") {
  test::TempDir dir;
  auto server = test::StartServer(dir);
  int methods = 0, with_strings = 0;
  for (const auto* service : test::WireServices()) {
    for (int i = 0; i < service->method_count(); ++i) {
      const auto* method = service->method(i);
      const std::string path = "/" + service->full_name() + "/" + method->name();
      INFO(path);
      ++methods;
      // A truncated varint: no message type parses it.
      auto [code, message] = Refusal(path, test::RawCall(server->channel(), path, "", std::string("\x0a\xff", 2)));
      CHECK(code == grpc::StatusCode::INVALID_ARGUMENT);
      CHECK(message.find("not a well-formed " + method->input_type()->full_name()) != std::string::npos);

      const auto bad = NotUtf8Request(method->input_type());
      if (!bad) continue;
      ++with_strings;
      INFO("field " << bad->path);
      std::tie(code, message) = Refusal(path, test::RawCall(server->channel(), path, "", bad->bytes));
      CHECK(code == grpc::StatusCode::INVALID_ARGUMENT);
      CHECK(message == bad->path + ": is not valid UTF-8 (byte 0xFF at offset 2); string fields must be UTF-8");
    }
  }
  CHECK(methods >= 40);
  CHECK(with_strings >= 35);
  // The health check too.
  const auto health =
      test::RawCall(server->channel(), "/grpc.health.v1.Health/Check", "", LengthDelimited(1, std::string("\xC3", 1)));
  CHECK(health.status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(health.status.error_message().find("service: is not valid UTF-8 (byte 0xC3 at offset 0)") != std::string::npos);

  // The server goes on, and protobuf's own complaint is one of its JSON log lines.
  CHECK(test::RawCall(server->channel(), "/grpc.health.v1.Health/Check", "").status.ok());
  const std::string log = test::ReadFile(dir.Sub("log"));
  CHECK(log.find("\"event\":\"protobuf\"") != std::string::npos);
  CHECK(log.find("[libprotobuf") == std::string::npos);
}

TEST_CASE("a record's text that is not UTF-8 is refused by name and nothing is written", "[server][e2e]") {
  test::TempDir dir;
  auto server = test::StartServer(dir);
  test::Stubs s(server->channel());
  v1::CreateCollectionRequest create;
  create.mutable_config()->set_name("c");
  create.mutable_config()->set_dimension(2);
  v1::CreateCollectionResponse created;
  REQUIRE(CALL(s.collections, CreateCollection, create, &created).ok());
  v1::UpsertRequest upsert;
  upsert.set_collection("c");
  for (const char* text : {"caf\xC3\xA9", "na\xEFve", "fine"}) {  // the second is Latin-1
    auto* r = upsert.add_records();
    r->set_id(std::string("r") + std::to_string(upsert.records_size()));
    r->add_vector(1);
    r->add_vector(2);
    r->set_text(text);
  }
  v1::WriteResponse written;
  const grpc::Status refused = CALL(s.records, Upsert, upsert, &written);
  CHECK(refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(refused.error_message() ==
        "records[1].text: is not valid UTF-8 (byte 0xEF at offset 2); string fields must "
        "be UTF-8");
  v1::CountRequest count;
  count.set_collection("c");
  v1::CountResponse counted;
  REQUIRE(CALL(s.records, Count, count, &counted).ok());
  CHECK(counted.count() == 0);
  // Corrected, the same batch goes in whole.
  upsert.mutable_records(1)->set_text("na\xC3\xAFve");
  REQUIRE(CALL(s.records, Upsert, upsert, &written).ok());
  REQUIRE(CALL(s.records, Count, count, &counted).ok());
  CHECK(counted.count() == 3);
}
