#include "http_gateway.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/message.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/client_callback.h>

#include <cctype>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>

#include "services.h"

namespace verity::server {
namespace {

using Clock = std::chrono::steady_clock;
using google::protobuf::Message;

// How long writing a response (or one line of a stream) may take once the
// call has answered: the client reads it, or the connection is cut.
constexpr std::chrono::seconds kResponseWriteTimeout{30};
// The request header holding the call's deadline in milliseconds.
constexpr char kTimeoutHeader[] = "X-Verity-Timeout-Ms";
constexpr char kJson[] = "application/json";
constexpr char kNdjson[] = "application/x-ndjson";

void SetError(httplib::Response& res, grpc::StatusCode code, const std::string& message) {
  res.status = HttpStatusOf(code);
  res.set_content(ErrorJson(code, message) + "\n", kJson);
}

std::unique_ptr<Message> NewMessage(const google::protobuf::Descriptor* type) {
  return std::unique_ptr<Message>(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(type)->New());
}

// `json` (one message) into its binary form; InvalidArgument naming `what`
// ("request body", "line 3 of the request body") and what the parser found.
grpc::Status JsonToBytes(const google::protobuf::Descriptor* type, const std::string& json, const std::string& what,
                         grpc::ByteBuffer* out) {
  std::unique_ptr<Message> message = NewMessage(type);
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto parsed = google::protobuf::util::JsonStringToMessage(
      json.find_first_not_of(" \t\r\n") == std::string::npos ? "{}" : json, message.get(), options);
  if (!parsed.ok()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        what + ": not a JSON " + type->full_name() + ": " + std::string(parsed.message()));
  }
  std::string bytes;
  message->SerializeToString(&bytes);
  grpc::Slice slice(bytes);
  *out = grpc::ByteBuffer(&slice, 1);
  return grpc::Status::OK;
}

// A response message's bytes as one line of JSON (no newline).
grpc::Status BytesToJson(const google::protobuf::Descriptor* type, const grpc::ByteBuffer& buffer, std::string* json) {
  grpc::Slice slice;
  if (!buffer.DumpToSingleSlice(&slice).ok()) return grpc::Status(grpc::StatusCode::INTERNAL, "unreadable response");
  std::unique_ptr<Message> message = NewMessage(type);
  if (!message->ParseFromArray(slice.begin(), static_cast<int>(slice.size()))) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "the response is not a " + type->full_name());
  }
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  const auto printed = google::protobuf::util::MessageToJsonString(*message, json, options);
  if (!printed.ok()) return grpc::Status(grpc::StatusCode::INTERNAL, std::string(printed.message()));
  return grpc::Status::OK;
}

// The call's context: the caller's key as metadata, its deadline.
grpc::Status MakeContext(const httplib::Request& req, grpc::ClientContext* ctx) {
  const std::string authorization = req.get_header_value("Authorization");
  // gRPC aborts the process on a metadata value with a byte outside
  // printable ASCII (grpc/grpc#34798): such a header is refused here.
  for (const char c : authorization) {
    if (c < 0x20 || c > 0x7e) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "Authorization: a malformed header (a byte outside printable ASCII)");
    }
  }
  if (!authorization.empty()) ctx->AddMetadata("authorization", authorization);
  ctx->AddMetadata(kHttpPeerMetadata, req.remote_addr + ":" + std::to_string(req.remote_port));
  if (req.has_header(kTimeoutHeader)) {
    const std::string text = req.get_header_value(kTimeoutHeader);
    uint64_t ms = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (error != std::errc() || end != text.data() + text.size() || ms == 0 || ms > 86400000) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          std::string(kTimeoutHeader) + ": expected milliseconds, 1..86400000; got \"" + text + "\"");
    }
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(ms));
  }
  return grpc::Status::OK;
}

// A streaming call (client, server or both) through the generic stub: it
// writes the requests given, then reads every response into a queue that
// Next() takes from. Lifetime: shared by the handler and the response's
// content provider; gRPC's last callback is OnDone, after which nothing
// touches the object, and the owner waits for it (WaitDone) before letting
// go. Thread-safety: Next/Cancel/WaitDone from one thread at a time;
// the callbacks run on gRPC's threads.
class StreamCall final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  StreamCall(std::unique_ptr<grpc::ClientContext> ctx, std::vector<grpc::ByteBuffer> requests)
      : ctx_(std::move(ctx)), requests_(std::move(requests)) {}

  void Start(grpc::GenericStub* stub, const std::string& method) {
    stub->PrepareBidiStreamingCall(ctx_.get(), method, grpc::StubOptions(), this);
    // Reads are also started from outside the reactions (Next, Cancel: a
    // paused read resumed). Without a hold, gRPC may end the call while no
    // read is outstanding, and the answers not yet read are lost (seen:
    // 284 of 300 SearchStream answers, then a use after free in
    // StartRead). The hold goes when the reads end (OnReadDone(false)).
    AddHold();
    StartRead(&incoming_);
    if (requests_.empty()) {
      StartWritesDone();
    } else {
      StartWrite(&requests_[0]);
    }
    StartCall();
  }

  // The next response's bytes (true), or false once the call has ended
  // (then status() says how). Blocks until one of them.
  bool Next(grpc::ByteBuffer* out) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [this] { return !responses_.empty() || done_; });
    if (responses_.empty()) return false;
    *out = std::move(responses_.front());
    responses_.pop_front();
    if (read_paused_ && responses_.size() < kMaxQueued) {
      read_paused_ = false;
      lock.unlock();
      StartRead(&incoming_);  // the reactor allows it from any thread
    }
    return true;
  }
  const grpc::Status& status() const { return status_; }  // after Next() returned false

  // Cancels the call; a paused read is resumed so that it, and with it the
  // call, can end (gRPC delivers the status once the reads are done).
  void Cancel() {
    ctx_->TryCancel();
    std::unique_lock<std::mutex> lock(mu_);
    cancelled_ = true;
    if (read_paused_ && !done_) {
      read_paused_ = false;
      lock.unlock();
      StartRead(&incoming_);
    }
  }
  void WaitDone() {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [this] { return done_; });
  }

  void OnWriteDone(bool ok) override {
    if (!ok) return;  // the call ended; OnDone follows
    if (++written_ < requests_.size()) {
      StartWrite(&requests_[written_]);
    } else {
      StartWritesDone();
    }
  }
  void OnReadDone(bool ok) override {
    if (!ok) {  // no more responses: OnDone follows once the hold is gone
      RemoveHold();
      return;
    }
    bool pause = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      responses_.push_back(std::move(incoming_));
      incoming_ = grpc::ByteBuffer();
      // A slow HTTP reader holds the server back (gRPC's flow control)
      // rather than the gateway holding every answer.
      pause = read_paused_ = !cancelled_ && responses_.size() >= kMaxQueued;
    }
    changed_.notify_all();
    if (!pause) StartRead(&incoming_);
  }
  void OnDone(const grpc::Status& status) override {
    std::lock_guard<std::mutex> lock(mu_);
    status_ = status;
    done_ = true;
    changed_.notify_all();  // under the lock: a waiter may free *this at once after
  }

 private:
  // Responses held for the HTTP reader before reading stops.
  static constexpr size_t kMaxQueued = 16;

  const std::unique_ptr<grpc::ClientContext> ctx_;
  std::vector<grpc::ByteBuffer> requests_;
  size_t written_ = 0;  // gRPC's threads only
  // The read in progress: written by gRPC, moved out under mu_; no read is
  // outstanding while read_paused_.
  grpc::ByteBuffer incoming_;
  bool read_paused_ = false;  // GUARDED_BY(mu_)
  bool cancelled_ = false;    // GUARDED_BY(mu_): reads are not paused after Cancel
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<grpc::ByteBuffer> responses_;  // GUARDED_BY(mu_)
  bool done_ = false;                       // GUARDED_BY(mu_)
  grpc::Status status_;                     // written before done_ is set
};

// A streaming call's requests: the body itself for a server stream (one
// message), one message per non-blank line for a client stream.
grpc::Status StreamRequests(const HttpGateway::Route& route, const std::string& body,
                            std::vector<grpc::ByteBuffer>* out) {
  if (!route.client_streaming) {
    out->emplace_back();
    return JsonToBytes(route.input, body, "request body", &out->back());
  }
  size_t start = 0;
  for (int line = 1; start < body.size(); ++line) {
    size_t end = body.find('\n', start);
    if (end == std::string::npos) end = body.size();
    const std::string text = body.substr(start, end - start);
    start = end + 1;
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    out->emplace_back();
    grpc::Status status = JsonToBytes(route.input, text, "line " + std::to_string(line) + " of the request body",
                                      &out->back());
    if (!status.ok()) return status;
  }
  return grpc::Status::OK;
}

}  // namespace

int HttpStatusOf(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return 200;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE: return 400;
    case grpc::StatusCode::UNAUTHENTICATED: return 401;
    case grpc::StatusCode::PERMISSION_DENIED: return 403;
    case grpc::StatusCode::NOT_FOUND: return 404;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED: return 409;
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return 429;
    case grpc::StatusCode::CANCELLED: return 499;
    case grpc::StatusCode::UNIMPLEMENTED: return 501;
    case grpc::StatusCode::UNAVAILABLE: return 503;
    case grpc::StatusCode::DEADLINE_EXCEEDED: return 504;
    default: return 500;
  }
}

const char* GrpcCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "UNKNOWN";
  }
}

std::string ErrorJson(grpc::StatusCode code, const std::string& message) {
  // The message through protobuf's own JSON string escaping: a Value
  // holding it prints as a JSON string.
  google::protobuf::Value text;
  text.set_string_value(message);
  std::string quoted;
  (void)google::protobuf::util::MessageToJsonString(text, &quoted);
  return "{\"code\":" + std::to_string(static_cast<int>(code)) + ",\"status\":\"" + GrpcCodeName(code) +
         "\",\"message\":" + quoted + "}";
}

Result<std::unique_ptr<HttpGateway>> HttpGateway::Create(std::shared_ptr<grpc::Channel> channel,
                                                         const std::vector<std::string>& services) {
  std::unique_ptr<HttpGateway> gateway(new HttpGateway(std::move(channel)));
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const std::string& name : services) {
    const auto* service = pool->FindServiceByName(name);
    if (service == nullptr) return Status::Internal("no descriptor for service " + name);
    for (int i = 0; i < service->method_count(); ++i) {
      const auto* method = service->method(i);
      Route route;
      route.grpc_method = "/" + service->full_name() + "/" + method->name();
      route.input = method->input_type();
      route.output = method->output_type();
      route.client_streaming = method->client_streaming();
      route.server_streaming = method->server_streaming();
      gateway->routes_.emplace("/v1/" + service->name() + "/" + method->name(), route);
    }
  }
  return gateway;
}

void HttpGateway::Register(HttpListener* listener) {
  httplib::Server& server = listener->server();
  const std::string pattern = "/v1/.*";
  server.Post(pattern, [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); });
  const auto not_post = [](const httplib::Request& req, httplib::Response& res) {
    res.set_header("Allow", "POST");
    res.status = 405;
    res.set_content(ErrorJson(grpc::StatusCode::UNIMPLEMENTED, "the API takes POST with a JSON body, not " +
                                                                    req.method + " (docs/http.md)") +
                        "\n",
                    kJson);
  };
  server.Get(pattern, not_post);
  server.Put(pattern, not_post);
  server.Patch(pattern, not_post);
  server.Delete(pattern, not_post);
  server.Options(pattern, not_post);
}

void HttpGateway::Close() {
  std::unique_lock<std::shared_mutex> lock(open_mu_);
  closed_ = true;
}

void HttpGateway::Handle(const httplib::Request& req, httplib::Response& res) {
  const auto found = routes_.find(req.path);
  if (found == routes_.end()) {
    SetError(res, grpc::StatusCode::NOT_FOUND,
             "no RPC " + req.path + " (routes are /v1/<Service>/<Method>; GET /openapi.json lists them)");
    return;
  }
  const Route& route = found->second;
  // JSON (or NDJSON) only: a browser sends a cross-site POST without asking
  // the server first only with a form or text/plain body, so a page the
  // user visits cannot make calls to a local verityd.
  std::string type = req.get_header_value("Content-Type");
  type = type.substr(0, type.find(';'));
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  if (type != kJson && type != kNdjson) {
    res.status = 415;
    res.set_content(ErrorJson(grpc::StatusCode::INVALID_ARGUMENT,
                              "Content-Type \"" + req.get_header_value("Content-Type").substr(0, 64) +
                                  "\": the API takes application/json (application/x-ndjson for SearchStream)") +
                        "\n",
                    kJson);
    return;
  }
  auto ctx = std::make_unique<grpc::ClientContext>();
  const grpc::Status made = MakeContext(req, ctx.get());
  if (!made.ok()) return SetError(res, made.error_code(), made.error_message());
  if (route.client_streaming || route.server_streaming) return Streaming(route, req.body, std::move(ctx), res);
  Unary(route, req.body, ctx.get(), res);
}

void HttpGateway::Unary(const Route& route, const std::string& body, grpc::ClientContext* ctx,
                        httplib::Response& res) {
  grpc::ByteBuffer request;
  grpc::Status status = JsonToBytes(route.input, body, "request body", &request);
  if (!status.ok()) return SetError(res, status.error_code(), status.error_message());
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  {
    std::shared_lock<std::shared_mutex> open(open_mu_);
    if (closed_) return SetError(res, grpc::StatusCode::UNAVAILABLE, "verityd is stopping");
    stub_.UnaryCall(ctx, route.grpc_method, grpc::StubOptions(), &request, &response,
                    [&done](grpc::Status s) { done.set_value(std::move(s)); });
  }
  status = done.get_future().get();
  HttpListener::SetResponseDeadline(Clock::now() + kResponseWriteTimeout);
  if (!status.ok()) return SetError(res, status.error_code(), status.error_message());
  std::string json;
  status = BytesToJson(route.output, response, &json);
  if (!status.ok()) return SetError(res, status.error_code(), status.error_message());
  json += "\n";
  res.set_content(json, kJson);
}

void HttpGateway::Streaming(const Route& route, const std::string& body, std::unique_ptr<grpc::ClientContext> ctx,
                            httplib::Response& res) {
  std::vector<grpc::ByteBuffer> requests;
  const grpc::Status parsed = StreamRequests(route, body, &requests);
  if (!parsed.ok()) return SetError(res, parsed.error_code(), parsed.error_message());
  auto call = std::make_shared<StreamCall>(std::move(ctx), std::move(requests));
  {
    std::shared_lock<std::shared_mutex> open(open_mu_);
    if (closed_) return SetError(res, grpc::StatusCode::UNAVAILABLE, "verityd is stopping");
    call->Start(&stub_, route.grpc_method);
  }
  // The status is decided by the first event: a call refused before its
  // first message (no key, no such collection) is an ordinary error answer.
  struct Pending {
    grpc::ByteBuffer message;
    bool held = false;  // `message` is the first response, not yet written
  };
  auto first = std::make_shared<Pending>();
  first->held = call->Next(&first->message);
  // The head (and the first line) is written from now on, however long the
  // first message took.
  HttpListener::SetResponseDeadline(Clock::now() + kResponseWriteTimeout);
  if (!first->held) {
    if (call->status().ok()) return res.set_content("", kNdjson);  // a stream with no response
    return SetError(res, call->status().error_code(), call->status().error_message());
  }
  const google::protobuf::Descriptor* output = route.output;
  res.set_chunked_content_provider(
      kNdjson,
      [call, first, output](size_t, httplib::DataSink& sink) {
        grpc::ByteBuffer next;
        bool more = true;
        if (first->held) {
          next = std::move(first->message);
          first->held = false;
        } else {
          more = call->Next(&next);
        }
        HttpListener::SetResponseDeadline(Clock::now() + kResponseWriteTimeout);
        std::string line;
        if (more) {
          const grpc::Status status = BytesToJson(output, next, &line);
          if (!status.ok()) line = "{\"error\":" + ErrorJson(status.error_code(), status.error_message()) + "}";
        } else if (!call->status().ok()) {
          line = "{\"error\":" + ErrorJson(call->status().error_code(), call->status().error_message()) + "}";
        }
        if (!line.empty()) {
          line += "\n";
          if (!sink.write(line.data(), line.size())) return false;
        }
        if (!more) sink.done();
        return true;
      },
      [call](bool) {
        call->Cancel();  // a no-op once the call has ended
        call->WaitDone();
      });
}

}  // namespace verity::server
