/**
 * Builds a real JobContext for a job under test: the real config loader, flag parser, logger, http
 * client, API clients and shard — pointed at local fake servers. Two things are test-controlled:
 * the clock (`now`) and the waits between retries (recorded in `sleeps`, not slept, so a 429 with
 * `Retry-After: 60` is asserted without waiting a minute).
 */
import { createAdminApi } from "../../src/runtime/admin-api.ts";
import { createBigQueryClient } from "../../src/runtime/bigquery.ts";
import { idempotencyKey } from "../../src/runtime/build-context.ts";
import { loadConfig } from "../../src/runtime/config.ts";
import type { JobContext } from "../../src/runtime/context.ts";
import { parseFlags } from "../../src/runtime/flags.ts";
import { createHttpClient, type HttpClient } from "../../src/runtime/http.ts";
import type { AnyJob, JobOutcome } from "../../src/runtime/job.ts";
import { createLogger } from "../../src/runtime/logger.ts";
import { createShard } from "../../src/runtime/shard.ts";
import { createSupabaseClient } from "../../src/runtime/supabase.ts";

export interface LogEntry {
  severity: string;
  message: string;
  [key: string]: unknown;
}

export interface Harness {
  ctx: JobContext;
  logs: LogEntry[];
  /** Every wait the http client asked for between retries (ms). */
  sleeps: number[];
  run(): Promise<JobOutcome>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  env: Record<string, string | undefined>;
  argv?: string[];
  now?: Date;
  signal?: AbortSignal;
  /** Per-call timeout override for every request (to test timeouts quickly). */
  timeoutMs?: number;
  retries?: number;
}

export async function harness(job: AnyJob, opts: HarnessOptions): Promise<Harness> {
  const { config, jobEnv } = loadConfig(job, { ENVIRONMENT: "sandbox", ...opts.env });
  const flags = parseFlags(job, opts.argv ?? []);
  if (flags.problems.length) throw new Error(`bad flags in test: ${flags.problems.join("; ")}`);
  const logs: LogEntry[] = [];
  const sleeps: number[] = [];
  const log = createLogger({
    level: "debug",
    write: (line) => void logs.push(JSON.parse(line)),
    secrets: config.secrets,
    labels: { job: job.name },
  });
  const now = opts.now ?? new Date("2026-11-22T08:00:00Z");
  const signal = opts.signal ?? new AbortController().signal;
  const pools: HttpClient[] = [];
  const http = (baseUrl: string, headers: Record<string, string>, defaultRetryAfterMs?: number) => {
    const client = createHttpClient({
      baseUrl,
      headers,
      log,
      signal,
      sleep: async (ms) => void sleeps.push(ms),
      ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.retries !== undefined ? { retries: opts.retries } : {}),
      ...(defaultRetryAfterMs ? { defaultRetryAfterMs } : {}),
    });
    pools.push(client);
    return client;
  };
  const unavailable = (what: string) => {
    throw new Error(`test context: ${what} not configured for job ${job.name}`);
  };
  const api = config.api
    ? createAdminApi(http(config.api.url, { "X-CA-Root-Key": config.api.key }), {
        allowed: job.routes,
        ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
      })
    : undefined;
  const supabase = config.supabase
    ? createSupabaseClient(
        http(config.supabase.url, { authorization: `Bearer ${config.supabase.token}` }, 60_000),
        config.supabase.projectRef,
      )
    : undefined;
  const bigquery = config.bigquery?.apiUrl
    ? createBigQueryClient({ projectId: config.bigquery.projectId, apiUrl: config.bigquery.apiUrl, log })
    : undefined;
  const ctx: JobContext = {
    job: job.name,
    flags: flags.values,
    config,
    env: jobEnv as Record<string, unknown>,
    log,
    clock: { now: () => now, sleep: async () => {} },
    shard: createShard(config.cloudRun.taskIndex, config.cloudRun.taskCount, config.cloudRun.taskAttempt),
    signal,
    idempotencyKey: (scope) => idempotencyKey(job.name, now, scope, config.idempotencyScope),
    get api() {
      return api ?? unavailable("admin API");
    },
    get supabase() {
      return supabase ?? unavailable("supabase");
    },
    get bigquery() {
      return bigquery ?? unavailable("bigquery");
    },
  };
  return {
    ctx,
    logs,
    sleeps,
    run: () => job.run(ctx),
    close: async () => void (await Promise.all(pools.map((p) => p.close()))),
  };
}

/** Run a job once against fresh clients and close them: `{ outcome, logs, sleeps }` or the error thrown. */
export async function runJob(job: AnyJob, opts: HarnessOptions) {
  const h = await harness(job, opts);
  try {
    return { outcome: await h.run(), logs: h.logs, sleeps: h.sleeps, error: undefined as unknown };
  } catch (error) {
    return { outcome: undefined, logs: h.logs, sleeps: h.sleeps, error };
  } finally {
    await h.close();
  }
}
