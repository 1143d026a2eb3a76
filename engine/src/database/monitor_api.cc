// The public monitoring calls (verity/monitor.h): each holds the façade's
// lifecycle lock and hands the work to the monitor (monitor/monitor.h).
// WORK IN PROGRESS (issue #28): the engine monitor lands next; until then
// every call answers Unavailable.
#include "database/database_impl.h"

namespace verity {

namespace {
Status NotYet() { return Status::Unavailable("monitoring: not built yet (issue #28 in progress)"); }
}  // namespace

Result<Annotation> Database::Annotate(const std::string&, bool) {
  VERITY_CHECK_OPEN_();
  return NotYet();
}

Result<AnnotateLogResult> Database::AnnotateLog(const AnnotateLogRequest&) {
  VERITY_CHECK_OPEN_();
  return NotYet();
}

Result<MonitorReport> Database::GetMonitorReport(const MonitorReportRequest&) const {
  VERITY_CHECK_OPEN_();
  return NotYet();
}

Status Database::ResetMonitorReference(const std::string&) {
  VERITY_CHECK_OPEN_();
  return NotYet();
}

std::vector<CollectionMonitorStats> Database::GetMonitorStats() const { return {}; }

}  // namespace verity
