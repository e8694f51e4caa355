/**
 * Supabase Management API: run SQL on a project (`POST /v1/projects/{ref}/database/query`).
 * The API answers 200/201 with an array of rows; an object carrying `error`/`message` is a failure even
 * with a 2xx status (the old scripts treated it as success). Rate limit 60/min per token: a 429 blocks
 * the next full minute, which the http client honours (Retry-After, else its ≥ 60 s default).
 *
 * An SQL error comes back as a 400 `{message}` or as a 500 "Failed to run sql query" (CONTRACT §2): both
 * are PermanentErrors carrying the database's message, sent once. That is why every request goes to the
 * http client as non-idempotent (a 500 is "retryable" to it); for a statement the caller marks
 * idempotent, this client itself resends after a 502/503/504 or a dropped connection — never after a 500.
 *
 * @example
 * const supabase = createSupabaseClient(http, "kwroaccbrxppfiysqlzs");
 * const rows = await supabase.query("SELECT filename, checksum FROM schema_migrations");
 */
import { z } from "zod";
import { sleep as systemSleep } from "./clock.ts";
import { PermanentError, RetryableError } from "./errors.ts";
import type { HttpClient } from "./http.ts";
import { backoffDelay } from "./http-policy.ts";
import { mayHaveReachedServer } from "./http-request.ts";

export type Row = Record<string, unknown>;

export interface QueryOptions {
  /**
   * Safe to send again if the response was lost (a 502/503/504 or a dropped connection). Only statements
   * that cannot apply twice may say so, e.g. a migration guarded by its tracking row. Default false.
   */
  idempotent?: boolean;
  timeoutMs?: number;
}

export interface SupabaseClient {
  /** Rows of the last statement; throws PermanentError when the API reports an SQL error. */
  query(sql: string, options?: QueryOptions): Promise<Row[]>;
}

export interface SupabaseClientOptions {
  /** Resends of an idempotent statement after a 502/503/504 or a reset (default 2). */
  resends?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Stops resending (SIGTERM). */
  signal?: AbortSignal;
}

const responseSchema = z.union([
  z.array(z.record(z.string(), z.unknown())),
  z.record(z.string(), z.unknown()),
]);

/** Migrations may build indexes on big tables: give a statement far longer than an HTTP default. */
const QUERY_TIMEOUT_MS = 10 * 60_000;

export function createSupabaseClient(
  http: HttpClient,
  projectRef: string,
  opts: SupabaseClientOptions = {},
): SupabaseClient {
  const path = `/v1/projects/${encodeURIComponent(projectRef)}/database/query`;
  const where = `POST ${path}`;
  const sleep = opts.sleep ?? systemSleep;
  const resends = opts.resends ?? 2;

  const once = async (sql: string, options: QueryOptions): Promise<Row[]> => {
    try {
      const { data, status } = await http.request({
        method: "POST",
        path,
        body: { query: sql },
        schema: responseSchema,
        idempotent: false,
        timeoutMs: options.timeoutMs ?? QUERY_TIMEOUT_MS,
      });
      if (Array.isArray(data)) return data;
      const detail = data.error ?? data.message ?? JSON.stringify(data);
      throw new PermanentError(
        `Supabase rejected the SQL (status ${status}) on ${where}: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`,
        { status },
      );
    } catch (error) {
      throw sqlError(error, where);
    }
  };

  return {
    async query(sql, options = {}) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await once(sql, options);
        } catch (error) {
          const resend =
            options.idempotent === true &&
            attempt <= resends &&
            !opts.signal?.aborted &&
            error instanceof RetryableError &&
            mayHaveReachedServer.has(error);
          if (!resend) throw error;
          await sleep(backoffDelay(attempt, 500, 10_000), opts.signal);
        }
      }
    },
  };
}

/** A 400 or 500 from the API is the database refusing the SQL: say so with its message, never resend. */
function sqlError(error: unknown, where: string): unknown {
  const status = (error as { status?: unknown }).status;
  if (!(error instanceof PermanentError || error instanceof RetryableError)) return error;
  if (status !== 400 && status !== 500) return error;
  if (error.message.startsWith("Supabase rejected")) return error;
  return new PermanentError(
    `Supabase could not run the SQL (status ${status}${status === 500 ? ", not retried: this API's answer to an SQL error" : ""}) on ${where}: ${databaseMessage(error.message)}`,
    { status, cause: error },
  );
}

/** The `message` of the JSON body quoted in the http client's error, else the error's own text. */
function databaseMessage(text: string): string {
  const m = /"message"\s*:\s*"((?:[^"\\]|\\.)*)/.exec(text);
  if (!m?.[1]) return text;
  try {
    return JSON.parse(`"${m[1]}"`);
  } catch {
    return m[1]; // cut off mid-escape by the http client's excerpt: still readable
  }
}
