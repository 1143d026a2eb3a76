// The OpenAPI 3.1 document of verityd's HTTP/JSON API (docs/http.md):
// one `POST /v1/<Service>/<Method>` per RPC of package verity.v1, with the
// request and response schemas in protobuf's canonical JSON mapping, the
// permission each RPC requires, the error body and the streaming methods.
//
// Generated at build time from the .proto files (server/tools/openapi_gen.cc,
// target verity_openapi_gen), so it always describes the API compiled into
// the binary; the same document is written to <build>/server/openapi.json.
// Link the library `verity_openapi` to use it.
//
// Thread-safety: the document is a constant; call from any thread.
// Ownership: the view points into static storage, valid for the program's
// whole run.
#pragma once

#include <string_view>

namespace verity::server {

// The document as UTF-8 JSON text (pretty-printed, about 200 KB).
std::string_view OpenApiDocument();

}  // namespace verity::server
