/**
 * Section (3): SIGKILL at seeded random points of each job's run, then the retry (in-process, the real
 * runner), compared with a clean run; and SIGTERM semantics: a signal after the work finished exits 0
 * with the summary; a signal while a request is held past the grace period exits non-zero naming it as
 * "outcome unknown".
 *
 * A point is either "answer lost" (every answer is held 400 ms; once the server handled the k-th request,
 * the process is killed: the server did the work, the job never heard) or a random instant of the
 * run (start-up included).
 */

import { catalog } from "../jobs/index.ts";
import { waitFor } from "../test/idempotency/helpers.ts";
import { nextDeliveryAfterKill } from "./history-server.ts";
import { rng } from "./schedules.ts";
import {
  compare,
  type EndState,
  endState,
  JOBS,
  runInProcess,
  runProcess,
  stackFor,
  type WarehouseTemplate,
} from "./stack.ts";

export interface KillResult {
  job: string;
  point: string;
  killedMidRun: boolean;
  /** "task retry": Cloud Run retries the task; "next delivery": a new execution of the day, through the guard. */
  after: "task retry" | "next delivery";
  retryExit: number;
  /** The next delivery refused, naming the killed execution (it may have reached the API). */
  refused: boolean;
  sameAsClean: boolean;
  duplicated: number;
  lost: number;
  differing: string[];
}

/** Runs `fns` with at most `limit` at once (child processes cost a core each at start-up). */
export async function pool<T>(fns: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const out: T[] = new Array(fns.length);
  let next = 0;
  const worker = async () => {
    while (next < fns.length) {
      const i = next++;
      out[i] = await (fns[i] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, fns.length) }, worker));
  return out;
}

/** A job Cloud Run never retries and that runs at most once a day: after a kill, the next delivery decides. */
export const guardedAfterKill = (job: string): boolean => {
  const spec = catalog.find((j) => j.name === job);
  return Boolean(spec?.oncePerDay && spec.retries === 0);
};

/** A trial is as required when nothing is duplicated and either the retry restored a clean run's state or the next delivery refused, naming the killed run. */
export const killAsRequired = (k: KillResult): boolean =>
  k.duplicated === 0 &&
  (k.after === "next delivery"
    ? k.refused || (k.retryExit === 0 && k.sameAsClean)
    : k.retryExit === 0 && k.sameAsClean);

export async function crashSweep(
  template: WarehouseTemplate,
  clean: Map<string, { state: EndState; requests: number }>,
  opts: { points: number; seed: number; jobs?: typeof JOBS; parallel?: number },
): Promise<KillResult[]> {
  const trials: (() => Promise<KillResult>)[] = [];
  for (const [index, j] of (opts.jobs ?? JOBS).entries()) {
    const random = rng(opts.seed + index);
    const ref = clean.get(j.job);
    if (!ref) throw new Error(`no clean state for ${j.job}`);
    for (let p = 0; p < opts.points; p++) {
      const answerLost = random() < 0.6;
      const k = 1 + Math.floor(random() * Math.max(1, ref.requests));
      const ms = Math.round(random() * 2_500);
      trials.push(async () => {
        const stack = await stackFor(j.job, template);
        try {
          // Every answer is held 400 ms: when the k-th request is handled, its answer is still held as the kill lands.
          if (answerLost) stack.faults.holdAnswers(j.faults, "", 400);
          const run = runProcess(j.job, j.args, stack.env);
          let exited = false;
          void run.done.then(() => (exited = true));
          if (answerLost) {
            await waitFor(
              () => exited || stack.faults.handled(j.faults, "") >= k,
              60_000,
              `${j.job} request ${k}`,
            ).catch(() => {});
          } else await new Promise((r) => setTimeout(r, ms));
          const killedMidRun = !exited;
          run.child.kill("SIGKILL");
          const first = await run.done;
          stack.faults.clear();
          // What production does next: Cloud Run retries the task, or, for a once-a-day job it never
          // retries, the day's next delivery runs as a new execution and its guard reads the history
          // (where the first run shows as failed, or as succeeded if it finished before the kill).
          const next = guardedAfterKill(j.job)
            ? await nextDeliveryAfterKill(j.job, j.args, !killedMidRun && first.code === 0)
            : null;
          const retry = await runInProcess([j.job, ...j.args], {
            ...stack.env,
            LOG_LEVEL: "warn",
            ...next?.env,
          }).finally(() => next?.close());
          const diff = compare(ref.state, await endState(stack));
          return {
            job: j.job,
            point: answerLost ? `after request ${k} was handled, answer lost` : `${ms} ms after start`,
            killedMidRun,
            after: next ? "next delivery" : "task retry",
            retryExit: retry.code,
            refused: retry.code !== 0 && /ended without success and may have reached the API/.test(retry.out),
            sameAsClean: diff.same,
            duplicated: diff.duplicated,
            lost: diff.lost,
            differing: diff.differing,
          };
        } finally {
          await stack.close();
        }
      });
    }
  }
  return pool(trials, opts.parallel ?? 2);
}

export interface TermResult {
  job: string;
  case: "work finished" | "request in flight past the grace period";
  exit: number | null;
  ok: boolean;
  detail: string;
}

const lastLine = (out: string): Record<string, unknown> => {
  const lines = out.split("\n").filter((l) => l.startsWith("{"));
  try {
    return JSON.parse(lines.at(-1) ?? "{}");
  } catch {
    return {};
  }
};

/** SIGTERM once every request was handled (answers held 300 ms): exit 0 with the job's summary. */
export async function termAfterWork(
  template: WarehouseTemplate,
  j: (typeof JOBS)[number],
  requests: number,
): Promise<TermResult> {
  const stack = await stackFor(j.job, template);
  try {
    stack.faults.holdAnswers(j.faults, "", 300);
    const run = runProcess(j.job, j.args, stack.env);
    let exited = false;
    void run.done.then(() => (exited = true));
    await waitFor(
      () => exited || stack.faults.handled(j.faults, "") >= requests,
      60_000,
      `${j.job} all requests`,
    );
    run.child.kill("SIGTERM");
    const r = await run.done;
    const last = lastLine(r.stdout);
    const ok =
      r.code === 0 && last.exit_code === 0 && (last.status === "succeeded" || last.status === "skipped");
    return {
      job: j.job,
      case: "work finished",
      exit: r.code,
      ok,
      detail: String(last.message ?? "").slice(0, 160),
    };
  } finally {
    await stack.close();
  }
}

/**
 * SIGTERM while a request waits `holdMs` (3 s) at the server, grace 300 ms: non-zero, the request named
 * "outcome unknown". Any hold well past the grace proves it; the reduced form holds for 1.2 s.
 */
export async function termInFlight(
  template: WarehouseTemplate,
  j: (typeof JOBS)[number],
  holdMs = 3_000,
): Promise<TermResult> {
  const stack = await stackFor(j.job, template);
  try {
    stack.faults.set(j.faults, { route: "*", latencyMs: holdMs });
    let fire: (s: "SIGTERM") => void = () => {};
    const running = runInProcess([j.job, ...j.args], stack.env, {
      graceMs: 300,
      onSignal: (h) => (fire = h),
    });
    await waitFor(() => stack.faults.inFlight(j.faults) >= 1, 20_000, `${j.job} request in flight`);
    fire("SIGTERM");
    const { code, out } = await running;
    const last = lastLine(out);
    const unknown = (last.outcome_unknown as string[] | undefined) ?? [];
    const ok = code !== 0 && unknown.length > 0 && /outcome unknown/.test(String(last.message));
    return {
      job: j.job,
      case: "request in flight past the grace period",
      exit: code,
      ok,
      detail: unknown.length ? unknown.join("; ") : String(last.message ?? "").slice(0, 160),
    };
  } finally {
    stack.faults.clear();
    await new Promise((r) => setTimeout(r, holdMs + 100)); // let the held request finish before the database closes
    await stack.close();
  }
}
