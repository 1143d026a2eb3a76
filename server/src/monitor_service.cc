#include "monitor_service.h"

#include "convert.h"

namespace verity::server {

using wire::FromProto;
using wire::ToProto;

grpc::Status MonitorServiceImpl::Annotate(grpc::ServerContext* ctx, const v1::AnnotateRequest* req,
                                          v1::AnnotateResponse* resp) {
  return ServeCall(ctx, "Annotate", deps_, *req, resp, [&]() -> Status {
    if (req->retrieval_id().empty()) return Status::InvalidArgument("retrieval_id: empty");
    VERITY_ASSIGN_OR_RETURN(Annotation annotation, db_->Annotate(req->retrieval_id(), req->recompute()));
    ToProto(annotation, resp->mutable_annotation());
    return Status::Ok();
  });
}

grpc::Status MonitorServiceImpl::AnnotateLog(grpc::ServerContext* ctx, const v1::AnnotateLogRequest* req,
                                             v1::AnnotateLogResponse* resp) {
  return ServeCall(ctx, "AnnotateLog", deps_, *req, resp, [&]() -> Status {
    VERITY_ASSIGN_OR_RETURN(AnnotateLogResult result, db_->AnnotateLog(FromProto(*req)));
    ToProto(result, resp);
    return Status::Ok();
  });
}

grpc::Status MonitorServiceImpl::GetMonitorReport(grpc::ServerContext* ctx, const v1::GetMonitorReportRequest* req,
                                                  v1::GetMonitorReportResponse* resp) {
  return ServeCall(ctx, "GetMonitorReport", deps_, *req, resp, [&]() -> Status {
    VERITY_ASSIGN_OR_RETURN(MonitorReport report, db_->GetMonitorReport(FromProto(*req)));
    ToProto(report, resp);
    return Status::Ok();
  });
}

grpc::Status MonitorServiceImpl::ResetMonitorReference(grpc::ServerContext* ctx,
                                                       const v1::ResetMonitorReferenceRequest* req,
                                                       v1::ResetMonitorReferenceResponse*) {
  return ServeCall(ctx, "ResetMonitorReference", deps_, *req, nullptr, [&]() -> Status {
    if (req->collection().empty()) return Status::InvalidArgument("collection: empty");
    return db_->ResetMonitorReference(req->collection());
  });
}

}  // namespace verity::server
