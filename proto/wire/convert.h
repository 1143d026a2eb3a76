// Conversions between the wire API (verity.v1 protos) and Verity's value
// types (verity/types.h), and between engine Status and gRPC status, in both
// directions. Shared by verityd and the client library; the only file pair
// that knows both sides.
//
// Every FromProto returns InvalidArgument naming the request field (with
// indices) when the message cannot be converted. Server limits (--max-k,
// --max-dimension, ...) are checked by the server, not here.
#pragma once

#include <grpcpp/support/status.h>

#include <functional>
#include <optional>
#include <string>

#include "verity/context.h"
#include "verity/cache.h"
#include "verity/database.h"
#include "verity/monitor.h"
#include "verity/v1/cache.pb.h"
#include "verity/v1/collections.pb.h"
#include "verity/v1/context.pb.h"
#include "verity/v1/monitor.pb.h"
#include "verity/v1/records.pb.h"
#include "verity/v1/search.pb.h"
#include "verity/v1/prompts.pb.h"
#include "verity/v1/snapshots.pb.h"

namespace verity::wire {

// Engine status → gRPC status, code for code (both use the canonical codes).
grpc::Status ToGrpc(const Status& status);
// gRPC status → engine Status, code for code and the message as is; a
// message over a size limit (IsMessageTooLarge) has the reason
// StatusReason::kMessageTooLarge.
Status FromGrpc(const grpc::Status& status);
// Whether `status` is a refusal of a message over a size limit, by gRPC
// (either side) or by verityd (--max-message-bytes). Read from the message:
// neither says it otherwise (convert.cc says why).
bool IsMessageTooLarge(const grpc::Status& status);

// Unset retention fields take RetentionPolicy's defaults; an unset
// text_index is none (TextIndexConfig::enabled false). InvalidArgument for
// an unknown metric, a negative keep_seconds or an unknown analyzer preset.
Result<CollectionConfig> FromProto(const v1::CollectionConfig& in);
// Sets every field, retention included; text_index only when enabled.
void ToProto(const CollectionConfig& in, v1::CollectionConfig* out);

// --- Text search (#26; convert_text.cc) ----------------------------------------
// The analyzer a preset stands for ("" = "standard"; "english": English
// stopwords and stemmer): the wire fills the fields a request leaves unset
// from it. InvalidArgument naming `field` for an unknown preset. (It
// mirrors text::PresetConfig, which the wire cannot link; the engine
// validates the config it is given.)
Result<AnalyzerConfig> AnalyzerPreset(const std::string& preset, const std::string& field);
// A present TextIndexConfig: enabled, the preset's analyzer with the set
// fields over it, k1 / b unset = the defaults; analyzer_version is not read
// (the engine's). An unknown preset is InvalidArgument naming
// `field`.analyzer.preset unless every analyzer field is set (a response
// from a server that knows more presets). `field` is e.g. "config.text_index".
Result<TextIndexConfig> FromProto(const v1::TextIndexConfig& in, const std::string& field);
// Every field, analyzer_version included.
void ToProto(const TextIndexConfig& in, v1::TextIndexConfig* out);
// dimension 0 = SparseFieldConfig's default (2^31).
SparseFieldConfig FromProto(const v1::SparseFieldConfig& in);
void ToProto(const SparseFieldConfig& in, v1::SparseFieldConfig* out);
// Copied as is; the engine checks lengths, order, range and values.
SparseVector FromProto(const v1::SparseVector& in);
void ToProto(const SparseVector& in, v1::SparseVector* out);
// Unset / 0 fields take FusionConfig's defaults. InvalidArgument naming
// `field`.method for an unknown method.
Result<FusionConfig> FromProto(const v1::Fusion& in, const std::string& field);
void ToProto(const FusionConfig& in, v1::Fusion* out);
// An absent LegScore (present false) is "not found" (rank -1).
LegScore FromProto(const v1::LegScore& in, bool present);
void ToProto(const LegScore& in, v1::LegScore* out);
CollectionInfo FromProto(const v1::CollectionInfo& in);
void ToProto(const CollectionInfo& in, v1::CollectionInfo* out);
void ToProto(const VersionInfo& in, v1::VersionInfo* out);
VersionInfo FromProto(const v1::VersionInfo& in);

Result<Record> FromProto(const v1::Record& in, const std::string& field);
void ToProto(const Record& in, v1::Record* out);
void ToProto(const StoredRecord& in, v1::StoredRecord* out);
Result<StoredRecord> FromProto(const v1::StoredRecord& in, const std::string& field);

// A ReadAt as the engine's ReadPoint: unset (present == false, or no point
// set) → head; a version → that version; a snapshot → that snapshot, by
// name: the engine resolves it, under the lock its read holds (an unknown
// one is the read's NotFound "at.snapshot"). Errors: InvalidArgument
// naming `field` for an empty snapshot name or an unknown point.
Result<ReadPoint> FromProto(const v1::ReadAt& at, bool present, const std::string& field);
// Head leaves `out` untouched.
void ToProto(const ReadPoint& at, v1::ReadAt* out);

// Filter text is parsed by verity::ParseFilterField (verity/filter_parser.h),
// the engine's one parse of request filters.

// The query's ReadAt as its ReadPoint (a snapshot unresolved), its filter
// parsed (ParseFilterField, "<field>.filter"), its fusion converted
// ("<field>.fusion.method" for an unknown method).
Result<SearchRequest> FromProto(const v1::SearchQuery& in, const std::string& field);
// A hit's leg scores are sent for the legs the search used (a hybrid
// search's hits carry each of its legs, with rank -1 where the leg did not
// find the hit); a leg no hit of the result was found by is left unset.
void ToProto(const SearchResult& in, v1::SearchResponse* out);
Result<SearchResult> FromProto(const v1::SearchResponse& in);

// RetentionPolicy ⇄ the two optional fields of CollectionConfig (and of
// SetRetentionRequest): unset fields keep `base`'s value. InvalidArgument
// naming `field`.keep_seconds when it is negative or above
// Limits::kMaxKeepSeconds.
template <typename Message>
Result<RetentionPolicy> RetentionFromProto(const Message& in, const RetentionPolicy& base, const std::string& field) {
  RetentionPolicy out = base;
  if (in.has_keep_versions()) out.keep_versions = in.keep_versions();
  if (in.has_keep_seconds()) {
    if (in.keep_seconds() < 0) {
      return Status::InvalidArgument(field + "keep_seconds: " + std::to_string(in.keep_seconds()) +
                                     " is negative (0 turns the rule off)");
    }
    if (in.keep_seconds() > Limits::kMaxKeepSeconds) {
      return Status::InvalidArgument(field + "keep_seconds: " + std::to_string(in.keep_seconds()) +
                                     " is above the limit " + std::to_string(Limits::kMaxKeepSeconds) +
                                     " (100 years; 0 turns the rule off)");
    }
    out.keep_seconds = in.keep_seconds();
  }
  return out;
}

// --- Snapshots, diffs, restore, GC, export / import --------------------------
void ToProto(const SnapshotInfo& in, v1::SnapshotInfo* out);
SnapshotInfo FromProto(const v1::SnapshotInfo& in);

v1::ChangeKind ToProto(ChangeKind kind);
// InvalidArgument naming `field` for CHANGE_KIND_UNSPECIFIED or an unknown value.
Result<ChangeKind> FromProto(v1::ChangeKind kind, const std::string& field);
void ToProto(const DiffPage& in, v1::DiffResponse* out);
Result<DiffPage> FromProto(const v1::DiffResponse& in);

void ToProto(const RestoreResult& in, v1::RestoreResponse* out);
RestoreResult FromProto(const v1::RestoreResponse& in);

void ToProto(const GcResult& in, v1::GcResponse* out);
GcResult FromProto(const v1::GcResponse& in);

// The wire result names the export directory (`name`), not the server's path;
// ExportResult::path becomes the name on the way back.
void ToProto(const ExportResult& in, const std::string& name, v1::ExportResult* out);
ExportResult FromProto(const v1::ExportResult& in);
void ToProto(const ImportResult& in, v1::ImportResult* out);
ImportResult FromProto(const v1::ImportResult& in);

// --- Context service and retrieval log ----------------------------------------
// The request's ReadAt becomes RetrieveRequest::at (a snapshot name is
// resolved, and logged, by the engine). InvalidArgument for an empty
// snapshot name. k 0 becomes 10.
Result<RetrieveRequest> FromProto(const v1::RetrieveRequest& in);
void ToProto(const RetrieveRequest& in, v1::RetrieveRequest* out);
void ToProto(const RetrievedChunk& in, v1::RetrievedChunk* out);
RetrievedChunk FromProto(const v1::RetrievedChunk& in);
void ToProto(const RetrieveResult& in, v1::RetrieveResponse* out);
RetrieveResult FromProto(const v1::RetrieveResponse& in);

AnswerRequest FromProto(const v1::RecordAnswerRequest& in);
void ToProto(const AnswerRequest& in, v1::RecordAnswerRequest* out);

v1::CacheMatch ToProto(CacheMatch match);
CacheMatch FromProto(v1::CacheMatch match);
v1::LogKind ToProto(LogKind kind);
// InvalidArgument naming `field` for an unknown value (and for
// LOG_KIND_UNSPECIFIED, which only ListLogRequest allows, as "every kind").
Result<LogKind> FromProto(v1::LogKind kind, const std::string& field);
// `with_vector` false leaves out the query vector (its hash stays). The
// annotation (answer and cache-hit records) travels when the record has one.
void ToProto(const LogRecord& in, v1::LogRecord* out, bool with_vector = true);
Result<LogRecord> FromProto(const v1::LogRecord& in, const std::string& field);

// limit 0 becomes 100.
Result<LogQuery> FromProto(const v1::ListLogRequest& in);
void ToProto(const LogQuery& in, v1::ListLogRequest* out);
Result<LogPage> FromProto(const v1::ListLogResponse& in);

void ToProto(const LogVerifyResult& in, v1::VerifyLogResponse* out);
LogVerifyResult FromProto(const v1::VerifyLogResponse& in);

v1::ReplayMode ToProto(ReplayMode mode);
// REPLAY_MODE_UNSPECIFIED is context; InvalidArgument naming `field` for an
// unknown value.
Result<ReplayMode> FromProto(v1::ReplayMode mode, const std::string& field);
// Like RetrieveRequest, a snapshot name in `at` is passed through unresolved.
Result<ReplayRequest> FromProto(const v1::ReplayRequest& in);
void ToProto(const ReplayRequest& in, v1::ReplayRequest* out);
void ToProto(const ReplayResult& in, v1::ReplayResponse* out);
Result<ReplayResult> FromProto(const v1::ReplayResponse& in);

// Audit. Range checks (threshold, low_g, worst, max_retrievals) are the
// server's; these only copy. In the batch request, unset low_g and worst
// keep BatchAuditRequest's defaults and max_retrievals 0 becomes its default.
AuditRequest FromProto(const v1::AuditRequest& in);
void ToProto(const AuditRequest& in, v1::AuditRequest* out);
v1::SentenceVerdict ToProto(SentenceVerdict verdict);
// InvalidArgument naming `field` for SENTENCE_VERDICT_UNSPECIFIED or an
// unknown value.
Result<SentenceVerdict> FromProto(v1::SentenceVerdict verdict, const std::string& field);
void ToProto(const AuditResult& in, v1::AuditResponse* out);
// `field` prefixes the error of a bad verdict ("worst[2].sentences[0].verdict").
Result<AuditResult> FromProto(const v1::AuditResponse& in, const std::string& field);
BatchAuditRequest FromProto(const v1::AuditCollectionRequest& in);
void ToProto(const BatchAuditRequest& in, v1::AuditCollectionRequest* out);
void ToProto(const BatchAuditResult& in, v1::AuditCollectionResponse* out);
Result<BatchAuditResult> FromProto(const v1::AuditCollectionResponse& in);

// --- Prompts (prompts.proto) ---------------------------------------------------
void ToProto(const PromptVersion& in, v1::Prompt* out);
PromptVersion FromProto(const v1::Prompt& in);
PromptRef FromProto(const v1::PromptSelector& in);
void ToProto(const PromptRef& in, v1::PromptSelector* out);
void ToProto(const PromptLabelEvent& in, v1::LabelMove* out);
PromptLabelEvent FromProto(const v1::LabelMove& in, const std::string& name);
void ToProto(const PromptInfo& in, v1::PromptSummary* out);
PromptInfo FromProto(const v1::PromptSummary& in);
void ToProto(const PromptDiff& in, v1::DiffPromptResponse* out);
PromptDiff FromProto(const v1::DiffPromptResponse& in, const std::string& name, uint32_t from, uint32_t to);
PromptDraft FromProto(const v1::CreatePromptVersionRequest& in);
void ToProto(const PromptDraft& in, v1::CreatePromptVersionRequest* out);

// --- Answer cache (cache.proto) -------------------------------------------------
CacheStoreRequest FromProto(const v1::CacheStoreRequest& in);
void ToProto(const CacheStoreRequest& in, v1::CacheStoreRequest* out);
CacheLookupRequest FromProto(const v1::CacheLookupRequest& in);
void ToProto(const CacheLookupRequest& in, v1::CacheLookupRequest* out);
void ToProto(const CacheLookupResult& in, v1::CacheLookupResponse* out);
CacheLookupResult FromProto(const v1::CacheLookupResponse& in);
void ToProto(const CacheStats& in, v1::GetCacheStatsResponse* out);
CacheStats FromProto(const v1::GetCacheStatsResponse& in);

// --- Monitoring (monitor.proto, verity/monitor.h; convert_monitor.cc) -----------
// Limits (bucket_seconds, low_g, max_flagged, ...) are the engine's to
// check; these fill the wire's defaults and copy.
v1::MonitorFlag ToProto(MonitorFlag flag);
// InvalidArgument naming `field` for MONITOR_FLAG_UNSPECIFIED or an unknown value.
Result<MonitorFlag> FromProto(v1::MonitorFlag flag, const std::string& field);
void ToProto(const Annotation& in, v1::Annotation* out);
// `field` ("annotation", "" for a top-level one) prefixes the error of an
// unknown flag ("annotation.flags[1]: ...").
Result<Annotation> FromProto(const v1::Annotation& in, const std::string& field);
// max_records 0 becomes 1,000,000.
AnnotateLogRequest FromProto(const v1::AnnotateLogRequest& in);
void ToProto(const AnnotateLogRequest& in, v1::AnnotateLogRequest* out);
void ToProto(const AnnotateLogResult& in, v1::AnnotateLogResponse* out);
AnnotateLogResult FromProto(const v1::AnnotateLogResponse& in);
// Unset low_g becomes 0.6, unset max_flagged 100, unset ids_per_bucket 10,
// max_records 0 1,000,000. ToProto sets every optional field.
MonitorReportRequest FromProto(const v1::GetMonitorReportRequest& in);
void ToProto(const MonitorReportRequest& in, v1::GetMonitorReportRequest* out);
void ToProto(const MonitorReport& in, v1::GetMonitorReportResponse* out);
// InvalidArgument naming flagged[i].flags[j] for an unknown flag.
Result<MonitorReport> FromProto(const v1::GetMonitorReportResponse& in);

}  // namespace verity::wire
