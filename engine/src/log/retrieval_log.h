// The retrieval log: a durable, hash-chained record of every retrieval,
// answer and cache hit (docs/retrieval-log.md describes the record, the
// chain, the indexes and retention; keys.h, keys::log, the key layout).
//
// RetrievalLog owns the log's two column families' contents (it borrows
// the families and the RocksDB handle from the database, which outlives
// it), the group-commit writer and its syncer thread, the chain's state,
// the reads (one retrieval, pages, stats), verification and retention.
// It knows nothing of collections: what it needs of their pins goes through
// LogPins (log/log_pins.h).
//
// Files: retrieval_log.cc (construction, answers, the record's conversion),
// log_writer.cc (open, the group commit and the syncer), log_reads.cc (get,
// list, stats), log_verify.cc (VerifyLog), log_retention.cc (Gc).
//
// Thread-safety: every method is thread-safe, except that MoveIndexKeys
// and Load run at open before StartSyncer. Locks: `writer_.mu` guards the
// chain's state and the queue (the syncer takes it too, and calls the
// Env's writability callbacks without it); `answer_mu_` serialises
// AppendAnswer's check-then-append (Append, and so `writer_.mu`, is taken
// under it); `gc_mu_` runs one Gc at a time, which calls LogPins under it
// (the façade then takes its collections' locks: never the log's).
//
// Errors: RocksDB's as FromRocks maps them (codec.h); DataLoss for stored
// records, marks or index entries that do not parse or do not match.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "log/log_pins.h"
#include "storage/store.h"
#include "storage.pb.h"
#include "verity/context.h"
#include "verity/database.h"
#include "verity/status.h"

namespace verity {

// One record to append.
struct LogAppend {
  storage::LogEntry entry;  // seq, time and prev_hash are set by Append
  // Extra log_index puts (key, value); an empty value stands for the
  // record's seq (u64).
  std::vector<std::pair<std::string, std::string>> index;
  uint64_t seq = 0;   // set by Append
  std::string hash;   // raw; set by Append
};

// A stored log entry as the API returns it; `hash` is raw.
LogRecord RecordFromEntry(const storage::LogEntry& e, const std::string& hash);

// A new random retrieval id: "rtv-" + 32 hex digits. Thread-safe.
std::string NewRetrievalId();

class RetrievalLog {
 public:
  // What the log borrows from the database. Every pointer and reference
  // must outlive the log.
  struct Env {
    // The RocksDB database: its `log` family (the records only, "R" + seq)
    // and `log_index` family (time, id and answer indexes and marks), synced
    // writes, and the read-only switch (a failed group write turns the
    // database read-only; once read-only the syncer fails its group at once).
    Store* store = nullptr;
    // DatabaseOptions::log_retention_seconds (0: records are kept for good).
    int64_t retention_seconds = 0;
    // The calls running now (searches, retrievals, answers, cache lookups),
    // counted by the database: an appender or the syncer spins (yielding)
    // only while fewer calls want a CPU than there are cores.
    const std::atomic<int>* calls_running = nullptr;
    // The engine's log (DatabaseOptions::log, or stderr).
    std::function<void(LogLevel, const std::string&)> log_message;
  };

  explicit RetrievalLog(Env env);
  ~RetrievalLog();  // stops the syncer
  RetrievalLog(const RetrievalLog&) = delete;
  RetrievalLog& operator=(const RetrievalLog&) = delete;

  // --- Open and close (log_writer.cc) ---------------------------------------
  // Moves index keys an older data directory kept in `log` to `log_index`.
  // Before StartSyncer; not on a read-only database. RocksDB's errors.
  Status MoveIndexKeys();
  // Reads the head (and the last record's time) so that appends continue
  // the chain. A log altered from outside is logged; without a head mark
  // but with records, appends are refused (Appendable says why). DataLoss
  // when the head mark does not parse. Before StartSyncer.
  Status Load();
  void StartSyncer();
  // Makes what was queued durable, then joins the syncer; appends are
  // refused afterwards (FailedPrecondition). Idempotent.
  void StopSyncer();

  // --- Appending (log_writer.cc) --------------------------------------------
  // The log's refusal of every append (a failed group write, or a log
  // altered from outside), or OK. Checked before a retrieval pins a version:
  // a pin no record will name would keep its rows until a restart.
  Status Appendable() const;
  // Appends one record and returns once it is durable. After a failed group
  // write the record may still reach the disk, so an error does not mean
  // "not logged".
  Status Append(LogAppend& append);
  // Appends the answer to retrieval `retrieval_id` (its entry's kind,
  // answer, model and tokens set by the caller; collection and version are
  // taken from the retrieval). NotFound when the retrieval is not in the
  // log; FailedPrecondition for a cache hit; AlreadyExists when it has an
  // answer (answers are immutable). Returns the answer's record.
  Result<LogRecord> AppendAnswer(const std::string& retrieval_id, LogAppend& append);
  // Makes every write so far durable with a synced write of the sync mark
  // `mark` (log_writer.cc says why not DB::SyncWAL); the error names `what`.
  Status SyncWal(uint64_t mark, const char* what);

  // The last durable record (seq 0 when the log is empty), and the last
  // written (durable or not). Waits for the writer's lock.
  struct MarkView {
    uint64_t seq = 0;      // the last durable record
    std::string hash;      // raw hash of record `seq`
    uint64_t written = 0;  // the last record written, durable or not (>= seq)
  };
  MarkView Durable() const;
  // The last durable record's seq, without waiting. Readers see only
  // records up to it.
  uint64_t DurableSeq() const { return writer_.durable_seq.load(std::memory_order_acquire); }

  // --- Reading (log_reads.cc) -----------------------------------------------
  // Retrieval (or cache hit) `retrieval_id` and its answer, if any.
  // NotFound when it is not in the log (never logged, expired or still being
  // synced); DataLoss when an index entry names another record.
  Result<std::pair<LogRecord, std::optional<LogRecord>>> Get(const std::string& retrieval_id) const;
  // Whether the retrieval-id index holds `retrieval_id` (a cache hit's
  // source must still be in the log). RocksDB's errors.
  Result<bool> HasRetrieval(const std::string& retrieval_id) const;
  // Get and List fill LogRecord::annotation of answer and cache-hit records
  // that have one.
  // One page of records (Database::ListLog): InvalidArgument for a limit,
  // scan bound or time range out of range.
  Result<LogPage> List(const LogQuery& query) const;
  Result<LogStats> Stats() const;

  // --- Annotations (log_reads.cc; the monitor computes them) ----------------
  // Stores the annotation of `annotation.retrieval_id`'s answer (or cache
  // hit), replacing any; an ordinary (unsynced unless the store syncs)
  // write: an annotation can always be recomputed. NotFound when retention
  // removed the record meanwhile (under gc_mu_, so no annotation outlives
  // its record); RocksDB's errors.
  Status PutAnnotation(const Annotation& annotation);
  // The stored annotation, nullopt when none. DataLoss when it does not parse.
  Result<std::optional<Annotation>> GetAnnotation(const std::string& retrieval_id) const;

  // --- Verification (log_verify.cc) -----------------------------------------
  // The chain, the marks and the indexes, over a consistent view while
  // appends go on; `keep_going` (may be empty) is asked every 4096 records
  // and its refusal returned.
  Result<LogVerifyResult> Verify(const std::function<Status()>& keep_going) const;

  // --- Retention (log_retention.cc) -----------------------------------------
  // Removes records older than the retention (never the head), moves the
  // start mark, and releases through `pins` the log pins of versions no
  // kept record names. Returns how many records went. One run at a time.
  Result<uint64_t> Gc(LogPins& pins);

 private:
  // An appender asleep until its record is durable. The syncer wakes each
  // one its group covered, and only those: one condition variable shared
  // by every appender woke them all after each group, and those not yet
  // covered went back to sleep (verity_bench_retrieval, 8 threads, spinning
  // off: 4.7 context switches per Retrieve with the shared one, 2.5 with one
  // each).
  struct Waiter {
    uint64_t seq = 0;
    std::condition_variable cv;
  };
  // The group commit. An append takes the next sequence number, links the
  // hash chain and queues its record's writes in `pending`, all under `mu`,
  // so records queue in chain order; it then waits until they are durable.
  // One thread of its own (`syncer`) takes everything queued and writes it
  // with one synced write, while later appends queue the next group; a
  // thread that mostly sleeps is scheduled at once when its write completes,
  // where a client thread would wait behind the searches for a CPU. Records
  // reach RocksDB only durably, and readers see only seq <= durable_seq.
  struct Writer {
    std::mutex mu;
    std::condition_variable sync_cv;  // a record to write, or stop
    // Appenders asleep (at most one per calling thread). The syncer removes
    // and wakes every one whose record it made durable, and all of them
    // when a write fails.
    std::vector<Waiter*> waiters;                   // GUARDED_BY(mu)
    std::atomic<bool> appender_spinning{false};     // an appender spins (at most one)
    uint64_t next_seq = 1;                          // GUARDED_BY(mu)
    std::string last_hash = std::string(32, '\0');  // GUARDED_BY(mu): hash of next_seq - 1
    int64_t last_time_us = 0;                       // GUARDED_BY(mu)
    rocksdb::WriteBatch pending;                    // GUARDED_BY(mu): records after durable_seq
    std::atomic<uint64_t> queued_seq{0};            // next_seq - 1, readable without `mu`
    // Written under `mu`; atomic so that readers need not wait behind a write.
    std::atomic<uint64_t> durable_seq{0};
    std::string durable_hash = std::string(32, '\0');  // GUARDED_BY(mu)
    // A failed group write fails its waiters and every later append, until
    // restart.
    Status sync_failed;  // GUARDED_BY(mu)
    bool stop = false;   // GUARDED_BY(mu)
    std::thread syncer;
  };

  void RunSyncer();
  // Queues `append` under writer_.mu (held by `lock`) and returns its seq.
  uint64_t Queue(LogAppend& append);
  // Waits until record `seq` is durable or the log failed; `lock` is
  // unlocked on entry and locked on return.
  void AwaitDurable(uint64_t seq, std::unique_lock<std::mutex>& lock);
  // Whether a waiter should spin (yielding) rather than sleep: fewer calls
  // want a CPU than there are cores.
  bool SpinWorthwhile() const;
  // Fills record.annotation of an answer or cache-hit record (DataLoss when
  // the stored one does not parse).
  Status AttachAnnotation(LogRecord& record) const;
  // The log's own part of Load when the head mark is missing.
  Status LoadWithoutHead();
  // Reads a log_index key with `read`: its value, nullopt when absent.
  Result<std::optional<std::string>> ReadIndex(const rocksdb::ReadOptions& read, const char* key,
                                               const char* what) const;
  // Gc's steps (log_retention.cc).
  struct GcScan;
  Status ScanExpired(int64_t cutoff_us, GcScan& scan) const;
  Status KeepNamed(GcScan& scan) const;
  void Log(LogLevel level, const std::string& message) const;

  Env env_;
  mutable Writer writer_;
  // Appenders waiting for their record (each also counted in
  // env_.calls_running): SpinWorthwhile subtracts them. Otherwise each
  // yield hands the CPU to a searcher and back, and 8 Retrieve threads on
  // 2 cores made ~20 context switches per call.
  std::atomic<int> waiting_{0};
  std::mutex answer_mu_;       // serialises AppendAnswer's check-then-append
  std::mutex gc_mu_;           // one Gc at a time; PutAnnotation checks its record under it
  bool pins_swept_ = false;    // GUARDED_BY(gc_mu_): the first Gc released unnamed log pins
};

}  // namespace verity
