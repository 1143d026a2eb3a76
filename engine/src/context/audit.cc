// Audit: the groundedness of a logged answer against the context the log
// says the model saw (rebuilt from the rows, checked against the logged
// hashes), for one retrieval or for a collection's retrievals in a time
// range (docs/groundedness.md).
#include <algorithm>

#include "base/validate.h"
#include "context/context_service.h"
#include "storage/keys.h"
#include "util/keep_going.h"
#include "util/sha256.h"

namespace verity {
namespace {

// About how many bytes an audit takes in a response: its answer, its
// sentences and its context chunks.
uint64_t AuditBytes(const AuditResult& a) {
  uint64_t bytes = a.retrieval_id.size() + a.source_retrieval_id.size() + a.collection.size() + a.answer.size() +
                   a.prompt.size() + 64;
  for (const auto& chunk : a.chunks) bytes += chunk.id.size() + chunk.text.size() + 64;
  for (const auto& s : a.result.sentences) bytes += s.text.size() + s.chunk_id.size() + 48;
  return bytes;
}

// A batch's running sums, and its summary once every audit is in.
struct BatchTally {
  double sum = 0;      // of the scored audits' exact supported / scored
  uint64_t below = 0;  // scored audits with G below the request's low_g
  uint64_t kept_bytes = 0;

  // Counts one audit into `batch`. ResourceExhausted once the audits kept
  // pass the request's response bound.
  Status Add(const BatchAuditRequest& request, AuditResult audit, BatchAuditResult& batch) {
    kept_bytes += AuditBytes(audit);
    if (request.max_result_bytes > 0 && kept_bytes > request.max_result_bytes) {
      return Status::ResourceExhausted("audits: the first " + std::to_string(batch.audited + 1) +
                                       " audits of the range hold about " + std::to_string(kept_bytes) +
                                       " bytes, more than the " + std::to_string(request.max_result_bytes) +
                                       " this response may hold")
          .WithReason(StatusReason::kResponseTooLarge);
    }
    ++batch.audited;
    // The exact ratio, not G as quantised to 4 decimals: the mean of 2/3
    // and 1 is 0.8333, where the quantised G's give 0.8334.
    const GroundednessResult& g = audit.result;
    if (g.scored > 0) {
      ++batch.scored;
      sum += static_cast<double>(g.supported) / g.scored;
      if (g.g < request.low_g) ++below;
    }
    batch.audits.push_back(std::move(audit));
    return Status::Ok();
  }

  // The mean G, the share below low_g and the `worst` lowest.
  void Finish(uint32_t worst, BatchAuditResult& batch) const {
    if (batch.scored > 0) {
      batch.mean_g = sum / static_cast<double>(batch.scored);
      batch.share_below = static_cast<double>(below) / static_cast<double>(batch.scored);
    }
    std::vector<size_t> order(batch.audits.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return batch.audits[a].result.g < batch.audits[b].result.g; });
    for (size_t i = 0; i < order.size() && i < worst; ++i) batch.worst.push_back(batch.audits[order[i]]);
  }
};

}  // namespace

Result<AuditResult> ContextService::AuditOne(const AuditRequest& request, bool* unanswered) const {
  *unanswered = false;
  VERITY_ASSIGN_OR_RETURN(auto logged, retrieval_log_.Get(request.retrieval_id));
  AuditResult audit;
  audit.retrieval_id = logged.first.retrieval_id;
  audit.collection = logged.first.collection;
  audit.version = logged.first.version;
  audit.prompt = logged.first.prompt;
  // The answer that reached the user: a cache hit's is in its own record,
  // a retrieval's in its answer record.
  std::optional<std::string> served = logged.second ? std::optional(logged.second->answer) : std::nullopt;
  if (logged.first.kind == LogKind::kCacheHit) {
    // Scored against the context it was generated from: the source's.
    const std::string source_id = logged.first.source_retrieval_id;
    audit.source_retrieval_id = source_id;
    served = logged.first.answer;
    auto source = retrieval_log_.Get(source_id);
    if (!source.ok()) {
      if (source.status().code() != StatusCode::kNotFound) return source.status();
      return Status::FailedPrecondition("the context of cache hit " + request.retrieval_id +
                                        " is no longer stored: its source retrieval " + source_id +
                                        " expired from the log");
    }
    logged = std::move(*source);
  }
  const LogRecord& r = logged.first;
  if (request.answer) {
    audit.answer = *request.answer;
    audit.answer_recorded = false;
  } else if (served) {
    audit.answer = *served;
  } else {
    *unanswered = true;
    return Status::FailedPrecondition("retrieval " + r.retrieval_id +
                                      " has no recorded answer; record one or give one to audit")
        .WithReason(StatusReason::kNoRecordedAnswer);
  }
  VERITY_RETURN_IF_ERROR(ReadAuditedContext(r, &audit.chunks));
  GroundednessOptions options;
  if (request.threshold) options.threshold = *request.threshold;
  VERITY_ASSIGN_OR_RETURN(audit.result, ScoreGroundedness(audit.answer, audit.chunks, options));
  return audit;
}

// The context as the model saw it: the in-context chunks' rows, checked
// against the logged hashes.
Status ContextService::ReadAuditedContext(const LogRecord& r, std::vector<SourceChunk>* chunks) const {
  auto found = collections_.Find(r.collection);
  if (found.status().code() == StatusCode::kNotFound) {
    return Status::FailedPrecondition("the context of " + r.retrieval_id + " is no longer stored: collection \"" +
                                      r.collection + "\" was dropped");
  }
  VERITY_ASSIGN_OR_RETURN(auto c, std::move(found));
  if (r.collection_id != 0 && r.collection_id != c->id) {
    return Status::FailedPrecondition("the context of " + r.retrieval_id + " is no longer stored: collection \"" +
                                      r.collection + "\" was dropped and created again since");
  }
  const ScopedSnapshot snapshot(db_);
  for (const auto& chunk : r.chunks) {
    if (!chunk.in_context) continue;
    auto row = collections_.ReadRow(*c, keys::RowKey(c->id, chunk.id, chunk.row_version), chunk.id, chunk.row_version,
                                    false, snapshot.options(), /*absent_is_not_found=*/true);
    if (!row.ok() && row.status().code() != StatusCode::kNotFound) return row.status();  // not "collected"
    if (!row.ok()) {
      return Status::FailedPrecondition("the context of " + r.retrieval_id + " is no longer stored: row " + chunk.id +
                                        "@" + std::to_string(chunk.row_version) + " was collected");
    }
    if (Sha256::Hex(row->record.text) != chunk.text_sha256) {
      return Status::DataLoss("the text of " + chunk.id + "@" + std::to_string(chunk.row_version) +
                              " does not match the hash logged by " + r.retrieval_id);
    }
    chunks->push_back({chunk.id, row->record.text});
  }
  return Status::Ok();
}

Result<BatchAuditResult> ContextService::AuditCollection(const BatchAuditRequest& request,
                                                         const std::function<Status()>& keep_going) const {
  KeepGoingCheck check(keep_going, 1);
  VERITY_RETURN_IF_ERROR(collections_.Find(request.collection).status());
  VERITY_RETURN_IF_ERROR(ValidateTimeRange(request.since_us, request.until_us));
  BatchAuditResult batch;
  BatchTally tally;
  LogQuery query;
  query.collection = request.collection;
  query.since_us = request.since_us;
  query.until_us = request.until_us;
  query.limit = 1000;  // every kind; answer records are skipped below
  for (;;) {
    VERITY_RETURN_IF_ERROR(check.Step());  // a page may scan many records and hold no retrieval
    VERITY_ASSIGN_OR_RETURN(LogPage page, retrieval_log_.List(query));
    for (const auto& record : page.records) {
      if (record.kind == LogKind::kAnswer) continue;
      if (batch.retrievals == request.max_retrievals) break;
      VERITY_RETURN_IF_ERROR(check.Step());
      ++batch.retrievals;
      AuditRequest one;
      one.retrieval_id = record.retrieval_id;
      one.threshold = request.threshold;
      bool unanswered = false;
      auto audit = AuditOne(one, &unanswered);
      if (!audit.ok()) {
        if (audit.status().code() != StatusCode::kFailedPrecondition) return audit.status();
        if (unanswered)
          ++batch.unanswered;
        else
          ++batch.unavailable;
        continue;
      }
      VERITY_RETURN_IF_ERROR(tally.Add(request, std::move(audit).value(), batch));
    }
    if (page.next_cursor == 0 || batch.retrievals == request.max_retrievals) break;
    query.start_after = page.next_cursor;
  }
  tally.Finish(request.worst, batch);
  return batch;
}

}  // namespace verity
