#!/usr/bin/env bash
# Generates the Python protobuf and gRPC modules for Verity's wire API into
# OUT_DIR, which the Python client (client/python/verity_client) imports from
# PYTHONPATH:
#
#   OUT_DIR/verity/v1/{common,collections,records,search}_pb2.py
#   OUT_DIR/verity/v1/{collections,records,search}_pb2_grpc.py
#   OUT_DIR/grpc_health/v1/health_pb2.py, health_pb2_grpc.py
#
# plus the __init__.py files that make them packages, so that
# `import verity.v1.search_pb2` works with OUT_DIR on PYTHONPATH.
#
# Usage: client/python/generate.sh OUT_DIR
#
# Needs Debian's protobuf-compiler (protoc) and python3-grpc-tools.
#
# Why two compilers: Debian 12's python3-grpc-tools (1.14) bundles protoc
# 3.5.1, whose *_pb2.py files build descriptors by calling
# descriptor.FileDescriptor(...) and friends directly. The installed runtime,
# python3-protobuf 3.21 (Python package version 4.21), still accepts that with
# its C++ backend, but with the pure-Python backend
# (PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python) every import warns "Call to
# deprecated create function FileDescriptor()", and newer runtimes refuse it.
# So the *_pb2.py files come from the system protoc (3.21, the runtime's own
# version, which emits the builder-based code the runtime expects), and only
# the *_pb2_grpc.py files come from grpc_tools: those are plain Python that
# call grpc.Channel.unary_unary with the messages' SerializeToString /
# FromString, which is stable across grpcio versions.
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

command -v "$PROTOC" >/dev/null || { echo "$0: $PROTOC not found (apt-get install protobuf-compiler)" >&2; exit 1; }
"$PYTHON" -c "import grpc_tools.protoc" 2>/dev/null ||
  { echo "$0: $PYTHON has no grpc_tools (apt-get install python3-grpc-tools)" >&2; exit 1; }

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
verity_protos=(verity/v1/common.proto verity/v1/collections.proto verity/v1/records.proto verity/v1/search.proto)
services=(verity/v1/collections.proto verity/v1/records.proto verity/v1/search.proto)

(cd "$proto_root" && "$PROTOC" -I. --python_out="$out" "${verity_protos[@]}")
(cd "$stage" && "$PROTOC" -I. --python_out="$out" grpc_health/v1/health.proto)
(cd "$proto_root" && "$PYTHON" -m grpc_tools.protoc -I. --grpc_python_out="$out" "${services[@]}")
(cd "$stage" && "$PYTHON" -m grpc_tools.protoc -I. --grpc_python_out="$out" grpc_health/v1/health.proto)

for pkg in verity verity/v1 grpc_health grpc_health/v1; do
  touch "$out/$pkg/__init__.py"
done
