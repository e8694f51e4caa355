/**
 * Turning a 2xx body into typed data, with errors that name the method, URL and status: an HTML page
 * (a proxy's error page, a login wall) or malformed JSON is a contract violation, never retried.
 */
import type { z } from "zod";
import { PermanentError } from "./errors.ts";

export interface ResponseInfo {
  /** "GET https://host/path (status 200)" */
  what: string;
  /** " (request id abc)" or "" */
  rid: string;
  requestId: string | undefined;
  status: number;
  contentType: string;
}

const REQUEST_ID_HEADERS = ["x-request-id", "request-id", "x-correlation-id", "x-cloud-trace-context"];

export function describeResponse(
  method: string,
  url: string,
  status: number,
  headers: Record<string, string | string[] | undefined>,
): ResponseInfo {
  const first = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const requestId = REQUEST_ID_HEADERS.map(first).find((v) => v);
  return {
    what: `${method} ${url}`,
    rid: requestId ? ` (request id ${requestId})` : "",
    requestId,
    status,
    contentType: first("content-type") ?? "no content-type",
  };
}

/** The first 200 characters of a body on one line, for error messages. */
export function excerpt(text: string, max = 200): string {
  const line = text.replace(/\s+/g, " ").trim();
  if (!line) return "(empty body)";
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

/**
 * @example
 * parseJsonBody(z.object({ ok: z.boolean() }), '{"ok":true}', info, (s) => s) // { ok: true }
 */
export function parseJsonBody<T>(
  schema: z.ZodType<T>,
  text: string,
  info: ResponseInfo,
  redact: (s: string) => string,
): T {
  const where = `${info.what} (status ${info.status})${info.rid}`;
  let json: unknown;
  if (text.trim() !== "") {
    if (/html/i.test(info.contentType) || /^\s*</.test(text)) {
      throw new PermanentError(
        redact(
          `Expected JSON, got ${/html/i.test(info.contentType) ? info.contentType.split(";")[0] : "an HTML/XML page"} from ${where}: ${excerpt(text)}. Is the base URL pointing at the API?`,
        ),
        { status: info.status },
      );
    }
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new PermanentError(
        redact(`Malformed JSON from ${where}: ${(error as Error).message}; body: ${excerpt(text)}`),
        { status: info.status, cause: error },
      );
    }
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const fields = parsed.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join(".") || "(body)"}: ${i.message}`)
    .join("; ");
  const more = parsed.error.issues.length > 5 ? ` (and ${parsed.error.issues.length - 5} more)` : "";
  throw new PermanentError(
    redact(
      `Unexpected response shape from ${where}: ${fields}${more}. The API and this client disagree on the contract.`,
    ),
    { status: info.status },
  );
}
