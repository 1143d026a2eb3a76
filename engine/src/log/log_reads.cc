// The retrieval log's reads: one retrieval and its answer, pages of records
// (with filters and a time range), stats. Readers see only durable records
// (seq <= DurableSeq()).
#include "storage/codec.h"
#include "storage/keys.h"
#include "log/retrieval_log.h"

#include "log/annotation_codec.h"
#include "log/log_chain.h"
#include "base/validate.h"

namespace verity {
namespace {

using keys::log::RecordKey;

// The first record at or after `since_us` among sequence numbers [lo, hi)
// (hi when there is none), read through `it` on the `log` family. Record
// times never decrease along the log (Append takes the later of the clock
// and the last record's time; Verify checks it), so a binary search over
// the records finds it in about log2(hi - lo) seeks. The time index would
// take one seek, but it is outside the chain: one forged or deleted entry
// made a range start at the wrong record (issue #23). A missing record (the
// log altered; verify reports it) costs only its own place.
Result<uint64_t> FirstRecordSince(rocksdb::Iterator* it, int64_t since_us, uint64_t lo, uint64_t hi) {
  // Every record before `lo` is older than `since_us`; every record from
  // `hi` on is not.
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    it->Seek(RecordKey(mid));
    if (!it->Valid() || !it->key().starts_with(keys::log::kRecordPrefix)) {
      VERITY_RETURN_IF_ERROR(FromRocks(it->status(), "list the retrieval log"));
      hi = mid;
      continue;
    }
    if (it->key().size() != keys::log::kRecordKeySize) return Status::DataLoss("retrieval log: malformed key");
    const uint64_t seq = keys::log::RecordSeq(it->key().ToStringView());
    if (seq >= hi) {  // no record in [mid, hi)
      hi = mid;
      continue;
    }
    VERITY_ASSIGN_OR_RETURN(const int64_t time_us, log_chain::RecordTime(it->value().ToStringView(), seq));
    if (time_us < since_us) {
      lo = seq + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

Status CheckLogQuery(const LogQuery& query) {
  if (query.limit < 1 || query.limit > 10000) {
    return Status::InvalidArgument("limit: " + std::to_string(query.limit) + " is outside 1..10000");
  }
  if (query.max_scanned < 1 || query.max_scanned > Limits::kMaxLogScanRecords) {
    return Status::InvalidArgument("max_scanned: " + std::to_string(query.max_scanned) + " is outside 1.." +
                                   std::to_string(Limits::kMaxLogScanRecords));
  }
  return ValidateTimeRange(query.since_us, query.until_us);
}

}  // namespace

Result<std::pair<LogRecord, std::optional<LogRecord>>> RetrievalLog::Get(const std::string& retrieval_id) const {
  // The record an index entry names must be the one asked for: the index
  // is outside the hash chain (Verify checks it too).
  auto read = [&](const std::string& index_key, bool answer) -> Result<std::optional<LogRecord>> {
    std::string seq_bytes;
    rocksdb::Status rs = env_.store->db()->Get(rocksdb::ReadOptions(), env_.store->log_index(), index_key, &seq_bytes);
    if (rs.IsNotFound()) return std::optional<LogRecord>();
    VERITY_RETURN_IF_ERROR(FromRocks(rs, "read the retrieval log"));
    if (seq_bytes.size() != 8) return Status::DataLoss("retrieval log: malformed index entry");
    const uint64_t seq = keys::GetU64(seq_bytes.data());
    if (seq > DurableSeq()) return std::optional<LogRecord>();  // still being synced
    std::string value;
    rs = env_.store->db()->Get(rocksdb::ReadOptions(), env_.store->log(), RecordKey(seq), &value);
    if (rs.IsNotFound()) return std::optional<LogRecord>();  // expired
    VERITY_RETURN_IF_ERROR(FromRocks(rs, "read the retrieval log"));
    storage::LogEntry entry;
    std::string hash;
    std::string_view body;
    VERITY_RETURN_IF_ERROR(log_chain::ParseRecordValue(value, seq, &entry, &hash, &body));
    if (entry.retrieval_id() != retrieval_id || (static_cast<LogKind>(entry.kind()) == LogKind::kAnswer) != answer) {
      return Status::DataLoss("retrieval log: the index entry for " + retrieval_id.substr(0, 128) + " names record " +
                              std::to_string(seq) + ", which is not its " + (answer ? "answer" : "retrieval") +
                              " (the index was altered; run `verity log verify`)");
    }
    LogRecord record = RecordFromEntry(entry, hash);
    VERITY_RETURN_IF_ERROR(AttachAnnotation(record));
    return std::optional<LogRecord>(std::move(record));
  };
  VERITY_ASSIGN_OR_RETURN(auto retrieval, read(keys::log::RetrievalKey(retrieval_id), false));
  if (!retrieval) {
    constexpr size_t kEcho = 128;  // ids are "rtv-" + 32 hex digits: a longer one is not echoed whole
    return Status::NotFound("retrieval " +
                            (retrieval_id.size() > kEcho ? retrieval_id.substr(0, kEcho) + "..." : retrieval_id) +
                            " is not in the log");
  }
  VERITY_ASSIGN_OR_RETURN(auto answer, read(keys::log::AnswerKey(retrieval_id), true));
  return std::make_pair(std::move(*retrieval), std::move(answer));
}

Status RetrievalLog::PutAnnotation(const Annotation& annotation) {
  // Under gc_mu_: retention removes a record and its annotation in one batch
  // under the same lock, so an annotation is written only while its record
  // is still indexed, and is never left behind it.
  std::lock_guard gc(gc_mu_);
  std::string seq;
  const std::string index = annotation.cache_hit ? keys::log::RetrievalKey(annotation.retrieval_id)
                                                 : keys::log::AnswerKey(annotation.retrieval_id);
  const rocksdb::Status found = env_.store->db()->Get(rocksdb::ReadOptions(), env_.store->log_index(), index, &seq);
  if (found.IsNotFound()) {
    return Status::NotFound("retrieval " + annotation.retrieval_id + " is no longer in the log (retention)");
  }
  VERITY_RETURN_IF_ERROR(FromRocks(found, "read the retrieval log"));
  rocksdb::WriteBatch batch;
  VERITY_RETURN_IF_ERROR(FromRocks(batch.Put(env_.store->log_index(), keys::log::AnnotationKey(annotation.retrieval_id),
                                             EncodeAnnotation(annotation)),
                                   "write an annotation"));
  return env_.store->Write(&batch, "write an annotation");
}

Result<std::optional<Annotation>> RetrievalLog::GetAnnotation(const std::string& retrieval_id) const {
  std::string bytes;
  const rocksdb::Status rs =
      env_.store->db()->Get(rocksdb::ReadOptions(), env_.store->log_index(), keys::log::AnnotationKey(retrieval_id), &bytes);
  if (rs.IsNotFound()) return std::optional<Annotation>();
  VERITY_RETURN_IF_ERROR(FromRocks(rs, "read an annotation"));
  VERITY_ASSIGN_OR_RETURN(Annotation annotation, DecodeAnnotation(bytes));
  return std::optional<Annotation>(std::move(annotation));
}

// Best effort: an annotation is derived data outside the chain, so one that
// cannot be read never fails the read of the record (it is logged, and
// `verity log annotate --recompute` rewrites it).
Status RetrievalLog::AttachAnnotation(LogRecord& record) const {
  if (record.kind == LogKind::kRetrieval) return Status::Ok();
  auto annotation = GetAnnotation(record.retrieval_id);
  if (annotation.ok()) {
    record.annotation = std::move(*annotation);
  } else {
    Log(LogLevel::kWarning, "the annotation of " + record.retrieval_id + " is left out: " + annotation.status().ToString());
  }
  return Status::Ok();
}

Result<bool> RetrievalLog::HasRetrieval(const std::string& retrieval_id) const {
  std::string seq_bytes;
  const rocksdb::Status rs =
      env_.store->db()->Get(rocksdb::ReadOptions(), env_.store->log_index(), keys::log::RetrievalKey(retrieval_id), &seq_bytes);
  if (rs.IsNotFound()) return false;
  VERITY_RETURN_IF_ERROR(FromRocks(rs, "read the retrieval log"));
  return true;
}

Result<LogPage> RetrievalLog::List(const LogQuery& query) const {
  VERITY_RETURN_IF_ERROR(CheckLogQuery(query));
  if (query.start_after == UINT64_MAX) return LogPage{};  // nothing comes after the last sequence number
  const uint64_t durable = DurableSeq();  // records after it are still being synced
  std::unique_ptr<rocksdb::Iterator> it(env_.store->db()->NewIterator(rocksdb::ReadOptions(), env_.store->log()));
  uint64_t first = query.start_after + 1;
  if (query.since_us > 0 && first <= durable) {
    VERITY_ASSIGN_OR_RETURN(first, FirstRecordSince(it.get(), query.since_us, first, durable + 1));
  }
  LogPage page;
  size_t page_bytes = 0;
  uint32_t scanned = 0;
  uint64_t last_scanned = 0;
  for (it->Seek(RecordKey(first)); it->Valid() && it->key().starts_with(keys::log::kRecordPrefix); it->Next()) {
    if (it->key().size() != keys::log::kRecordKeySize) return Status::DataLoss("retrieval log: malformed key");
    const uint64_t seq = keys::log::RecordSeq(it->key().ToStringView());
    if (seq > durable) break;
    if (scanned == query.max_scanned) {  // the next page starts after the last record examined
      page.next_cursor = last_scanned;
      break;
    }
    ++scanned;
    last_scanned = seq;
    storage::LogEntry entry;
    std::string hash;
    std::string_view body;
    VERITY_RETURN_IF_ERROR(log_chain::ParseRecordValue(it->value().ToStringView(), seq, &entry, &hash, &body));
    if (query.until_us > 0 && entry.time_us() >= query.until_us) break;
    if (entry.time_us() < query.since_us) continue;  // only in a log whose times go back: verify reports it
    if (!query.collection.empty() && entry.collection() != query.collection) continue;
    if (query.kind && static_cast<LogKind>(entry.kind()) != *query.kind) continue;
    if (page.records.size() == query.limit || page_bytes >= Limits::kMaxPageBytes) {
      page.next_cursor = page.records.back().seq;
      break;
    }
    page_bytes += it->value().size();
    page.records.push_back(RecordFromEntry(entry, hash));
    VERITY_RETURN_IF_ERROR(AttachAnnotation(page.records.back()));
  }
  VERITY_RETURN_IF_ERROR(FromRocks(it->status(), "list the retrieval log"));
  return page;
}

Result<LogStats> RetrievalLog::Stats() const {
  LogStats stats;
  stats.last_seq = DurableSeq();
  if (stats.last_seq == 0) return stats;
  uint64_t first = 1;
  VERITY_ASSIGN_OR_RETURN(auto start,
                          ReadIndex(rocksdb::ReadOptions(), keys::log::kStartKey, "read the retrieval log start"));
  if (start) {
    storage::LogMark mark;
    if (!mark.ParseFromString(*start)) return Status::DataLoss("retrieval log: the start record does not parse");
    first = mark.seq();
  }
  if (first <= stats.last_seq) {
    stats.first_seq = first;
    stats.records = stats.last_seq - first + 1;
  }
  // The log's two families: their live files and their memtables.
  uint64_t bytes = 0;
  for (auto* family : {env_.store->log(), env_.store->log_index()}) {
    for (const auto& property :
         {rocksdb::DB::Properties::kLiveSstFilesSize, rocksdb::DB::Properties::kCurSizeAllMemTables}) {
      uint64_t value = 0;
      if (env_.store->db()->GetIntProperty(family, property, &value)) bytes += value;
    }
  }
  stats.bytes = bytes;
  return stats;
}

Result<std::optional<std::string>> RetrievalLog::ReadIndex(const rocksdb::ReadOptions& read, const char* key,
                                                           const char* what) const {
  std::string value;
  const rocksdb::Status rs = env_.store->db()->Get(read, env_.store->log_index(), key, &value);
  if (rs.IsNotFound()) return std::optional<std::string>();
  VERITY_RETURN_IF_ERROR(FromRocks(rs, what));
  return std::optional<std::string>(std::move(value));
}

}  // namespace verity
