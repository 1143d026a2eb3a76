// Input checks shared by the engine's API methods. Each returns
// InvalidArgument whose message names the field (with its index) and the
// limit, e.g. "records[2].vector[17]: NaN".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "verity/status.h"
#include "verity/types.h"

namespace verity {

bool IsValidUtf8(std::string_view s);

Status ValidateCollectionConfig(const CollectionConfig& config);
Status ValidateRecordId(std::string_view id, const std::string& field);
Status ValidateVector(const std::vector<float>& v, uint32_t dimension, const std::string& field);
Status ValidateRecord(const Record& record, uint32_t dimension, const std::string& field);
// Batch-level checks: size within 1..kMaxBatchRecords and no duplicate ids.
Status ValidateBatchIds(const std::vector<std::string_view>& ids, const std::string& field);

}  // namespace verity
