// The public monitoring calls (verity/monitor.h): each holds the façade's
// lifecycle lock and hands the work to the monitor (monitor/monitor.h).
#include "database/database_impl.h"

namespace verity {

Result<Annotation> Database::Annotate(const std::string& retrieval_id, bool recompute) {
  VERITY_CHECK_OPEN_();
  return impl_->monitor->Annotate(retrieval_id, recompute, !impl_->store->IsReadOnly());
}

Result<AnnotateLogResult> Database::AnnotateLog(const AnnotateLogRequest& request) {
  VERITY_CHECK_WRITABLE_();
  return impl_->monitor->AnnotateLog(request);
}

Result<MonitorReport> Database::GetMonitorReport(const MonitorReportRequest& request) const {
  VERITY_CHECK_OPEN_();
  return impl_->monitor->Report(request);
}

Status Database::ResetMonitorReference(const std::string& collection) {
  VERITY_CHECK_OPEN_();
  return impl_->monitor->Reset(collection);
}

std::vector<CollectionMonitorStats> Database::GetMonitorStats() const {
  LifecycleGuard life(impl_->lifecycle_mu);
  if (impl_->closed) return {};
  return impl_->monitor->Stats();
}

}  // namespace verity
