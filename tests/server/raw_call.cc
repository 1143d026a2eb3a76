#include "server/raw_call.h"

#include <grpcpp/generic/generic_stub.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>

namespace verity::test {

RawResult RawCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& path, const std::string& key,
                  const std::string& request) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  if (!key.empty()) ctx.AddMetadata("authorization", "Bearer " + key);
  grpc::CompletionQueue cq;
  void* tag = nullptr;
  bool ok = false;
  auto call = stub.PrepareCall(&ctx, path, &cq);
  call->StartCall(reinterpret_cast<void*>(1));
  cq.Next(&tag, &ok);
  grpc::Slice bytes(request);
  grpc::ByteBuffer message(&bytes, 1);
  call->WriteLast(message, grpc::WriteOptions(), reinterpret_cast<void*>(2));
  cq.Next(&tag, &ok);
  RawResult result;
  while (true) {
    grpc::ByteBuffer response;
    call->Read(&response, reinterpret_cast<void*>(3));
    cq.Next(&tag, &ok);
    if (!ok) break;
    std::vector<grpc::Slice> slices;
    std::string text;
    if (response.Dump(&slices).ok()) {
      for (const auto& s : slices) text.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    result.responses.push_back(std::move(text));
  }
  call->Finish(&result.status, reinterpret_cast<void*>(4));
  cq.Next(&tag, &ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return result;
}

std::vector<const google::protobuf::ServiceDescriptor*> WireServices() {
  std::vector<const google::protobuf::ServiceDescriptor*> out;
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(VERITY_PROTO_DIR) + "/verity/v1")) {
    if (entry.path().extension() == ".proto") files.push_back("verity/v1/" + entry.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  for (const auto& name : files) {
    const auto* file = pool->FindFileByName(name);
    INFO(name);
    REQUIRE(file != nullptr);
    for (int i = 0; i < file->service_count(); ++i) out.push_back(file->service(i));
  }
  return out;
}

}  // namespace verity::test
