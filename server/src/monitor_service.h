// The gRPC MonitorService of verityd (monitor.proto, docs/monitoring.md):
// per-answer annotations, the per-collection monitor report and the reset
// of the live drift references. A thin adapter like the services of
// services.h: it converts (convert.h), calls the engine, which checks every
// limit and names the field, and maps the Status; ServeCall does the rest
// (permissions from the .proto's required_permission, deadline, logging).
//
// Thread-safety: gRPC calls the methods concurrently; they share only the
// Database (thread-safe) and read-only options.
// Ownership: the ServiceDeps' objects must outlive the service.
#pragma once

#include "services.h"
#include "verity/v1/monitor.grpc.pb.h"

namespace verity::server {

class MonitorServiceImpl final : public v1::MonitorService::Service {
 public:
  explicit MonitorServiceImpl(const ServiceDeps& deps) : deps_(deps), db_(deps.db) {}
  grpc::Status Annotate(grpc::ServerContext* ctx, const v1::AnnotateRequest* req, v1::AnnotateResponse* resp) override;
  grpc::Status AnnotateLog(grpc::ServerContext* ctx, const v1::AnnotateLogRequest* req,
                           v1::AnnotateLogResponse* resp) override;
  grpc::Status GetMonitorReport(grpc::ServerContext* ctx, const v1::GetMonitorReportRequest* req,
                                v1::GetMonitorReportResponse* resp) override;
  grpc::Status ResetMonitorReference(grpc::ServerContext* ctx, const v1::ResetMonitorReferenceRequest* req,
                                     v1::ResetMonitorReferenceResponse* resp) override;

 private:
  const ServiceDeps deps_;
  Database* db_;
};

}  // namespace verity::server
