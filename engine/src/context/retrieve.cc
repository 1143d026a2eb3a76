// The context service's writes: Retrieve (a search, then a durable,
// hash-chained log record of exactly what it returned), RecordAnswer, and
// the cache hit's record (docs/retrieval-log.md).
#include <algorithm>

#include "base/validate.h"
#include "context/context_service.h"
#include "context/context_text.h"
#include "log/retrieval_log.h"
#include "storage/codec.h"
#include "storage/keys.h"
#include "util/sha256.h"
#include "verity/filter_parser.h"

namespace verity {
namespace {

constexpr size_t kMaxAnswerBytes = 1 << 20;

// The request's own checks, before anything is resolved.
Status CheckRetrieveRequest(const RetrieveRequest& request) {
  if (request.query_text.size() > kMaxLogFieldBytes) {
    return Status::InvalidArgument("query_text: " + std::to_string(request.query_text.size()) +
                                   " bytes; the limit is " + std::to_string(kMaxLogFieldBytes));
  }
  if (request.text.size() > kMaxLogFieldBytes) {
    return Status::InvalidArgument(std::to_string(request.text.size()) + " bytes; the limit is " +
                                   std::to_string(kMaxLogFieldBytes))
        .WithField("text");
  }
  return ValidateClientFields(request.prompt, request.client_trace_id, request.client_id);
}

// The search a retrieval runs (its version is set later). InvalidArgument
// for a filter that does not parse.
Result<SearchRequest> SearchOf(const RetrieveRequest& request) {
  SearchRequest search;
  search.vector = request.vector;
  search.text = request.text;
  search.sparse_field = request.sparse_field;
  search.sparse = request.sparse;
  search.fusion = request.fusion;
  search.k = request.k;
  search.ef = request.ef;
  search.max_payload_bytes = request.max_payload_bytes;
  VERITY_ASSIGN_OR_RETURN(search.filter, ParseFilterField(request.filter, "filter"));
  return search;
}

// The hits as chunks, and the context: the best-ranked prefix of the hits
// that fits `token_budget` (0: all of them).
RetrieveResult ContextOf(const SearchResult& found, uint32_t token_budget) {
  RetrieveResult result;
  result.version = found.version;
  result.exact = found.exact;
  uint32_t used = 0;
  bool budget_full = false;
  for (const auto& hit : found.hits) {
    RetrievedChunk chunk;
    chunk.id = hit.id;
    chunk.row_version = hit.row_version;
    chunk.distance = hit.distance;
    chunk.score = hit.score;
    chunk.dense = hit.dense;
    chunk.text_leg = hit.text;
    chunk.sparse = hit.sparse;
    chunk.text = hit.record ? hit.record->text : "";
    chunk.document_id = hit.record ? hit.record->document_id : "";
    chunk.text_sha256 = Sha256::Hex(chunk.text);
    chunk.tokens = EstimateTokens(chunk.text);
    if (token_budget > 0 && (budget_full || used + chunk.tokens > token_budget)) {
      chunk.in_context = false;
      budget_full = true;
    } else {
      used += chunk.tokens;
    }
    result.chunks.push_back(std::move(chunk));
  }
  result.context = context::AssembleContext(result.chunks);
  result.context_sha256 = Sha256::Hex(result.context);
  result.context_tokens = used;
  return result;
}

// An empty context handed to a model, and logged as if it were one, is what
// an auditor trips on (#25): refused, with nothing pinned or logged, when the
// search found no chunk (FailedPrecondition: a filter that matched nothing,
// or an empty collection) or the token budget fits not even the best-ranked
// chunk (InvalidArgument naming token_budget).
Status CheckContextNotEmpty(const SearchResult& found, const RetrieveRequest& request) {
  const std::string at = "version " + std::to_string(found.version) + " of collection \"" + request.collection + "\"";
  if (found.hits.empty()) {
    if (!request.filter.empty()) {
      return Status::FailedPrecondition("the filter matched no record at " + at + " (filter: " + request.filter +
                                        "): an empty context is not retrieved nor logged");
    }
    return Status::FailedPrecondition("no record at " + at + ": an empty context is not retrieved nor logged");
  }
  const SearchHit& best = found.hits.front();
  const uint32_t tokens = EstimateTokens(best.record ? best.record->text : "");
  if (request.token_budget > 0 && tokens > request.token_budget) {
    return Status::InvalidArgument("token_budget: " + std::to_string(request.token_budget) +
                                   " tokens fit none of the " + std::to_string(found.hits.size()) +
                                   " chunks retrieved (the best-ranked, " + best.id + ", needs " +
                                   std::to_string(tokens) + ")");
  }
  return Status::Ok();
}

// A leg's rank and score into a log chunk's (rank + 1; 0 = not found).
void SetLeg(const LegScore& leg, storage::LogChunk* out, void (storage::LogChunk::*set_rank)(uint32_t),
            void (storage::LogChunk::*set_score)(float)) {
  if (!leg.found()) return;
  (out->*set_rank)(static_cast<uint32_t>(leg.rank) + 1);
  (out->*set_score)(leg.score);
}

// The text, sparse and fusion parts of a retrieval's log record.
void SetLegsOfRecord(const RetrieveRequest& request, uint32_t analyzer_version, storage::LogEntry& e) {
  if (!request.text.empty()) {
    e.set_text_query(request.text);
    e.set_analyzer_version(analyzer_version);
    e.set_analyzer_code_version(text::kAnalyzerCodeVersion);
  }
  if (!request.sparse_field.empty()) {
    e.set_sparse_field(request.sparse_field);
    e.mutable_sparse_query()->mutable_indices()->Add(request.sparse.indices.begin(), request.sparse.indices.end());
    e.mutable_sparse_query()->mutable_values()->Add(request.sparse.values.begin(), request.sparse.values.end());
  }
  const int legs = !request.vector.empty() + !request.text.empty() + !request.sparse_field.empty();
  if (legs > 1) {
    storage::LogFusion* f = e.mutable_fusion();
    f->set_method(static_cast<uint32_t>(request.fusion.method));
    f->set_rrf_k(request.fusion.rrf_k);
    f->set_dense_weight(request.fusion.dense_weight);
    f->set_text_weight(request.fusion.text_weight);
    f->set_sparse_weight(request.fusion.sparse_weight);
    f->set_leg_limit(request.fusion.leg_limit);
  }
}

// The log record of retrieval `result` answering `request` in collection
// `collection_id`.
LogAppend RetrievalRecord(const RetrieveRequest& request, uint32_t collection_id, uint32_t analyzer_version,
                          const RetrieveResult& result) {
  LogAppend append;
  storage::LogEntry& e = append.entry;
  e.set_kind(static_cast<uint32_t>(LogKind::kRetrieval));
  e.set_retrieval_id(result.retrieval_id);
  e.set_collection(request.collection);
  e.set_collection_id(collection_id);
  e.set_version(result.version);
  e.set_snapshot(request.at.snapshot());  // "" unless it read at a snapshot
  e.set_query_text(request.query_text.empty() ? request.text : request.query_text);
  e.set_query_vector(context::FloatBytes(request.vector));
  e.set_query_vector_sha256(Sha256::Hex(e.query_vector()));
  e.set_k(request.k);
  e.set_ef(request.ef);
  e.set_filter(request.filter);
  e.set_token_budget(request.token_budget);
  e.set_prompt(result.prompt);
  e.set_client_trace_id(request.client_trace_id);
  e.set_client_id(request.client_id);
  e.set_exact(result.exact);
  SetLegsOfRecord(request, analyzer_version, e);
  for (const auto& chunk : result.chunks) {
    auto* out = e.add_chunks();
    out->set_id(chunk.id);
    out->set_row_version(chunk.row_version);
    out->set_distance(chunk.distance);
    out->set_text_sha256(chunk.text_sha256);
    out->set_tokens(chunk.tokens);
    out->set_in_context(chunk.in_context);
    out->set_document_id(chunk.document_id);
    out->set_score(chunk.score);
    SetLeg(chunk.dense, out, &storage::LogChunk::set_dense_rank, &storage::LogChunk::set_dense_score);
    SetLeg(chunk.text_leg, out, &storage::LogChunk::set_text_rank, &storage::LogChunk::set_text_score);
    SetLeg(chunk.sparse, out, &storage::LogChunk::set_sparse_rank, &storage::LogChunk::set_sparse_score);
  }
  e.set_context_sha256(result.context_sha256);
  e.set_context_tokens(result.context_tokens);
  append.index.emplace_back(keys::log::RetrievalKey(result.retrieval_id), "");
  return append;
}

}  // namespace

Result<RetrieveResult> ContextService::Retrieve(const RetrieveRequest& request) {
  VERITY_ASSIGN_OR_RETURN(auto c, collections_.Find(request.collection));
  VERITY_RETURN_IF_ERROR(CheckRetrieveRequest(request));
  // A registered prompt is logged as the exact version its label (or
  // number) resolves to now, so an audit shows which prompt produced which
  // answer even after the label moved.
  VERITY_ASSIGN_OR_RETURN(const std::string prompt, prompts_.ResolvePrompt(request.prompt));
  VERITY_ASSIGN_OR_RETURN(SearchRequest search, SearchOf(request));
  // No vector but a filter: every chunk the filter selects, in document
  // order (an auditor giving a model a known source). An empty vector
  // without a filter stays the search's InvalidArgument.
  const bool by_filter =
      request.vector.empty() && request.text.empty() && request.sparse_field.empty() && search.filter.has_value();
  if (by_filter) {
    if (request.k == 0 || request.k > Limits::kMaxK) {
      return Status::InvalidArgument("k: " + std::to_string(request.k) + " is outside 1.." +
                                     std::to_string(Limits::kMaxK) + " (a retrieval by filter takes at most k chunks)");
    }
  } else {
    VERITY_RETURN_IF_ERROR(collections_.ValidateSearch(*c, search));
  }
  search.at = request.at;  // resolved by the search, under its lock
  // The response carries each chunk's text twice (the chunk, the context),
  // and no metadata.
  search.payload_bytes = [](const Record& r) { return r.id.size() + 2 * r.text.size() + r.document_id.size(); };
  VERITY_RETURN_IF_ERROR(retrieval_log_.Appendable());
  auto read = [&]() -> Result<SearchResult> {
    if (by_filter) return ScanByFilter(*c, *search.filter, request.at, request.k, request.max_payload_bytes);
    return collections_.SearchValidated(*c, search);
  };
  VERITY_ASSIGN_OR_RETURN(const SearchResult found, ReadPinnedForLog(*c, request, read));
  RetrieveResult result = ContextOf(found, request.token_budget);
  result.prompt = prompt;
  result.retrieval_id = NewRetrievalId();
  const uint32_t analyzer_version = c->text ? c->text->analyzer_version() : 0;
  LogAppend append = RetrievalRecord(request, c->id, analyzer_version, result);
  VERITY_RETURN_IF_ERROR(retrieval_log_.Append(append));
  result.log_seq = append.seq;
  return result;
}

// Pin the version read, so that GC cannot collect it before the log record
// that refers to it expires. Only after the search: a search that failed (a
// bad filter, a response over its bound) must pin nothing, for a pin is
// released only when a log record of its version expires. GC may have
// collected the version since the search read it: a head read then reads
// the new head (a write and a GC came between); for an `at` or a snapshot
// PinForLog's refusal is the answer, with nothing logged.
Result<SearchResult> ContextService::ReadPinnedForLog(Collection& c, const RetrieveRequest& request,
                                                      const std::function<Result<SearchResult>()>& read) {
  const bool fixed_version = !request.at.is_head();
  for (int attempt = 1;; ++attempt) {
    VERITY_ASSIGN_OR_RETURN(SearchResult found, read());
    VERITY_RETURN_IF_ERROR(CheckContextNotEmpty(found, request));
    std::lock_guard pins(c.pins_mu);
    const Status pinned = history_.PinForLog(c, found.version);
    if (pinned.ok()) return found;
    if (fixed_version || pinned.code() != StatusCode::kFailedPrecondition || attempt == 3) return pinned;
  }
}

Result<SearchResult> ContextService::ScanByFilter(const Collection& c, const Filter& filter, const ReadPoint& at,
                                                  uint32_t max_chunks, uint64_t max_payload_bytes) const {
  ScrollRequest scroll;
  scroll.at = at;
  scroll.filter = filter;
  scroll.with_vectors = false;
  scroll.limit = static_cast<uint32_t>(Limits::kMaxScrollLimit);
  SearchResult result;
  result.exact = true;
  uint64_t bytes = 0;
  for (bool first = true;; first = false) {
    VERITY_ASSIGN_OR_RETURN(ScrollPage page, collections_.Scroll(c.config.name, scroll));
    if (first) {
      result.version = page.version;
      scroll.at = ReadPoint(page.version);  // every page reads the version the first one read
    }
    for (StoredRecord& stored : page.records) {
      if (result.hits.size() == max_chunks) {
        return Status::FailedPrecondition("the filter matches more than " + std::to_string(max_chunks) +
                                          " records at version " + std::to_string(result.version) +
                                          " (k, the most a retrieval by filter takes): narrow the filter or raise k");
      }
      const Record& r = stored.record;
      bytes += r.id.size() + 2 * r.text.size() + r.document_id.size();
      if (max_payload_bytes > 0 && bytes > max_payload_bytes) {
        return Status::ResourceExhausted("hits: the chunks the filter matches pass " +
                                         std::to_string(max_payload_bytes) +
                                         " bytes (the response limit): narrow the filter");
      }
      SearchHit hit;
      hit.id = r.id;
      hit.row_version = stored.row_version;
      hit.record = std::move(stored.record);
      result.hits.push_back(std::move(hit));
    }
    if (page.next_cursor.empty()) break;
    scroll.start_after = page.next_cursor;
  }
  // Scroll returns id order; document order groups each document's chunks.
  std::stable_sort(result.hits.begin(), result.hits.end(), [](const SearchHit& a, const SearchHit& b) {
    return a.record->document_id < b.record->document_id;
  });
  return result;
}

Result<LogRecord> ContextService::RecordAnswer(const AnswerRequest& request) {
  if (request.answer.empty()) return Status::InvalidArgument("answer: must not be empty");
  if (request.answer.size() > kMaxAnswerBytes) {
    return Status::InvalidArgument("answer: " + std::to_string(request.answer.size()) + " bytes; the limit is " +
                                   std::to_string(kMaxAnswerBytes));
  }
  if (request.model.size() > 1024) return Status::InvalidArgument("model: at most 1024 bytes");
  LogAppend append;
  storage::LogEntry& e = append.entry;
  e.set_answer(request.answer);
  e.set_model(request.model);
  e.set_prompt_tokens(request.prompt_tokens);
  e.set_completion_tokens(request.completion_tokens);
  return retrieval_log_.AppendAnswer(request.retrieval_id, append);
}

Status ContextService::LogCacheHit(Collection& c, const CacheLookupRequest& request, CacheLookupResult* result,
                                   bool* source_expired) {
  *source_expired = false;
  VERITY_RETURN_IF_ERROR(store_.CheckWritable());
  // The source must still be in the log, or the hit could not be audited.
  VERITY_ASSIGN_OR_RETURN(const bool source_kept, retrieval_log_.HasRetrieval(result->source_retrieval_id));
  if (!source_kept) {
    *source_expired = true;
    return Status::NotFound("retrieval " + result->source_retrieval_id + " expired from the log");
  }
  VERITY_RETURN_IF_ERROR(retrieval_log_.Appendable());
  {
    std::lock_guard pins(c.pins_mu);
    VERITY_RETURN_IF_ERROR(history_.PinForLog(c, result->version));
  }
  LogAppend append;
  storage::LogEntry& e = append.entry;
  e.set_kind(static_cast<uint32_t>(LogKind::kCacheHit));
  result->retrieval_id = NewRetrievalId();
  e.set_retrieval_id(result->retrieval_id);
  e.set_collection(request.collection);
  e.set_collection_id(c.id);
  e.set_version(result->version);
  e.set_query_text(request.query_text);
  e.set_query_vector(context::FloatBytes(request.vector));
  e.set_query_vector_sha256(Sha256::Hex(e.query_vector()));
  e.set_prompt(result->prompt);
  e.set_client_trace_id(request.client_trace_id);
  e.set_client_id(request.client_id);
  e.set_context_sha256(result->context_sha256);
  e.set_answer(result->answer);
  e.set_model(request.model);
  e.set_source_retrieval_id(result->source_retrieval_id);
  e.set_cache_match(static_cast<uint32_t>(result->match));
  e.set_similarity(result->similarity);
  append.index.emplace_back(keys::log::RetrievalKey(result->retrieval_id), "");
  VERITY_RETURN_IF_ERROR(retrieval_log_.Append(append));
  result->log_seq = append.seq;
  return Status::Ok();
}

}  // namespace verity
