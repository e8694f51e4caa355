/**
 * The small context a job depends on. Jobs never touch process.env, Cloud SDK clients or process.exit.
 * Built once per process by the runner (src/runtime/runner.ts).
 */
import type { AdminApi } from "./admin-api.ts";
import type { BigQueryClient } from "./bigquery.ts";
import type { RuntimeConfig } from "./config.ts";
import type { Logger } from "./logger.ts";
import type { SupabaseClient } from "./supabase.ts";

export interface Clock {
  now(): Date;
  /** Resolves after `ms`, or early (rejecting with an AbortError) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** This task's slice of the work: CLOUD_RUN_TASK_INDEX / CLOUD_RUN_TASK_COUNT / CLOUD_RUN_TASK_ATTEMPT. */
export interface Shard {
  index: number;
  count: number;
  attempt: number;
  /** Stable assignment: true when `key` belongs to this task. */
  owns(key: string): boolean;
}

export interface JobContext<F = Record<string, unknown>, E = Record<string, unknown>> {
  /** The job's name, e.g. "org-sync-all". */
  job: string;
  flags: F;
  /** The parsed environment (shared keys). */
  config: RuntimeConfig;
  /** The job's own environment keys (its `env` schema's output). */
  env: E;
  log: Logger;
  clock: Clock;
  shard: Shard;
  /** Aborted on SIGTERM (timeout or cancel): start no new work, let in-flight calls finish. */
  signal: AbortSignal;
  /** Admin API client; only present when the job `uses` "admin-api" (else throws on access). */
  api: AdminApi;
  supabase: SupabaseClient;
  bigquery: BigQueryClient;
  /** `${job}:${YYYY-MM-DD}` (UTC date of `clock.now()`), optionally with a scope: `alerts:2026-11-22:acme`. */
  idempotencyKey(scope?: string): string;
}
