// libFuzzer target: the retrieval log verifier (engine/src/log_chain.h), the
// code behind `verity log verify`. The input is a list of edits applied to a
// valid stored log of 8 records (flip a bit, cut or delete a record, swap two,
// insert a record, replace or delete the head or start mark). The verifier
// must never crash, and whenever it says "ok" the log must still hold only
// original records, byte for byte, with the original head — tampering that
// goes unnoticed is a failure. (Deleting the whole log, head included, is
// the one change a chain cannot see by itself: docs/retrieval-log.md says to
// keep the head hash elsewhere; the target allows it.)
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>

#include "storage/keys.h"
#include "log/log_chain.h"
#include "util/sha256.h"
#include "storage.pb.h"

namespace {

using verity::log_chain::RecordKey;

constexpr uint64_t kRecords = 8;

struct StoredLog {
  std::map<std::string, std::string> records;  // 'R' key -> value
  std::optional<std::string> head, start;
  std::string last_hash;
};

// A log as Database::Retrieve writes it: records 1..8 chained from 32 zero
// bytes, and the head mark.
StoredLog MakeLog() {
  StoredLog log;
  std::string prev(32, '\0');
  for (uint64_t seq = 1; seq <= kRecords; ++seq) {
    verity::storage::LogEntry entry;
    entry.set_seq(seq);
    entry.set_time_us(1700000000000000 + static_cast<int64_t>(seq) * 1000);
    entry.set_kind(seq % 2);
    entry.set_retrieval_id("r" + std::to_string(seq));
    entry.set_collection("kb");
    entry.set_version(seq * 3);
    entry.set_query_text("what is record " + std::to_string(seq) + "?");
    entry.set_k(5);
    entry.set_prev_hash(prev);
    const std::string body = entry.SerializeAsString();
    verity::Sha256 h;
    h.Update(prev);
    h.Update(body);
    const std::string hash = h.FinishRaw();
    log.records[RecordKey(seq)] = hash + body;
    prev = hash;
  }
  verity::storage::LogMark head;
  head.set_seq(kRecords);
  head.set_hash(prev);
  log.head = head.SerializeAsString();
  log.last_hash = prev;
  return log;
}

// Reads the input as edits; each takes what bytes it needs.
class Edits {
 public:
  Edits(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool done() const { return at_ >= size_; }
  uint8_t Byte() { return at_ < size_ ? data_[at_++] : 0; }
  std::string Bytes() {
    const size_t n = std::min<size_t>(Byte(), size_ - std::min(at_, size_));
    std::string out(reinterpret_cast<const char*>(data_ + at_), n);
    at_ += n;
    return out;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t at_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const StoredLog original = MakeLog();
  StoredLog log = original;
  Edits edits(data, size);
  auto record = [&](uint8_t i) { return RecordKey(1 + i % (kRecords + 4)); };  // a few beyond the head too
  for (int n = 0; !edits.done() && n < 16; ++n) {
    switch (edits.Byte() % 8) {
      case 0: {  // flip a bit of a record
        auto it = log.records.find(record(edits.Byte()));
        const size_t offset = edits.Byte() | (edits.Byte() << 8);
        const uint8_t bit = edits.Byte() % 8;
        if (it != log.records.end() && !it->second.empty()) {
          it->second[offset % it->second.size()] ^= static_cast<char>(1 << bit);
        }
        break;
      }
      case 1:  // delete a record
        log.records.erase(record(edits.Byte()));
        break;
      case 2: {  // swap two records' values
        auto a = log.records.find(record(edits.Byte()));
        auto b = log.records.find(record(edits.Byte()));
        if (a != log.records.end() && b != log.records.end()) std::swap(a->second, b->second);
        break;
      }
      case 3: {  // write a record: raw bytes, or a copy of another
        const std::string key = record(edits.Byte());
        if (edits.Byte() % 2) {
          log.records[key] = edits.Bytes();
        } else if (auto from = log.records.find(record(edits.Byte())); from != log.records.end()) {
          log.records[key] = from->second;
        }
        break;
      }
      case 4:  // cut a record short
        if (auto it = log.records.find(record(edits.Byte())); it != log.records.end()) {
          it->second.resize(std::min<size_t>(it->second.size(), edits.Byte()));
        }
        break;
      case 5:  // replace the head mark
        log.head = edits.Bytes();
        break;
      case 6:  // delete the head mark
        log.head.reset();
        break;
      case 7:  // a start mark: raw bytes, or a well-formed one after record N
        if (edits.Byte() % 2) {
          log.start = edits.Bytes();
        } else {
          const uint64_t after = edits.Byte() % (kRecords + 1);
          verity::storage::LogMark start;
          start.set_seq(after + 1);
          start.set_hash(std::string(32, static_cast<char>(edits.Byte())));
          log.start = start.SerializeAsString();
        }
        break;
    }
  }

  verity::log_chain::Verifier verifier(log.start, kRecords, original.last_hash, kRecords);
  for (const auto& [key, value] : log.records) {
    if (!verifier.Add(key, value)) break;
  }
  const verity::LogVerifyResult result = verifier.Finish(log.head);
  if (!result.ok) {
    if (result.problem.empty()) std::abort();  // a failure must say what fails
    return 0;
  }
  // "ok": nothing but original records, and the original head (or nothing).
  for (const auto& [key, value] : log.records) {
    auto it = original.records.find(key);
    if (it == original.records.end() || it->second != value) std::abort();
  }
  const bool empty = log.records.empty() && !log.head;
  if (!empty && log.head != original.head) std::abort();
  if (!empty && result.head_hash != verity::Sha256::ToHex(original.last_hash)) std::abort();
  return 0;
}
