#include "services.h"

#include <chrono>

#include "convert.h"
#include "log.h"

namespace verity::server {
namespace {

using Clock = std::chrono::steady_clock;

// The deadline a call works under: the client's, or the server default.
Clock::time_point Deadline(const grpc::ServerContextBase* ctx, const ServerOptions& options, Clock::time_point start) {
  const auto fallback = start + std::chrono::milliseconds(options.default_deadline_ms);
  const auto client = ctx->deadline();
  if (client == std::chrono::system_clock::time_point::max()) return fallback;
  const auto remaining = client - std::chrono::system_clock::now();
  return std::min(fallback, start + std::chrono::duration_cast<Clock::duration>(remaining));
}

Status CheckDeadline(const grpc::ServerContextBase* ctx, Clock::time_point deadline) {
  if (ctx->IsCancelled()) return Status(StatusCode::kCancelled, "the client cancelled the call");
  if (Clock::now() > deadline) {
    return Status(StatusCode::kDeadlineExceeded, "deadline exceeded (the server default is --default-deadline-ms)");
  }
  return Status::Ok();
}

using wire::FromProto;
using wire::ParseFilterField;
using wire::ToGrpc;
using wire::ToProto;

// The server's own limits on a search query (the engine checks the rest).
Result<SearchRequest> SearchFromProto(const v1::SearchQuery& in, const std::string& field, const ServerOptions& o) {
  VERITY_ASSIGN_OR_RETURN(SearchRequest r, FromProto(in, field));
  if (r.k > o.max_k) {
    return Status::InvalidArgument(field + ".k: " + std::to_string(r.k) + " exceeds the server limit --max-k=" +
                                   std::to_string(o.max_k));
  }
  return r;
}

Status CheckBatch(size_t n, const ServerOptions& options, const std::string& field) {
  if (n > options.max_batch) {
    return Status::ResourceExhausted(field + ": " + std::to_string(n) + " items exceed the server limit --max-batch=" +
                                     std::to_string(options.max_batch));
  }
  return Status::Ok();
}

// Runs one call: deadline check, the body, then logging of errors and slow
// requests, and the one status mapping.
template <typename Body>
grpc::Status Serve(grpc::ServerContextBase* ctx, const char* method, const ServerOptions& options, Body&& body) {
  const auto start = Clock::now();
  const auto deadline = Deadline(ctx, options, start);
  Status status = CheckDeadline(ctx, deadline);
  if (status.ok()) status = body(deadline);
  const auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  if (!status.ok()) {
    const bool server_side = status.code() == StatusCode::kInternal || status.code() == StatusCode::kDataLoss ||
                             status.code() == StatusCode::kUnavailable || status.code() == StatusCode::kUnknown;
    Log(server_side ? "error" : "info", "request_failed",
        {{"method", method}, {"code", StatusCodeName(status.code())}, {"message", status.message()},
         {"peer", ctx->peer()}});
  }
  if (elapsed_ms >= options.slow_request_ms) {
    Log("warn", "slow_request", {{"method", method}, {"ms", std::to_string(elapsed_ms)}});
  }
  return ToGrpc(status);
}

}  // namespace

// ----- CollectionService ------------------------------------------------------

grpc::Status CollectionServiceImpl::CreateCollection(grpc::ServerContext* ctx, const v1::CreateCollectionRequest* req,
                                                     v1::CreateCollectionResponse* resp) {
  return Serve(ctx, "CreateCollection", *options_, [&](auto) -> Status {
    VERITY_ASSIGN_OR_RETURN(CollectionConfig config, FromProto(req->config()));
    if (config.dimension > options_->max_dimension) {
      return Status::InvalidArgument("config.dimension: " + std::to_string(config.dimension) +
                                     " exceeds the server limit --max-dimension=" +
                                     std::to_string(options_->max_dimension));
    }
    VERITY_ASSIGN_OR_RETURN(CollectionInfo info, db_->CreateCollection(config));
    ToProto(info, resp->mutable_collection());
    return Status::Ok();
  });
}

grpc::Status CollectionServiceImpl::GetCollection(grpc::ServerContext* ctx, const v1::GetCollectionRequest* req,
                                                  v1::GetCollectionResponse* resp) {
  return Serve(ctx, "GetCollection", *options_, [&](auto) -> Status {
    VERITY_ASSIGN_OR_RETURN(CollectionInfo info, db_->GetCollection(req->name()));
    ToProto(info, resp->mutable_collection());
    return Status::Ok();
  });
}

grpc::Status CollectionServiceImpl::ListCollections(grpc::ServerContext* ctx, const v1::ListCollectionsRequest*,
                                                    v1::ListCollectionsResponse* resp) {
  return Serve(ctx, "ListCollections", *options_, [&](auto) -> Status {
    VERITY_ASSIGN_OR_RETURN(auto all, db_->ListCollections());
    for (const auto& info : all) ToProto(info, resp->add_collections());
    return Status::Ok();
  });
}

grpc::Status CollectionServiceImpl::DropCollection(grpc::ServerContext* ctx, const v1::DropCollectionRequest* req,
                                                   v1::DropCollectionResponse*) {
  return Serve(ctx, "DropCollection", *options_, [&](auto) -> Status { return db_->DropCollection(req->name()); });
}

grpc::Status CollectionServiceImpl::ListVersions(grpc::ServerContext* ctx, const v1::ListVersionsRequest* req,
                                                 v1::ListVersionsResponse* resp) {
  return Serve(ctx, "ListVersions", *options_, [&](auto) -> Status {
    VERITY_ASSIGN_OR_RETURN(auto versions, db_->ListVersions(req->collection()));
    for (const auto& v : versions) ToProto(v, resp->add_versions());
    return Status::Ok();
  });
}

// ----- RecordService ----------------------------------------------------------

grpc::Status RecordServiceImpl::Upsert(grpc::ServerContext* ctx, const v1::UpsertRequest* req, v1::WriteResponse* resp) {
  return Serve(ctx, "Upsert", *options_, [&](auto) -> Status {
    VERITY_RETURN_IF_ERROR(CheckBatch(static_cast<size_t>(req->records_size()), *options_, "records"));
    std::vector<Record> records;
    records.reserve(static_cast<size_t>(req->records_size()));
    for (int i = 0; i < req->records_size(); ++i) {
      VERITY_ASSIGN_OR_RETURN(Record r, FromProto(req->records(i), "records[" + std::to_string(i) + "]"));
      records.push_back(std::move(r));
    }
    VERITY_ASSIGN_OR_RETURN(WriteResult w, db_->Upsert(req->collection(), std::move(records)));
    resp->set_version(w.version);
    resp->set_applied(w.applied);
    return Status::Ok();
  });
}

grpc::Status RecordServiceImpl::Delete(grpc::ServerContext* ctx, const v1::DeleteRequest* req, v1::WriteResponse* resp) {
  return Serve(ctx, "Delete", *options_, [&](auto) -> Status {
    VERITY_RETURN_IF_ERROR(CheckBatch(static_cast<size_t>(req->ids_size()), *options_, "ids"));
    std::vector<std::string> ids(req->ids().begin(), req->ids().end());
    VERITY_ASSIGN_OR_RETURN(WriteResult w, db_->Delete(req->collection(), ids));
    resp->set_version(w.version);
    resp->set_applied(w.applied);
    return Status::Ok();
  });
}

grpc::Status RecordServiceImpl::Get(grpc::ServerContext* ctx, const v1::GetRequest* req, v1::GetResponse* resp) {
  return Serve(ctx, "Get", *options_, [&](auto) -> Status {
    VERITY_ASSIGN_OR_RETURN(StoredRecord r, db_->Get(req->collection(), req->id(), FromProto(req->at(), req->has_at())));
    ToProto(r, resp->mutable_record());
    return Status::Ok();
  });
}

grpc::Status RecordServiceImpl::Scroll(grpc::ServerContext* ctx, const v1::ScrollRequest* req, v1::ScrollResponse* resp) {
  return Serve(ctx, "Scroll", *options_, [&](auto) -> Status {
    ScrollRequest request;
    request.at = FromProto(req->at(), req->has_at());
    request.start_after = req->start_after();
    request.limit = req->limit() == 0 ? 100 : req->limit();
    request.with_vectors = req->with_vectors();
    VERITY_ASSIGN_OR_RETURN(request.filter, ParseFilterField(req->filter(), "filter"));
    VERITY_ASSIGN_OR_RETURN(ScrollPage page, db_->Scroll(req->collection(), request));
    resp->set_version(page.version);
    for (const auto& r : page.records) ToProto(r, resp->add_records());
    resp->set_next_cursor(page.next_cursor);
    return Status::Ok();
  });
}

grpc::Status RecordServiceImpl::Count(grpc::ServerContext* ctx, const v1::CountRequest* req, v1::CountResponse* resp) {
  return Serve(ctx, "Count", *options_, [&](auto) -> Status {
    VERITY_ASSIGN_OR_RETURN(std::optional<Filter> filter, ParseFilterField(req->filter(), "filter"));
    VERITY_ASSIGN_OR_RETURN(uint64_t count, db_->Count(req->collection(), FromProto(req->at(), req->has_at()),
                                                        filter ? &*filter : nullptr));
    resp->set_count(count);
    return Status::Ok();
  });
}

// ----- SearchService ----------------------------------------------------------

grpc::ServerUnaryReactor* SearchServiceImpl::Search(grpc::CallbackServerContext* ctx, const v1::SearchRequest* req,
                                                     v1::SearchResponse* resp) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(Serve(ctx, "Search", *options_, [&](auto) -> Status {
    VERITY_ASSIGN_OR_RETURN(SearchRequest request, SearchFromProto(req->query(), "query", *options_));
    auto result = db_->Search(req->collection(), request);
    if (result.status().code() == StatusCode::kInvalidArgument) {
      return Status(StatusCode::kInvalidArgument, "query." + result.status().message());  // e.g. query.vector
    }
    if (!result.ok()) return result.status();
    ToProto(*result, resp);
    return Status::Ok();
  }));
  return reactor;
}

grpc::ServerUnaryReactor* SearchServiceImpl::BatchSearch(grpc::CallbackServerContext* ctx,
                                                          const v1::BatchSearchRequest* req,
                                                          v1::BatchSearchResponse* resp) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(Serve(ctx, "BatchSearch", *options_, [&](auto) -> Status {
    if (req->queries_size() == 0) return Status::InvalidArgument("queries: the batch is empty");
    VERITY_RETURN_IF_ERROR(CheckBatch(static_cast<size_t>(req->queries_size()), *options_, "queries"));
    std::vector<SearchRequest> requests;
    for (int i = 0; i < req->queries_size(); ++i) {
      VERITY_ASSIGN_OR_RETURN(SearchRequest r, SearchFromProto(req->queries(i), "queries[" + std::to_string(i) + "]", *options_));
      requests.push_back(std::move(r));
    }
    VERITY_ASSIGN_OR_RETURN(auto results, db_->SearchBatch(req->collection(), requests));
    for (const auto& r : results) ToProto(r, resp->add_results());
    return Status::Ok();
  }));
  return reactor;
}

}  // namespace verity::server
