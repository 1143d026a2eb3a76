// RetrievalLog: construction, answers, and a stored entry as the API's
// LogRecord. The writer, reads, verification and retention are in the other
// files of log/ (retrieval_log.h lists them).
#include "log/retrieval_log.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>

#include "storage/keys.h"
#include "util/sha256.h"

namespace verity {

RetrievalLog::RetrievalLog(Env env) : env_(std::move(env)) {}

RetrievalLog::~RetrievalLog() { StopSyncer(); }

void RetrievalLog::Log(LogLevel level, const std::string& message) const {
  if (env_.log_message) env_.log_message(level, message);
}

std::string NewRetrievalId() {
  static std::mutex mu;
  static std::mt19937_64 rng = [] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  std::lock_guard lock(mu);
  const uint64_t a = rng(), b = rng();
  char buffer[40];
  std::snprintf(buffer, sizeof(buffer), "rtv-%016llx%016llx", static_cast<unsigned long long>(a),
                static_cast<unsigned long long>(b));
  return buffer;
}

LogRecord RecordFromEntry(const storage::LogEntry& e, const std::string& hash) {
  LogRecord r;
  r.seq = e.seq();
  r.time_us = e.time_us();
  r.kind = static_cast<LogKind>(e.kind());
  r.retrieval_id = e.retrieval_id();
  r.collection = e.collection();
  r.collection_id = e.collection_id();
  r.version = e.version();
  r.snapshot = e.snapshot();
  r.query_text = e.query_text();
  r.query_vector.resize(e.query_vector().size() / sizeof(float));
  if (!r.query_vector.empty()) {
    std::memcpy(r.query_vector.data(), e.query_vector().data(), r.query_vector.size() * sizeof(float));
  }
  r.query_vector_sha256 = e.query_vector_sha256();
  r.k = e.k();
  r.ef = e.ef();
  r.filter = e.filter();
  r.token_budget = e.token_budget();
  r.prompt = e.prompt();
  r.client_trace_id = e.client_trace_id();
  r.client_id = e.client_id();
  r.exact = e.exact();
  r.text = e.text_query();
  r.analyzer_version = e.analyzer_version();
  r.analyzer_code_version = e.analyzer_code_version();
  r.sparse_field = e.sparse_field();
  r.sparse.indices.assign(e.sparse_query().indices().begin(), e.sparse_query().indices().end());
  r.sparse.values.assign(e.sparse_query().values().begin(), e.sparse_query().values().end());
  if (e.has_fusion()) {
    FusionConfig f;
    f.method = static_cast<FusionMethod>(e.fusion().method());
    f.rrf_k = e.fusion().rrf_k();
    f.dense_weight = e.fusion().dense_weight();
    f.text_weight = e.fusion().text_weight();
    f.sparse_weight = e.fusion().sparse_weight();
    f.leg_limit = e.fusion().leg_limit();
    r.fusion = f;
  }
  for (const auto& c : e.chunks()) {
    RetrievedChunk chunk;
    chunk.id = c.id();
    chunk.row_version = c.row_version();
    chunk.distance = c.distance();
    chunk.text_sha256 = c.text_sha256();
    chunk.tokens = c.tokens();
    chunk.in_context = c.in_context();
    chunk.document_id = c.document_id();
    chunk.score = c.score();
    auto leg = [](uint32_t rank, float score) {
      return rank == 0 ? LegScore{} : LegScore{static_cast<int32_t>(rank) - 1, score};
    };
    chunk.dense = leg(c.dense_rank(), c.dense_score());
    chunk.text_leg = leg(c.text_rank(), c.text_score());
    chunk.sparse = leg(c.sparse_rank(), c.sparse_score());
    r.chunks.push_back(std::move(chunk));
  }
  r.context_sha256 = e.context_sha256();
  r.context_tokens = e.context_tokens();
  r.answer = e.answer();
  r.model = e.model();
  r.prompt_tokens = e.prompt_tokens();
  r.completion_tokens = e.completion_tokens();
  r.source_retrieval_id = e.source_retrieval_id();
  r.cache_match = static_cast<CacheMatch>(e.cache_match());
  r.similarity = e.similarity();
  r.prev_hash = Sha256::ToHex(e.prev_hash());
  r.hash = Sha256::ToHex(hash);
  return r;
}

Result<LogRecord> RetrievalLog::AppendAnswer(const std::string& retrieval_id, LogAppend& append) {
  std::lock_guard answers(answer_mu_);
  VERITY_ASSIGN_OR_RETURN(auto existing, Get(retrieval_id));
  if (existing.first.kind == LogKind::kCacheHit) {
    return Status::FailedPrecondition(retrieval_id + " is a cache hit: it served the answer of " +
                                      existing.first.source_retrieval_id + " and takes no answer of its own");
  }
  if (existing.second) {
    return Status::AlreadyExists("retrieval " + retrieval_id + " already has an answer (log record " +
                                 std::to_string(existing.second->seq) + "); answers are immutable");
  }
  storage::LogEntry& e = append.entry;
  e.set_kind(static_cast<uint32_t>(LogKind::kAnswer));
  e.set_retrieval_id(retrieval_id);
  e.set_collection(existing.first.collection);
  e.set_version(existing.first.version);
  append.index.emplace_back(keys::log::AnswerKey(retrieval_id), "");
  VERITY_RETURN_IF_ERROR(Append(append));
  return RecordFromEntry(append.entry, append.hash);
}

}  // namespace verity
