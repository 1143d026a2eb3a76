// The context service and the retrieval log end to end: the real verityd on
// a free loopback port, driven through the generated gRPC stubs (exact
// status codes) and through the C++ client library. After every refused
// call the server must still serve.
#include <catch2/catch.hpp>

#include <set>

#include "engine/test_data.h"
#include "server/server_helpers.h"
#include "server/server_process.h"
#include "server/stubs.h"
#include "verity/client.h"
#include "verity/log_json.h"

using namespace verity;
namespace v1 = verity::v1;

namespace {

using test::ExpectError;
using test::Stubs;

void Setup(Stubs& s, const std::string& name) {
  v1::CreateCollectionRequest create;
  create.mutable_config()->set_name(name);
  create.mutable_config()->set_dimension(3);
  v1::CreateCollectionResponse created;
  REQUIRE(CALL(s.collections, CreateCollection, create, &created).ok());
  v1::UpsertRequest upsert;
  upsert.set_collection(name);
  for (int i = 0; i < 8; ++i) {
    v1::Record* r = upsert.add_records();
    r->set_id("c" + std::to_string(i));
    r->add_vector(static_cast<float>(i));
    r->add_vector(1);
    r->add_vector(0);
    r->set_text("chunk number " + std::to_string(i) + " of the handbook");
    r->set_document_id("handbook");
    (*r->mutable_metadata())["part"].set_int_value(i % 2);
  }
  v1::WriteResponse written;
  REQUIRE(CALL(s.records, Upsert, upsert, &written).ok());
}

v1::RetrieveRequest Query(const std::string& collection, uint32_t k) {
  v1::RetrieveRequest req;
  req.set_collection(collection);
  req.add_vector(0);
  req.add_vector(1);
  req.add_vector(0);
  req.set_k(k);
  return req;
}

}  // namespace

TEST_CASE("context and log RPCs: success paths", "[server][context]") {
  test::TempDir dir;
  auto server = test::StartServer(dir, {}, "verityd.log");
  Stubs s(server->channel());
  Setup(s, "docs");

  // Retrieve with every optional field; a budget that fits two chunks.
  v1::RetrieveRequest req = Query("docs", 4);
  req.set_query_text("what does chunk zero say?");
  req.set_token_budget(20);  // each text is 32 bytes = 8 tokens
  req.set_prompt("qa@3");
  req.set_client_trace_id("4bf92f3577b34da6a3ce929d0e0e4736");
  req.set_client_id("test");
  req.set_filter("part >= 0");
  v1::RetrieveResponse retrieved;
  grpc::Status status = CALL(s.context, Retrieve, req, &retrieved);
  INFO(status.error_message());
  REQUIRE(status.ok());
  REQUIRE(retrieved.retrieval_id().rfind("rtv-", 0) == 0);
  REQUIRE(retrieved.retrieval_id().size() == 36);
  REQUIRE(retrieved.log_seq() == 1);
  REQUIRE(retrieved.version() == 1);
  REQUIRE(retrieved.chunks_size() == 4);
  REQUIRE(retrieved.chunks(0).id() == "c0");
  REQUIRE(retrieved.chunks(1).id() == "c1");
  REQUIRE(retrieved.chunks(0).row_version() == 1);
  REQUIRE(retrieved.chunks(0).text() == "chunk number 0 of the handbook");
  REQUIRE(retrieved.chunks(0).text_sha256().size() == 64);
  REQUIRE(retrieved.chunks(0).document_id() == "handbook");
  REQUIRE(retrieved.chunks(0).tokens() == 8);
  REQUIRE(retrieved.chunks(0).in_context());
  REQUIRE(retrieved.chunks(1).in_context());
  REQUIRE_FALSE(retrieved.chunks(2).in_context());
  REQUIRE(retrieved.context() == "chunk number 0 of the handbook\n\nchunk number 1 of the handbook");
  REQUIRE(retrieved.context_tokens() == 16);
  REQUIRE(retrieved.context_sha256().size() == 64);
  const std::string id = retrieved.retrieval_id();

  // k 0 means 10 (capped by what there is); a retrieval at a version.
  v1::RetrieveRequest defaults = Query("docs", 0);
  defaults.mutable_at()->set_version(1);
  v1::RetrieveResponse second;
  REQUIRE(CALL(s.context, Retrieve, defaults, &second).ok());
  REQUIRE(second.chunks_size() == 8);
  REQUIRE(second.retrieval_id() != id);
  REQUIRE(second.log_seq() == 2);

  // RecordAnswer: the answer record comes back, chained to the one before.
  v1::RecordAnswerRequest answer;
  answer.set_retrieval_id(id);
  answer.set_answer("Chunk zero is the first chunk of the handbook.");
  answer.set_model("fake-llm-1");
  answer.set_prompt_tokens(30);
  answer.set_completion_tokens(9);
  v1::RecordAnswerResponse answered;
  REQUIRE(CALL(s.context, RecordAnswer, answer, &answered).ok());
  const v1::LogRecord& a = answered.record();
  REQUIRE(a.kind() == v1::LOG_KIND_ANSWER);
  REQUIRE(a.seq() == 3);
  REQUIRE(a.retrieval_id() == id);
  REQUIRE(a.answer() == answer.answer());
  REQUIRE(a.model() == "fake-llm-1");
  REQUIRE(a.prompt_tokens() == 30);
  REQUIRE(a.completion_tokens() == 9);
  REQUIRE(a.hash().size() == 64);
  REQUIRE(a.prev_hash().size() == 64);

  // GetRetrieval: the retrieval record as logged (no texts, with hashes and
  // the query vector) and its answer.
  v1::GetRetrievalRequest get;
  get.set_retrieval_id(id);
  v1::GetRetrievalResponse got;
  REQUIRE(CALL(s.log, GetRetrieval, get, &got).ok());
  const v1::LogRecord r = got.retrieval();  // a copy: `got` is reused below
  REQUIRE(r.kind() == v1::LOG_KIND_RETRIEVAL);
  REQUIRE(r.seq() == 1);
  REQUIRE(r.collection() == "docs");
  REQUIRE(r.version() == 1);
  REQUIRE(r.query_text() == "what does chunk zero say?");
  REQUIRE(r.query_vector_size() == 3);
  REQUIRE(r.query_vector_sha256().size() == 64);
  REQUIRE(r.k() == 4);
  REQUIRE(r.filter() == "part >= 0");
  REQUIRE(r.token_budget() == 20);
  REQUIRE(r.prompt() == "qa@3");
  REQUIRE(r.client_trace_id() == "4bf92f3577b34da6a3ce929d0e0e4736");
  REQUIRE(r.client_id() == "test");
  REQUIRE(r.chunks_size() == 4);
  REQUIRE(r.chunks(0).text().empty());
  REQUIRE(r.chunks(0).text_sha256() == retrieved.chunks(0).text_sha256());
  REQUIRE(r.context_sha256() == retrieved.context_sha256());
  REQUIRE(r.hash() != a.prev_hash());  // record 2 lies between them
  REQUIRE(got.has_answer());
  REQUIRE(got.answer().hash() == a.hash());
  get.set_retrieval_id(second.retrieval_id());
  REQUIRE(CALL(s.log, GetRetrieval, get, &got).ok());
  REQUIRE_FALSE(got.has_answer());
  REQUIRE(got.retrieval().hash() == a.prev_hash());

  // ListLog: all, by kind, paged, without vectors unless asked.
  v1::ListLogRequest list;
  v1::ListLogResponse listed;
  REQUIRE(CALL(s.log, ListLog, list, &listed).ok());
  REQUIRE(listed.records_size() == 3);
  REQUIRE(listed.next_cursor() == 0);
  REQUIRE(listed.records(0).query_vector_size() == 0);
  REQUIRE(listed.records(0).query_vector_sha256() == r.query_vector_sha256());
  list.set_with_vectors(true);
  REQUIRE(CALL(s.log, ListLog, list, &listed).ok());
  REQUIRE(listed.records(0).query_vector_size() == 3);
  list.set_kind(v1::LOG_KIND_ANSWER);
  REQUIRE(CALL(s.log, ListLog, list, &listed).ok());
  REQUIRE(listed.records_size() == 1);
  REQUIRE(listed.records(0).seq() == 3);
  list.set_kind(v1::LOG_KIND_UNSPECIFIED);
  list.set_limit(2);
  REQUIRE(CALL(s.log, ListLog, list, &listed).ok());
  REQUIRE(listed.records_size() == 2);
  REQUIRE(listed.next_cursor() == 2);
  list.set_start_after(listed.next_cursor());
  REQUIRE(CALL(s.log, ListLog, list, &listed).ok());
  REQUIRE(listed.records_size() == 1);
  REQUIRE(listed.records(0).seq() == 3);
  REQUIRE(listed.next_cursor() == 0);
  v1::ListLogRequest other;
  other.set_collection("elsewhere");
  REQUIRE(CALL(s.log, ListLog, other, &listed).ok());
  REQUIRE(listed.records_size() == 0);

  // VerifyLog: the chain holds.
  v1::VerifyLogRequest verify;
  v1::VerifyLogResponse verified;
  REQUIRE(CALL(s.log, VerifyLog, verify, &verified).ok());
  INFO(verified.problem());
  REQUIRE(verified.ok());
  REQUIRE(verified.records() == 3);
  REQUIRE(verified.last_seq() == 3);
  REQUIRE(verified.head_hash() == a.hash());

  // Replay: a fresh retrieval replays identically in every mode.
  v1::ReplayRequest replay;
  replay.set_retrieval_id(id);
  v1::ReplayResponse replayed;
  REQUIRE(CALL(s.log, Replay, replay, &replayed).ok());
  REQUIRE(replayed.mode() == v1::REPLAY_MODE_CONTEXT);
  REQUIRE(replayed.outcome() == "identical");
  REQUIRE(replayed.context_hash_matches());
  REQUIRE(replayed.context_sha256() == retrieved.context_sha256());
  REQUIRE(replayed.chunks_size() == 4);  // every logged chunk, in the context or not
  for (const auto& c : replayed.chunks()) REQUIRE(c.status() == "identical");
  replay.set_mode(v1::REPLAY_MODE_RETRIEVAL);
  REQUIRE(CALL(s.log, Replay, replay, &replayed).ok());
  REQUIRE(replayed.mode() == v1::REPLAY_MODE_RETRIEVAL);
  REQUIRE(replayed.outcome() == "identical");
  REQUIRE(replayed.recall() == 1.0);
  REQUIRE(replayed.missed_size() == 0);
  replay.set_mode(v1::REPLAY_MODE_COUNTERFACTUAL);
  REQUIRE(CALL(s.log, Replay, replay, &replayed).ok());
  REQUIRE(replayed.outcome() == "identical");

  // After a change, a counterfactual replay at head differs; at the old
  // version (as a snapshot) it does not.
  v1::CreateSnapshotRequest snap;
  snap.set_collection("docs");
  snap.set_name("v1");
  v1::CreateSnapshotResponse snapped;
  REQUIRE(CALL(s.snapshots, CreateSnapshot, snap, &snapped).ok());
  v1::DeleteRequest del;
  del.set_collection("docs");
  del.add_ids("c1");
  v1::WriteResponse deleted;
  REQUIRE(CALL(s.records, Delete, del, &deleted).ok());
  REQUIRE(CALL(s.log, Replay, replay, &replayed).ok());
  REQUIRE(replayed.outcome() == "differs");
  REQUIRE(replayed.version() == 2);
  REQUIRE(std::set<std::string>(replayed.removed().begin(), replayed.removed().end()).count("c1") == 1);
  replay.mutable_at()->set_snapshot("v1");
  REQUIRE(CALL(s.log, Replay, replay, &replayed).ok());
  REQUIRE(replayed.outcome() == "identical");
  REQUIRE(replayed.version() == 1);
  // The context itself still replays: the log pins version 1.
  replay.clear_at();
  replay.set_mode(v1::REPLAY_MODE_CONTEXT);
  REQUIRE(CALL(s.log, Replay, replay, &replayed).ok());
  REQUIRE(replayed.outcome() == "identical");

  // A retrieval at a snapshot logs the snapshot's name.
  v1::RetrieveRequest at_snapshot = Query("docs", 2);
  at_snapshot.mutable_at()->set_snapshot("v1");
  REQUIRE(CALL(s.context, Retrieve, at_snapshot, &retrieved).ok());
  REQUIRE(retrieved.version() == 1);
  get.set_retrieval_id(retrieved.retrieval_id());
  REQUIRE(CALL(s.log, GetRetrieval, get, &got).ok());
  REQUIRE(got.retrieval().snapshot() == "v1");
  REQUIRE(got.retrieval().version() == 1);
  REQUIRE(s.Serving());
}

TEST_CASE("context and log RPCs: bad inputs get exact codes and the server keeps serving", "[server][context]") {
  test::TempDir dir;
  auto server = test::StartServer(dir, {"--max-k", "50"}, "verityd.log");
  Stubs s(server->channel());
  Setup(s, "docs");
  v1::RetrieveResponse retrieved;
  REQUIRE(CALL(s.context, Retrieve, Query("docs", 3), &retrieved).ok());

  SECTION("unknown retrieval id: NOT_FOUND everywhere") {
    v1::RecordAnswerRequest answer;
    answer.set_retrieval_id("rtv-00000000000000000000000000000000");
    answer.set_answer("text");
    v1::RecordAnswerResponse answered;
    ExpectError(CALL(s.context, RecordAnswer, answer, &answered), grpc::StatusCode::NOT_FOUND, answer.retrieval_id());
    v1::GetRetrievalRequest get;
    get.set_retrieval_id("rtv-nope");
    v1::GetRetrievalResponse got;
    ExpectError(CALL(s.log, GetRetrieval, get, &got), grpc::StatusCode::NOT_FOUND, "rtv-nope");
    v1::ReplayRequest replay;
    replay.set_retrieval_id("rtv-nope");
    v1::ReplayResponse replayed;
    ExpectError(CALL(s.log, Replay, replay, &replayed), grpc::StatusCode::NOT_FOUND, "rtv-nope");
  }
  SECTION("a second answer: ALREADY_EXISTS; an empty one: INVALID_ARGUMENT") {
    v1::RecordAnswerRequest answer;
    answer.set_retrieval_id(retrieved.retrieval_id());
    v1::RecordAnswerResponse answered;
    ExpectError(CALL(s.context, RecordAnswer, answer, &answered), grpc::StatusCode::INVALID_ARGUMENT, "answer");
    answer.set_answer("first");
    REQUIRE(CALL(s.context, RecordAnswer, answer, &answered).ok());
    answer.set_answer("second");
    ExpectError(CALL(s.context, RecordAnswer, answer, &answered), grpc::StatusCode::ALREADY_EXISTS,
                retrieved.retrieval_id());
  }
  SECTION("bad filter text: INVALID_ARGUMENT naming the filter") {
    v1::RetrieveRequest req = Query("docs", 3);
    req.set_filter("part = ");
    ExpectError(CALL(s.context, Retrieve, req, &retrieved), grpc::StatusCode::INVALID_ARGUMENT, "filter");
  }
  SECTION("k over --max-k: INVALID_ARGUMENT naming the limit") {
    ExpectError(CALL(s.context, Retrieve, Query("docs", 51), &retrieved), grpc::StatusCode::INVALID_ARGUMENT,
                "--max-k=50");
  }
  SECTION("unknown snapshot: NOT_FOUND naming it; empty name: INVALID_ARGUMENT") {
    v1::RetrieveRequest req = Query("docs", 3);
    req.mutable_at()->set_snapshot("ghost");
    ExpectError(CALL(s.context, Retrieve, req, &retrieved), grpc::StatusCode::NOT_FOUND,
                "at.snapshot: snapshot \"ghost\"");
    req.mutable_at()->set_snapshot("");
    ExpectError(CALL(s.context, Retrieve, req, &retrieved), grpc::StatusCode::INVALID_ARGUMENT, "at.snapshot");
    v1::ReplayRequest replay;
    replay.set_retrieval_id(retrieved.retrieval_id());
    replay.set_mode(v1::REPLAY_MODE_COUNTERFACTUAL);
    replay.mutable_at()->set_snapshot("ghost");
    v1::ReplayResponse replayed;
    ExpectError(CALL(s.log, Replay, replay, &replayed), grpc::StatusCode::NOT_FOUND, "at.snapshot: snapshot \"ghost\"");
  }
  SECTION("other refusals") {
    // Wrong dimension, unknown collection, too many components.
    v1::RetrieveRequest req = Query("docs", 3);
    req.add_vector(1);
    ExpectError(CALL(s.context, Retrieve, req, &retrieved), grpc::StatusCode::INVALID_ARGUMENT, "vector");
    ExpectError(CALL(s.context, Retrieve, Query("missing", 3), &retrieved), grpc::StatusCode::NOT_FOUND, "missing");
    v1::RetrieveRequest huge = Query("docs", 3);
    for (int i = 0; i < 5000; ++i) huge.add_vector(0);
    ExpectError(CALL(s.context, Retrieve, huge, &retrieved), grpc::StatusCode::INVALID_ARGUMENT, "--max-dimension");
    // A version past the head.
    req = Query("docs", 3);
    req.mutable_at()->set_version(99);
    ExpectError(CALL(s.context, Retrieve, req, &retrieved), grpc::StatusCode::INVALID_ARGUMENT, "99");
    // ListLog limit; `at` outside counterfactual replays.
    v1::ListLogRequest list;
    list.set_limit(10001);
    v1::ListLogResponse listed;
    ExpectError(CALL(s.log, ListLog, list, &listed), grpc::StatusCode::INVALID_ARGUMENT, "limit");
    v1::ReplayRequest replay;
    replay.set_retrieval_id(retrieved.retrieval_id());
    replay.mutable_at()->set_version(1);
    v1::ReplayResponse replayed;
    ExpectError(CALL(s.log, Replay, replay, &replayed), grpc::StatusCode::INVALID_ARGUMENT, "counterfactual");
  }
  // Whatever was refused, the server serves and the log still verifies.
  REQUIRE(s.Serving());
  REQUIRE(CALL(s.context, Retrieve, Query("docs", 3), &retrieved).ok());
  v1::VerifyLogRequest verify;
  v1::VerifyLogResponse verified;
  REQUIRE(CALL(s.log, VerifyLog, verify, &verified).ok());
  REQUIRE(verified.ok());
}

namespace {

// Retrieves c0..c2 ("chunk number i of the handbook") and, unless `answer`
// is empty, records `answer`; returns the retrieval id.
std::string RetrieveAndAnswer(Stubs& s, const std::string& answer) {
  v1::RetrieveResponse retrieved;
  REQUIRE(CALL(s.context, Retrieve, Query("docs", 3), &retrieved).ok());
  if (!answer.empty()) {
    v1::RecordAnswerRequest req;
    req.set_retrieval_id(retrieved.retrieval_id());
    req.set_answer(answer);
    v1::RecordAnswerResponse answered;
    REQUIRE(CALL(s.context, RecordAnswer, req, &answered).ok());
  }
  return retrieved.retrieval_id();
}

constexpr char kGrounded[] = "Chunk number 0 of the handbook. Chunk number 2 of the handbook.";
// The second sentence's name and year occur in no chunk.
constexpr char kInvented[] = "Chunk number 1 of the handbook. The handbook was written by Alice in 1999.";

}  // namespace

TEST_CASE("LogService Audit and AuditCollection", "[server][context][audit]") {
  test::TempDir dir;
  auto server = test::StartServer(dir, {}, "verityd.log");
  Stubs s(server->channel());
  Setup(s, "docs");
  const std::string grounded = RetrieveAndAnswer(s, kGrounded);
  const std::string invented = RetrieveAndAnswer(s, kInvented);
  const std::string unanswered = RetrieveAndAnswer(s, "");

  // A recorded grounded answer: every sentence supported, each citing its chunk.
  v1::AuditRequest req;
  req.set_retrieval_id(grounded);
  v1::AuditResponse audit;
  grpc::Status status = CALL(s.log, Audit, req, &audit);
  INFO(status.error_message());
  REQUIRE(status.ok());
  REQUIRE(audit.retrieval_id() == grounded);
  REQUIRE(audit.collection() == "docs");
  REQUIRE(audit.version() == 1);
  REQUIRE(audit.answer() == kGrounded);
  REQUIRE(audit.answer_recorded());
  REQUIRE(audit.scorer_version() == kGroundednessScorerVersion);
  REQUIRE(audit.threshold() == Approx(0.6));
  REQUIRE(audit.g() == 1.0);
  REQUIRE(audit.scored() == 2);
  REQUIRE(audit.supported() == 2);
  REQUIRE(audit.chunks_size() == 3);
  REQUIRE(audit.chunks(0).id() == "c0");
  REQUIRE(audit.chunks(0).text() == "chunk number 0 of the handbook");
  REQUIRE(audit.sentences_size() == 2);
  const v1::SentenceScore& first = audit.sentences(0);
  REQUIRE(first.verdict() == v1::SENTENCE_VERDICT_SUPPORTED);
  REQUIRE(first.text() == "Chunk number 0 of the handbook.");
  REQUIRE(first.begin() == 0);
  REQUIRE(first.end() == first.text().size());
  REQUIRE(first.support() == 1.0);
  REQUIRE(first.chunk_index() == 0);
  REQUIRE(first.chunk_id() == "c0");
  REQUIRE(first.span_end() > first.span_begin());
  REQUIRE(first.missing_critical().empty());
  REQUIRE(audit.sentences(1).chunk_id() == "c2");

  // A recorded answer with an invented sentence: G < 1, the name and year missing.
  req.set_retrieval_id(invented);
  REQUIRE(CALL(s.log, Audit, req, &audit).ok());
  REQUIRE(audit.g() == 0.5);
  REQUIRE(audit.supported() == 1);
  REQUIRE(audit.sentences(0).verdict() == v1::SENTENCE_VERDICT_SUPPORTED);
  REQUIRE(audit.sentences(0).chunk_id() == "c1");
  const v1::SentenceScore& made_up = audit.sentences(1);
  REQUIRE(made_up.verdict() == v1::SENTENCE_VERDICT_UNSUPPORTED);
  REQUIRE(std::set<std::string>(made_up.missing_critical().begin(), made_up.missing_critical().end()) ==
          std::set<std::string>{"Alice", "1999"});

  // An answer given with the request, for a retrieval without one; a threshold.
  req.set_retrieval_id(unanswered);
  req.set_answer("Chunk number 2 of the handbook.");
  req.set_threshold(1.0);
  REQUIRE(CALL(s.log, Audit, req, &audit).ok());
  REQUIRE_FALSE(audit.answer_recorded());
  REQUIRE(audit.answer() == "Chunk number 2 of the handbook.");
  REQUIRE(audit.threshold() == 1.0);
  REQUIRE(audit.g() == 1.0);
  REQUIRE(audit.sentences(0).chunk_id() == "c2");

  // Refusals: no answer recorded nor given; unknown id; threshold out of range.
  req.clear_answer();
  req.set_threshold(0);
  ExpectError(CALL(s.log, Audit, req, &audit), grpc::StatusCode::FAILED_PRECONDITION, "no recorded answer");
  req.set_retrieval_id("rtv-00000000000000000000000000000000");
  ExpectError(CALL(s.log, Audit, req, &audit), grpc::StatusCode::NOT_FOUND, req.retrieval_id());
  req.set_retrieval_id(grounded);
  req.set_threshold(1.5);
  ExpectError(CALL(s.log, Audit, req, &audit), grpc::StatusCode::INVALID_ARGUMENT, "threshold");
  req.set_threshold(-0.1);
  ExpectError(CALL(s.log, Audit, req, &audit), grpc::StatusCode::INVALID_ARGUMENT, "threshold");

  // Zero means zero (#25): a threshold set to 0 is applied as 0; unset is the
  // scorer's default. The made-up sentence stays unsupported at 0: its name
  // and year are in no chunk.
  req.set_retrieval_id(invented);
  req.set_threshold(0);
  REQUIRE(CALL(s.log, Audit, req, &audit).ok());
  REQUIRE(audit.threshold() == 0.0);
  REQUIRE(audit.sentences(1).verdict() == v1::SENTENCE_VERDICT_UNSUPPORTED);
  req.clear_threshold();
  REQUIRE(CALL(s.log, Audit, req, &audit).ok());
  REQUIRE(audit.threshold() == Approx(0.6));
  req.set_retrieval_id(grounded);

  // The collection: three retrievals, two audited, one unanswered.
  v1::AuditCollectionRequest batch;
  batch.set_collection("docs");
  v1::AuditCollectionResponse audited;
  status = CALL(s.log, AuditCollection, batch, &audited);
  INFO(status.error_message());
  REQUIRE(status.ok());
  REQUIRE(audited.retrievals() == 3);
  REQUIRE(audited.audited() == 2);
  REQUIRE(audited.unanswered() == 1);
  REQUIRE(audited.unavailable() == 0);
  REQUIRE(audited.mean_g() == Approx(0.75));
  REQUIRE(audited.share_below() == 0.0);  // default low_g 0.5: G 0.5 is not below
  REQUIRE(audited.audits_size() == 2);
  REQUIRE(audited.audits(0).retrieval_id() == grounded);  // log order
  REQUIRE(audited.audits(1).retrieval_id() == invented);
  REQUIRE(audited.worst_size() == 2);
  REQUIRE(audited.worst(0).retrieval_id() == invented);  // lowest G first
  batch.set_low_g(0.6);
  batch.set_worst(1);
  REQUIRE(CALL(s.log, AuditCollection, batch, &audited).ok());
  REQUIRE(audited.share_below() == 0.5);
  REQUIRE(audited.worst_size() == 1);
  REQUIRE(audited.worst(0).g() == 0.5);
  // Zero means zero for the collection's threshold too; unset is the default.
  batch.set_threshold(0);
  REQUIRE(CALL(s.log, AuditCollection, batch, &audited).ok());
  REQUIRE(audited.audits(0).threshold() == 0.0);
  batch.clear_threshold();
  REQUIRE(CALL(s.log, AuditCollection, batch, &audited).ok());
  REQUIRE(audited.audits(0).threshold() == Approx(0.6));
  // A range before the first record: nothing.
  batch.set_until_us(1000000);
  REQUIRE(CALL(s.log, AuditCollection, batch, &audited).ok());
  REQUIRE(audited.retrievals() == 0);
  REQUIRE(audited.audits_size() == 0);

  batch.clear_until_us();
  batch.set_low_g(2);
  ExpectError(CALL(s.log, AuditCollection, batch, &audited), grpc::StatusCode::INVALID_ARGUMENT, "low_g");
  batch.clear_low_g();
  batch.set_worst(1001);
  ExpectError(CALL(s.log, AuditCollection, batch, &audited), grpc::StatusCode::INVALID_ARGUMENT, "worst");
  batch.clear_worst();
  batch.set_max_retrievals(10001);
  ExpectError(CALL(s.log, AuditCollection, batch, &audited), grpc::StatusCode::INVALID_ARGUMENT, "max_retrievals");
  batch.set_max_retrievals(0);
  batch.set_collection("missing");
  ExpectError(CALL(s.log, AuditCollection, batch, &audited), grpc::StatusCode::NOT_FOUND, "missing");
  REQUIRE(s.Serving());
}

TEST_CASE("C++ client: retrieve, answer, log, verify, replay", "[server][context][client]") {
  test::TempDir dir;
  auto server = test::StartServer(dir, {}, "verityd.log");
  Stubs s(server->channel());
  Setup(s, "docs");
  Client client(test::ClientOptionsFor(*server));

  REQUIRE(client.CreateSnapshot("docs", "pinned").ok());
  RetrieveRequest request;
  request.collection = "docs";
  request.vector = {7, 1, 0};
  request.k = 3;
  request.query_text = "the last chunk";
  request.at = ReadPoint::AtSnapshot("pinned");
  auto retrieved = client.Retrieve(request);
  INFO(retrieved.status().ToString());
  REQUIRE(retrieved.ok());
  REQUIRE(retrieved->chunks.size() == 3);
  REQUIRE(retrieved->chunks[0].id == "c7");
  REQUIRE(retrieved->version == 1);
  REQUIRE(retrieved->context.find("chunk number 7") == 0);

  AnswerRequest answer;
  answer.retrieval_id = retrieved->retrieval_id;
  answer.answer = "chunk number 7 of the handbook";
  answer.model = "echo";
  auto recorded = client.RecordAnswer(answer);
  REQUIRE(recorded.ok());
  REQUIRE(recorded->kind == LogKind::kAnswer);
  REQUIRE(client.RecordAnswer(answer).status().code() == StatusCode::kAlreadyExists);

  auto found = client.GetRetrieval(retrieved->retrieval_id);
  REQUIRE(found.ok());
  REQUIRE(found->first.snapshot == "pinned");
  REQUIRE(found->first.query_vector == std::vector<float>{7, 1, 0});
  REQUIRE(found->second.has_value());
  REQUIRE(found->second->answer == answer.answer);
  REQUIRE(client.GetRetrieval("rtv-unknown").status().code() == StatusCode::kNotFound);

  LogQuery query;
  query.kind = LogKind::kRetrieval;
  auto page = client.ListLog(query);
  REQUIRE(page.ok());
  REQUIRE(page->records.size() == 1);
  REQUIRE(page->records[0].query_vector.empty());
  REQUIRE(page->records[0].chunks.size() == 3);

  auto verified = client.VerifyLog();
  REQUIRE(verified.ok());
  REQUIRE(verified->ok);
  REQUIRE(verified->records == 2);

  ReplayRequest replay;
  replay.retrieval_id = retrieved->retrieval_id;
  replay.mode = ReplayMode::kRetrieval;
  auto replayed = client.Replay(replay);
  REQUIRE(replayed.ok());
  REQUIRE(replayed->mode == ReplayMode::kRetrieval);
  REQUIRE(replayed->outcome == ReplayOutcome::kIdentical);

  // The one JSON mapping: OpenTelemetry names where they exist.
  const nlohmann::json j = LogRecordToJson(found->first);
  REQUIRE(j["gen_ai.operation.name"] == "retrieval");
  REQUIRE(j["gen_ai.data_source.id"] == "docs");
  REQUIRE(j["gen_ai.request.top_k"] == 3);
  REQUIRE(j["gen_ai.retrieval.query.text"] == "the last chunk");
  REQUIRE(j["gen_ai.retrieval.documents"].size() == 3);
  REQUIRE(j["gen_ai.retrieval.documents"][0]["id"] == "c7");
  REQUIRE(j["gen_ai.retrieval.documents"][0]["verity.row_version"] == 1);
  REQUIRE(j["verity.snapshot"] == "pinned");
  REQUIRE(j["verity.retrieval_id"] == retrieved->retrieval_id);
  const nlohmann::json aj = LogRecordToJson(*found->second);
  REQUIRE(aj["gen_ai.operation.name"] == "chat");
  REQUIRE(aj["gen_ai.request.model"] == "echo");
  REQUIRE(aj["gen_ai.output.messages"][0]["parts"][0]["content"] == answer.answer);
  REQUIRE(aj["verity.prev_hash"] == j["verity.hash"]);
  REQUIRE(Rfc3339(1795826824136478) == "2026-11-28T00:47:04.136478Z");

  // Audit through the client: the wire round trip keeps the scorer's result
  // intact (canonical JSON identical to scoring locally).
  AuditRequest audit_request;
  audit_request.retrieval_id = retrieved->retrieval_id;
  auto audit = client.Audit(audit_request);
  INFO(audit.status().ToString());
  REQUIRE(audit.ok());
  REQUIRE(audit->answer_recorded);
  REQUIRE(audit->result.g == 1.0);
  REQUIRE(audit->chunks.size() == 3);
  REQUIRE(audit->result.sentences.at(0).verdict == SentenceVerdict::kSupported);
  REQUIRE(audit->result.sentences.at(0).chunk_id == "c7");
  auto local = ScoreGroundedness(audit->answer, audit->chunks);
  REQUIRE(local.ok());
  REQUIRE(ToJson(audit->result) == ToJson(*local));
  audit_request.answer = "Chunk number 7 was written by Bob.";
  audit = client.Audit(audit_request);
  REQUIRE(audit.ok());
  REQUIRE_FALSE(audit->answer_recorded);
  REQUIRE(audit->result.g == 0.0);
  REQUIRE(audit->result.sentences.at(0).missing_critical == std::vector<std::string>{"Bob"});
  audit_request.retrieval_id = "rtv-unknown";
  REQUIRE(client.Audit(audit_request).status().code() == StatusCode::kNotFound);

  BatchAuditRequest batch;
  batch.collection = "docs";
  auto audited = client.AuditCollection(batch);
  REQUIRE(audited.ok());
  REQUIRE(audited->retrievals == 1);
  REQUIRE(audited->audited == 1);
  REQUIRE(audited->mean_g == 1.0);
  REQUIRE(audited->audits.size() == 1);
  REQUIRE(ToJson(audited->audits[0].result) == ToJson(*local));
  batch.threshold = 2;
  REQUIRE(client.AuditCollection(batch).status().code() == StatusCode::kInvalidArgument);
}
