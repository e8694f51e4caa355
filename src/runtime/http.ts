/**
 * The JSON-over-HTTP client every API client is built on: one undici Pool per client (keep-alive), a
 * per-call timeout longer than the server's work, p-retry with the policy of ./http-policy.ts, and zod
 * validation of every response. Headers (API keys) go to the base URL's origin only: a redirect to
 * another origin is refused, never followed, so a key cannot leak to a third party.
 */
import pRetry from "p-retry";
import type { z } from "zod";
import { sleep as systemSleep } from "./clock.ts";
import { OutcomeUnknownError, PermanentError, RetryableError } from "./errors.ts";
import {
  backoffDelay,
  isRetryableStatus,
  MAX_CONNECTIONS,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  retryAfterDelay,
} from "./http-policy.ts";
import { header, mayHaveReachedServer, parseBase, queryString, transportError } from "./http-request.ts";
import { describeResponse, excerpt, parseJsonBody } from "./http-response.ts";
import { createRedactor, type Logger, silentLogger } from "./logger.ts";
import { Pool } from "./undici-pool.ts";

export interface HttpClientOptions {
  baseUrl: string;
  /** Sent ONLY to baseUrl's origin (redirects to another origin are refused). Values are redacted from errors. */
  headers?: Record<string, string>;
  /** Per call, default 11 min: longer than the server's longest work (bootstrap ≤ 10 min). */
  timeoutMs?: number;
  /** Caps every call's timeout, its own included (HTTP_TIMEOUT_MS: tests and drills of a slow server). */
  maxTimeoutMs?: number | null;
  /** Retries after the first attempt, default 3 (so at most 4 requests). */
  retries?: number;
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Wait for a 429 without Retry-After (Supabase blocks the next full minute: 60_000). */
  defaultRetryAfterMs?: number;
  /** A longer Retry-After is clamped to this (default 5 min), so the retry budget stays bounded. */
  maxRetryAfterMs?: number;
  log?: Logger;
  /** Aborts waits between retries and stops new attempts; an in-flight request is allowed to finish. */
  signal?: AbortSignal;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Permit plain http to a non-loopback host (only for the metadata server). */
  allowInsecure?: boolean;
}

export interface RequestOptions<T> {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  schema: z.ZodType<T>;
  /** GET/PUT/DELETE default true; a POST or PATCH is retried after it may have reached the server only when true. */
  idempotent?: boolean;
  /** Sent as Idempotency-Key (harmless; no server we call replays on it, and no retry decision relies on it). */
  idempotencyKey?: string;
  timeoutMs?: number;
  /** Retries after the first attempt for this call (default: the client's). */
  retries?: number;
  /**
   * For a request that is not idempotent: what it may have done (e.g. "the API may have sent notifications").
   * When set, a failure after the request may have reached the server throws OutcomeUnknownError.
   */
  unknownOutcome?: string;
}

export interface HttpResponse<T> {
  status: number;
  data: T;
  requestId?: string;
  attempts: number;
}

export interface HttpClient {
  request<T>(options: RequestOptions<T>): Promise<HttpResponse<T>>;
  /** `"METHOD url"` of each request sent and not yet answered: if the process stops now, its outcome is unknown. */
  inFlight(): string[];
  close(): Promise<void>;
}

export const HTTP_DEFAULTS = {
  timeoutMs: 11 * 60_000,
  retries: 3,
  minDelayMs: 500,
  maxDelayMs: 30_000,
  maxRedirects: 5,
} as const;

/**
 * @example
 * const http = createHttpClient({ baseUrl: "https://api.cloudact.ai", headers: { "X-CA-Root-Key": key }, log });
 * const { data } = await http.request({ method: "GET", path: "/api/v1/admin/bootstrap/status", schema });
 * await http.close();
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const base = parseBase(options);
  const o = { ...HTTP_DEFAULTS, ...withoutUndefined(options) };
  const log = options.log ?? silentLogger;
  const sleep = options.sleep ?? systemSleep;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? MAX_RETRY_AFTER_MS;
  const headerValues = Object.values(options.headers ?? {}).flatMap((v) => [v, v.split(/\s+/).at(-1) ?? v]);
  const redact = createRedactor(headerValues) as (s: string) => string;
  // Keep-alive with undici's default idle timeout (4 s, shorter than most servers' 5 s): a socket the
  // server already closed would fail a non-idempotent POST that we may not retry.
  // An upper bound, not a pre-opened set: it must be at least the highest concurrency a job allows
  // (org-sync-all --concurrency ≤ 64), or extra work just queues inside the pool (measured in bench/).
  const pool = new Pool(base.origin, { connections: MAX_CONNECTIONS });
  /** Requests sent and not yet answered (redacted only when someone asks: SIGTERM, rarely). */
  const open = new Map<symbol, string>();

  async function once<T>(req: RequestOptions<T>): Promise<Omit<HttpResponse<T>, "attempts">> {
    const timeoutMs = Math.min(
      req.timeoutMs ?? o.timeoutMs,
      options.maxTimeoutMs ?? Number.POSITIVE_INFINITY,
    );
    let method: string = req.method;
    let path = base.prefix + req.path + queryString(req.query);
    let body = req.body === undefined ? undefined : JSON.stringify(req.body);
    for (let hop = 0; ; hop++) {
      const url = base.origin + path;
      const timer = AbortSignal.timeout(timeoutMs);
      const headers: Record<string, string> = {
        accept: "application/json",
        "user-agent": "scheduler-jobs",
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
        ...(req.idempotencyKey ? { "idempotency-key": req.idempotencyKey } : {}),
        ...options.headers,
      };
      let status: number;
      let responseHeaders: Record<string, string | string[] | undefined>;
      let text: string;
      const flight = Symbol(url);
      open.set(flight, `${method} ${url}`);
      try {
        // undici's own header/body timeouts default to 5 min, shorter than bootstrap's 10 min of work:
        // align them with the per-call timeout (the signal enforces the total).
        const res = await pool.request({
          path,
          method: method as "GET",
          headers,
          body,
          signal: timer,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        status = res.statusCode;
        responseHeaders = res.headers;
        text = await res.body.text();
      } catch (error) {
        const timedOut =
          timer.aborted ||
          /^UND_ERR_(HEADERS|BODY)_TIMEOUT$/.test(String((error as { code?: unknown }).code));
        throw transportError(error, method, url, timedOut ? timeoutMs : undefined, redact);
      } finally {
        open.delete(flight);
      }
      const info = describeResponse(method, url, status, responseHeaders);
      const location = header(responseHeaders, "location");
      if (status >= 300 && status < 400 && location) {
        const target = new URL(location, url);
        if (target.origin !== base.origin) {
          throw new PermanentError(
            `${info.what} redirected to another origin (${target.origin}${target.pathname}); not followed so the credentials stay with ${base.origin}. Point the base URL at the final address.`,
            { status },
          );
        }
        if (hop >= o.maxRedirects)
          throw new PermanentError(`${info.what}: more than ${o.maxRedirects} redirects`, { status });
        path = target.pathname + target.search;
        if (status === 303) [method, body] = ["GET", undefined];
        continue;
      }
      if (status < 200 || status >= 300) {
        const message = redact(
          `Request failed with status ${status}: ${info.what}${info.rid}: ${excerpt(text)}`,
        );
        if (!isRetryableStatus(status)) throw new PermanentError(message, { status });
        const asked =
          parseRetryAfter(header(responseHeaders, "retry-after")) ??
          (status === 429 ? options.defaultRetryAfterMs : undefined);
        const retryAfterMs = asked === undefined ? undefined : retryAfterDelay(asked, maxRetryAfterMs);
        const error = new RetryableError(message, { status, retryAfterMs });
        if (status !== 429) mayHaveReachedServer.add(error);
        throw error;
      }
      const data = parseJsonBody(req.schema, text, info, redact);
      return {
        status,
        data,
        ...(info.requestId ? { requestId: info.requestId } : {}),
      };
    }
  }

  return {
    async request<T>(req: RequestOptions<T>): Promise<HttpResponse<T>> {
      const idempotent = req.idempotent ?? !["POST", "PATCH"].includes(req.method);
      let attempts = 0;
      try {
        const result = await pRetry(
          async () => {
            attempts++;
            return once(req);
          },
          {
            retries: req.retries ?? o.retries,
            minTimeout: 0, // waits happen in shouldRetry (Retry-After, injectable sleep)
            maxTimeout: 0,
            // The stop signal is deliberately not handed to p-retry: it would reject the attempt still in
            // flight. On SIGTERM the in-flight request finishes; only further attempts are given up.
            shouldRetry: async ({ error, attemptNumber, retriesLeft }) => {
              if (!(error instanceof RetryableError)) return false;
              if (options.signal?.aborted) return false;
              if (!idempotent && mayHaveReachedServer.has(error)) return false;
              const delay = error.retryAfterMs ?? backoffDelay(attemptNumber, o.minDelayMs, o.maxDelayMs);
              log.warn(`Retrying ${req.method} ${base.origin}${req.path} in ${delay} ms: ${error.message}`, {
                status: error.status,
                request_attempt: attemptNumber,
                retries_left: retriesLeft,
                delay_ms: delay,
              });
              await sleep(delay, options.signal);
              return true;
            },
          },
        );
        return { ...result, attempts };
      } catch (error) {
        if (!idempotent && req.unknownOutcome && error instanceof Error && mayHaveReachedServer.has(error)) {
          throw new OutcomeUnknownError(
            `outcome unknown: ${req.unknownOutcome}. ${error.message}. The request may have reached the server and repeating it could do it twice, so it was not sent again.`,
            { cause: error, ...(isStatus(error) ? { status: error.status } : {}) },
          );
        }
        if (error instanceof RetryableError && attempts > 1) {
          const { status, retryAfterMs } = error;
          throw new RetryableError(`${error.message} (gave up after ${attempts} attempts)`, {
            status,
            retryAfterMs,
            cause: error.cause,
          });
        }
        throw error;
      }
    },
    inFlight: () => [...open.values()].map(redact),
    close: () => pool.close(),
  };
}

const isStatus = (e: unknown): e is { status: number } =>
  typeof (e as { status?: unknown }).status === "number";

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
