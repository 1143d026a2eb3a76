// The public context calls (verity/database.h): each holds the façade's
// lifecycle lock (Retrieve and RecordAnswer also check that the database is
// writable, and count as a running call for the log's waiters) and hands
// the work to the context service (context/context_service.h).
#include "database/database_impl.h"

namespace verity {

Result<RetrieveResult> Database::Retrieve(const RetrieveRequest& request) {
  VERITY_CHECK_WRITABLE_();
  ScopedCount running(impl_->calls_running);
  auto result = impl_->context->Retrieve(request);
  if (result.ok()) impl_->monitor->ObserveRetrieval(request, *result);
  return result;
}

Result<LogRecord> Database::RecordAnswer(const AnswerRequest& request) {
  VERITY_CHECK_WRITABLE_();
  ScopedCount running(impl_->calls_running);
  auto record = impl_->context->RecordAnswer(request);
  if (record.ok()) impl_->monitor->AnnotateRecorded(*record);
  return record;
}

Result<ReplayResult> Database::Replay(const ReplayRequest& request) const {
  VERITY_CHECK_OPEN_();
  return impl_->context->ReplayOne(request);
}

Result<AuditResult> Database::Audit(const AuditRequest& request) const {
  VERITY_CHECK_OPEN_();
  bool unanswered = false;
  return impl_->context->AuditOne(request, &unanswered);
}

Result<BatchAuditResult> Database::AuditCollection(const BatchAuditRequest& request,
                                                   const std::function<Status()>& keep_going) const {
  VERITY_CHECK_OPEN_();
  return impl_->context->AuditCollection(request, keep_going);
}

}  // namespace verity
