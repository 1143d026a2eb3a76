// The one error type the client throws.

/** gRPC status code names, by number (google.rpc.Code). */
export const STATUS_NAMES: readonly string[] = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
];

/** A gRPC status code name, e.g. "NOT_FOUND". */
export type StatusName =
  | "OK"
  | "CANCELLED"
  | "UNKNOWN"
  | "INVALID_ARGUMENT"
  | "DEADLINE_EXCEEDED"
  | "NOT_FOUND"
  | "ALREADY_EXISTS"
  | "PERMISSION_DENIED"
  | "RESOURCE_EXHAUSTED"
  | "FAILED_PRECONDITION"
  | "ABORTED"
  | "OUT_OF_RANGE"
  | "UNIMPLEMENTED"
  | "INTERNAL"
  | "UNAVAILABLE"
  | "DATA_LOSS"
  | "UNAUTHENTICATED";

/**
 * The code an HTTP status stands for when an error response carries no
 * JSON status of its own (a proxy's page; the listener's plain-text 503
 * when it is full, 413 for a body past --max-message-bytes): the inverse of
 * the gateway's mapping (docs/http.md), taking the first code of each
 * status, and the nearest code for the listener's own statuses.
 */
export function statusForHttp(httpStatus: number): StatusName {
  switch (httpStatus) {
    case 400:
      return "INVALID_ARGUMENT";
    case 401:
      return "UNAUTHENTICATED";
    case 403:
      return "PERMISSION_DENIED";
    case 404:
      return "NOT_FOUND";
    case 405:
      return "UNIMPLEMENTED";
    case 408:
      return "DEADLINE_EXCEEDED";
    case 409:
      return "ALREADY_EXISTS";
    case 411:
      return "INVALID_ARGUMENT";
    case 413: // the listener's "request body too large" (past --max-message-bytes)
    case 414:
      return "RESOURCE_EXHAUSTED";
    case 429:
      return "RESOURCE_EXHAUSTED";
    case 499:
      return "CANCELLED";
    case 501:
      return "UNIMPLEMENTED";
    case 503:
      return "UNAVAILABLE";
    case 504:
      return "DEADLINE_EXCEEDED";
    default:
      return httpStatus >= 500 ? "INTERNAL" : "UNKNOWN";
  }
}

/**
 * A call to verityd failed, or the client refused an argument before any
 * call.
 *
 * - `code`: the gRPC status code's name, e.g. "NOT_FOUND",
 *   "INVALID_ARGUMENT", "UNAVAILABLE" (docs/server.md says which call gives
 *   which). An argument the client refuses itself is "INVALID_ARGUMENT".
 * - `message`: the server's message, which names the offending field
 *   (`records[3].vector[17]: NaN (components must be finite)`); the
 *   client's own refusals name the argument the same way
 *   (`records[0].id: expected a string, got number`).
 * - `httpStatus`: the HTTP status of the response (404, 400, ...); null
 *   when no response came: an argument refused before the call, a server
 *   that could not be reached, the client's timeout.
 * - `method`: the RPC, e.g. "RecordService.Upsert"; null for an argument
 *   refused before the call.
 */
export class VerityError extends Error {
  readonly code: StatusName;
  readonly httpStatus: number | null;
  readonly method: string | null;

  constructor(
    code: StatusName,
    message: string,
    options: { httpStatus?: number | null; method?: string | null; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "VerityError";
    this.code = code;
    this.httpStatus = options.httpStatus ?? null;
    this.method = options.method ?? null;
  }

  /** The code's number (google.rpc.Code), e.g. 5 for NOT_FOUND. */
  get codeNumber(): number {
    return STATUS_NAMES.indexOf(this.code);
  }

  override toString(): string {
    const where = this.method ? ` (${this.method})` : "";
    return `VerityError ${this.code}: ${this.message}${where}`;
  }
}

/** The client's refusal of an argument, before any call. */
export function argumentError(message: string): VerityError {
  return new VerityError("INVALID_ARGUMENT", message);
}

/** A status name from the error body's "status" or "code", if it is one. */
export function statusFromBody(status: unknown, code: unknown): StatusName | null {
  if (typeof status === "string" && STATUS_NAMES.includes(status)) return status as StatusName;
  if (typeof code === "number" && Number.isInteger(code) && code > 0 && code < STATUS_NAMES.length) {
    return STATUS_NAMES[code] as StatusName;
  }
  return null;
}
