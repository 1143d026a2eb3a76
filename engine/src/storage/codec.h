// Conversions between the engine's value types and its storage protos, and
// between RocksDB's status and the engine's. The only place that knows both.
#pragma once

#include <rocksdb/iterator.h>
#include <rocksdb/status.h>

#include <map>
#include <string>
#include <string_view>

#include "storage.pb.h"
#include "verity/status.h"
#include "verity/types.h"

namespace verity {

void MetadataToProto(const Metadata& metadata,
                     google::protobuf::Map<std::string, storage::MetadataValue>* out);
Metadata MetadataFromProto(const google::protobuf::Map<std::string, storage::MetadataValue>& in);

CollectionConfig ConfigFromMeta(const storage::CollectionMeta& meta);
// Writes `config`'s settings (all but the name's id and the counters) into
// `meta`: the one place a config becomes a stored collection record.
void ConfigToMeta(const CollectionConfig& config, storage::CollectionMeta* meta);

void SparseToProto(const std::map<std::string, SparseVector>& sparse,
                   google::protobuf::Map<std::string, storage::SparseValues>* out);
std::map<std::string, SparseVector> SparseFromProto(const google::protobuf::Map<std::string, storage::SparseValues>& in);

// Vectors are stored as raw little-endian float32.
std::string EncodeVector(const std::vector<float>& v);
// Errors: DataLoss if `bytes` is not `dimension` floats.
Status DecodeVector(const std::string& bytes, uint32_t dimension, std::vector<float>* out);

// Maps a RocksDB status to the engine's: corruption -> DataLoss, a held lock
// -> FailedPrecondition, other I/O -> Unavailable. `what` names the operation.
Status FromRocks(const rocksdb::Status& s, const std::string& what);

// The parts of a row key (rows and vectors families, storage/keys.h); `id`
// points into the key, valid while the iterator stays on it.
struct RowKeyParts {
  uint32_t collection = 0;
  std::string_view id;
  Version version = 0;
};
// The parts of the row key `it` is on (it must be valid). DataLoss naming
// the key when it is not a well-formed row key.
Result<RowKeyParts> RowKeyAt(const rocksdb::Iterator& it);

}  // namespace verity
