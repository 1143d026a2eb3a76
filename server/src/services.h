// The gRPC services of verityd: thin adapters that validate what the engine
// cannot (server limits, deadlines), convert (convert.h), call the engine
// and map its Status. No logic of their own beyond that.
//
// Thread-safety: gRPC calls the methods from its thread pool concurrently;
// they share only the Database (thread-safe) and read-only options.
// Ownership: the Database must outlive the services.
#pragma once

#include <memory>
#include <vector>

#include "server_options.h"
#include "verity/database.h"
#include "verity/v1/collections.grpc.pb.h"
#include "verity/v1/records.grpc.pb.h"
#include "verity/v1/search.grpc.pb.h"

namespace verity::server {

class CollectionServiceImpl final : public v1::CollectionService::Service {
 public:
  CollectionServiceImpl(Database* db, const ServerOptions* options) : db_(db), options_(options) {}
  grpc::Status CreateCollection(grpc::ServerContext* ctx, const v1::CreateCollectionRequest* req,
                                v1::CreateCollectionResponse* resp) override;
  grpc::Status GetCollection(grpc::ServerContext* ctx, const v1::GetCollectionRequest* req,
                             v1::GetCollectionResponse* resp) override;
  grpc::Status ListCollections(grpc::ServerContext* ctx, const v1::ListCollectionsRequest* req,
                               v1::ListCollectionsResponse* resp) override;
  grpc::Status DropCollection(grpc::ServerContext* ctx, const v1::DropCollectionRequest* req,
                              v1::DropCollectionResponse* resp) override;
  grpc::Status ListVersions(grpc::ServerContext* ctx, const v1::ListVersionsRequest* req,
                            v1::ListVersionsResponse* resp) override;

 private:
  Database* db_;
  const ServerOptions* options_;
};

class RecordServiceImpl final : public v1::RecordService::Service {
 public:
  RecordServiceImpl(Database* db, const ServerOptions* options) : db_(db), options_(options) {}
  grpc::Status Upsert(grpc::ServerContext* ctx, const v1::UpsertRequest* req, v1::WriteResponse* resp) override;
  grpc::Status Delete(grpc::ServerContext* ctx, const v1::DeleteRequest* req, v1::WriteResponse* resp) override;
  grpc::Status Get(grpc::ServerContext* ctx, const v1::GetRequest* req, v1::GetResponse* resp) override;
  grpc::Status Scroll(grpc::ServerContext* ctx, const v1::ScrollRequest* req, v1::ScrollResponse* resp) override;
  grpc::Status Count(grpc::ServerContext* ctx, const v1::CountRequest* req, v1::CountResponse* resp) override;

 private:
  Database* db_;
  const ServerOptions* options_;
};

// Searches use gRPC's callback API: the handler runs on the thread that read
// the request, one thread hand-off fewer than the sync API per call.
class SearchServiceImpl final : public v1::SearchService::CallbackService {
 public:
  SearchServiceImpl(Database* db, const ServerOptions* options) : db_(db), options_(options) {}
  grpc::ServerUnaryReactor* Search(grpc::CallbackServerContext* ctx, const v1::SearchRequest* req,
                                   v1::SearchResponse* resp) override;
  grpc::ServerUnaryReactor* BatchSearch(grpc::CallbackServerContext* ctx, const v1::BatchSearchRequest* req,
                                        v1::BatchSearchResponse* resp) override;

 private:
  Database* db_;
  const ServerOptions* options_;
};

}  // namespace verity::server
