/**
 * Supabase Management API: run SQL on a project (`POST /v1/projects/{ref}/database/query`).
 * The API answers 200/201 with an array of rows; an object carrying `error`/`message` is a failure even
 * with a 2xx status (the old scripts treated it as success). Rate limit 60/min per token: a 429 blocks
 * the next full minute, which the http client honours (Retry-After, else its ≥ 60 s default).
 *
 * @example
 * const supabase = createSupabaseClient(http, "kwroaccbrxppfiysqlzs");
 * const rows = await supabase.query("SELECT filename, checksum FROM schema_migrations");
 */
import { z } from "zod";
import { PermanentError } from "./errors.ts";
import type { HttpClient } from "./http.ts";

export type Row = Record<string, unknown>;

export interface QueryOptions {
  /**
   * Safe to send again if the response was lost (a 5xx or a dropped connection). Only statements that
   * cannot apply twice may say so, e.g. a migration guarded by its tracking row. Default false.
   */
  idempotent?: boolean;
  timeoutMs?: number;
}

export interface SupabaseClient {
  /** Rows of the last statement; throws PermanentError when the API reports an SQL error. */
  query(sql: string, options?: QueryOptions): Promise<Row[]>;
}

const responseSchema = z.union([
  z.array(z.record(z.string(), z.unknown())),
  z.record(z.string(), z.unknown()),
]);

/** Migrations may build indexes on big tables: give a statement far longer than an HTTP default. */
const QUERY_TIMEOUT_MS = 10 * 60_000;

export function createSupabaseClient(http: HttpClient, projectRef: string): SupabaseClient {
  const path = `/v1/projects/${encodeURIComponent(projectRef)}/database/query`;
  return {
    async query(sql, options = {}) {
      const { data, status } = await http.request({
        method: "POST",
        path,
        body: { query: sql },
        schema: responseSchema,
        idempotent: options.idempotent ?? false,
        timeoutMs: options.timeoutMs ?? QUERY_TIMEOUT_MS,
      });
      if (Array.isArray(data)) return data;
      const detail = data.error ?? data.message ?? JSON.stringify(data);
      throw new PermanentError(
        `Supabase rejected the SQL (status ${status}) on POST ${path}: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`,
        { status },
      );
    },
  };
}
