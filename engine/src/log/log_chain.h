// The retrieval log's hash chain, on its raw stored bytes: record keys and
// values, the start and head marks. Pure (no I/O), so that the database's
// VerifyLog and the log verifier's fuzz target run exactly the same code.
//
// The keys and the record value's layout are in keys.h (keys::log): a
// record is stored under 'R' + seq (u64, big-endian) as its 32-byte hash
// followed by the storage.LogEntry bytes; hash(seq) = SHA-256(hash(seq-1) ||
// entry bytes), hash(0) = 32 zero bytes. log/log_writer.cc writes them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "storage/keys.h"
#include "storage.pb.h"
#include "verity/context.h"
#include "verity/status.h"

namespace verity::log_chain {

// The record and time-index keys, defined in keys.h; named here too for
// the verifier's fuzz target.
using keys::log::RecordKey;
using keys::log::TimeKey;

// What is wrong when the time index's next entry (in key order) is
// `found`, nullopt past its end, where record `seq` at `time_us` expects
// TimeKey(time_us, seq) and `found` differs from it: an entry sorting
// before it matches no record; otherwise the record's own entry is missing.
std::string TimeIndexProblem(std::optional<std::string_view> found, uint64_t seq, int64_t time_us);
// The problem of an entry that sorts after every checked record's.
std::string StrayTimeIndexProblem(std::string_view found);

// Splits a stored record value into its hash and entry bytes, and parses the
// entry. DataLoss naming `seq` when it is truncated or does not parse.
Status ParseRecordValue(std::string_view value, uint64_t seq, storage::LogEntry* entry, std::string* hash,
                        std::string_view* body);

// The time of the record stored as `value` (hash + entry bytes), read
// without parsing the rest of the entry (its query vector and hits are most
// of it). DataLoss naming `seq` when the value is truncated or malformed.
Result<int64_t> RecordTime(std::string_view value, uint64_t seq);

// Checks a log, record by record in key order: numbering, the hash chain,
// and that times never go back (time-range reads rely on it to find a
// range's first record). Not thread-safe; one per run.
class Verifier {
 public:
  // What the writer knows of the log: records up to `durable_seq` are synced
  // (its hash `durable_hash`, raw), records up to `written` were appended
  // (those after `durable_seq` are in flight and not checked). `start_mark`
  // is the stored 'S' value, or nullopt when absent (the log starts at 1).
  Verifier(std::optional<std::string_view> start_mark, uint64_t durable_seq, std::string durable_hash,
           uint64_t written);

  // Feeds the next 'R' key and value. Returns false once the log has failed
  // (result() says where); further calls change nothing.
  bool Add(std::string_view key, std::string_view value);
  // The record the last Add checked and accepted; nullptr when it was in
  // flight (not checked) or the log has failed. Valid until the next Add.
  const storage::LogEntry* last_checked() const { return last_checked_ ? &entry_ : nullptr; }
  // Fails the run at `seq` for a reason found outside the chain (the
  // database's indexes); returns false.
  bool Fail(uint64_t seq, const std::string& problem);

  // Ends the run with the stored 'H' value (nullopt when absent) and returns
  // the outcome: ok, or the first bad record and what fails there.
  LogVerifyResult Finish(std::optional<std::string_view> head_mark);

  const LogVerifyResult& result() const { return result_; }

 private:
  LogVerifyResult result_;
  storage::LogEntry entry_;
  bool last_checked_ = false;
  uint64_t expected_ = 1;
  int64_t last_time_us_ = 0;  // of the last checked record
  std::string running_;
  uint64_t durable_seq_;
  std::string durable_hash_;
  uint64_t written_;
  bool failed_ = false;
};

}  // namespace verity::log_chain
