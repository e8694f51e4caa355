/**
 * The idempotency proof for the jobs that work through the warehouse (admin API or BigQuery), as one
 * reusable suite. Per job, two fresh copies of the same seeded warehouse:
 * - "clean": one run is the reference end state; a second run must exit 0 and change no row (the API
 *   keeps no Idempotency-Keys: the work itself must be idempotent);
 * - "killed": the server does the work of the job's first `killAfter` calls but holds their answers,
 *   the job is SIGKILLed right then (never knowing it succeeded), and run again without faults: the end
 *   state must equal the reference, row for row. With `tasks`, the job runs as a Cloud Run execution
 *   of that many tasks, and the killed task is retried as attempt 1 of the same execution.
 * `done` states what "done" means for the job and is checked on both end states, so that two equal but
 * wrong states (say, the job did nothing at all) cannot pass.
 */
import type { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WarehouseState } from "../../sandbox/admin-api/warehouse.ts";
import type { ServiceName } from "../../sandbox/faults.ts";
import {
  fingerprint,
  JOB_TEST_TIMEOUT_MS,
  killWhen,
  runJobOk,
  type Stack,
  startStack,
  type WarehouseTemplate,
  warehouseTemplate,
} from "./helpers.ts";

export interface IdempotencyCase {
  job: string;
  /** Name of the describe block (default: the job). */
  title?: string;
  args: string[];
  /** `"METHOD /path"` prefix of the job's calls that change state, and their service (default adminApi). */
  route: string;
  service?: ServiceName;
  /** Kill once this many of those calls did their work (default 1), running with `killArgs` (default `args`). */
  killAfter?: number;
  killArgs?: string[];
  /**
   * Run as one Cloud Run execution of this many tasks (one after another) instead of one local process.
   * A killed task is retried as attempt 1 of the SAME execution, as Cloud Run retries a failed task.
   */
  tasks?: number;
  /** Name of the second-run test (default: "a second <job> run exits 0 and changes no row"). */
  secondRun?: string;
  /** The values that matter for this job, readable in a failed assertion. */
  snapshot(db: PGlite): Promise<unknown>;
  /** Assertions that hold once the job's work is done. */
  done(db: PGlite): Promise<void>;
}

/**
 * @example
 * describeIdempotency(NOW, [{ job: "quota-reset", args: [], route: "POST /api/v1/quota/reset-daily", snapshot, done }]);
 */
export function describeIdempotency(
  now: Date,
  cases: IdempotencyCase[],
  opts: { state?: WarehouseState; title?: string } = {},
): void {
  let template: WarehouseTemplate;
  beforeAll(async () => {
    template = await warehouseTemplate(now, opts.state);
  });

  const titled = cases.map((c) => ({ ...c, title: c.title ?? opts.title ?? c.job }));
  describe.each(titled)("$title", (c) => {
    const service = c.service ?? "adminApi";
    let executions = 0;
    const taskEnv = (stack: Stack, execution: string, index: number, attempt: number) => ({
      ...stack.env,
      CLOUD_RUN_EXECUTION: execution,
      CLOUD_RUN_TASK_INDEX: String(index),
      CLOUD_RUN_TASK_COUNT: String(c.tasks),
      CLOUD_RUN_TASK_ATTEMPT: String(attempt),
    });
    /** One whole run: a local process, or every task of a new execution. */
    const runAll = async (stack: Stack) => {
      if (!c.tasks) return void (await runJobOk(c.job, c.args, stack.env));
      const execution = `${c.job}-exec-${++executions}`;
      for (let i = 0; i < c.tasks; i++) await runJobOk(c.job, c.args, taskEnv(stack, execution, i, 0));
    };
    const killAfter = c.killAfter ?? 1;
    let clean: Stack;
    let killed: Stack;
    let reference: Promise<{ snapshot: unknown; print: Record<string, string> }> | undefined;
    beforeAll(async () => {
      [clean, killed] = await Promise.all([
        startStack({ warehouse: template }),
        startStack({ warehouse: template }),
      ]);
    });
    afterAll(async () => {
      await Promise.all([clean?.close(), killed?.close()]);
    });

    /** One clean run on its own fresh warehouse: the end state every other path must reach. */
    const cleanRun = () => {
      reference ??= (async () => {
        const db = clean.wh?.db as PGlite;
        const before = await fingerprint(db);
        await runAll(clean);
        await c.done(db);
        const print = await fingerprint(db);
        // Otherwise "unchanged on the second run" would prove nothing.
        expect(print, `${c.job} changed nothing on fresh state`).not.toEqual(before);
        return { snapshot: await c.snapshot(db), print };
      })();
      return reference;
    };

    it(
      c.secondRun ?? `a second ${c.job} run exits 0 and changes no row`,
      async () => {
        const first = await cleanRun();
        const db = clean.wh?.db as PGlite;
        await runAll(clean);
        expect(await c.snapshot(db)).toEqual(first.snapshot);
        expect(await fingerprint(db)).toEqual(first.print);
      },
      JOB_TEST_TIMEOUT_MS,
    );

    it(
      `${c.job} killed after its first side effects landed, then retried, ends as one clean run`,
      async () => {
        const db = killed.wh?.db as PGlite;
        const { print } = await cleanRun();
        killed.faults.holdAnswers(service, c.route, 60_000);
        const execution = `${c.job}-exec-killed`;
        await killWhen(
          c.job,
          c.killArgs ?? c.args,
          c.tasks ? taskEnv(killed, execution, 0, 0) : killed.env,
          () => killed.faults.handled(service, c.route) >= killAfter,
        );
        // Killed half-way: some work landed, and the state is not yet the finished one.
        expect(killed.faults.handled(service, c.route)).toBe(killAfter);
        if (killAfter > 1) expect(await fingerprint(db)).not.toEqual(print);
        killed.faults.clear();
        if (c.tasks) {
          // Task 0 retried (same execution); the other tasks run once.
          await runJobOk(c.job, c.args, taskEnv(killed, execution, 0, 1));
          for (let i = 1; i < c.tasks; i++) await runJobOk(c.job, c.args, taskEnv(killed, execution, i, 0));
        } else await runJobOk(c.job, c.args, killed.env);
        await c.done(db);
        expect(await c.snapshot(db)).toEqual((await cleanRun()).snapshot);
        expect(await fingerprint(db)).toEqual(print);
      },
      JOB_TEST_TIMEOUT_MS,
    );
  });
}
