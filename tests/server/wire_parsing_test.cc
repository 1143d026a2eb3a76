// Requests that protobuf cannot parse, against a real verityd: every method
// of every service answers INVALID_ARGUMENT naming the string field that is
// not UTF-8, or saying the bytes are not its request type, and the server
// keeps serving (proto/wire/request_parsing.h).
#include <google/protobuf/descriptor.h>

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "convert.h"
#include "engine/test_data.h"
#include "server/raw_call.h"
#include "server/server_helpers.h"
#include "server/server_process.h"
#include "server/stubs.h"
#include "verity/groundedness.h"
#include "verity/v1/context.pb.h"
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

// An audit's per-sentence signals cross the wire whole: version 3's (match
// support before penalties, contradictions, role conflicts, the short-
// evidence gate, a two-chunk citation) come back as they went, and a
// version 2 result comes back without them (its canonical JSON unchanged).
TEST_CASE("an audit's version 3 signals survive the wire, and a version 2 result stays version 2", "[server][wire]") {
  AuditResult audit;
  audit.retrieval_id = "rtv-1";
  audit.collection = "docs";
  audit.answer = "Bob left out Ann. He was 25.";
  audit.chunks = {{"c1", "Bob included Ann in the squad."}, {"c2", "Ann was 25."}};
  GroundednessResult& r = audit.result;
  r.scorer_version = kGroundednessScorerVersion;
  r.threshold = 0.6;
  r.scored = 2;
  SentenceScore first;
  first.text = "Bob left out Ann.";
  first.end = 17;
  first.verdict = SentenceVerdict::kUnsupported;
  first.support = 0.25;
  first.match_support = 0.75;
  first.chunk_index = 0;
  first.chunk_id = "c1";
  first.span_end = 16;
  first.contradictions = {"out/included"};
  first.role_conflicts = {"Ann"};
  SentenceScore second;
  second.text = "He was 25.";
  second.begin = 18;
  second.end = 28;
  second.verdict = SentenceVerdict::kSupported;
  second.support = second.match_support = 1;
  second.chunk_index = 1;
  second.chunk_id = "c2";
  second.span_end = 11;
  second.short_evidence = true;
  second.second_chunk_index = 0;
  second.second_chunk_id = "c1";
  second.second_span_begin = 0;
  second.second_span_end = 3;
  r.sentences = {first, second};

  v1::AuditResponse wire_audit;
  wire::ToProto(audit, &wire_audit);
  auto back = wire::FromProto(wire_audit, "");
  REQUIRE(back.ok());
  CHECK(back->result.sentences.at(0).match_support == 0.75);
  CHECK(back->result.sentences.at(0).contradictions == std::vector<std::string>{"out/included"});
  CHECK(back->result.sentences.at(1).second_chunk_id == "c1");
  CHECK(ToJson(back->result) == ToJson(r));

  // Version 2: no v3 field on the wire, none read back.
  r.scorer_version = "verity-groundedness/2";
  for (auto& s : r.sentences) {
    s.match_support = s.support;
    s.contradictions.clear();
    s.role_conflicts.clear();
    s.short_evidence = false;
    s.second_chunk_index = -1;
    s.second_chunk_id.clear();
    s.second_span_begin = s.second_span_end = 0;
  }
  wire_audit.Clear();
  wire::ToProto(audit, &wire_audit);
  CHECK_FALSE(wire_audit.sentences(1).has_second_chunk_index());
  CHECK_FALSE(wire_audit.sentences(0).has_match_support());
  back = wire::FromProto(wire_audit, "");
  REQUIRE(back.ok());
  CHECK(back->result.scorer_version == "verity-groundedness/2");
  CHECK(ToJson(back->result) == ToJson(r));
}
