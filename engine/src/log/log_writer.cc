// The retrieval log's writer: loading the chain's state at open, the group
// commit (Append) and its syncer thread, and the synced writes.
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>

#include "storage/codec.h"
#include "storage/keys.h"
#include "util/kill_point.h"
#include "log/retrieval_log.h"
#include "util/clock.h"
#include "util/scoped_count.h"
#include "log/log_chain.h"
#include "util/sha256.h"

namespace verity {
namespace {

constexpr int64_t kAppendSpinMicros = 1000;
constexpr int64_t kSyncerSpinMicros = 300;

// Yields the CPU until `done()` or `micros` have passed, so that a waiter
// with nothing else to run sees the change at once instead of sleeping and
// being woken. Measured with one caller on the 2-core VM: a sleeping
// appender resumed ~25 µs after its sync, and the sleeping log thread began
// the next write ~20 µs after the record was queued; both ~2 µs spinning
// (Retrieve throughput +5-10% at 1 thread; within noise at 8). A waiter
// that spins out sleeps as before; yielding lets runnable threads go first.
template <typename Done>
void SpinUntil(Done done, int64_t micros) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(micros);
  while (!done() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
}

}  // namespace

// --- Open ---------------------------------------------------------------------

// The head mark and the record it names are written in one batch, so
// records without any head mark, a head mark without its record, or a
// record hash that differs from the mark's mean the log was altered from
// outside. Without a head mark, appends are refused (numbering would
// restart at 1 and overwrite record 1, destroying the evidence); the
// database still opens and serves reads, searches and VerifyLog. The other
// two are logged: appends continue after the mark, which keeps the
// evidence (VerifyLog reports the break at the same place).
Status RetrievalLog::Load() {
  std::string value;
  rocksdb::Status rs = env_.store->db()->Get(rocksdb::ReadOptions(), env_.store->log_index(), keys::log::kHeadKey, &value);
  if (rs.IsNotFound()) return LoadWithoutHead();
  VERITY_RETURN_IF_ERROR(FromRocks(rs, "read the retrieval log head"));
  storage::LogMark head;
  if (!head.ParseFromString(value) || head.hash().size() != 32) {
    return Status::DataLoss("retrieval log: the head record does not parse");
  }
  std::lock_guard lock(writer_.mu);
  writer_.next_seq = head.seq() + 1;
  writer_.last_hash = head.hash();
  writer_.durable_seq.store(head.seq(), std::memory_order_release);
  writer_.durable_hash = head.hash();
  if (head.seq() == 0) return Status::Ok();
  // The time of the last record keeps times monotonic across restarts.
  rs = env_.store->db()->Get(rocksdb::ReadOptions(), env_.store->log(), keys::log::RecordKey(head.seq()), &value);
  if (!rs.ok() && !rs.IsNotFound()) return FromRocks(rs, "read the retrieval log's last record");
  storage::LogEntry entry;
  std::string hash;
  std::string_view body;
  if (rs.IsNotFound() || !log_chain::ParseRecordValue(value, head.seq(), &entry, &hash, &body).ok() ||
      hash != head.hash()) {
    Log(LogLevel::kError, "retrieval log: record " + std::to_string(head.seq()) +
                              (rs.IsNotFound() ? " is missing" : " does not match") +
                              " though the head mark names it (altered from outside); `verity log verify` reports it");
    return Status::Ok();
  }
  writer_.last_time_us = entry.time_us();
  return Status::Ok();
}

Status RetrievalLog::LoadWithoutHead() {
  // The last record, if there is any (the family holds only records).
  std::unique_ptr<rocksdb::Iterator> it(env_.store->db()->NewIterator(rocksdb::ReadOptions(), env_.store->log()));
  it->SeekForPrev(keys::log::RecordKey(UINT64_MAX));
  VERITY_RETURN_IF_ERROR(FromRocks(it->status(), "read the retrieval log"));
  if (!it->Valid() || !it->key().starts_with(keys::log::kRecordPrefix)) return Status::Ok();
  std::lock_guard lock(writer_.mu);
  // Everything on disk at open is durable: reads and VerifyLog see the
  // records up to the last one.
  if (it->key().size() == keys::log::kRecordKeySize && it->value().size() >= 32) {
    const uint64_t last = keys::log::RecordSeq(it->key().ToStringView());
    writer_.next_seq = last + 1;
    writer_.last_hash = it->value().ToString().substr(0, 32);
    writer_.durable_seq.store(last, std::memory_order_release);
    writer_.durable_hash = writer_.last_hash;
  }
  writer_.sync_failed = Status::DataLoss(
      "retrieval log: it holds records but its head mark is missing (altered from outside); appends are "
      "refused so that no record is overwritten; `verity log verify` reports it (docs/retrieval-log.md)");
  Log(LogLevel::kError, writer_.sync_failed.message());
  return Status::Ok();
}

// Until 2026-11-29 the log's index keys and marks (T, I, A, H, S, W) shared
// the `log` family with the records. Now `log` holds only "R" + seq keys,
// written in increasing order, so the files a flush writes never overlap
// and compaction moves them down a level instead of rewriting the log again
// at every level (with the index in the same family every file spanned it
// all: verity_bench_retrieval spent ~15% of its CPU compacting the log).
// A data directory from before keeps its index keys in `log`: they move to
// `log_index` here, in synced batches that each move a key whole (Put in one
// family, Delete in the other), so a crash midway leaves the rest for the
// next open; then `log` is compacted once. Runs before the log writer starts.
Status RetrievalLog::MoveIndexKeys() {
  constexpr size_t kBatchKeys = 10000;
  std::unique_ptr<rocksdb::Iterator> it(env_.store->db()->NewIterator(rocksdb::ReadOptions(), env_.store->log()));
  rocksdb::WriteBatch batch;
  uint64_t moved = 0;
  rocksdb::WriteOptions synced = env_.store->write_options();
  synced.sync = true;
  auto write = [&]() -> Status {
    VERITY_RETURN_IF_ERROR(FromRocks(env_.store->db()->Write(synced, &batch), "move the retrieval log's index"));
    batch.Clear();
    return Status::Ok();
  };
  it->SeekToFirst();
  while (it->Valid()) {
    if (it->key().starts_with(keys::log::kRecordPrefix)) {  // the records stay; skip past them
      it->Seek("S");  // the first key after every "R..." key
      continue;
    }
    VERITY_RETURN_IF_ERROR(
        FromRocks(batch.Put(env_.store->log_index(), it->key(), it->value()), "move the retrieval log's index"));
    VERITY_RETURN_IF_ERROR(FromRocks(batch.Delete(env_.store->log(), it->key()), "move the retrieval log's index"));
    ++moved;
    if (batch.Count() >= 2 * kBatchKeys) VERITY_RETURN_IF_ERROR(write());
    it->Next();
  }
  VERITY_RETURN_IF_ERROR(FromRocks(it->status(), "scan the retrieval log"));
  if (batch.Count() > 0) VERITY_RETURN_IF_ERROR(write());
  if (moved == 0) return Status::Ok();
  Log(LogLevel::kInfo, "retrieval log: moved " + std::to_string(moved) + " index keys to log_index");
  // The move left a deletion in `log` for every key it moved, before and
  // after the records; every scan of the records (verify, GC, list) would
  // step over them until compaction reached them. Compact once, now.
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  return FromRocks(env_.store->db()->CompactRange(compact, env_.store->log(), nullptr, nullptr), "compact the retrieval log");
}

void RetrievalLog::StartSyncer() {
  writer_.syncer = std::thread([this] { RunSyncer(); });
}

void RetrievalLog::StopSyncer() {
  if (!writer_.syncer.joinable()) return;
  {
    std::lock_guard lock(writer_.mu);
    writer_.stop = true;
  }
  writer_.sync_cv.notify_all();
  writer_.syncer.join();
}

// --- Appending ----------------------------------------------------------------

Status RetrievalLog::Appendable() const {
  std::lock_guard lock(writer_.mu);
  return writer_.sync_failed;
}

RetrievalLog::MarkView RetrievalLog::Durable() const {
  std::lock_guard lock(writer_.mu);
  return {writer_.durable_seq, writer_.durable_hash, writer_.next_seq - 1};
}

uint64_t RetrievalLog::Queue(LogAppend& append) {
  Writer& w = writer_;
  // Link the record into the chain and queue it; the syncer writes the
  // queue as one synced batch.
  const uint64_t seq = w.next_seq;
  const int64_t time_us = std::max(NowMicros(), w.last_time_us);
  append.entry.set_seq(seq);
  append.entry.set_time_us(time_us);
  append.entry.set_prev_hash(w.last_hash);
  const std::string body = append.entry.SerializeAsString();
  Sha256 h;
  h.Update(w.last_hash);
  h.Update(body);
  append.hash = h.FinishRaw();
  append.seq = seq;
  rocksdb::WriteBatch& batch = w.pending;
  batch.Put(env_.store->log(), keys::log::RecordKey(seq), append.hash + body);
  batch.Put(env_.store->log_index(), keys::log::TimeKey(time_us, seq), "");
  std::string seq_bytes;
  keys::PutU64(&seq_bytes, seq);
  for (auto& [key, value] : append.index) batch.Put(env_.store->log_index(), key, value.empty() ? seq_bytes : value);
  storage::LogMark head;
  head.set_seq(seq);
  head.set_hash(append.hash);
  batch.Put(env_.store->log_index(), keys::log::kHeadKey, head.SerializeAsString());
  w.next_seq = seq + 1;
  w.last_hash = append.hash;
  w.last_time_us = time_us;
  w.queued_seq.store(seq, std::memory_order_release);
  return seq;
}

Status RetrievalLog::Append(LogAppend& append) {
  Writer& w = writer_;
  std::unique_lock lock(w.mu);
  if (w.stop) return Status::FailedPrecondition("the database is closing");
  if (!w.sync_failed.ok()) return w.sync_failed;
  const uint64_t seq = Queue(append);
  // Wait until the syncer has written the record durably.
  w.sync_cv.notify_one();
  lock.unlock();
  AwaitDurable(seq, lock);
  // A failed group write: the record may still reach the disk, so the
  // caller must not read the error as "not logged".
  if (w.durable_seq < seq) return w.sync_failed;
  lock.unlock();
  KillPoint("log.after_append");
  return Status::Ok();
}

void RetrievalLog::AwaitDurable(uint64_t seq, std::unique_lock<std::mutex>& lock) {
  Writer& w = writer_;
  ScopedCount waiting(waiting_);
  // One appender at a time spins: with several, each yield handed the CPU
  // from one spinner to the next (~20 context switches per Retrieve at 8
  // threads on 2 cores, against 3 now).
  if (!w.appender_spinning.exchange(true, std::memory_order_acquire)) {
    SpinUntil([&] { return w.durable_seq.load(std::memory_order_acquire) >= seq || !SpinWorthwhile(); },
              kAppendSpinMicros);
    w.appender_spinning.store(false, std::memory_order_release);
  }
  lock.lock();
  if (w.durable_seq < seq && w.sync_failed.ok()) {
    Waiter waiter;
    waiter.seq = seq;
    // Not in seq order (a spinning appender queues after later ones). The
    // syncer removes the waiter in the same critical section that makes
    // this condition true, so it is gone from `waiters` when this returns.
    w.waiters.push_back(&waiter);
    waiter.cv.wait(lock, [&] { return w.durable_seq >= seq || !w.sync_failed.ok(); });
  }
}

bool RetrievalLog::SpinWorthwhile() const {
  static const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int running = env_.calls_running ? env_.calls_running->load(std::memory_order_relaxed) : 0;
  return running - waiting_.load(std::memory_order_relaxed) < cores;
}

// --- The syncer ---------------------------------------------------------------

// The syncer writes each group of queued records with one synced write,
// which also puts the sync mark (the last sequence number the group
// covers). A synced write syncs every live WAL file, so it covers every
// write made before it too (manual_wal_flush and two_write_queues stay off,
// the defaults database.cc keeps), and when the WAL has failed it returns
// the error. DB::SyncWAL is not used: on a WAL writer in error it trips an
// assertion in Debian's RocksDB, and checking CheckWritable() first cannot
// close that window against a write failing on another thread.
//
// Why the syncer writes the records, not the appenders: RocksDB's write
// queue holds every writer behind a synced write while it syncs, so an
// appender writing its own record (unsynced) waited for the sync in
// progress and then for the next one; with 8 threads the log ran at about
// one record per sync (verity_bench_retrieval: Retrieve cost 70% of Search
// throughput). Now a sync covers every record queued while the previous
// one ran.
Status RetrievalLog::SyncWal(uint64_t mark, const char* what) { return env_.store->SyncWal(mark, what); }

void RetrievalLog::RunSyncer() {
  Writer& w = writer_;
  std::unique_lock lock(w.mu);
  while (true) {
    w.sync_cv.wait(lock, [&] { return w.stop || (w.next_seq - 1 > w.durable_seq && w.sync_failed.ok()); });
    if (w.next_seq - 1 == w.durable_seq || !w.sync_failed.ok()) return;  // stopping, nothing left to sync
    const uint64_t target = w.next_seq - 1;
    const std::string target_hash = w.last_hash;
    rocksdb::WriteBatch group;
    std::swap(group, w.pending);
    lock.unlock();
    // After a disk error nothing can be made durable: fail at once.
    Status synced = env_.store->CheckWritable();
    if (synced.ok()) synced = env_.store->WriteSynced(target, &group, "write the retrieval log");
    if (!synced.ok() && synced.code() != StatusCode::kFailedPrecondition) env_.store->SetReadOnly(synced.message());
    lock.lock();
    if (synced.ok()) {
      w.durable_seq.store(target, std::memory_order_release);
      w.durable_hash = target_hash;
    } else {
      w.sync_failed = synced;
    }
    // Wake and remove every waiter this group covered (all of them after a
    // failure). Under `mu`: a waiter's condition variable lives on its stack.
    std::erase_if(w.waiters, [&](Waiter* waiter) {
      if (synced.ok() && waiter->seq > target) return false;
      waiter->cv.notify_one();
      return true;
    });
    // Stay awake briefly for the next group rather than sleep at once.
    if (w.next_seq - 1 == w.durable_seq && !w.stop) {
      lock.unlock();
      SpinUntil([&] { return w.queued_seq.load(std::memory_order_acquire) > target || !SpinWorthwhile(); },
                kSyncerSpinMicros);
      lock.lock();
    }
  }
}

}  // namespace verity
