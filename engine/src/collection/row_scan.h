// A scan of the rows visible at one version, for the reads that go to the
// rows instead of the node table (counts, searches at rows-only versions,
// the text legs' fallback). Internal to collection/.
#pragma once

#include <rocksdb/iterator.h>

#include <string>

#include "collection/collections.h"
#include "storage/codec.h"
#include "storage/keys.h"

namespace verity {

// Calls fn(id, row_key, row) for every record of `collection` visible at
// `version` (tombstones skipped), in id order, from a rows-CF iterator.
template <typename Fn>
Status ForEachRowAt(rocksdb::Iterator* it, uint32_t collection, Version version, Fn fn) {
  const std::string prefix = keys::CollectionPrefix(collection);
  it->Seek(prefix);
  storage::RowMeta row;
  while (it->Valid() && it->key().starts_with(prefix)) {
    VERITY_ASSIGN_OR_RETURN(const RowKeyParts parts, RowKeyAt(*it));
    const std::string id(parts.id);
    Version row_version = parts.version;
    if (row_version > version) {
      bool found;
      VERITY_RETURN_IF_ERROR(SeekRow(it, collection, id, version, &found, &row_version));
      if (!found) continue;  // the iterator already sits on the next id
    }
    if (!row.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status::DataLoss("row " + id + " does not parse");
    }
    if (!row.tombstone()) VERITY_RETURN_IF_ERROR(fn(id, it->key().ToString(), row_version, row));
    it->Seek(keys::RowKeyAfterId(collection, id));
  }
  return FromRocks(it->status(), "scan rows");
}


}  // namespace verity
