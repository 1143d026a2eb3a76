// The context service: Retrieve (search + a durable, hash-chained log
// record), RecordAnswer, the retrieval log (get, list, verify, GC) and
// replay. docs/retrieval-log.md describes the record, the chain and replay.
//
// Keys of the `log` column family (records only):
//   'R' + seq(u64)              -> 32-byte hash, then storage.LogEntry bytes
// and of `log_index` (MoveLogIndexKeys says why they are apart):
//   'T' + time_us(u64) + seq    -> "" (time index; VerifyLog checks it, reads do not use it)
//   'I' + retrieval id          -> seq of the retrieval (or cache-hit) record
//   'A' + retrieval id          -> seq of its answer record
//   'H'                         -> LogMark of the head (last record)
//   'S'                         -> LogMark of the start (first kept record and the hash before it)
//   'W'                         -> u64: the last seq the latest synced write covered
// hash(seq) = SHA-256(hash(seq-1) || entry bytes as stored); hash(0) = 32 zero bytes.
// Over 700 lines until the engine is split into subsystems (#24): the
// retrieval log (group commit, chain, verify) and context (retrieve, replay,
// audit) part then.
#include <rocksdb/version.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <random>
#include <set>

#include "codec.h"
#include "database_impl.h"
#include "keys.h"
#include "log_chain.h"
#include "sha256.h"
#include "validate.h"
#include "verity/filter_parser.h"

namespace verity {
namespace {

constexpr size_t kMaxAnswerBytes = 1 << 20;

using log_chain::ParseRecordValue;
using log_chain::RecordKey;
using log_chain::TimeKey;
std::string RetrievalKey(const std::string& id) { return "I" + id; }
std::string AnswerKey(const std::string& id) { return "A" + id; }
constexpr char kHeadKey[] = "H";
constexpr char kStartKey[] = "S";

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

std::string FloatBytes(const std::vector<float>& v) {
  std::string out(v.size() * sizeof(float), '\0');
  if (!v.empty()) std::memcpy(out.data(), v.data(), out.size());
  return out;
}

LogRecord FromEntry(const storage::LogEntry& e, const std::string& hash) {
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
  for (const auto& c : e.chunks()) {
    RetrievedChunk chunk;
    chunk.id = c.id();
    chunk.row_version = c.row_version();
    chunk.distance = c.distance();
    chunk.text_sha256 = c.text_sha256();
    chunk.tokens = c.tokens();
    chunk.in_context = c.in_context();
    chunk.document_id = c.document_id();
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

// The assembled context: in-context chunk texts joined by a blank line.
std::string AssembleContext(const std::vector<RetrievedChunk>& chunks) {
  std::string context;
  bool first = true;
  for (const auto& c : chunks) {
    if (!c.in_context) continue;
    if (!first) context += "\n\n";
    context += c.text;
    first = false;
  }
  return context;
}

}  // namespace

// --- The log writer -----------------------------------------------------------

// The head mark and the record it names are written in one batch, so
// records without any head mark, a head mark without its record, or a
// record hash that differs from the mark's mean the log was altered from
// outside. Without a head mark, appends are refused (numbering would
// restart at 1 and overwrite record 1, destroying the evidence); the
// database still opens and serves reads, searches and VerifyLog. The other
// two are logged: appends continue after the mark, which keeps the
// evidence (VerifyLog reports the break at the same place).
Status Database::Impl::LoadLogState() {
  std::string value;
  rocksdb::Status rs = db->Get(rocksdb::ReadOptions(), log_index, kHeadKey, &value);
  if (rs.IsNotFound()) {
    // The last record, if there is any (the family holds only records).
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), log));
    it->SeekForPrev(RecordKey(UINT64_MAX));
    VERITY_RETURN_IF_ERROR(FromRocks(it->status(), "read the retrieval log"));
    if (it->Valid() && it->key().starts_with("R")) {
      // Everything on disk at open is durable: reads and VerifyLog see the
      // records up to the last one.
      if (it->key().size() == 9 && it->value().size() >= 32) {
        const uint64_t last = keys::GetU64(it->key().data() + 1);
        log_writer.next_seq = last + 1;
        log_writer.last_hash = it->value().ToString().substr(0, 32);
        log_writer.durable_seq.store(last, std::memory_order_release);
        log_writer.durable_hash = log_writer.last_hash;
      }
      log_writer.sync_failed = Status::DataLoss(
          "retrieval log: it holds records but its head mark is missing (altered from outside); appends are "
          "refused so that no record is overwritten; `verity log verify` reports it (docs/retrieval-log.md)");
      Log(LogLevel::kError, log_writer.sync_failed.message());
    }
    return Status::Ok();
  }
  VERITY_RETURN_IF_ERROR(FromRocks(rs, "read the retrieval log head"));
  storage::LogMark head;
  if (!head.ParseFromString(value) || head.hash().size() != 32) {
    return Status::DataLoss("retrieval log: the head record does not parse");
  }
  log_writer.next_seq = head.seq() + 1;
  log_writer.last_hash = head.hash();
  log_writer.durable_seq.store(head.seq(), std::memory_order_release);
  log_writer.durable_hash = head.hash();
  if (head.seq() == 0) return Status::Ok();
  // The time of the last record keeps times monotonic across restarts.
  rs = db->Get(rocksdb::ReadOptions(), log, RecordKey(head.seq()), &value);
  if (!rs.ok() && !rs.IsNotFound()) return FromRocks(rs, "read the retrieval log's last record");
  storage::LogEntry entry;
  std::string hash;
  std::string_view body;
  if (rs.IsNotFound() || !ParseRecordValue(value, head.seq(), &entry, &hash, &body).ok() || hash != head.hash()) {
    Log(LogLevel::kError, "retrieval log: record " + std::to_string(head.seq()) +
                              (rs.IsNotFound() ? " is missing" : " does not match") +
                              " though the head mark names it (altered from outside); `verity log verify` reports it");
    return Status::Ok();
  }
  log_writer.last_time_us = entry.time_us();
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
Status Database::Impl::MoveLogIndexKeys() {
  constexpr size_t kBatchKeys = 10000;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), log));
  rocksdb::WriteBatch batch;
  uint64_t moved = 0;
  rocksdb::WriteOptions synced = write_options;
  synced.sync = true;
  auto write = [&]() -> Status {
    VERITY_RETURN_IF_ERROR(FromRocks(db->Write(synced, &batch), "move the retrieval log's index"));
    batch.Clear();
    return Status::Ok();
  };
  it->SeekToFirst();
  while (it->Valid()) {
    if (it->key().starts_with("R")) {  // the records stay; skip past them
      it->Seek("S");
      continue;
    }
    VERITY_RETURN_IF_ERROR(FromRocks(batch.Put(log_index, it->key(), it->value()), "move the retrieval log's index"));
    VERITY_RETURN_IF_ERROR(FromRocks(batch.Delete(log, it->key()), "move the retrieval log's index"));
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
  return FromRocks(db->CompactRange(compact, log, nullptr, nullptr), "compact the retrieval log");
}

Status Database::Impl::AppendLog(LogAppend& append) {
  LogWriter& w = log_writer;
  std::unique_lock lock(w.mu);
  if (w.stop) return Status::FailedPrecondition("the database is closing");
  if (!w.sync_failed.ok()) return w.sync_failed;
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
  batch.Put(log, RecordKey(seq), append.hash + body);
  batch.Put(log_index, TimeKey(time_us, seq), "");
  std::string seq_bytes;
  keys::PutU64(&seq_bytes, seq);
  for (auto& [key, value] : append.index) batch.Put(log_index, key, value.empty() ? seq_bytes : value);
  storage::LogMark head;
  head.set_seq(seq);
  head.set_hash(append.hash);
  batch.Put(log_index, kHeadKey, head.SerializeAsString());
  w.next_seq = seq + 1;
  w.last_hash = append.hash;
  w.last_time_us = time_us;
  // Wait until the syncer has written the record durably.
  w.queued_seq.store(seq, std::memory_order_release);
  w.sync_cv.notify_one();
  lock.unlock();
  {
    CallCounter waiting(log_waiting);
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
      LogWaiter waiter;
      waiter.seq = seq;
      // Not in seq order (a spinning appender queues after later ones). The
      // syncer removes the waiter in the same critical section that makes
      // this condition true, so it is gone from `waiters` when this returns.
      w.waiters.push_back(&waiter);
      waiter.cv.wait(lock, [&] { return w.durable_seq >= seq || !w.sync_failed.ok(); });
    }
  }
  // A failed group write: the record may still reach the disk, so the
  // caller must not read the error as "not logged".
  if (w.durable_seq < seq) return w.sync_failed;
  lock.unlock();
  KillPoint("log.after_append");
  return Status::Ok();
}

// The syncer writes each group of queued records with one synced write,
// which also puts "W" (the last sequence number the group covers). A synced
// write syncs every live WAL file, so it covers every write made before it
// too (manual_wal_flush and two_write_queues stay off, the defaults
// database.cc keeps), and when the WAL has failed it returns the error.
// DB::SyncWAL is not used: on a WAL writer in error it trips an assertion
// in Debian's RocksDB, and checking CheckWritable() first cannot close that
// window against a write failing on another thread.
//
// Why the syncer writes the records, not the appenders: RocksDB's write
// queue holds every writer behind a synced write while it syncs, so an
// appender writing its own record (unsynced) waited for the sync in
// progress and then for the next one; with 8 threads the log ran at about
// one record per sync (verity_bench_retrieval: Retrieve cost 70% of Search
// throughput). Now a sync covers every record queued while the previous
// one ran.
constexpr char kSyncMarkKey[] = "W";

Status Database::Impl::SyncWal(uint64_t mark, const char* what) {
  rocksdb::WriteBatch batch;
  return WriteSynced(mark, &batch, what);
}

Status Database::Impl::WriteSynced(uint64_t mark, rocksdb::WriteBatch* batch, const char* what) {
  std::string value;
  keys::PutU64(&value, mark);
  if (Status s = FromRocks(batch->Put(log_index, kSyncMarkKey, value), what); !s.ok()) return s;
  rocksdb::WriteOptions synced = write_options;
  synced.sync = true;
  return FromRocks(db->Write(synced, batch), what);
}

void Database::Impl::RunLogSyncer() {
  LogWriter& w = log_writer;
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
    Status synced = CheckWritable();
    if (synced.ok()) synced = WriteSynced(target, &group, "write the retrieval log");
    if (!synced.ok() && synced.code() != StatusCode::kFailedPrecondition) SetReadOnly(synced.message());
    lock.lock();
    if (synced.ok()) {
      w.durable_seq.store(target, std::memory_order_release);
      w.durable_hash = target_hash;
    } else {
      w.sync_failed = synced;
    }
    // Wake and remove every waiter this group covered (all of them after a
    // failure). Under `mu`: a waiter's condition variable lives on its stack.
    std::erase_if(w.waiters, [&](LogWaiter* waiter) {
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

bool Database::Impl::SpinWorthwhile() const {
  static const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return calls_running.load(std::memory_order_relaxed) - log_waiting.load(std::memory_order_relaxed) < cores;
}

void Database::Impl::StopLogSyncer() {
  if (!log_writer.syncer.joinable()) return;
  {
    std::lock_guard lock(log_writer.mu);
    log_writer.stop = true;
  }
  log_writer.sync_cv.notify_all();
  log_writer.syncer.join();
}

Database::Impl::LogMarkView Database::Impl::DurableLog() const {
  std::lock_guard lock(log_writer.mu);
  return {log_writer.durable_seq, log_writer.durable_hash, log_writer.next_seq - 1};
}

Status Database::Impl::PinForLog(Collection& c, Version version) {
  VERITY_RETURN_IF_ERROR(CheckNotDropped(c));
  if (auto pin = c.log_pinned.find(version); pin != c.log_pinned.end()) {
    pin->second = NowMicros();
    return Status::Ok();
  }
  {
    // A pin keeps a version's rows; it cannot bring back rows GC removed.
    std::shared_lock lock(c.graph_mu);
    if (!c.Readable(version)) {
      return Status::FailedPrecondition("version " + std::to_string(version) + " of \"" + c.config.name +
                                        "\" has been garbage-collected");
    }
  }
  VERITY_RETURN_IF_ERROR(FromRocks(db->Put(write_options, meta, keys::PinKey(c.id, version, kLogPinHolder), ""),
                                   "pin a version for the retrieval log"));
  c.log_pinned.emplace(version, NowMicros());
  std::unique_lock lock(c.graph_mu);
  ++c.pins[version];
  return Status::Ok();
}

// --- Retrieve and answers -----------------------------------------------------

Result<RetrieveResult> Database::Retrieve(const RetrieveRequest& request) {
  VERITY_CHECK_WRITABLE_();
  CallCounter running(impl_->calls_running);
  VERITY_ASSIGN_OR_RETURN(auto c, impl_->Find(request.collection));
  if (request.query_text.size() > kMaxLogFieldBytes) {
    return Status::InvalidArgument("query_text: " + std::to_string(request.query_text.size()) +
                                   " bytes; the limit is " + std::to_string(kMaxLogFieldBytes));
  }
  VERITY_RETURN_IF_ERROR(ValidateClientFields(request.prompt, request.client_trace_id, request.client_id));
  if (request.at && !request.snapshot.empty()) {
    return Status::InvalidArgument("at: give a version or a snapshot, not both");
  }
  // A registered prompt is logged as the exact version its label (or
  // number) resolves to now, so an audit shows which prompt produced which
  // answer even after the label moved.
  VERITY_ASSIGN_OR_RETURN(const std::string prompt, impl_->prompts->ResolvePrompt(request.prompt));
  SearchRequest search;
  search.vector = request.vector;
  search.k = request.k;
  search.ef = request.ef;
  search.max_payload_bytes = request.max_payload_bytes;
  if (!request.filter.empty()) {
    VERITY_ASSIGN_OR_RETURN(Filter filter, ParseFilter(request.filter));
    search.filter = std::move(filter);
  }
  std::optional<Version> at = request.at;
  if (!request.snapshot.empty()) {
    VERITY_ASSIGN_OR_RETURN(at, SnapshotVersion(request.collection, request.snapshot));
  }
  VERITY_RETURN_IF_ERROR(impl_->ValidateSearch(*c, search));
  search.at = at;
  // The response carries each chunk's text twice (the chunk, the context),
  // and no metadata.
  search.payload_bytes = [](const Record& r) { return r.id.size() + 2 * r.text.size() + r.document_id.size(); };
  // Pin the version read, so that GC cannot collect it before the log
  // record that refers to it expires. Only after the search: a search that
  // failed (a bad filter, a response over its bound) must pin nothing, for
  // a pin is released only when a log record of its version expires. GC may
  // have collected the version since the search read it: a head read then
  // reads the new head (a write and a GC came between); for an `at` or a
  // snapshot PinForLog's refusal is the answer, with nothing logged.
  VERITY_RETURN_IF_ERROR(impl_->LogAppendable());
  SearchResult found;
  for (int attempt = 1;; ++attempt) {
    VERITY_ASSIGN_OR_RETURN(found, impl_->SearchValidated(*c, search));
    std::lock_guard pins(c->pins_mu);
    const Status pinned = impl_->PinForLog(*c, found.version);
    if (pinned.ok()) break;
    if (at || pinned.code() != StatusCode::kFailedPrecondition || attempt == 3) return pinned;
  }

  RetrieveResult result;
  result.version = found.version;
  result.exact = found.exact;
  uint32_t used = 0;
  bool budget_full = false;
  for (auto& hit : found.hits) {
    RetrievedChunk chunk;
    chunk.id = hit.id;
    chunk.row_version = hit.row_version;
    chunk.distance = hit.distance;
    chunk.text = hit.record ? hit.record->text : "";
    chunk.document_id = hit.record ? hit.record->document_id : "";
    chunk.text_sha256 = Sha256::Hex(chunk.text);
    chunk.tokens = EstimateTokens(chunk.text);
    // The context is the best-ranked prefix that fits the budget.
    if (request.token_budget > 0 && (budget_full || used + chunk.tokens > request.token_budget)) {
      chunk.in_context = false;
      budget_full = true;
    } else {
      used += chunk.tokens;
    }
    result.chunks.push_back(std::move(chunk));
  }
  result.context = AssembleContext(result.chunks);
  result.context_sha256 = Sha256::Hex(result.context);
  result.context_tokens = used;
  result.prompt = prompt;
  result.retrieval_id = NewRetrievalId();

  Impl::LogAppend append;
  storage::LogEntry& e = append.entry;
  e.set_kind(static_cast<uint32_t>(LogKind::kRetrieval));
  e.set_retrieval_id(result.retrieval_id);
  e.set_collection(request.collection);
  e.set_collection_id(c->id);
  e.set_version(result.version);
  e.set_snapshot(request.snapshot);
  e.set_query_text(request.query_text);
  e.set_query_vector(FloatBytes(request.vector));
  e.set_query_vector_sha256(Sha256::Hex(e.query_vector()));
  e.set_k(request.k);
  e.set_ef(request.ef);
  e.set_filter(request.filter);
  e.set_token_budget(request.token_budget);
  e.set_prompt(prompt);
  e.set_client_trace_id(request.client_trace_id);
  e.set_client_id(request.client_id);
  e.set_exact(result.exact);
  for (const auto& chunk : result.chunks) {
    auto* out = e.add_chunks();
    out->set_id(chunk.id);
    out->set_row_version(chunk.row_version);
    out->set_distance(chunk.distance);
    out->set_text_sha256(chunk.text_sha256);
    out->set_tokens(chunk.tokens);
    out->set_in_context(chunk.in_context);
    out->set_document_id(chunk.document_id);
  }
  e.set_context_sha256(result.context_sha256);
  e.set_context_tokens(result.context_tokens);
  append.index.emplace_back(RetrievalKey(result.retrieval_id), "");
  VERITY_RETURN_IF_ERROR(impl_->AppendLog(append));
  result.log_seq = append.seq;
  return result;
}

Result<LogRecord> Database::RecordAnswer(const AnswerRequest& request) {
  VERITY_CHECK_WRITABLE_();
  CallCounter running(impl_->calls_running);
  if (request.answer.empty()) return Status::InvalidArgument("answer: must not be empty");
  if (request.answer.size() > kMaxAnswerBytes) {
    return Status::InvalidArgument("answer: " + std::to_string(request.answer.size()) + " bytes; the limit is " +
                                   std::to_string(kMaxAnswerBytes));
  }
  if (request.model.size() > 1024) return Status::InvalidArgument("model: at most 1024 bytes");
  std::lock_guard answers(impl_->answer_mu);
  VERITY_ASSIGN_OR_RETURN(auto existing, GetRetrieval(request.retrieval_id));
  if (existing.first.kind == LogKind::kCacheHit) {
    return Status::FailedPrecondition(request.retrieval_id + " is a cache hit: it served the answer of " +
                                      existing.first.source_retrieval_id + " and takes no answer of its own");
  }
  if (existing.second) {
    return Status::AlreadyExists("retrieval " + request.retrieval_id + " already has an answer (log record " +
                                 std::to_string(existing.second->seq) + "); answers are immutable");
  }
  Impl::LogAppend append;
  storage::LogEntry& e = append.entry;
  e.set_kind(static_cast<uint32_t>(LogKind::kAnswer));
  e.set_retrieval_id(request.retrieval_id);
  e.set_collection(existing.first.collection);
  e.set_version(existing.first.version);
  e.set_answer(request.answer);
  e.set_model(request.model);
  e.set_prompt_tokens(request.prompt_tokens);
  e.set_completion_tokens(request.completion_tokens);
  append.index.emplace_back(AnswerKey(request.retrieval_id), "");
  VERITY_RETURN_IF_ERROR(impl_->AppendLog(append));
  return FromEntry(append.entry, append.hash);
}

Status Database::Impl::LogCacheHit(Collection& c, const CacheLookupRequest& request, CacheLookupResult* result,
                                   bool* source_expired) {
  *source_expired = false;
  VERITY_RETURN_IF_ERROR(CheckWritable());
  // The source must still be in the log, or the hit could not be audited.
  std::string seq_bytes;
  const rocksdb::Status source =
      db->Get(rocksdb::ReadOptions(), log_index, RetrievalKey(result->source_retrieval_id), &seq_bytes);
  if (source.IsNotFound()) {
    *source_expired = true;
    return Status::NotFound("retrieval " + result->source_retrieval_id + " expired from the log");
  }
  VERITY_RETURN_IF_ERROR(FromRocks(source, "read the retrieval log"));
  VERITY_RETURN_IF_ERROR(LogAppendable());
  {
    std::lock_guard pins(c.pins_mu);
    VERITY_RETURN_IF_ERROR(PinForLog(c, result->version));
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
  e.set_query_vector(FloatBytes(request.vector));
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
  append.index.emplace_back(RetrievalKey(result->retrieval_id), "");
  VERITY_RETURN_IF_ERROR(AppendLog(append));
  result->log_seq = append.seq;
  return Status::Ok();
}

// --- Reading the log ----------------------------------------------------------

Result<std::pair<LogRecord, std::optional<LogRecord>>> Database::GetRetrieval(const std::string& retrieval_id) const {
  VERITY_CHECK_OPEN_();
  // The record an index entry names must be the one asked for: the index
  // is outside the hash chain (VerifyLog checks it too).
  auto read = [&](const std::string& index_key, bool answer) -> Result<std::optional<LogRecord>> {
    std::string seq_bytes;
    rocksdb::Status rs = impl_->db->Get(rocksdb::ReadOptions(), impl_->log_index, index_key, &seq_bytes);
    if (rs.IsNotFound()) return std::optional<LogRecord>();
    VERITY_RETURN_IF_ERROR(FromRocks(rs, "read the retrieval log"));
    if (seq_bytes.size() != 8) return Status::DataLoss("retrieval log: malformed index entry");
    const uint64_t seq = keys::GetU64(seq_bytes.data());
    if (seq > impl_->DurableSeq()) return std::optional<LogRecord>();  // still being synced
    std::string value;
    rs = impl_->db->Get(rocksdb::ReadOptions(), impl_->log, RecordKey(seq), &value);
    if (rs.IsNotFound()) return std::optional<LogRecord>();  // expired
    VERITY_RETURN_IF_ERROR(FromRocks(rs, "read the retrieval log"));
    storage::LogEntry entry;
    std::string hash;
    std::string_view body;
    VERITY_RETURN_IF_ERROR(ParseRecordValue(value, seq, &entry, &hash, &body));
    if (entry.retrieval_id() != retrieval_id || (static_cast<LogKind>(entry.kind()) == LogKind::kAnswer) != answer) {
      return Status::DataLoss("retrieval log: the index entry for " + retrieval_id.substr(0, 128) + " names record " +
                              std::to_string(seq) + ", which is not its " + (answer ? "answer" : "retrieval") +
                              " (the index was altered; run `verity log verify`)");
    }
    return std::optional<LogRecord>(FromEntry(entry, hash));
  };
  VERITY_ASSIGN_OR_RETURN(auto retrieval, read(RetrievalKey(retrieval_id), false));
  if (!retrieval) {
    constexpr size_t kEcho = 128;  // ids are "rtv-" + 32 hex digits: a longer one is not echoed whole
    return Status::NotFound("retrieval " + (retrieval_id.size() > kEcho ? retrieval_id.substr(0, kEcho) + "..." : retrieval_id) +
                            " is not in the log");
  }
  VERITY_ASSIGN_OR_RETURN(auto answer, read(AnswerKey(retrieval_id), true));
  return std::make_pair(std::move(*retrieval), std::move(answer));
}

namespace {

// The first record at or after `since_us` among sequence numbers [lo, hi)
// (hi when there is none), read through `it` on the `log` family. Record
// times never decrease along the log (AppendLog takes the later of the clock
// and the last record's time; VerifyLog checks it), so a binary search over
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
    if (!it->Valid() || !it->key().starts_with("R")) {
      VERITY_RETURN_IF_ERROR(FromRocks(it->status(), "list the retrieval log"));
      hi = mid;
      continue;
    }
    if (it->key().size() != 9) return Status::DataLoss("retrieval log: malformed key");
    const uint64_t seq = keys::GetU64(it->key().data() + 1);
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

}  // namespace

Result<LogPage> Database::ListLog(const LogQuery& query) const {
  VERITY_CHECK_OPEN_();
  if (query.limit < 1 || query.limit > 10000) {
    return Status::InvalidArgument("limit: " + std::to_string(query.limit) + " is outside 1..10000");
  }
  if (query.max_scanned < 1 || query.max_scanned > Limits::kMaxLogScanRecords) {
    return Status::InvalidArgument("max_scanned: " + std::to_string(query.max_scanned) + " is outside 1.." +
                                   std::to_string(Limits::kMaxLogScanRecords));
  }
  VERITY_RETURN_IF_ERROR(ValidateTimeRange(query.since_us, query.until_us));
  if (query.start_after == UINT64_MAX) return LogPage{};  // nothing comes after the last sequence number
  const uint64_t durable = impl_->DurableSeq();  // records after it are still being synced
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->log));
  uint64_t first = query.start_after + 1;
  if (query.since_us > 0 && first <= durable) {
    VERITY_ASSIGN_OR_RETURN(first, FirstRecordSince(it.get(), query.since_us, first, durable + 1));
  }
  LogPage page;
  size_t page_bytes = 0;
  uint32_t scanned = 0;
  uint64_t last_scanned = 0;
  for (it->Seek(RecordKey(first)); it->Valid() && it->key().starts_with("R"); it->Next()) {
    if (it->key().size() != 9) return Status::DataLoss("retrieval log: malformed key");
    const uint64_t seq = keys::GetU64(it->key().data() + 1);
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
    VERITY_RETURN_IF_ERROR(ParseRecordValue(it->value().ToStringView(), seq, &entry, &hash, &body));
    if (query.until_us > 0 && entry.time_us() >= query.until_us) break;
    if (entry.time_us() < query.since_us) continue;  // only in a log whose times go back: verify reports it
    if (!query.collection.empty() && entry.collection() != query.collection) continue;
    if (query.kind && static_cast<LogKind>(entry.kind()) != *query.kind) continue;
    if (page.records.size() == query.limit || page_bytes >= Limits::kMaxPageBytes) {
      page.next_cursor = page.records.back().seq;
      break;
    }
    page_bytes += it->value().size();
    page.records.push_back(FromEntry(entry, hash));
  }
  VERITY_RETURN_IF_ERROR(FromRocks(it->status(), "list the retrieval log"));
  return page;
}

Result<LogVerifyResult> Database::VerifyLog(const std::function<Status()>& keep_going) const {
  VERITY_CHECK_OPEN_();
  KeepGoingCheck check(keep_going, 4096);
  std::optional<ScopedSnapshot> snapshot;
  snapshot.emplace(impl_->db.get());  // a consistent view while appends go on
  const rocksdb::ReadOptions read = snapshot->options();
  // Read after the snapshot: every record in it is at most `durable.written`.
  // Those after `durable.seq` are still being synced and are not verified;
  // one after `durable.written` was not written by this log.
  const Impl::LogMarkView durable = impl_->DurableLog();
  // Reads a mark: its value, nullopt when absent.
  auto read_mark = [&](const char* key, const char* what) -> Result<std::optional<std::string>> {
    std::string value;
    const rocksdb::Status rs = impl_->db->Get(read, impl_->log_index, key, &value);
    if (rs.IsNotFound()) return std::optional<std::string>();
    VERITY_RETURN_IF_ERROR(FromRocks(rs, what));
    return std::optional<std::string>(std::move(value));
  };
  VERITY_ASSIGN_OR_RETURN(auto start, read_mark(kStartKey, "read the retrieval log start"));
  log_chain::Verifier verifier(start, durable.seq, durable.hash, durable.written);
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(read, impl_->log));
  // Each checked record's index entry must name it: the chain does not
  // cover the indexes, and reads (GetRetrieval, RecordAnswer's "already
  // answered") trust them. A deleted answer entry would let a second answer
  // in; one pointed elsewhere would make replay and audit read another
  // record.
  // The record an index entry names; 0 when it is absent or malformed.
  auto indexed_seq = [&](const std::string& key) -> Result<uint64_t> {
    std::string value;
    const rocksdb::Status rs = impl_->db->Get(read, impl_->log_index, key, &value);
    if (rs.IsNotFound()) return uint64_t{0};
    VERITY_RETURN_IF_ERROR(FromRocks(rs, "verify the retrieval log's index"));
    return value.size() == 8 ? keys::GetU64(value.data()) : uint64_t{0};
  };
  // The time index must hold exactly TimeKey(time, seq) for each record:
  // walked beside the records, since both sort alike (the Verifier checks
  // that times never go back). Reads no longer use it, but an entry that
  // matches no record, or a record without its entry, is tampering.
  std::unique_ptr<rocksdb::Iterator> times(impl_->db->NewIterator(read, impl_->log_index));
  times->Seek("T");
  auto time_entry = [&]() -> std::optional<std::string_view> {
    if (!times->Valid() || !times->key().starts_with("T")) return std::nullopt;
    return times->key().ToStringView();
  };
  for (it->Seek(RecordKey(0)); it->Valid() && it->key().starts_with("R"); it->Next()) {
    VERITY_RETURN_IF_ERROR(check.Step());
    if (!verifier.Add(it->key().ToStringView(), it->value().ToStringView())) return verifier.result();
    const storage::LogEntry* entry = verifier.last_checked();
    if (entry == nullptr) continue;
    if (const auto found = time_entry(); found != TimeKey(entry->time_us(), entry->seq())) {
      VERITY_RETURN_IF_ERROR(FromRocks(times->status(), "verify the retrieval log's time index"));
      verifier.Fail(entry->seq(), log_chain::TimeIndexProblem(found, entry->seq(), entry->time_us()));
      return verifier.result();
    }
    times->Next();
    const bool answer = static_cast<LogKind>(entry->kind()) == LogKind::kAnswer;
    const std::string key = answer ? AnswerKey(entry->retrieval_id()) : RetrievalKey(entry->retrieval_id());
    VERITY_ASSIGN_OR_RETURN(const uint64_t named, indexed_seq(key));
    if (named != entry->seq()) {
      const std::string what = answer ? "answer" : "retrieval-id";
      const std::string seq = std::to_string(entry->seq());
      std::string problem;
      if (named == 0) {
        problem = "record " + seq + ": its " + what + " index entry is missing (index altered)";
      } else if (answer) {
        problem = "answer record " + seq + " is not the one its index names (record " + std::to_string(named) +
                  "): a second answer to " + entry->retrieval_id() + " was recorded";
      } else {
        problem = "record " + seq + ": its retrieval-id index entry names record " + std::to_string(named) +
                  " (index altered)";
      }
      verifier.Fail(entry->seq(), problem);
      return verifier.result();
    }
  }
  VERITY_RETURN_IF_ERROR(FromRocks(it->status(), "verify the retrieval log"));
  // Entries after the last checked record's: only those of records still
  // being synced (not checked, like their records) belong there.
  for (auto found = time_entry(); found; times->Next(), found = time_entry()) {
    if (found->size() == 17) {
      const uint64_t seq = keys::GetU64(found->data() + 9);
      if (seq > durable.seq && seq <= durable.written) continue;
    }
    const LogVerifyResult& so_far = verifier.result();
    verifier.Fail(so_far.records > 0 ? so_far.last_seq + 1 : so_far.first_seq,
                  log_chain::StrayTimeIndexProblem(*found));
    return verifier.result();
  }
  VERITY_RETURN_IF_ERROR(FromRocks(times->status(), "verify the retrieval log's time index"));
  VERITY_ASSIGN_OR_RETURN(auto head, read_mark(kHeadKey, "read the retrieval log head"));
  return verifier.Finish(head);
}

// --- Log retention ------------------------------------------------------------

Result<uint64_t> Database::GcLog() {
  VERITY_CHECK_WRITABLE_();
  if (impl_->options.log_retention_seconds <= 0) return uint64_t{0};
  // One run at a time: two could write their start marks out of order.
  std::lock_guard one_run(impl_->gc_log_mu);
  const int64_t cutoff = NowMicros() - impl_->options.log_retention_seconds * 1000000;
  const uint64_t durable_seq = impl_->DurableSeq();
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->log));
  rocksdb::WriteBatch batch;
  uint64_t removed = 0;
  std::string last_hash;
  uint64_t next_seq = 0;
  std::set<std::pair<uint32_t, Version>> released;
  for (it->Seek(RecordKey(0)); it->Valid() && it->key().starts_with("R"); it->Next()) {
    const uint64_t seq = keys::GetU64(it->key().data() + 1);
    storage::LogEntry entry;
    std::string hash;
    std::string_view body;
    VERITY_RETURN_IF_ERROR(ParseRecordValue(it->value().ToStringView(), seq, &entry, &hash, &body));
    next_seq = seq + 1;
    if (entry.time_us() >= cutoff) {
      next_seq = seq;
      break;
    }
    // Never remove the head: the chain's state lives in it.
    if (seq >= durable_seq) {
      next_seq = seq;
      break;
    }
    batch.Delete(impl_->log, it->key());
    batch.Delete(impl_->log_index, TimeKey(entry.time_us(), seq));
    const bool answer = static_cast<LogKind>(entry.kind()) == LogKind::kAnswer;
    batch.Delete(impl_->log_index, answer ? AnswerKey(entry.retrieval_id()) : RetrievalKey(entry.retrieval_id()));
    if (!answer) released.emplace(entry.collection_id(), entry.version());
    last_hash = hash;
    ++removed;
  }
  VERITY_RETURN_IF_ERROR(FromRocks(it->status(), "scan the retrieval log"));
  std::vector<std::shared_ptr<Collection>> all;
  {
    std::shared_lock lock(impl_->collections_mu);
    for (auto& [name, c] : impl_->collections) all.push_back(c);
  }
  // The first run after an open also releases log pins that no record
  // names: a crash between a run's deletions and its unpins, or between a
  // retrieval's pin and its record's sync, leaves one, and it would keep its
  // version's rows for good. (Pins loaded at open count as unused since 0.)
  const bool sweep = !impl_->log_pins_swept;  // set once a sweep has run to the end
  if (sweep) {
    for (auto& c : all) {
      std::lock_guard pins(c->pins_mu);
      for (const auto& [version, used_us] : c->log_pinned) {
        if (used_us < cutoff) released.emplace(c->id, version);
      }
    }
  }
  if (removed == 0 && released.empty()) {
    impl_->log_pins_swept = true;
    return uint64_t{0};
  }
  if (removed > 0) {
    storage::LogMark start;
    start.set_seq(next_seq);
    start.set_hash(last_hash);
    batch.Put(impl_->log_index, kStartKey, start.SerializeAsString());
    VERITY_RETURN_IF_ERROR(FromRocks(impl_->db->Write(impl_->write_options, &batch), "expire retrieval-log records"));
  }
  // Versions still referred to by a kept record stay pinned.
  for (it->Seek(RecordKey(next_seq)); it->Valid() && it->key().starts_with("R") && !released.empty(); it->Next()) {
    storage::LogEntry entry;
    std::string hash;
    std::string_view body;
    VERITY_RETURN_IF_ERROR(
        ParseRecordValue(it->value().ToStringView(), keys::GetU64(it->key().data() + 1), &entry, &hash, &body));
    if (static_cast<LogKind>(entry.kind()) != LogKind::kAnswer)
      released.erase({entry.collection_id(), entry.version()});
  }
  VERITY_RETURN_IF_ERROR(FromRocks(it->status(), "scan the retrieval log"));
  for (auto& c : all) {
    std::lock_guard pins(c->pins_mu);
    for (auto [collection_id, version] : released) {
      if (collection_id != c->id) continue;
      auto pin = c->log_pinned.find(version);
      if (pin == c->log_pinned.end() || pin->second >= cutoff) continue;  // used by a recent retrieval
      VERITY_RETURN_IF_ERROR(FromRocks(
          impl_->db->Delete(impl_->write_options, impl_->meta, keys::PinKey(c->id, version, kLogPinHolder)), "unpin"));
      c->log_pinned.erase(version);
      std::unique_lock lock(c->graph_mu);
      if (--c->pins[version] == 0) c->pins.erase(version);
    }
  }
  impl_->log_pins_swept = true;
  if (removed > 0) impl_->Log(LogLevel::kInfo, "retrieval log: expired " + std::to_string(removed) + " records");
  return removed;
}

Result<LogStats> Database::GetLogStats() const {
  VERITY_CHECK_OPEN_();
  LogStats stats;
  stats.last_seq = impl_->DurableSeq();
  if (stats.last_seq == 0) return stats;
  uint64_t first = 1;
  std::string value;
  const rocksdb::Status rs = impl_->db->Get(rocksdb::ReadOptions(), impl_->log_index, kStartKey, &value);
  if (!rs.IsNotFound()) {
    VERITY_RETURN_IF_ERROR(FromRocks(rs, "read the retrieval log start"));
    storage::LogMark start;
    if (!start.ParseFromString(value)) return Status::DataLoss("retrieval log: the start record does not parse");
    first = start.seq();
  }
  if (first <= stats.last_seq) {
    stats.first_seq = first;
    stats.records = stats.last_seq - first + 1;
  }
  // The log's two families: their live files and their memtables.
  uint64_t bytes = 0;
  for (auto* family : {impl_->log, impl_->log_index}) {
    for (const auto& property :
         {rocksdb::DB::Properties::kLiveSstFilesSize, rocksdb::DB::Properties::kCurSizeAllMemTables}) {
      uint64_t value = 0;
      if (impl_->db->GetIntProperty(family, property, &value)) bytes += value;
    }
  }
  stats.bytes = bytes;
  return stats;
}

// --- Replay -------------------------------------------------------------------

Result<ReplayResult> Database::Replay(const ReplayRequest& request) const {
  VERITY_CHECK_OPEN_();
  VERITY_ASSIGN_OR_RETURN(auto logged, GetRetrieval(request.retrieval_id));
  if (logged.first.kind == LogKind::kCacheHit) {
    // A cache hit searched nothing: replay the retrieval it served.
    ReplayRequest source = request;
    source.retrieval_id = logged.first.source_retrieval_id;
    if (auto present = GetRetrieval(source.retrieval_id); !present.ok()) {
      if (present.status().code() != StatusCode::kNotFound) return present.status();
      return Status::NotFound(request.retrieval_id + " is a cache hit of " + source.retrieval_id +
                              ", which is no longer in the log (expired)");
    }
    auto replayed = Replay(source);
    if (replayed.ok()) {
      replayed->detail = "cache hit " + request.retrieval_id + " served the answer of " + source.retrieval_id +
                         "; replaying that retrieval: " + replayed->detail;
    }
    return replayed;
  }
  const LogRecord& r = logged.first;
  ReplayResult result;
  result.mode = request.mode;
  result.retrieval_id = r.retrieval_id;
  result.version = r.version;
  auto collected = [&](const std::string& why) {
    result.outcome = ReplayOutcome::kCollected;
    result.detail = why;
    return result;
  };
  auto found = impl_->Find(r.collection);
  if (found.status().code() == StatusCode::kNotFound) {
    return collected("collection \"" + r.collection + "\" no longer exists");
  }
  VERITY_RETURN_IF_ERROR(found.status());  // unavailable: DataLoss naming the damage
  std::shared_ptr<Collection> c = *found;
  // A collection dropped and created again under the same name is another
  // collection.
  if (r.collection_id != 0 && r.collection_id != c->id) {
    return collected("collection \"" + r.collection + "\" was dropped and created again since");
  }

  std::vector<std::string> logged_ids;
  for (const auto& chunk : r.chunks) logged_ids.push_back(chunk.id);
  auto compare = [&](const std::vector<std::string>& replayed) {
    std::map<std::string, int32_t> logged_rank, replay_rank;
    for (size_t i = 0; i < logged_ids.size(); ++i) logged_rank[logged_ids[i]] = static_cast<int32_t>(i);
    for (size_t i = 0; i < replayed.size(); ++i) replay_rank[replayed[i]] = static_cast<int32_t>(i);
    for (const auto& id : replayed) {
      if (!logged_rank.count(id)) result.added.push_back(id);
    }
    for (const auto& id : logged_ids) {
      auto it = replay_rank.find(id);
      if (it == replay_rank.end()) result.removed.push_back(id);
      else if (it->second != logged_rank[id]) result.rank_changes.push_back({id, logged_rank[id], it->second});
    }
    result.outcome = replayed == logged_ids ? ReplayOutcome::kIdentical : ReplayOutcome::kDiffers;
  };
  auto search = [&](std::optional<Version> at, SearchPlan plan) -> Result<SearchResult> {
    SearchRequest s;
    s.vector = r.query_vector;
    s.k = r.k;
    s.ef = r.ef;
    s.at = at;
    s.plan = plan;
    s.with_payload = false;
    if (!r.filter.empty()) {
      VERITY_ASSIGN_OR_RETURN(Filter f, ParseFilter(r.filter));
      s.filter = std::move(f);
    }
    // The logged query as it was: a vector logged before the component
    // bound existed is replayed, not refused.
    VERITY_RETURN_IF_ERROR(impl_->ValidateSearch(*c, s, /*bounded=*/false));
    return impl_->SearchValidated(*c, s);
  };
  auto version_gone = [&](Version v) {
    std::shared_lock lock(c->graph_mu);
    auto resolved = impl_->ResolveVersion(*c, v);
    return resolved.ok() ? std::string() : resolved.status().message();
  };

  switch (request.mode) {
    case ReplayMode::kContext: {
      std::optional<ScopedSnapshot> snapshot;
      snapshot.emplace(impl_->db.get());
      std::vector<RetrievedChunk> rebuilt;
      bool all_identical = true, any_missing = false;
      for (const auto& chunk : r.chunks) {
        ChunkCheck check{chunk.id, chunk.row_version, "identical"};
        auto row = impl_->ReadRow(*c, keys::RowKey(c->id, chunk.id, chunk.row_version), chunk.id, chunk.row_version,
                                  false, snapshot->options(), /*absent_is_not_found=*/true);
        RetrievedChunk copy = chunk;
        if (!row.ok() && row.status().code() != StatusCode::kNotFound) return row.status();  // not "collected"
        if (!row.ok()) {
          // Only the context counts: a hit the budget left out is reported
          // but does not make the context unrecoverable.
          check.status = chunk.in_context ? "missing" : "missing (not in the context)";
          if (chunk.in_context) {
            any_missing = true;
            all_identical = false;
          }
        } else {
          copy.text = row->record.text;
          if (Sha256::Hex(copy.text) != chunk.text_sha256) {
            check.status = "text differs";
            all_identical = false;
          }
        }
        rebuilt.push_back(std::move(copy));
        result.chunks.push_back(std::move(check));
      }
      result.context_sha256 = Sha256::Hex(AssembleContext(rebuilt));
      result.context_hash_matches = result.context_sha256 == r.context_sha256;
      if (any_missing) {
        const std::string gone = version_gone(r.version);
        return collected(gone.empty() ? "rows of the context are no longer stored (collected)"
                                      : gone);
      }
      result.outcome =
          all_identical && result.context_hash_matches ? ReplayOutcome::kIdentical : ReplayOutcome::kDiffers;
      result.detail = result.outcome == ReplayOutcome::kIdentical
                          ? "every chunk's text and the context hash match the log"
                          : "the rebuilt context does not match the logged hashes";
      return result;
    }
    case ReplayMode::kRetrieval: {
      const std::string gone = version_gone(r.version);
      if (!gone.empty()) return collected(gone);
      VERITY_ASSIGN_OR_RETURN(SearchResult exact, search(r.version, SearchPlan::kExact));
      std::vector<std::string> exact_ids;
      for (const auto& h : exact.hits) exact_ids.push_back(h.id);
      compare(exact_ids);
      std::set<std::string> logged_set(logged_ids.begin(), logged_ids.end());
      size_t found_count = 0;
      for (const auto& id : exact_ids) {
        if (logged_set.count(id)) ++found_count;
        else result.missed.push_back(id);
      }
      result.recall = exact_ids.empty() ? 1.0 : static_cast<double>(found_count) / static_cast<double>(exact_ids.size());
      result.detail = "the logged results against exact search at version " + std::to_string(r.version);
      return result;
    }
    case ReplayMode::kCounterfactual: {
      std::optional<Version> at = request.at;
      if (!request.snapshot.empty()) {
        VERITY_ASSIGN_OR_RETURN(at, SnapshotVersion(r.collection, request.snapshot));
      }
      VERITY_ASSIGN_OR_RETURN(SearchResult now, search(at, SearchPlan::kAuto));
      result.version = now.version;
      std::vector<std::string> now_ids;
      for (const auto& h : now.hits) now_ids.push_back(h.id);
      compare(now_ids);
      // The same ids can carry other rows: what the model would now read
      // differs even where the ranking does not.
      std::map<std::string, Version> logged_row;
      for (const auto& chunk : r.chunks) logged_row[chunk.id] = chunk.row_version;
      for (const auto& h : now.hits) {
        auto it = logged_row.find(h.id);
        if (it != logged_row.end() && it->second != h.row_version) result.changed.push_back(h.id);
      }
      result.detail = "the logged query run at version " + std::to_string(now.version);
      if (!result.changed.empty()) {
        result.outcome = ReplayOutcome::kDiffers;
        result.detail += "; " + std::to_string(result.changed.size()) + " of the rows found were written again since";
      }
      return result;
    }
  }
  return Status::InvalidArgument("mode: unknown");
}

// --- Audit --------------------------------------------------------------------

Result<AuditResult> Database::Audit(const AuditRequest& request) const {
  VERITY_CHECK_OPEN_();
  VERITY_ASSIGN_OR_RETURN(auto logged, GetRetrieval(request.retrieval_id));
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
    auto source = GetRetrieval(source_id);
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
    return Status::FailedPrecondition("retrieval " + r.retrieval_id +
                                      " has no recorded answer; record one or give one to audit")
        .WithReason(StatusReason::kNoRecordedAnswer);
  }
  // The context as the model saw it: the in-context chunks' rows, checked
  // against the logged hashes.
  auto found = impl_->Find(r.collection);
  if (found.status().code() == StatusCode::kNotFound) {
    return Status::FailedPrecondition("the context of " + r.retrieval_id + " is no longer stored: collection \"" +
                                      r.collection + "\" was dropped");
  }
  VERITY_ASSIGN_OR_RETURN(auto c, std::move(found));
  if (r.collection_id != 0 && r.collection_id != c->id) {
    return Status::FailedPrecondition("the context of " + r.retrieval_id + " is no longer stored: collection \"" +
                                      r.collection + "\" was dropped and created again since");
  }
  std::optional<ScopedSnapshot> snapshot;
  snapshot.emplace(impl_->db.get());
  for (const auto& chunk : r.chunks) {
    if (!chunk.in_context) continue;
    auto row = impl_->ReadRow(*c, keys::RowKey(c->id, chunk.id, chunk.row_version), chunk.id, chunk.row_version, false,
                              snapshot->options(), /*absent_is_not_found=*/true);
    if (!row.ok() && row.status().code() != StatusCode::kNotFound) return row.status();  // not "collected"
    if (!row.ok()) {
      return Status::FailedPrecondition("the context of " + r.retrieval_id + " is no longer stored: row " + chunk.id +
                                        "@" + std::to_string(chunk.row_version) + " was collected");
    }
    if (Sha256::Hex(row->record.text) != chunk.text_sha256) {
      return Status::DataLoss("the text of " + chunk.id + "@" + std::to_string(chunk.row_version) +
                              " does not match the hash logged by " + r.retrieval_id);
    }
    audit.chunks.push_back({chunk.id, row->record.text});
  }
  GroundednessOptions options;
  if (request.threshold != 0) options.threshold = request.threshold;
  VERITY_ASSIGN_OR_RETURN(audit.result, ScoreGroundedness(audit.answer, audit.chunks, options));
  return audit;
}

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

}  // namespace

Result<BatchAuditResult> Database::AuditCollection(const BatchAuditRequest& request,
                                                   const std::function<Status()>& keep_going) const {
  VERITY_CHECK_OPEN_();
  KeepGoingCheck check(keep_going, 1);
  VERITY_RETURN_IF_ERROR(impl_->Find(request.collection).status());
  VERITY_RETURN_IF_ERROR(ValidateTimeRange(request.since_us, request.until_us));
  BatchAuditResult batch;
  LogQuery query;
  query.collection = request.collection;
  query.since_us = request.since_us;
  query.until_us = request.until_us;
  query.limit = 1000;  // every kind; answer records are skipped below
  double sum = 0;
  uint64_t below = 0;
  uint64_t kept_bytes = 0;
  for (;;) {
    VERITY_RETURN_IF_ERROR(check.Step());  // a page may scan many records and hold no retrieval
    VERITY_ASSIGN_OR_RETURN(LogPage page, ListLog(query));
    for (const auto& record : page.records) {
      if (record.kind == LogKind::kAnswer) continue;
      if (batch.retrievals == request.max_retrievals) break;
      VERITY_RETURN_IF_ERROR(check.Step());
      ++batch.retrievals;
      AuditRequest one;
      one.retrieval_id = record.retrieval_id;
      one.threshold = request.threshold;
      auto audit = Audit(one);
      if (!audit.ok()) {
        if (audit.status().code() != StatusCode::kFailedPrecondition) return audit.status();
        if (audit.status().message().find("no recorded answer") != std::string::npos) ++batch.unanswered;
        else ++batch.unavailable;
        continue;
      }
      kept_bytes += AuditBytes(*audit);
      if (request.max_result_bytes > 0 && kept_bytes > request.max_result_bytes) {
        return Status::ResourceExhausted(
            "audits: the first " + std::to_string(batch.audited + 1) + " audits of the range hold about " +
            std::to_string(kept_bytes) + " bytes, more than the " + std::to_string(request.max_result_bytes) +
            " this response may hold")
            .WithReason(StatusReason::kResponseTooLarge);
      }
      ++batch.audited;
      // The exact ratio, not G as quantised to 4 decimals: the mean of 2/3
      // and 1 is 0.8333, where the quantised G's give 0.8334.
      const GroundednessResult& g = audit->result;
      if (g.scored > 0) {
        ++batch.scored;
        sum += static_cast<double>(g.supported) / g.scored;
        if (g.g < request.low_g) ++below;
      }
      batch.audits.push_back(std::move(audit).value());
    }
    if (page.next_cursor == 0 || batch.retrievals == request.max_retrievals) break;
    query.start_after = page.next_cursor;
  }
  if (batch.scored > 0) {
    batch.mean_g = sum / static_cast<double>(batch.scored);
    batch.share_below = static_cast<double>(below) / static_cast<double>(batch.scored);
  }
  std::vector<size_t> order(batch.audits.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return batch.audits[a].result.g < batch.audits[b].result.g; });
  for (size_t i = 0; i < order.size() && i < request.worst; ++i) batch.worst.push_back(batch.audits[order[i]]);
  return batch;
}

}  // namespace verity
