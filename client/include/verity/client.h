// verity::Client: a small typed C++ API over verityd's gRPC services.
//
// Every method is one RPC with the client's timeout as its deadline and
// returns Status / Result<T> with the server's code and message (e.g.
// INVALID_ARGUMENT "records[3].vector[17]: NaN"); transport failures are
// UNAVAILABLE / DEADLINE_EXCEEDED. No exceptions.
//
// Thread-safety: a Client may be used from many threads at once (gRPC stubs
// are thread-safe); share one per process and server.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "verity/status.h"
#include "verity/types.h"

namespace verity {

struct ClientOptions {
  std::string address = "127.0.0.1:7420";            // HOST:PORT of verityd
  std::chrono::milliseconds timeout{30000};          // deadline of each call
  int max_message_bytes = 64 << 20;                  // largest message sent or received
};

// A search as the client sends it; the filter is text (docs/filters.md).
struct ClientSearch {
  std::vector<float> vector;
  uint32_t k = 10;
  uint32_t ef = 0;  // 0 = the collection's default
  std::optional<Version> at;
  std::string filter;  // "" = none
  bool with_payload = true;
  bool with_vectors = false;
  SearchPlan plan = SearchPlan::kAuto;
};

struct ClientScroll {
  std::optional<Version> at;
  std::string start_after;
  uint32_t limit = 100;
  std::string filter;
  bool with_vectors = false;
};

class Client {
 public:
  // Creates a channel to options.address; connects lazily on the first call.
  explicit Client(const ClientOptions& options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const ClientOptions& options() const { return options_; }

  // OK when the server answers SERVING.
  Status Health();

  Result<CollectionInfo> CreateCollection(const CollectionConfig& config);
  Result<CollectionInfo> GetCollection(const std::string& name);
  Result<std::vector<CollectionInfo>> ListCollections();
  Status DropCollection(const std::string& name);
  Result<std::vector<VersionInfo>> ListVersions(const std::string& collection);

  Result<WriteResult> Upsert(const std::string& collection, const std::vector<Record>& records);
  Result<WriteResult> Delete(const std::string& collection, const std::vector<std::string>& ids);
  Result<StoredRecord> Get(const std::string& collection, const std::string& id,
                           std::optional<Version> at = std::nullopt);
  Result<ScrollPage> Scroll(const std::string& collection, const ClientScroll& request);
  Result<uint64_t> Count(const std::string& collection, std::optional<Version> at = std::nullopt,
                         const std::string& filter = "");
  Result<SearchResult> Search(const std::string& collection, const ClientSearch& query);
  Result<std::vector<SearchResult>> BatchSearch(const std::string& collection,
                                                const std::vector<ClientSearch>& queries);

 private:
  struct Stubs;
  ClientOptions options_;
  std::unique_ptr<Stubs> stubs_;
};

}  // namespace verity
