// The database's retrieval-log methods (get, list, verify, retention,
// stats), which open the call and hand it to the log
// (log/retrieval_log.h), whose retention releases pins through History
// (history/history.h, LogPins).
#include "database/database_impl.h"
#include "storage/codec.h"
#include "storage/keys.h"

namespace verity {

Result<std::pair<LogRecord, std::optional<LogRecord>>> Database::GetRetrieval(const std::string& retrieval_id) const {
  VERITY_CHECK_OPEN_();
  return impl_->retrieval_log->Get(retrieval_id);
}

Result<LogPage> Database::ListLog(const LogQuery& query) const {
  VERITY_CHECK_OPEN_();
  return impl_->retrieval_log->List(query);
}

Result<LogVerifyResult> Database::VerifyLog(const std::function<Status()>& keep_going) const {
  VERITY_CHECK_OPEN_();
  return impl_->retrieval_log->Verify(keep_going);
}

Result<uint64_t> Database::GcLog() {
  VERITY_CHECK_WRITABLE_();
  return impl_->retrieval_log->Gc(*impl_->history);
}

Result<LogStats> Database::GetLogStats() const {
  VERITY_CHECK_OPEN_();
  return impl_->retrieval_log->Stats();
}

}  // namespace verity
