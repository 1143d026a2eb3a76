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
Status ValidateRetention(const RetentionPolicy& retention);
// k1, b, analyzer_version and the sparse fields (the analyzer's own
// settings are checked by text::ValidateAnalyzerConfig).
Status ValidateTextIndexSettings(const CollectionConfig& config);
// A sparse vector of a field with `dimension`: as many values as indices,
// indices strictly increasing and < dimension, values finite within 1e15.
Status ValidateSparseVector(const SparseVector& v, uint32_t dimension, const std::string& field);
// Every sparse vector of `r` names one of `fields` and is valid for it.
Status ValidateRecordSparse(const Record& r, const std::vector<SparseFieldConfig>& fields, const std::string& field);
// Snapshot and export names: 1..128 of [A-Za-z0-9_.-], not "." or "..".
Status ValidateName(const std::string& name, const std::string& field);
Status ValidateRecordId(std::string_view id, const std::string& field);
// Components must be finite, and within ±Limits::kMaxVectorComponent unless
// `bounded` is false: data stored before the bound existed (an export's
// rows, a logged query) is accepted as it was, finite, so that it can still
// be imported and replayed; a search never ranks a distance that is NaN.
Status ValidateVector(const std::vector<float>& v, uint32_t dimension, const std::string& field, bool bounded = true);
Status ValidateRecord(const Record& record, uint32_t dimension, const std::string& field, bool bounded = true);
// The caller-supplied names a retrieval or cache lookup logs: `prompt`,
// `client_trace_id`, `client_id`, each at most 1024 bytes.
Status ValidateClientFields(const std::string& prompt, const std::string& client_trace_id,
                            const std::string& client_id);
// A log time range [since_us, until_us) in Unix microseconds, 0 = open:
// neither negative, and until after since when both are given.
Status ValidateTimeRange(int64_t since_us, int64_t until_us);

// The deepest nesting of arrays and objects in JSON text (brackets inside
// strings do not count), without recursion. Malformed text is left to the
// parser.
size_t JsonNestingDepth(std::string_view text);
// Batch-level checks: size within 1..kMaxBatchRecords and no duplicate ids.
Status ValidateBatchIds(const std::vector<std::string_view>& ids, const std::string& field);

}  // namespace verity
