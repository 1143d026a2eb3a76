#include "storage/keys.h"

#include <algorithm>

namespace verity::keys {

void PutU32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>((v >> shift) & 0xff));
}

void PutU64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>((v >> shift) & 0xff));
}

uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

std::string NextCollectionIdKey() { return "I"; }

std::string PromptVersionPrefix(const std::string& name) { return "Q" + name + std::string(1, '\0'); }

std::string PromptVersionKey(const std::string& name, uint32_t version) {
  std::string k = PromptVersionPrefix(name);
  PutU32(&k, version);
  return k;
}

std::string PromptLabelPrefix(const std::string& name) { return "L" + name + std::string(1, '\0'); }

std::string PromptLabelKey(const std::string& name, const std::string& label) {
  return PromptLabelPrefix(name) + label;
}

std::string PromptMovePrefix(const std::string& name) { return "Y" + name + std::string(1, '\0'); }

std::string PromptMoveKey(const std::string& name, uint64_t seq) {
  std::string k = PromptMovePrefix(name);
  PutU64(&k, seq);
  return k;
}

std::string NameKey(const std::string& name) { return "N" + name; }

std::string CollectionKey(uint32_t collection) {
  std::string k = "C";
  PutU32(&k, collection);
  return k;
}

std::string VersionPrefix(uint32_t collection) {
  std::string k = "V";
  PutU32(&k, collection);
  return k;
}

std::string SnapshotPrefix(uint32_t collection) {
  std::string k = "S";
  PutU32(&k, collection);
  return k;
}

std::string SnapshotKey(uint32_t collection, const std::string& name) { return SnapshotPrefix(collection) + name; }

std::string PinPrefix(uint32_t collection) {
  std::string k = "P";
  PutU32(&k, collection);
  return k;
}

std::string PinKey(uint32_t collection, Version version, const std::string& holder) {
  std::string k = PinPrefix(collection);
  PutU64(&k, version);
  return k + holder;
}

std::string VersionKey(uint32_t collection, Version version) {
  std::string k = VersionPrefix(collection);
  PutU64(&k, version);
  return k;
}

std::string CollectionPrefix(uint32_t collection) {
  std::string k;
  PutU32(&k, collection);
  return k;
}

std::string CollectionEnd(uint32_t collection) {
  std::string k;
  if (collection == UINT32_MAX) return std::string(5, '\xff');
  PutU32(&k, collection + 1);
  return k;
}

std::string RowKey(uint32_t collection, std::string_view id, Version version) {
  std::string k;
  k.reserve(4 + id.size() + 1 + 8);
  PutU32(&k, collection);
  k.append(id);
  k.push_back('\0');
  PutU64(&k, ~version);
  return k;
}

std::string RowKeyAfterId(uint32_t collection, std::string_view id) {
  std::string k;
  PutU32(&k, collection);
  k.append(id);
  k.push_back('\x01');
  return k;
}

bool ParseRowKey(std::string_view key, uint32_t* collection, std::string_view* id, Version* version) {
  if (key.size() < 4 + 1 + 1 + 8) return false;
  if (key[key.size() - 9] != '\0') return false;
  *collection = GetU32(key.data());
  *id = key.substr(4, key.size() - 4 - 9);
  *version = ~GetU64(key.data() + key.size() - 8);
  return true;
}

std::string TextKey(uint32_t collection, uint32_t label) {
  std::string k;
  PutU32(&k, collection);
  PutU32(&k, label);
  return k;
}

std::string ChangeKey(uint32_t collection, Version version, std::string_view id) {
  std::string k;
  PutU32(&k, collection);
  PutU64(&k, version);
  k.append(id);
  return k;
}

namespace log {

std::string RecordKey(uint64_t seq) {
  std::string k = kRecordPrefix;
  PutU64(&k, seq);
  return k;
}

uint64_t RecordSeq(std::string_view key) { return GetU64(key.data() + 1); }

std::string TimeKey(int64_t time_us, uint64_t seq) {
  std::string k = kTimePrefix;
  PutU64(&k, static_cast<uint64_t>(std::max<int64_t>(time_us, 0)));
  PutU64(&k, seq);
  return k;
}

std::string RetrievalKey(std::string_view retrieval_id) { return "I" + std::string(retrieval_id); }

std::string AnswerKey(std::string_view retrieval_id) { return "A" + std::string(retrieval_id); }

std::string AnnotationKey(std::string_view retrieval_id) { return "N" + std::string(retrieval_id); }

}  // namespace log

}  // namespace verity::keys
