/**
 * Retries of the tools' Google calls (CONTRACT §4): UNAVAILABLE/503 (and its 502/504 cousins), 429 /
 * RESOURCE_EXHAUSTED and connection resets, with bounded, jittered exponential backoff (p-retry). Anything
 * else is an answer that will not change and is thrown at once.
 *
 * Every method of the Google clients goes through {@link retryingClient} except those where a retry could do
 * the work twice: Cloud Run `runJob` (a second execution) and Cloud Scheduler `runJob` (a second forced
 * attempt). The rest are reads, or writes whose repetition ends in the same state (update, pause, resume,
 * cancel; a create or delete repeated after a lost answer gets ALREADY_EXISTS / NOT_FOUND, not a double).
 *
 * @example
 * const [execution] = await retryTransient("getExecution", () => client.getExecution({ name }));
 * const jobs = retryingClient(new JobsClient(options)); // jobs.getJob(...) retried; jobs.runJob(...) not
 */
import pRetry from "p-retry";
import { classifyTransportError } from "../runtime/http-policy.ts";

/** gRPC codes (gax) and HTTP statuses (REST transport) that mean "try again". */
const TRANSIENT_CODES = new Set<number | string>([
  4, // DEADLINE_EXCEEDED
  8, // RESOURCE_EXHAUSTED
  14, // UNAVAILABLE
  429,
  502,
  503,
  504,
  "UNAVAILABLE",
  "RESOURCE_EXHAUSTED",
  "DEADLINE_EXCEEDED",
]);

/** Messages of resets that reach us without a code (gaxios/fetch wrap the socket error). */
const RESET_TEXT = /socket hang up|ECONNRESET|other side closed|UND_ERR_SOCKET|EPIPE/i;

/**
 * True for an error worth retrying: a transient status or code, or a connection reset. A refused connection
 * is not (nothing listens: retrying will not make it listen).
 *
 * @example
 * isTransient(Object.assign(new Error("x"), { code: 14 })) // true
 * isTransient(Object.assign(new Error("x"), { code: 7 }))  // false (PERMISSION_DENIED)
 */
export function isTransient(error: unknown): boolean {
  const e = error as { code?: unknown; status?: unknown; response?: { status?: unknown }; cause?: unknown };
  for (const value of [e?.code, e?.status, e?.response?.status]) {
    if ((typeof value === "number" || typeof value === "string") && TRANSIENT_CODES.has(value)) return true;
  }
  if (classifyTransportError(error) === "reset") return true;
  const cause = e?.cause as { code?: unknown } | undefined;
  if (cause && classifyTransportError(cause) === "reset") return true;
  return error instanceof Error && RESET_TEXT.test(error.message);
}

export interface RetryOptions {
  /** Retries after the first try (default 5). */
  retries?: number;
  /** First pause (default 250 ms), doubling, jittered, capped at maxMs (default 4 s). */
  minMs?: number;
  maxMs?: number;
  /** Told of each retry (the commands print a note). */
  onRetry?: (what: string, error: unknown, attempt: number) => void;
}

/** Calls `call`, retrying transient failures (see the module comment); the last error is thrown as is. */
export function retryTransient<T>(
  what: string,
  call: () => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  return pRetry(call, {
    retries: options.retries ?? 5,
    minTimeout: options.minMs ?? 250,
    maxTimeout: options.maxMs ?? 4_000,
    factor: 2,
    randomize: true,
    shouldRetry: ({ error }) => isTransient(error),
    onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
      if (retriesLeft > 0 && isTransient(error)) options.onRetry?.(what, error, attemptNumber);
    },
  });
}

/** Methods a retry could run twice (see the module comment). */
const NOT_RETRIED = new Set(["runJob"]);

/**
 * The client with each of its promise-returning API methods retried (get*, list*, create*, update*,
 * delete*, pause*, resume*, cancel*, access*, …), except those in NOT_RETRIED and the streaming/iterating
 * variants (`…Stream`, `…Async`).
 */
export function retryingClient<T extends object>(client: T, options: RetryOptions = {}): T {
  const api = /^(get|list|create|update|delete|pause|resume|cancel|access|add|disable|enable|destroy)[A-Z]/;
  return new Proxy(client, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function" || typeof property !== "string") return value;
      if (!api.test(property) || NOT_RETRIED.has(property) || /(Stream|Async)$/.test(property))
        return value.bind(target);
      return (...args: unknown[]) =>
        retryTransient(property, () => value.apply(target, args) as Promise<unknown>, options);
    },
  });
}
