// RetrievalLog::Verify: the chain (log_chain::Verifier), the marks, and the
// indexes outside the chain (time, retrieval id, answer), over one RocksDB
// snapshot while appends go on.
#include "storage/codec.h"
#include "storage/keys.h"
#include "log/retrieval_log.h"
#include "log/log_chain.h"

namespace verity {
namespace {

// Each checked record's index entry must name it: the chain does not cover
// the indexes, and reads (Get, AppendAnswer's "already answered") trust
// them. A deleted answer entry would let a second answer in; one pointed
// elsewhere would make replay and audit read another record.
//
// The time index must hold exactly TimeKey(time, seq) for each record:
// walked beside the records, since both sort alike (the Verifier checks
// that times never go back). Reads no longer use it, but an entry that
// matches no record, or a record without its entry, is tampering.
class IndexCheck {
 public:
  IndexCheck(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log_index, const rocksdb::ReadOptions& read)
      : db_(db), log_index_(log_index), read_(read), times_(db->NewIterator(read, log_index)) {
    times_->Seek(keys::log::kTimePrefix);
  }

  // Checks the indexes of `entry`, a record the verifier accepted: false
  // (and `verifier` failed) when they do not name it.
  Result<bool> Check(const storage::LogEntry& entry, log_chain::Verifier& verifier) {
    if (const auto found = TimeEntry(); found != keys::log::TimeKey(entry.time_us(), entry.seq())) {
      VERITY_RETURN_IF_ERROR(FromRocks(times_->status(), "verify the retrieval log's time index"));
      return verifier.Fail(entry.seq(), log_chain::TimeIndexProblem(found, entry.seq(), entry.time_us()));
    }
    times_->Next();
    const bool answer = static_cast<LogKind>(entry.kind()) == LogKind::kAnswer;
    const std::string key =
        answer ? keys::log::AnswerKey(entry.retrieval_id()) : keys::log::RetrievalKey(entry.retrieval_id());
    VERITY_ASSIGN_OR_RETURN(const uint64_t named, IndexedSeq(key));
    if (named == entry.seq()) return true;
    const std::string what = answer ? "answer" : "retrieval-id";
    const std::string seq = std::to_string(entry.seq());
    std::string problem;
    if (named == 0) {
      problem = "record " + seq + ": its " + what + " index entry is missing (index altered)";
    } else if (answer) {
      problem = "answer record " + seq + " is not the one its index names (record " + std::to_string(named) +
                "): a second answer to " + entry.retrieval_id() + " was recorded";
    } else {
      problem = "record " + seq + ": its retrieval-id index entry names record " + std::to_string(named) +
                " (index altered)";
    }
    return verifier.Fail(entry.seq(), problem);
  }

  // After the last checked record: only the time entries of records still
  // being synced (not checked, like their records) may follow. False (and
  // `verifier` failed) when another does.
  Result<bool> CheckRest(const RetrievalLog::MarkView& durable, log_chain::Verifier& verifier) {
    for (auto found = TimeEntry(); found; times_->Next(), found = TimeEntry()) {
      if (found->size() == keys::log::kTimeKeySize) {
        const uint64_t seq = keys::GetU64(found->data() + 9);
        if (seq > durable.seq && seq <= durable.written) continue;
      }
      const LogVerifyResult& so_far = verifier.result();
      return verifier.Fail(so_far.records > 0 ? so_far.last_seq + 1 : so_far.first_seq,
                           log_chain::StrayTimeIndexProblem(*found));
    }
    VERITY_RETURN_IF_ERROR(FromRocks(times_->status(), "verify the retrieval log's time index"));
    return true;
  }

 private:
  std::optional<std::string_view> TimeEntry() const {
    if (!times_->Valid() || !times_->key().starts_with(keys::log::kTimePrefix)) return std::nullopt;
    return times_->key().ToStringView();
  }
  // The record an index entry names; 0 when it is absent or malformed.
  Result<uint64_t> IndexedSeq(const std::string& key) const {
    std::string value;
    const rocksdb::Status rs = db_->Get(read_, log_index_, key, &value);
    if (rs.IsNotFound()) return uint64_t{0};
    VERITY_RETURN_IF_ERROR(FromRocks(rs, "verify the retrieval log's index"));
    return value.size() == 8 ? keys::GetU64(value.data()) : uint64_t{0};
  }

  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* log_index_;
  const rocksdb::ReadOptions& read_;
  std::unique_ptr<rocksdb::Iterator> times_;
};

}  // namespace

Result<LogVerifyResult> RetrievalLog::Verify(const std::function<Status()>& keep_going) const {
  constexpr uint64_t kAskEvery = 4096;
  uint64_t steps = 0;
  const ScopedSnapshot snapshot(env_.store->db());  // a consistent view while appends go on
  const rocksdb::ReadOptions read = snapshot.options();
  // Read after the snapshot: every record in it is at most `durable.written`.
  // Those after `durable.seq` are still being synced and are not verified;
  // one after `durable.written` was not written by this log.
  const MarkView durable = Durable();
  VERITY_ASSIGN_OR_RETURN(auto start, ReadIndex(read, keys::log::kStartKey, "read the retrieval log start"));
  log_chain::Verifier verifier(start, durable.seq, durable.hash, durable.written);
  IndexCheck indexes(env_.store->db(), env_.store->log_index(), read);
  std::unique_ptr<rocksdb::Iterator> it(env_.store->db()->NewIterator(read, env_.store->log()));
  for (it->Seek(keys::log::RecordKey(0)); it->Valid() && it->key().starts_with(keys::log::kRecordPrefix);
       it->Next()) {
    if (keep_going && steps++ % kAskEvery == 0) VERITY_RETURN_IF_ERROR(keep_going());
    if (!verifier.Add(it->key().ToStringView(), it->value().ToStringView())) return verifier.result();
    const storage::LogEntry* entry = verifier.last_checked();
    if (entry == nullptr) continue;
    VERITY_ASSIGN_OR_RETURN(const bool indexed, indexes.Check(*entry, verifier));
    if (!indexed) return verifier.result();
  }
  VERITY_RETURN_IF_ERROR(FromRocks(it->status(), "verify the retrieval log"));
  VERITY_ASSIGN_OR_RETURN(const bool rest_indexed, indexes.CheckRest(durable, verifier));
  if (!rest_indexed) return verifier.result();
  VERITY_ASSIGN_OR_RETURN(auto head, ReadIndex(read, keys::log::kHeadKey, "read the retrieval log head"));
  return verifier.Finish(head);
}

}  // namespace verity
