"""Imports the generated protobuf and gRPC modules.

They are not committed: ``client/python/generate.sh OUT_DIR`` writes them, and
OUT_DIR must be on ``PYTHONPATH`` (or ``sys.path``) before this package is
imported.
"""

try:
    from verity.v1 import cache_pb2
    from verity.v1 import cache_pb2_grpc
    from verity.v1 import collections_pb2
    from verity.v1 import collections_pb2_grpc
    from verity.v1 import common_pb2
    from verity.v1 import context_pb2
    from verity.v1 import context_pb2_grpc
    from verity.v1 import monitor_pb2
    from verity.v1 import monitor_pb2_grpc
    from verity.v1 import prompts_pb2
    from verity.v1 import prompts_pb2_grpc
    from verity.v1 import records_pb2
    from verity.v1 import records_pb2_grpc
    from verity.v1 import search_pb2
    from verity.v1 import search_pb2_grpc
    from grpc_health.v1 import health_pb2
    from grpc_health.v1 import health_pb2_grpc
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        "verity_client needs the generated Verity stubs (verity.v1.*_pb2, "
        "grpc_health.v1.health_pb2): run client/python/generate.sh OUT_DIR "
        f"and put OUT_DIR on PYTHONPATH ({e})"
    ) from e

__all__ = [
    "cache_pb2",
    "cache_pb2_grpc",
    "collections_pb2",
    "collections_pb2_grpc",
    "common_pb2",
    "context_pb2",
    "context_pb2_grpc",
    "monitor_pb2",
    "monitor_pb2_grpc",
    "prompts_pb2",
    "prompts_pb2_grpc",
    "records_pb2",
    "records_pb2_grpc",
    "search_pb2",
    "search_pb2_grpc",
    "health_pb2",
    "health_pb2_grpc",
]
