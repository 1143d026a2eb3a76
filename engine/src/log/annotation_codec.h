// The stored form of the monitor's annotations (verity/monitor.h): a
// storage.Annotation under log_index 'N' + retrieval id (keys::log), beside
// the retrieval log's records and outside their hash chain. The log owns
// its families' contents, so the codec lives here; the monitor computes the
// annotations (monitor/monitor.h). Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "verity/monitor.h"
#include "verity/status.h"

namespace verity {

std::string EncodeAnnotation(const Annotation& annotation);
// DataLoss when the bytes do not parse.
Result<Annotation> DecodeAnnotation(std::string_view bytes);

}  // namespace verity
