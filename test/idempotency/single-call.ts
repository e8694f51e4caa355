/**
 * The proof for jobs that make ONE admin API call (quota-reset, stale-cleanup, quota-monthly, alerts),
 * as a reusable suite. Per job, two fresh copies of the seeded warehouse:
 * - "clean": one run is the reference end state; a second run must exit 0 and change no row;
 * - "killed": the API does the work but its answer is held back, the job is SIGKILLed never knowing it
 *   succeeded, then retried without faults: the end state must equal the reference, row for row.
 * `done` states what "done" means for the job (checked on both end states), so that equal-but-wrong
 * states (e.g. the job did nothing at all) cannot pass.
 */
import type { PGlite } from "@electric-sql/pglite";
import type { WarehouseState } from "../../sandbox/admin-api/warehouse.ts";
import type { ServiceName } from "../../sandbox/faults.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  fingerprint,
  killWhen,
  runJobOk,
  type Stack,
  startStack,
  type WarehouseTemplate,
  warehouseTemplate,
} from "./helpers.ts";

export interface SingleCallCase {
  job: string;
  args: string[];
  /** `"METHOD /path"` of the job's one call (that changes state), and its service (default adminApi). */
  route: string;
  service?: ServiceName;
  /** Name of the second-run test (default: "a second <job> run exits 0 and changes no row"). */
  secondRun?: string;
  /** The values that matter for this job, readable in a failed assertion. */
  snapshot(db: PGlite): Promise<unknown>;
  /** Assertions that hold once the job's work is done. */
  done(db: PGlite): Promise<void>;
}

/**
 * @example
 * describeSingleCall(NOW, [{ job: "quota-reset", args: [], route: "POST /api/v1/admin/quota/reset-daily", snapshot, done }]);
 */
export function describeSingleCall(
  now: Date,
  cases: SingleCallCase[],
  opts: { state?: WarehouseState; title?: string } = {},
): void {
  let template: WarehouseTemplate;
  beforeAll(async () => {
    template = await warehouseTemplate(now, opts.state);
  });

  describe.each(cases)(opts.title ?? "$job", (c) => {
    const service = c.service ?? "adminApi";
    let clean: Stack;
    let killed: Stack;
    let reference: Promise<{ snapshot: unknown; print: Record<string, string> }> | undefined;
    beforeAll(async () => {
      [clean, killed] = await Promise.all([startStack({ warehouse: template }), startStack({ warehouse: template })]);
    });
    afterAll(async () => {
      await Promise.all([clean?.close(), killed?.close()]);
    });

    /** One clean run on its own fresh warehouse: the end state every other path must reach. */
    const cleanRun = () => {
      reference ??= (async () => {
        const db = clean.wh?.db as PGlite;
        const before = await fingerprint(db);
        await runJobOk(c.job, c.args, clean.env);
        await c.done(db);
        const print = await fingerprint(db);
        // Otherwise "unchanged on the second run" would prove nothing.
        expect(print, `${c.job} changed nothing on fresh state`).not.toEqual(before);
        return { snapshot: await c.snapshot(db), print };
      })();
      return reference;
    };

    it(c.secondRun ?? `a second ${c.job} run exits 0 and changes no row`, async () => {
      const first = await cleanRun();
      const db = clean.wh?.db as PGlite;
      await runJobOk(c.job, c.args, clean.env);
      expect(await c.snapshot(db)).toEqual(first.snapshot);
      expect(await fingerprint(db)).toEqual(first.print);
    });

    it(`${c.job} killed after its call did the work, then retried, ends as one clean run`, async () => {
      const db = killed.wh?.db as PGlite;
      killed.faults.holdAnswers(service, c.route, 60_000);
      await killWhen(c.job, c.args, killed.env, () => killed.faults.handled(service, c.route) >= 1);
      killed.faults.clear();
      await runJobOk(c.job, c.args, killed.env);
      await c.done(db);
      const { snapshot, print } = await cleanRun();
      expect(await c.snapshot(db)).toEqual(snapshot);
      expect(await fingerprint(db)).toEqual(print);
    });
  });
}
