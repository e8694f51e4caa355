/**
 * Idempotency keys for MANUAL jobs. Scheduled jobs use `ctx.idempotencyKey()` (job + day): Scheduler's
 * at-least-once delivery may start a second execution for the same tick, and the API must dedupe it.
 * A manual job is re-run on purpose (after a fix), so a same-day key would replay the earlier, failed
 * answer; its logical run is the Cloud Run execution instead — shared by the retries of its tasks, new
 * for each run. Outside Cloud Run (no execution) the start time stands in for it.
 */
import type { JobContext } from "../../src/runtime/context.ts";

/** @example runKey(ctx, "acme") // "org-sync-all:2026-11-22:org-sync-all-stage-x7k2p:acme" */
export function runKey(
  ctx: Pick<JobContext, "config" | "idempotencyKey">,
  scope?: string,
  startedAt?: Date,
): string {
  const run = ctx.config.cloudRun.execution ?? `local-${(startedAt ?? new Date()).toISOString()}`;
  return ctx.idempotencyKey(scope ? `${run}:${scope}` : run);
}
