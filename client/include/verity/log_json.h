// The JSON form of retrieval-log records: one function, shared by
// `verity log export` (JSON Lines), `verity log list/show --json` and
// `verity answer --json`, so that every JSON view of a record agrees.
//
// Attribute names follow the OpenTelemetry GenAI semantic conventions where
// they have one (gen_ai.operation.name, gen_ai.data_source.id,
// gen_ai.request.top_k, gen_ai.retrieval.query.text,
// gen_ai.retrieval.documents, gen_ai.request.model, gen_ai.usage.*,
// gen_ai.output.messages) and verity.* for the rest. docs/retrieval-log.md,
// "Export format", lists every key. Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "verity/context.h"

namespace verity {

// One log record as a flat JSON object (values of gen_ai.retrieval.documents
// and gen_ai.output.messages are structured). Optional strings that are empty
// are left out; the query vector appears only when the record carries it.
// An answer or cache-hit record with an annotation carries it as the
// object "verity.annotation" (AnnotationToJson).
nlohmann::json LogRecordToJson(const LogRecord& record);

// A monitor annotation (verity/monitor.h) as a JSON object: the field names
// of the wire's Annotation (monitor.proto), flags by name
// ("low_groundedness", ...), toxicity matches as {term, languages, begin,
// end}. Shared by `verity log export` and `verity log annotation --json`.
nlohmann::json AnnotationToJson(const Annotation& annotation);

// Unix microseconds as RFC 3339 UTC with microseconds,
// "2026-11-27T10:00:00.123456Z".
std::string Rfc3339(int64_t time_us);

}  // namespace verity
