// Key layout of the engine's RocksDB column families. All integers are
// big-endian so that byte order is numeric order and prefix scans list one
// collection. See docs/architecture.md, "Storage".
//
//   meta     'I'                              -> next collection id (u32)
//            'N' + name                       -> collection id (u32)
//            'C' + coll(u32)                  -> storage.CollectionMeta
//            'V' + coll(u32) + version(u64)   -> storage.VersionMeta
//            'S' + coll(u32) + name           -> storage.SnapshotMeta
//            'P' + coll(u32) + version(u64) + holder -> "" (a pin; snapshots
//                                                   hold "snapshot/" + name)
//   rows     coll(u32) + id + 0x00 + ~version(u64) -> storage.RowMeta
//   vectors  the same key as rows             -> float32[dim], little-endian
//   changes  coll(u32) + version(u64) + id    -> 'U' (upsert) or 'D' (delete)
//   text     coll(u32) + label(u32)           -> storage.TextDoc (the analysed
//                                                text of the row version(s)
//                                                with that graph label)
//   log      'R' + seq(u64)                   -> hash + storage.LogEntry, and
//                                                nothing else (log_chain.h)
//   log_index 'T' + time(u64) + seq(u64) -> "" (time index);
//            'I' / 'A' + retrieval id -> seq(u64); 'N' + retrieval id ->
//            storage.Annotation; 'H' (head), 'S' (start)
//            -> storage.LogMark; 'W' (sync mark) -> u64 (keys::log below;
//            log/retrieval_log.h)
//
// Row keys store the version inverted, so the versions of one id sort newest
// first and Seek(RowKey(c, id, V)) lands on the newest row version <= V.
// Record ids never contain NUL, which makes 0x00 a safe terminator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "verity/types.h"

namespace verity::keys {

void PutU32(std::string* out, uint32_t v);
void PutU64(std::string* out, uint64_t v);
uint32_t GetU32(const char* p);
uint64_t GetU64(const char* p);

std::string NextCollectionIdKey();
std::string NameKey(const std::string& name);
std::string CollectionKey(uint32_t collection);
std::string VersionKey(uint32_t collection, Version version);
std::string VersionPrefix(uint32_t collection);
std::string SnapshotKey(uint32_t collection, const std::string& name);
std::string SnapshotPrefix(uint32_t collection);
std::string PinKey(uint32_t collection, Version version, const std::string& holder);
std::string PinPrefix(uint32_t collection);

std::string CollectionPrefix(uint32_t collection);  // rows, vectors, changes
// The first key after every key with CollectionPrefix(collection).
std::string CollectionEnd(uint32_t collection);

// Prompt registry (meta CF): versions 'Q' + name + 0x00 + version (u32),
// labels 'L' + name + 0x00 + label, label moves 'Y' + name + 0x00 + seq
// (u64). The 0x00 ends the name (names never contain it).
std::string PromptVersionPrefix(const std::string& name);
std::string PromptVersionKey(const std::string& name, uint32_t version);
std::string PromptLabelPrefix(const std::string& name);
std::string PromptLabelKey(const std::string& name, const std::string& label);
std::string PromptMovePrefix(const std::string& name);
std::string PromptMoveKey(const std::string& name, uint64_t seq);

std::string RowKey(uint32_t collection, std::string_view id, Version version);
// The first row key of the id after `id` (skips every version of `id`).
std::string RowKeyAfterId(uint32_t collection, std::string_view id);
// Splits a row key. Returns false if `key` is not a well-formed row key.
bool ParseRowKey(std::string_view key, uint32_t* collection, std::string_view* id, Version* version);

std::string ChangeKey(uint32_t collection, Version version, std::string_view id);
std::string TextKey(uint32_t collection, uint32_t label);

// The retrieval log's keys (docs/retrieval-log.md). The `log` family holds
// only records, so that its flushed files never overlap (log/log_writer.cc,
// MoveIndexKeys, says why); everything else is in `log_index`.
namespace log {

// `log`: record `seq` is 'R' + seq (u64): 9 bytes. Its value is the
// record's 32-byte hash followed by its storage.LogEntry bytes
// (log_chain.h); hash(seq) = SHA-256(hash(seq-1) || entry bytes), hash(0) =
// 32 zero bytes.
inline constexpr char kRecordPrefix[] = "R";
inline constexpr size_t kRecordKeySize = 9;
std::string RecordKey(uint64_t seq);
// The seq of a record key (one that starts with kRecordPrefix and is
// kRecordKeySize bytes long; the caller checks).
uint64_t RecordSeq(std::string_view key);

// `log_index`: the time index, 'T' + time_us (u64, big-endian; a negative
// time as 0) + seq (u64) -> "". Record times never decrease along the log
// (log_chain::Verifier checks it), so the time index sorts exactly like the
// records. It is outside the chain: VerifyLog checks it against the
// records, and time-range reads do not use it.
inline constexpr char kTimePrefix[] = "T";
inline constexpr size_t kTimeKeySize = 17;
std::string TimeKey(int64_t time_us, uint64_t seq);
// 'I' + retrieval id -> seq (u64) of the retrieval (or cache-hit) record.
std::string RetrievalKey(std::string_view retrieval_id);
// 'A' + retrieval id -> seq (u64) of its answer record.
std::string AnswerKey(std::string_view retrieval_id);
// 'N' + retrieval id -> storage.Annotation: the monitor's annotation of
// that retrieval's answer, or of that cache hit (log/annotation_codec.h).
// Outside the chain; removed with the record it annotates.
std::string AnnotationKey(std::string_view retrieval_id);
// -> storage.LogMark of the head (the last record: its seq and hash),
// written in the batch of the record it names.
inline constexpr char kHeadKey[] = "H";
// -> storage.LogMark of the start: the first kept record and the hash of
// the one before it (written by retention).
inline constexpr char kStartKey[] = "S";
// -> u64: the last seq the latest synced write covered.
inline constexpr char kSyncMarkKey[] = "W";

}  // namespace log


}  // namespace verity::keys
