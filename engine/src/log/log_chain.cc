#include "log/log_chain.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <algorithm>

#include "storage/keys.h"
#include "util/sha256.h"

namespace verity::log_chain {

namespace {

// "the time index places record S at time_us T", or that the key is malformed.
std::string DescribeTimeEntry(std::string_view key) {
  if (key.size() != keys::log::kTimeKeySize || !key.starts_with(keys::log::kTimePrefix)) {
    return "a malformed time-index key";
  }
  return "the time index places record " + std::to_string(keys::GetU64(key.data() + 9)) + " at time_us " +
         std::to_string(keys::GetU64(key.data() + 1));
}

}  // namespace

std::string TimeIndexProblem(std::optional<std::string_view> found, uint64_t seq, int64_t time_us) {
  if (found && *found < keys::log::TimeKey(time_us, seq)) {
    return DescribeTimeEntry(*found) + ", before record " + std::to_string(seq) +
           ", which the records do not (index altered)";
  }
  return "record " + std::to_string(seq) + ": its time-index entry is missing (index altered)";
}

std::string StrayTimeIndexProblem(std::string_view found) {
  return DescribeTimeEntry(found) + ", after every record, which the records do not (index altered)";
}

Status ParseRecordValue(std::string_view value, uint64_t seq, storage::LogEntry* entry, std::string* hash,
                        std::string_view* body) {
  if (value.size() < 32) return Status::DataLoss("retrieval log: record " + std::to_string(seq) + " is truncated");
  *hash = std::string(value.substr(0, 32));
  *body = value.substr(32);
  if (!entry->ParseFromArray(body->data(), static_cast<int>(body->size()))) {
    return Status::DataLoss("retrieval log: record " + std::to_string(seq) + " does not parse");
  }
  return Status::Ok();
}

Result<int64_t> RecordTime(std::string_view value, uint64_t seq) {
  using google::protobuf::internal::WireFormatLite;
  if (value.size() >= 32) {
    google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(value.data() + 32),
                                              static_cast<int>(value.size() - 32));
    int64_t time_us = 0;  // proto3: absent means 0
    bool parsed = true;
    // The last occurrence of a field wins, as in a full parse.
    while (const uint32_t tag = in.ReadTag()) {
      if (WireFormatLite::GetTagFieldNumber(tag) == storage::LogEntry::kTimeUsFieldNumber &&
          WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_VARINT) {
        uint64_t raw = 0;
        if (!in.ReadVarint64(&raw)) {
          parsed = false;
          break;
        }
        time_us = static_cast<int64_t>(raw);
      } else if (!WireFormatLite::SkipField(&in, tag)) {
        parsed = false;
        break;
      }
    }
    if (parsed && in.ConsumedEntireMessage()) return time_us;
  }
  // Truncated or malformed: the full parse says which.
  storage::LogEntry entry;
  std::string hash;
  std::string_view body;
  VERITY_RETURN_IF_ERROR(ParseRecordValue(value, seq, &entry, &hash, &body));
  return entry.time_us();
}

Verifier::Verifier(std::optional<std::string_view> start_mark, uint64_t durable_seq, std::string durable_hash,
                   uint64_t written)
    : running_(32, '\0'), durable_seq_(durable_seq), durable_hash_(std::move(durable_hash)), written_(written) {
  if (start_mark) {
    storage::LogMark start;
    if (!start.ParseFromArray(start_mark->data(), static_cast<int>(start_mark->size())) || start.hash().size() != 32) {
      result_.ok = false;
      result_.problem = "the start mark does not parse";
      failed_ = true;
      return;
    }
    expected_ = start.seq();
    running_ = start.hash();
  }
  result_.first_seq = expected_;
}

bool Verifier::Fail(uint64_t seq, const std::string& problem) {
  last_checked_ = false;
  result_.ok = false;
  result_.first_bad_seq = seq;
  result_.problem = problem;
  failed_ = true;
  return false;
}

bool Verifier::Add(std::string_view key, std::string_view value) {
  last_checked_ = false;
  if (failed_) return false;
  if (key.size() != keys::log::kRecordKeySize || !key.starts_with(keys::log::kRecordPrefix)) {
    return Fail(expected_, "a malformed record key");
  }
  const uint64_t seq = keys::log::RecordSeq(key);
  if (seq > written_) {
    return Fail(seq, "record " + std::to_string(seq) + " lies beyond the log's head " + std::to_string(written_) +
                         " (appended from outside)");
  }
  if (seq > durable_seq_ && expected_ > durable_seq_) return true;  // in flight
  if (seq < expected_) return Fail(seq, "record " + std::to_string(seq) + " precedes the log's start");
  if (seq != expected_) {
    return Fail(expected_,
                "record " + std::to_string(expected_) + " is missing (the next is " + std::to_string(seq) + ")");
  }
  storage::LogEntry& entry = entry_;
  std::string hash;
  std::string_view body;
  if (Status s = ParseRecordValue(value, seq, &entry, &hash, &body); !s.ok()) return Fail(seq, s.message());
  if (entry.seq() != seq) {
    return Fail(seq, "record " + std::to_string(seq) + " holds record " + std::to_string(entry.seq()) +
                         " (moved or reordered)");
  }
  if (entry.prev_hash() != running_) {
    // The link is this record's field, but an edit of the record before
    // (its hash recomputed) breaks it here too: name both.
    return Fail(seq, "record " + std::to_string(seq) + " does not link to record " + std::to_string(seq - 1) +
                         " (one of the two was altered, or a record inserted between them)");
  }
  Sha256 h;
  h.Update(running_);
  h.Update(body);
  if (h.FinishRaw() != hash) return Fail(seq, "record " + std::to_string(seq) + " was modified (hash mismatch)");
  // The writer takes the later of the clock and the last record's time, so
  // a time that goes back was written from outside, chain and all.
  if (result_.records > 0 && entry.time_us() < last_time_us_) {
    return Fail(seq, "record " + std::to_string(seq) + "'s time (time_us " + std::to_string(entry.time_us()) +
                         ") is before record " + std::to_string(seq - 1) + "'s (time_us " +
                         std::to_string(last_time_us_) + "): times never go back along the log (altered)");
  }
  last_time_us_ = entry.time_us();
  running_ = hash;
  ++result_.records;
  result_.last_seq = seq;
  ++expected_;
  last_checked_ = true;
  return true;
}

LogVerifyResult Verifier::Finish(std::optional<std::string_view> head_mark) {
  if (failed_) return result_;
  if (head_mark) {
    storage::LogMark head;
    if (!head.ParseFromArray(head_mark->data(), static_cast<int>(head_mark->size()))) {
      Fail(expected_, "the head mark does not parse");
      return result_;
    }
    // An append in flight moved the head: check against the writer's mark.
    // A head beyond the last record written was not set by this log.
    if (head.seq() > durable_seq_ && head.seq() <= written_) {
      head.set_seq(durable_seq_);
      head.set_hash(durable_hash_);
    }
    if (head.seq() != expected_ - 1 || head.hash() != running_) {
      Fail(expected_ - 1 < head.seq() ? expected_ : head.seq(),
           "the log ends at record " + std::to_string(expected_ - 1) + " but its head says " +
               std::to_string(head.seq()) + " (records removed from the end, or the head altered)");
      return result_;
    }
  } else if (result_.records > 0) {
    Fail(expected_, "the head mark is missing");
    return result_;
  }
  result_.head_hash = Sha256::ToHex(running_);
  return result_;
}

}  // namespace verity::log_chain
