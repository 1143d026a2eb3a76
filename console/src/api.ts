// The HTTP/JSON API of verityd, same origin: POST /v1/<Service>/<Method>
// with the request message in protobuf's JSON mapping (docs/server.md).
//
// The API key lives in this module's variable only: it is never written to
// localStorage, sessionStorage or a cookie, so reloading the page (or
// closing the tab) forgets it.

let apiKey = '';

export function setApiKey(key: string): void {
  apiKey = key.trim();
}

export function hasApiKey(): boolean {
  return apiKey !== '';
}

/** An error answered by verityd: the HTTP status and the gRPC code / message. */
export class ApiError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly status: string,
    message: string,
  ) {
    super(message);
  }
  override toString(): string {
    return `${this.status || 'HTTP ' + this.httpStatus}: ${this.message}`;
  }
}

function headers(): Record<string, string> {
  const h: Record<string, string> = { 'Content-Type': 'application/json' };
  if (apiKey) h['Authorization'] = `Bearer ${apiKey}`;
  return h;
}

export async function call<T = any>(service: string, method: string, body: object = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`/v1/${service}/${method}`, {
      method: 'POST',
      headers: headers(),
      body: JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'UNAVAILABLE', `cannot reach verityd: ${String(e)}`);
  }
  const text = await res.text();
  let json: any = undefined;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    if (json && typeof json === 'object' && 'message' in json) {
      throw new ApiError(res.status, String(json.status ?? ''), String(json.message));
    }
    const plain = text.trimStart().startsWith('<') ? '' : text.slice(0, 500);
    throw new ApiError(res.status, '', plain || res.statusText || 'error');
  }
  if (json === undefined) throw new ApiError(res.status, 'INTERNAL', 'the response is not JSON');
  return json as T;
}

/** GET /metrics: Prometheus text. */
export async function fetchMetrics(): Promise<string> {
  const res = await fetch('/metrics', { headers: apiKey ? { Authorization: `Bearer ${apiKey}` } : {} });
  if (!res.ok) throw new ApiError(res.status, '', `GET /metrics: ${res.status} ${res.statusText}`);
  return res.text();
}

// ---- Formatting helpers shared by the views. ----

/** Unix microseconds (a JSON string or number) as a local ISO-like time. */
export function fmtTime(us: string | number | undefined): string {
  if (us === undefined || us === null || us === '' || us === '0' || us === 0) return '';
  const ms = Number(us) / 1000;
  if (!Number.isFinite(ms)) return String(us);
  const d = new Date(ms);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
  );
}

export function fmtNum(x: number | string | undefined, digits = 4): string {
  if (x === undefined || x === null || x === '') return '';
  const n = Number(x);
  if (!Number.isFinite(n)) return String(x);
  return Number.isInteger(n) ? String(n) : n.toFixed(digits);
}

/** Parses a datetime-local input's value to Unix microseconds (0 = unset). */
export function localInputToUs(value: string): number {
  if (!value) return 0;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? ms * 1000 : 0;
}

export function shortHash(h: string | undefined, n = 12): string {
  if (!h) return '';
  return h.length > n ? h.slice(0, n) + '…' : h;
}
