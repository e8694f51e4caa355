/**
 * Builds the JobContext a job runs with. Clients are lazy: the module of a dependency is imported only
 * when the job `uses` it (the Google BigQuery library alone costs ~70 ms to import), and the client is
 * constructed on first access. Touching a client the job did not declare is a programming error that
 * the job's `uses` list must fix, so it throws a ConfigError (exit 2) instead of reaching a server.
 */
import type { AdminApi } from "./admin-api.ts";
import type { BigQueryClient } from "./bigquery.ts";
import type { RuntimeConfig } from "./config.ts";
import type { Clock, JobContext } from "./context.ts";
import { ConfigError } from "./errors.ts";
import type { HttpClient, HttpClientOptions } from "./http.ts";
import type { AnyJob, Dependency } from "./job.ts";
import type { Logger } from "./logger.ts";
import { ADMIN_API_MAX_WAIT_MS } from "./retry-budget.ts";
import { createShard } from "./shard.ts";
import type { SupabaseClient } from "./supabase.ts";

/** Supabase's Management API blocks a token for the next full minute after a 429. */
export const SUPABASE_RETRY_AFTER_MS = 60_000;

export interface BuiltContext {
  ctx: JobContext;
  /** Closes the connection pools the job opened (waits for in-flight requests). */
  close(): Promise<void>;
  /** Requests sent and not yet answered, as `"METHOD url"` (a pending BigQuery query counts as one). */
  inFlight(): string[];
}

type Modules = {
  http?: typeof import("./http.ts");
  adminApi?: typeof import("./admin-api.ts");
  supabase?: typeof import("./supabase.ts");
  bigquery?: typeof import("./bigquery.ts");
};

/**
 * `idempotencyKey` format: `${job}:${YYYY-MM-DD}` (UTC), the job's optional scope, then IDEMPOTENCY_SCOPE.
 * @example idempotencyKey("alerts", now, "acme", "rerun-1") // "alerts:2026-11-22:acme:rerun-1"
 */
export function idempotencyKey(job: string, now: Date, scope?: string, runScope?: string | null): string {
  const parts = [job, now.toISOString().slice(0, 10), scope, runScope].filter(Boolean);
  return parts.join(":");
}

/**
 * @example
 * const { ctx, close } = await buildContext({ job, config, jobEnv, flags, log, clock, signal });
 * try { await job.run(ctx) } finally { await close() }
 */
export async function buildContext(input: {
  job: AnyJob;
  config: RuntimeConfig;
  jobEnv: unknown;
  flags: Record<string, unknown>;
  log: Logger;
  clock: Clock;
  signal: AbortSignal;
}): Promise<BuiltContext> {
  const { job, config, log, clock, signal } = input;
  const uses = new Set<Dependency>(job.uses);
  const [httpModule, adminApi, supabaseModule, bigqueryModule] = await Promise.all([
    uses.has("admin-api") || uses.has("supabase") ? import("./http.ts") : undefined,
    uses.has("admin-api") ? import("./admin-api.ts") : undefined,
    uses.has("supabase") ? import("./supabase.ts") : undefined,
    uses.has("bigquery") ? import("./bigquery.ts") : undefined,
  ]);
  const modules: Modules = {
    http: httpModule,
    adminApi,
    supabase: supabaseModule,
    bigquery: bigqueryModule,
  };
  const pools: HttpClient[] = [];
  // Config already refused plain http outside the sandbox and loopback; in the sandbox a service may sit
  // on a non-loopback host name (a container network), so the client must not refuse it again.
  const allowInsecure = config.environment === "sandbox";
  const http = (options: HttpClientOptions) => {
    if (!modules.http) throw new Error("HTTP client used by a job that declares no HTTP dependency");
    const client = modules.http.createHttpClient({
      allowInsecure,
      maxTimeoutMs: config.httpTimeoutMs,
      ...options,
    });
    pools.push(client);
    return client;
  };
  const undeclared = (dep: Dependency, property: string) =>
    new ConfigError(
      `Job "${job.name}" used ctx.${property} but does not declare it: add "${dep}" to the job's \`uses\` (jobs/…/${job.name}.ts), so its configuration is checked before the run`,
    );
  let api: AdminApi | undefined;
  let supabase: SupabaseClient | undefined;
  let bigquery: BigQueryClient | undefined;
  const queries = new Map<symbol, string>();

  const ctx: JobContext = {
    job: job.name,
    flags: input.flags,
    config,
    env: (input.jobEnv ?? {}) as Record<string, unknown>,
    log,
    clock,
    shard: createShard(config.cloudRun.taskIndex, config.cloudRun.taskCount, config.cloudRun.taskAttempt),
    signal,
    idempotencyKey: (scope) => idempotencyKey(job.name, clock.now(), scope, config.idempotencyScope),
    get api(): AdminApi {
      if (!modules.adminApi || !config.api) throw undeclared("admin-api", "api");
      api ??= modules.adminApi.createAdminApi(
        http({
          baseUrl: config.api.url,
          headers: { "X-CA-Root-Key": config.api.key },
          maxRetryAfterMs: ADMIN_API_MAX_WAIT_MS,
          log,
          signal,
        }),
        {
          allowed: job.routes,
          onUndeclared: (route) =>
            new ConfigError(
              `Job "${job.name}" called admin API route ${route} but does not declare it: add "${route}" to the job's \`routes\` (jobs/…/${job.name}.ts), so its retry budget is checked against the task timeout`,
            ),
        },
      );
      return api;
    },
    get supabase(): SupabaseClient {
      if (!modules.supabase || !config.supabase) throw undeclared("supabase", "supabase");
      const { url, token, projectRef } = config.supabase;
      supabase ??= modules.supabase.createSupabaseClient(
        http({
          baseUrl: url,
          headers: { authorization: `Bearer ${token}` },
          defaultRetryAfterMs: SUPABASE_RETRY_AFTER_MS,
          log,
          signal,
        }),
        projectRef,
        { signal },
      );
      return supabase;
    },
    get bigquery(): BigQueryClient {
      if (!modules.bigquery || !config.bigquery) throw undeclared("bigquery", "bigquery");
      const { projectId, apiUrl } = config.bigquery;
      if (!bigquery) {
        const client = modules.bigquery.createBigQueryClient({
          projectId,
          log,
          ...(apiUrl ? { apiUrl } : {}),
          ...(config.httpTimeoutMs ? { timeoutMs: config.httpTimeoutMs } : {}),
        });
        // The Google library's requests are not ours to see: a query pending is named as one request.
        const what = `POST ${apiUrl ?? "https://bigquery.googleapis.com"}/bigquery/v2/projects/${projectId}/queries`;
        bigquery = {
          query: async (q) => {
            const id = Symbol(what);
            queries.set(id, what);
            try {
              return await client.query(q);
            } finally {
              queries.delete(id);
            }
          },
        };
      }
      return bigquery;
    },
  };
  return {
    ctx,
    close: async () => void (await Promise.all(pools.map((p) => p.close()))),
    inFlight: () => [...pools.flatMap((p) => p.inFlight()), ...queries.values()],
  };
}
