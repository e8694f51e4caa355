/**
 * Request-side helpers of the http client: base URL checks, query strings, and turning a transport
 * failure (refused, reset, timed out) into a RetryableError that remembers whether the server may have
 * acted on the request.
 */
import { isLoopbackUrl } from "./config.ts";
import { ConfigError, PermanentError, RetryableError } from "./errors.ts";
import { classifyTransportError } from "./http-policy.ts";

/** Errors after which the server may have acted on the request: retried only for idempotent calls. */
export const mayHaveReachedServer = new WeakSet<Error>();

/** Refuses plain http unless the host is loopback or `allowInsecure` (the metadata server). */
export function parseBase(options: { baseUrl: string; allowInsecure?: boolean }): {
  origin: string;
  prefix: string;
} {
  let url: URL;
  try {
    url = new URL(options.baseUrl);
  } catch {
    throw new ConfigError(`HTTP client: "${options.baseUrl}" is not a URL; configure an absolute https URL`);
  }
  if (
    url.protocol !== "https:" &&
    !(url.protocol === "http:" && (isLoopbackUrl(url.href) || options.allowInsecure))
  ) {
    throw new ConfigError(
      `HTTP client: refusing ${url.protocol}//${url.host}: use https (plain http only to a loopback host or in the sandbox)`,
    );
  }
  return { origin: url.origin, prefix: url.pathname.replace(/\/+$/, "") };
}

export function transportError(
  error: unknown,
  method: string,
  url: string,
  timedOutAfter: number | undefined,
  redact: (s: string) => string,
) {
  const kind = classifyTransportError(error);
  const reason = error instanceof Error ? error.message : String(error);
  if (timedOutAfter !== undefined || kind) {
    const what =
      timedOutAfter !== undefined ? `Timed out after ${timedOutAfter} ms` : `Connection failed (${reason})`;
    const wrapped = new RetryableError(redact(`${what}: ${method} ${url}`), { cause: error });
    if (timedOutAfter !== undefined || kind === "reset") mayHaveReachedServer.add(wrapped);
    return wrapped;
  }
  return new PermanentError(redact(`Request failed: ${method} ${url}: ${reason}`), { cause: error });
}

export function header(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function queryString(
  query: Record<string, string | number | boolean | undefined> | undefined,
): string {
  const entries = Object.entries(query ?? {}).filter(
    (e): e is [string, string | number | boolean] => e[1] !== undefined,
  );
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()}` : "";
}
