/**
 * A thin wrapper over `@google-cloud/bigquery` for the one thing the suite needs: a parameterised
 * standard-SQL statement through `jobs.query`, returning rows and the DML's affected-row count.
 *
 * With `apiUrl` (sandbox, tests) the client gets a pass-through auth client, so it never probes the GCE
 * metadata server for credentials; in the cloud it uses the job's service account (ADC).
 *
 * @example
 * const bq = createBigQueryClient({ projectId: "cloudact-prod", log });
 * const { numDmlAffectedRows } = await bq.query({
 *   sql: "DELETE FROM `cloudact-prod.organizations.org_usage_quotas` WHERE usage_date < @cutoff",
 *   params: { cutoff: "2026-08-24" }, types: { cutoff: "DATE" },
 * });
 */
import { BigQuery, type BigQueryOptions } from "@google-cloud/bigquery";
import { PassThroughClient } from "google-auth-library";
import { PermanentError, RetryableError } from "./errors.ts";
import type { Logger } from "./logger.ts";

export interface BigQueryQuery {
  sql: string;
  /** Named parameters (`@cutoff`). */
  params?: Record<string, unknown>;
  /** BigQuery types of the params, e.g. `{ cutoff: "DATE" }` (a string is otherwise sent as STRING). */
  types?: Record<string, string>;
  /** BigQuery's own dry run: validate and estimate, run nothing. */
  dryRun?: boolean;
}

export interface BigQueryResult {
  rows: Record<string, unknown>[];
  /** Rows changed by a DML statement; null for a SELECT. */
  numDmlAffectedRows: number | null;
}

export interface BigQueryClient {
  query(q: BigQueryQuery): Promise<BigQueryResult>;
}

export interface BigQueryClientOptions {
  projectId: string;
  /** Endpoint override (`BIGQUERY_API_URL`), e.g. `http://127.0.0.1:9050`. */
  apiUrl?: string;
  log: Logger;
  /** Retries of a transient (5xx/429) failure inside the Google client, with its own backoff. Default 3. */
  retries?: number;
  /** Per-request timeout of the Google client in ms (HTTP_TIMEOUT_MS); default the library's. */
  timeoutMs?: number;
}

/** HTTP statuses worth another try by the job's own retry (Cloud Run task retry). */
const TRANSIENT = new Set([408, 429, 500, 502, 503, 504]);

export function createBigQueryClient(opts: BigQueryClientOptions): BigQueryClient {
  const bigquery = new BigQuery({
    projectId: opts.projectId,
    // maxRetries 0 reads as "default" inside the library: autoRetry:false is how to say none.
    retryOptions: opts.retries === 0 ? { autoRetry: false } : { maxRetries: opts.retries ?? 3 },
    ...(opts.timeoutMs ? { timeout: opts.timeoutMs } : {}),
    ...(opts.apiUrl
      ? {
          apiEndpoint: opts.apiUrl.replace(/\/+$/, ""),
          authClient: new PassThroughClient() as unknown as BigQueryOptions["authClient"],
        }
      : {}),
  });
  const where = `BigQuery jobs.query (project ${opts.projectId}${opts.apiUrl ? `, ${opts.apiUrl}` : ""})`;

  return {
    async query({ sql, types, dryRun, ...rest }) {
      const params = wrapTyped(rest.params, types);
      try {
        if (dryRun) {
          const [job] = await bigquery.createQueryJob({ query: sql, params, types, dryRun: true });
          opts.log.debug("BigQuery dry run", { bytes: job.metadata?.statistics?.totalBytesProcessed });
          return { rows: [], numDmlAffectedRows: null };
        }
        // The promise resolves with every callback argument: rows, next page query, raw jobs.query response.
        const [rows, , response] = (await bigquery.query({
          query: sql,
          params,
          types,
          useLegacySql: false,
        })) as unknown as [Record<string, unknown>[], unknown, { numDmlAffectedRows?: string } | undefined];
        const affected = response?.numDmlAffectedRows;
        return { rows, numDmlAffectedRows: affected == null ? null : Number(affected) };
      } catch (error) {
        throw toJobError(error, where);
      }
    },
  };
}

/**
 * The library sends a plain string typed DATE/TIMESTAMP/DATETIME/TIME with an EMPTY value (checked in
 * @google-cloud/bigquery 9.3): wrap such strings in the library's own value classes first.
 */
function wrapTyped(params: Record<string, unknown> | undefined, types: Record<string, string> | undefined) {
  if (!params || !types) return params;
  const wrap: Record<string, (v: string) => unknown> = {
    DATE: (v) => BigQuery.date(v),
    DATETIME: (v) => BigQuery.datetime(v),
    TIMESTAMP: (v) => BigQuery.timestamp(v),
    TIME: (v) => BigQuery.time(v),
  };
  return Object.fromEntries(
    Object.entries(params).map(([name, value]) => {
      const fn = wrap[types[name] ?? ""];
      return [name, fn && typeof value === "string" ? fn(value) : value];
    }),
  );
}

/** Map a client error to the suite's errors, with the fix where we know it. */
function toJobError(error: unknown, where: string): Error {
  const e = error as { code?: number; message?: string; errors?: { message?: string; reason?: string }[] };
  const message = e.message ?? String(error);
  const status = typeof e.code === "number" ? e.code : undefined;
  if (/streaming buffer/i.test(message)) {
    return new PermanentError(
      `${where} refused the statement: rows in the range are still in the streaming buffer (${message}). ` +
        "Streamed rows can only be deleted after they are flushed (up to ~90 min); raise DAYS_TO_KEEP or run again later.",
      { cause: error, status },
    );
  }
  if (status !== undefined && TRANSIENT.has(status)) {
    return new RetryableError(`${where} failed with status ${status}: ${message}`, { cause: error, status });
  }
  return new PermanentError(`${where} failed${status ? ` with status ${status}` : ""}: ${message}`, {
    cause: error,
    status,
  });
}
