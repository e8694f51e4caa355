/**
 * The retry policy of the http client, as pure functions (tested through the client in
 * test/runtime/http.test.ts against a real local server).
 *
 * Retried: connect errors and resets, 408, 429, 5xx. Never: other 4xx, 3xx, a response that is not the
 * JSON we expect (retrying a contract violation cannot fix it). A request that may have reached the server
 * (a reset, a timeout, a 5xx) is retried only when it is idempotent; two failures are safe for any method
 * because the server did no work: a connect error (nothing was sent) and a 429 (the rate limiter rejected
 * the request before any handler ran; Supabase's Management API relies on this for `migrate`).
 */

/** Error codes raised before a request is written: nothing reached the server. */
const CONNECT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);
/** Error codes raised mid-exchange: the server may have acted on the request. */
const RESET_CODES = new Set([
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

export type TransportFailure = "connect" | "reset" | null;

/** Classifies a thrown transport error by its `code` (also looking one cause deep, where undici nests it). */
export function classifyTransportError(error: unknown): TransportFailure {
  const codes = [error, (error as { cause?: unknown })?.cause].map((e) => (e as { code?: unknown })?.code);
  if (codes.some((c) => typeof c === "string" && CONNECT_CODES.has(c))) return "connect";
  if (codes.some((c) => typeof c === "string" && RESET_CODES.has(c))) return "reset";
  return null;
}

/** 408, 429 and every 5xx are transient; every other status is an answer that will not change. */
export const isRetryableStatus = (status: number): boolean =>
  status === 408 || status === 429 || status >= 500;

/** The longest pause a server may ask for; a larger Retry-After is clamped so a run cannot stall for hours. */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

/**
 * Parses Retry-After (delta seconds or an HTTP date) into milliseconds, clamped to [0, 5 min].
 *
 * @example
 * parseRetryAfter("2") // 2000
 * parseRetryAfter("Wed, 21 Oct 2026 07:28:00 GMT", new Date("2026-10-21T07:27:30Z")) // 30000
 */
export function parseRetryAfter(value: string | undefined, now = new Date()): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const trimmed = value.trim();
  const ms = /^\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) * 1000 : Date.parse(trimmed) - now.getTime();
  if (Number.isNaN(ms)) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, Math.round(ms)));
}

/**
 * A server's requested pause, never shorter, plus up to a quarter more (at most 5 s) at random: requests
 * refused together (a burst of 503s with `Retry-After: 1`) would otherwise all come back in the same
 * instant and meet the same overload again. Still within `maxMs` (the clamp the retry budget counts on).
 *
 * @example retryAfterDelay(1000, 120_000) // 1000–1250
 */
export function retryAfterDelay(askedMs: number, maxMs: number, random = Math.random): number {
  const spread = Math.min(askedMs / 4, 5_000);
  return Math.min(maxMs, Math.round(askedMs + random() * spread));
}

/**
 * Exponential backoff with "equal jitter": half the step fixed, half random, so concurrent tasks that
 * failed together do not retry in lockstep, yet every wait is at least half the nominal step.
 */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random = Math.random): number {
  const step = Math.min(maxMs, minMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/** Connections per origin of one http client; jobs' concurrency flags are capped at this. */
export const MAX_CONNECTIONS = 64;
