// RetrievalLog::Gc: log retention. Records older than
// DatabaseOptions::log_retention_seconds go (never the head, which holds
// the chain's state), the start mark moves past them, and the log pins of
// versions no kept record names are released (docs/retrieval-log.md,
// "Retention").
#include <set>

#include "storage/codec.h"
#include "storage/keys.h"
#include "log/retrieval_log.h"
#include "util/clock.h"
#include "log/log_chain.h"

namespace verity {

struct RetrievalLog::GcScan {
  std::unique_ptr<rocksdb::Iterator> it;  // on the records
  rocksdb::WriteBatch batch;              // the deletions
  uint64_t removed = 0;
  std::string last_hash;  // of the last record removed
  uint64_t next_seq = 0;  // the first record kept
  std::set<LogPins::CollectionVersion> released;
};

// Adds the deletion of every record older than `cutoff_us` (and its index
// entries) to scan.batch, and the versions they name to scan.released.
Status RetrievalLog::ScanExpired(int64_t cutoff_us, GcScan& scan) const {
  const uint64_t durable_seq = DurableSeq();
  rocksdb::Iterator* it = scan.it.get();
  for (it->Seek(keys::log::RecordKey(0)); it->Valid() && it->key().starts_with(keys::log::kRecordPrefix);
       it->Next()) {
    const uint64_t seq = keys::log::RecordSeq(it->key().ToStringView());
    storage::LogEntry entry;
    std::string hash;
    std::string_view body;
    VERITY_RETURN_IF_ERROR(log_chain::ParseRecordValue(it->value().ToStringView(), seq, &entry, &hash, &body));
    scan.next_seq = seq + 1;
    // Never remove the head: the chain's state lives in it.
    if (entry.time_us() >= cutoff_us || seq >= durable_seq) {
      scan.next_seq = seq;
      break;
    }
    scan.batch.Delete(env_.store->log(), it->key());
    scan.batch.Delete(env_.store->log_index(), keys::log::TimeKey(entry.time_us(), seq));
    const bool answer = static_cast<LogKind>(entry.kind()) == LogKind::kAnswer;
    scan.batch.Delete(env_.store->log_index(), answer ? keys::log::AnswerKey(entry.retrieval_id())
                                             : keys::log::RetrievalKey(entry.retrieval_id()));
    if (answer || static_cast<LogKind>(entry.kind()) == LogKind::kCacheHit) {
      scan.batch.Delete(env_.store->log_index(), keys::log::AnnotationKey(entry.retrieval_id()));
    }
    if (!answer) scan.released.emplace(entry.collection_id(), entry.version());
    scan.last_hash = hash;
    ++scan.removed;
  }
  return FromRocks(it->status(), "scan the retrieval log");
}

// Versions still referred to by a kept record stay pinned: removes them
// from scan.released.
Status RetrievalLog::KeepNamed(GcScan& scan) const {
  rocksdb::Iterator* it = scan.it.get();
  for (it->Seek(keys::log::RecordKey(scan.next_seq));
       it->Valid() && it->key().starts_with(keys::log::kRecordPrefix) && !scan.released.empty(); it->Next()) {
    storage::LogEntry entry;
    std::string hash;
    std::string_view body;
    VERITY_RETURN_IF_ERROR(log_chain::ParseRecordValue(
        it->value().ToStringView(), keys::log::RecordSeq(it->key().ToStringView()), &entry, &hash, &body));
    if (static_cast<LogKind>(entry.kind()) != LogKind::kAnswer) {
      scan.released.erase({entry.collection_id(), entry.version()});
    }
  }
  return FromRocks(it->status(), "scan the retrieval log");
}

Result<uint64_t> RetrievalLog::Gc(LogPins& pins) {
  if (env_.retention_seconds <= 0) return uint64_t{0};
  // One run at a time: two could write their start marks out of order.
  std::lock_guard one_run(gc_mu_);
  const int64_t cutoff = NowMicros() - env_.retention_seconds * 1000000;
  GcScan scan;
  scan.it.reset(env_.store->db()->NewIterator(rocksdb::ReadOptions(), env_.store->log()));
  VERITY_RETURN_IF_ERROR(ScanExpired(cutoff, scan));
  // The first run after an open also releases log pins that no record
  // names: a crash between a run's deletions and its unpins, or between a
  // retrieval's pin and its record's sync, leaves one, and it would keep its
  // version's rows for good. (Pins loaded at open count as unused since 0.)
  if (!pins_swept_) {  // set once a sweep has run to the end
    for (const auto& unused : pins.UnusedLogPins(cutoff)) scan.released.insert(unused);
  }
  if (scan.removed == 0 && scan.released.empty()) {
    pins_swept_ = true;
    return uint64_t{0};
  }
  if (scan.removed > 0) {
    storage::LogMark start;
    start.set_seq(scan.next_seq);
    start.set_hash(scan.last_hash);
    scan.batch.Put(env_.store->log_index(), keys::log::kStartKey, start.SerializeAsString());
    VERITY_RETURN_IF_ERROR(
        FromRocks(env_.store->db()->Write(env_.store->write_options(), &scan.batch), "expire retrieval-log records"));
  }
  VERITY_RETURN_IF_ERROR(KeepNamed(scan));
  VERITY_RETURN_IF_ERROR(pins.ReleaseLogPins(scan.released, cutoff));
  pins_swept_ = true;
  if (scan.removed > 0) Log(LogLevel::kInfo, "retrieval log: expired " + std::to_string(scan.removed) + " records");
  return scan.removed;
}

}  // namespace verity
