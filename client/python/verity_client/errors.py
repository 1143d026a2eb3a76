"""The one exception type the client raises for a failed call."""

import grpc


class VerityError(Exception):
    """A call to verityd failed.

    Attributes:
      code: the gRPC status code's name, e.g. ``"NOT_FOUND"``,
        ``"INVALID_ARGUMENT"``, ``"UNAVAILABLE"`` (see docs/server.md for
        which call gives which).
      message: the server's message, which names the offending field, e.g.
        ``records[3].vector[17]: NaN (components must be finite)``.
      method: the RPC that failed, e.g. ``"RecordService.Upsert"``, or None.

    The underlying ``grpc.RpcError`` is kept as ``__cause__``.
    """

    def __init__(self, code, message, method=None):
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.method = method

    @property
    def status_code(self):
        """The code as a ``grpc.StatusCode`` member."""
        return grpc.StatusCode[self.code]

    def __str__(self):
        where = f" ({self.method})" if self.method else ""
        return f"{self.code}: {self.message}{where}"

    def __repr__(self):
        return f"VerityError({self.code!r}, {self.message!r})"

    @classmethod
    def from_rpc_error(cls, error, method=None):
        """Builds a VerityError from a ``grpc.RpcError`` raised by a stub."""
        code = error.code() if hasattr(error, "code") else None
        details = error.details() if hasattr(error, "details") else None
        name = code.name if isinstance(code, grpc.StatusCode) else "UNKNOWN"
        return cls(name, details or str(error), method)
