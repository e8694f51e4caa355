/**
 * Runs one job to its exit code: overlap guard, context, run(), the SIGTERM/SIGINT grace period, and the
 * one summary line. Exit codes are documented in runner.ts.
 */
import { buildContext } from "./build-context.ts";
import { createClock } from "./clock.ts";
import { guardRun } from "./cloud-run.ts";
import type { RuntimeConfig } from "./config.ts";
import type { Clock } from "./context.ts";
import { isConfigError, OutcomeUnknownError } from "./errors.ts";
import { EXIT } from "./exit-codes.ts";
import type { AnyJob, JobOutcome } from "./job.ts";
import type { Logger } from "./logger.ts";

export type StopSignal = "SIGTERM" | "SIGINT";
export { EXIT };
/**
 * Time run() gets to settle after SIGTERM. Cloud Run sends SIGKILL 10 s after SIGTERM, so the runner
 * waits 8 s and keeps the rest to log the summary and exit before the kill.
 */
export const DEFAULT_GRACE_MS = 8_000;

export interface RunJobDeps {
  /** Registers the runner's handler for SIGTERM/SIGINT (main.ts wires process signals; tests call it). */
  onSignal?(handler: (signal: StopSignal) => void): void;
  now?: () => Date;
  /** Time run() gets to settle after a signal. Default 8 s (DEFAULT_GRACE_MS). */
  graceMs?: number;
  /** Waits between retries of the overlap check (tests). */
  sleep?: Clock["sleep"];
}

type Settled =
  | { kind: "outcome"; outcome: JobOutcome }
  | { kind: "error"; error: unknown }
  | { kind: "timeout" };

/**
 * @example
 * const code = await runJob(job, { config, jobEnv, flags, log }, { onSignal });
 */
export async function runJob(
  job: AnyJob,
  input: {
    config: RuntimeConfig;
    jobEnv: unknown;
    flags: Record<string, unknown>;
    /** The raw arguments after the job name (the once-per-day check compares them with earlier runs'). */
    args?: readonly string[];
    log: Logger;
  },
  deps: RunJobDeps,
): Promise<number> {
  const { log, config } = input;
  const clock = createClock(deps.now);
  const started = performance.now();
  const controller = new AbortController();
  let interrupted: StopSignal | undefined;
  let onInterrupt: () => void = () => {};
  const interruption = new Promise<void>((resolve) => {
    onInterrupt = resolve;
  });
  const graceMs = deps.graceMs ?? DEFAULT_GRACE_MS;
  deps.onSignal?.((signal) => {
    if (interrupted) return;
    interrupted = signal;
    log.warn(
      `Received ${signal}: starting no new work; waiting up to ${graceMs} ms for in-flight work to finish`,
      {
        signal,
        grace_ms: graceMs,
      },
    );
    controller.abort(new Error(`${signal} received: the job was asked to stop`));
    onInterrupt();
  });
  const summary = (level: "info" | "notice" | "error", message: string, fields: Record<string, unknown>) => {
    const duration_ms = Math.round(performance.now() - started);
    log[level](message, { ...fields, duration_ms });
    return fields.exit_code as number;
  };

  const verdict = await guardRun({
    job,
    args: input.args ?? [],
    config,
    log,
    now: clock.now,
    signal: controller.signal,
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
  });
  if (verdict.action === "skip")
    return summary("info", `${job.name} skipped: ${verdict.reason}`, {
      status: "skipped",
      other_execution: verdict.other,
      exit_code: EXIT.ok,
    });
  if (verdict.action === "refuse")
    return summary("error", `${job.name} refused: ${verdict.reason}`, {
      status: "failed",
      other_execution: verdict.other,
      exit_code: EXIT.failed,
    });
  if (verdict.action === "fail")
    return summary("error", `${job.name} failed closed: ${verdict.reason}`, {
      status: "failed",
      exit_code: EXIT.failed,
    });

  if (interrupted) {
    return summary("error", `${job.name} interrupted by ${interrupted} before it started; nothing was done`, {
      status: "interrupted",
      signal: interrupted,
      exit_code: EXIT[interrupted],
    });
  }
  const built = await buildContext({
    job,
    config,
    jobEnv: input.jobEnv,
    flags: input.flags,
    log,
    clock,
    signal: controller.signal,
  });
  const running: Promise<Settled> = Promise.resolve()
    .then(() => job.run(built.ctx))
    .then(
      (outcome): Settled => ({ kind: "outcome", outcome }),
      (error): Settled => ({ kind: "error", error }),
    );
  let settled = await Promise.race([running, interruption.then(() => undefined)]);
  if (interrupted) {
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<Settled>((resolve) => {
      timer = setTimeout(() => resolve({ kind: "timeout" }), graceMs);
    });
    settled = await Promise.race([running, grace]);
    clearTimeout(timer);
  }
  // Let requests still in flight finish (bounded): an abandoned run may hold one open for minutes.
  if (settled?.kind !== "timeout") await Promise.race([built.close().catch(() => {}), unrefDelay(graceMs)]);
  const end = describeEnd(job.name, settled ?? { kind: "timeout" }, interrupted, graceMs, built.inFlight());
  return summary(end.level, end.message, end.fields);
}

/** The summary line and exit code for how run() ended. */
function describeEnd(
  name: string,
  settled: Settled,
  interrupted: StopSignal | undefined,
  graceMs: number,
  inFlight: string[],
): { level: "info" | "notice" | "error"; message: string; fields: Record<string, unknown> } {
  if (interrupted) {
    const fields = { status: "interrupted", signal: interrupted, exit_code: EXIT[interrupted] };
    const head = `${name} interrupted by ${interrupted}`;
    if (settled.kind === "outcome" && settled.outcome.status !== "failed") {
      // Every piece of work finished (the job reports "failed" when it stopped early): the task is done.
      // Exiting non-zero here would make Cloud Run retry a finished task and repeat its side effects.
      const { status, message, summary } = settled.outcome;
      return {
        level: "notice",
        message: `${name} ${status}: ${message} (${interrupted} arrived, but the work had already finished: exit 0, nothing to retry)`,
        fields: { status, summary, signal: interrupted, exit_code: EXIT.ok },
      };
    }
    if (settled.kind === "outcome") {
      const { status, message, summary } = settled.outcome;
      const what = `${head}; it stopped early and reported: ${status}: ${message}`;
      return { level: "error", message: what, fields: { ...fields, outcome: status, summary } };
    }
    if (settled.kind === "error") {
      const what = `${head}; run() ended with ${describe(settled.error)}`;
      return { level: "error", message: what, fields: { ...fields, error: settled.error } };
    }
    const unknown = inFlight.map((r) => `${r} (outcome unknown)`);
    const what = `${head}: run() did not finish within ${graceMs} ms. ${
      unknown.length
        ? `Request(s) in flight, outcome unknown (the server may still complete them after this exit): ${unknown.join("; ")}.`
        : "No request was in flight."
    } Work not started is left undone; a retry or the next run redoes it (every job is idempotent)`;
    return { level: "error", message: what, fields: { ...fields, outcome_unknown: inFlight } };
  }
  if (settled.kind === "outcome") {
    const { status, message, summary } = settled.outcome;
    const exit_code = status === "failed" ? EXIT.failed : EXIT.ok;
    const level = status === "failed" ? "error" : status === "skipped" ? "info" : "notice";
    return { level, message: `${name} ${status}: ${message}`, fields: { status, summary, exit_code } };
  }
  const error = settled.kind === "error" ? settled.error : new Error("run() did not settle");
  if (error instanceof OutcomeUnknownError) {
    // Not retried by Cloud Run either: jobs that call a route that is not repeatable have retries: 0.
    return {
      level: "error",
      message: `${name}: ${error.message} Check before running it again; a deliberate re-run is ./scripts/run-job.sh <env> ${name} --rerun <label>`,
      fields: { status: "failed", outcome: "unknown", error, exit_code: EXIT.unknown },
    };
  }
  const exit_code = isConfigError(error) ? EXIT.usage : EXIT.failed;
  return {
    level: "error",
    message: `${name} failed: ${describe(error)}`,
    fields: { status: "failed", error, exit_code },
  };
}

/** A wait that does not keep the process alive by itself. */
const unrefDelay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

const describe = (error: unknown) =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);
