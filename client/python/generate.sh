#!/usr/bin/env bash
# Generates the Python protobuf and gRPC modules for Verity's wire API into
# OUT_DIR, which the Python client (client/python/verity_client) imports from
# PYTHONPATH:
#
#   OUT_DIR/verity/v1/{auth,common,collections,records,search,snapshots,context,prompts,cache,monitor}_pb2.py
#   OUT_DIR/verity/v1/{collections,records,search,snapshots,context,prompts,cache,monitor}_pb2_grpc.py
#   OUT_DIR/grpc_health/v1/health_pb2.py, health_pb2_grpc.py
#
# plus the __init__.py files that make them packages, so that
# `import verity.v1.search_pb2` works with OUT_DIR on PYTHONPATH.
#
# Usage: client/python/generate.sh OUT_DIR
#
# Needs Debian's protobuf-compiler (protoc) and either protobuf-compiler-grpc
# (grpc_python_plugin, also needed by the C++ build) or python3-grpc-tools.
#
# Why not grpc_tools for everything: Debian 12's python3-grpc-tools (1.14)
# bundles protoc 3.5.1. Its *_pb2.py files build descriptors by calling
# descriptor.FileDescriptor(...) and friends directly, which the installed
# runtime, python3-protobuf 3.21 (Python package version 4.21), accepts with
# its C++ backend but warns about with the pure-Python backend, and newer
# runtimes refuse; and it cannot parse proto3 `optional` fields, which the
# wire API uses (CollectionConfig.keep_versions and others). So everything
# comes from the system protoc (3.21, the runtime's own version): the
# *_pb2.py files directly, the *_pb2_grpc.py files through gRPC's
# grpc_python_plugin. Those are plain Python that call
# grpc.Channel.unary_unary / unary_stream with the messages'
# SerializeToString / FromString, which is stable across grpcio versions.
# grpc_tools is only the fallback when the plugin is missing (and then fails
# on `optional`).
#
# Why grpc_health and not grpc/health: proto/grpc/health/v1/health.proto would
# generate into a package named `grpc`, which the installed grpcio package
# shadows (it is a regular package, so no second `grpc` directory on the path
# is searched). The module goes to grpc_health/v1/ instead, the layout of
# gRPC's own grpcio-health-checking package; the proto package, and so the
# service name on the wire, stays grpc.health.v1.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUT_DIR" >&2
  exit 2
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
proto_root="$(cd "$here/../../proto" && pwd)"
out="$1"
PYTHON="${PYTHON:-/usr/bin/python3}"
PROTOC="${PROTOC:-protoc}"

GRPC_PYTHON_PLUGIN="${GRPC_PYTHON_PLUGIN:-$(command -v grpc_python_plugin || true)}"

command -v "$PROTOC" >/dev/null || { echo "$0: $PROTOC not found (apt-get install protobuf-compiler)" >&2; exit 1; }
if [ -z "$GRPC_PYTHON_PLUGIN" ]; then
  "$PYTHON" -c "import grpc_tools.protoc" 2>/dev/null ||
    { echo "$0: neither grpc_python_plugin (apt-get install protobuf-compiler-grpc) nor $PYTHON's grpc_tools found" >&2; exit 1; }
fi

# Stage the health proto under grpc_health/v1/ so that the generated modules
# (and their imports of each other) use that package path.
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/grpc_health/v1"
cp "$proto_root/grpc/health/v1/health.proto" "$stage/grpc_health/v1/health.proto"

mkdir -p "$out"
out="$(cd "$out" && pwd)"  # absolute: the protoc runs below change directory
# Relative paths: protoc maps each file to its import path by the -I that
# contains it, and relative names keep the generated "# source:" lines stable.
verity_protos=(verity/v1/auth.proto verity/v1/common.proto verity/v1/collections.proto verity/v1/records.proto verity/v1/search.proto
               verity/v1/snapshots.proto verity/v1/context.proto verity/v1/prompts.proto verity/v1/cache.proto verity/v1/monitor.proto)
services=(verity/v1/collections.proto verity/v1/records.proto verity/v1/search.proto verity/v1/snapshots.proto
          verity/v1/context.proto verity/v1/prompts.proto verity/v1/cache.proto verity/v1/monitor.proto)

(cd "$proto_root" && "$PROTOC" -I. --python_out="$out" "${verity_protos[@]}")
(cd "$stage" && "$PROTOC" -I. --python_out="$out" grpc_health/v1/health.proto)
# The gRPC modules: through the plugin with the system protoc, else grpc_tools.
grpc_protoc() {
  if [ -n "$GRPC_PYTHON_PLUGIN" ]; then
    "$PROTOC" --plugin=protoc-gen-grpc_python="$GRPC_PYTHON_PLUGIN" "$@"
  else
    "$PYTHON" -m grpc_tools.protoc "$@"
  fi
}
(cd "$proto_root" && grpc_protoc -I. --grpc_python_out="$out" "${services[@]}")
(cd "$stage" && grpc_protoc -I. --grpc_python_out="$out" grpc_health/v1/health.proto)

for pkg in verity verity/v1 grpc_health grpc_health/v1; do
  touch "$out/$pkg/__init__.py"
done
