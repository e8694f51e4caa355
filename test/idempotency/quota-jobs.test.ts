/**
 * quota-reset, stale-cleanup and quota-monthly: one admin API call each. Proven against the warehouse:
 * a second run changes no row, and a run killed right after its call did the work (the answer never
 * reached it) and then retried ends in exactly the state of one clean run on another fresh warehouse.
 */
import type { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  fingerprint,
  killWhen,
  rows,
  runJobOk,
  type Stack,
  startStack,
  type WarehouseTemplate,
  warehouseTemplate,
} from "./helpers.ts";

/** Every warehouse of this file is seeded at, and answers as of, this instant (comparable states). */
const NOW = new Date();
const TODAY = NOW.toISOString().slice(0, 10);
let template: WarehouseTemplate;
beforeAll(async () => {
  template = await warehouseTemplate(NOW);
});

interface Case {
  job: string;
  args: string[];
  route: string;
  /** The values that matter for this job, readable in a failed assertion. */
  snapshot(db: PGlite): Promise<unknown>;
}

const CASES: Case[] = [
  {
    job: "quota-reset",
    args: [],
    route: "POST /api/v1/admin/quota/reset-daily",
    snapshot: (db) =>
      rows(
        db,
        `SELECT org_slug, pipelines_run_today, pipelines_failed_today, pipelines_run_month, concurrent_running,
           daily_limit, monthly_limit FROM organizations.org_usage_quotas WHERE usage_date = $1 ORDER BY 1`,
        [TODAY],
      ),
  },
  {
    job: "stale-cleanup",
    args: [],
    route: "POST /api/v1/admin/quota/cleanup-stale",
    snapshot: async (db) => ({
      runs: await rows(
        db,
        "SELECT pipeline_logging_id, status, end_time FROM organizations.org_meta_pipeline_runs ORDER BY 1",
      ),
      running: await rows(
        db,
        `SELECT org_slug, usage_date, concurrent_running FROM organizations.org_usage_quotas
         WHERE concurrent_running <> 0 ORDER BY 1, 2`,
      ),
    }),
  },
  {
    job: "quota-monthly",
    // --force: today may not be the 1st; the reset then applies to the current month.
    args: ["--force"],
    route: "POST /api/v1/admin/quota/reset-monthly",
    snapshot: async (db) => ({
      resets: await rows(db, "SELECT org_slug, reset_kind, period FROM organizations.org_quota_resets ORDER BY 1"),
      month: await rows(
        db,
        `SELECT org_slug, usage_date, pipelines_run_month FROM organizations.org_usage_quotas
         WHERE date_trunc('month', usage_date) = date_trunc('month', $1::date) ORDER BY 1, 2`,
        [TODAY],
      ),
    }),
  },
];

describe.each(CASES)("$job", (c) => {
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
      await runJobOk(c.job, c.args, clean.env);
      const print = await fingerprint(db);
      // Otherwise "unchanged on the second run" would prove nothing.
      expect(print, `${c.job} changed nothing on fresh state`).not.toEqual(before);
      return { snapshot: await c.snapshot(db), print };
    })();
    return reference;
  };

  it(`a second ${c.job} run exits 0 and changes no row`, async () => {
    const first = await cleanRun();
    const db = clean.wh?.db as PGlite;
    await runJobOk(c.job, c.args, clean.env);
    expect(await c.snapshot(db)).toEqual(first.snapshot);
    expect(await fingerprint(db)).toEqual(first.print);
  });

  it(`${c.job} killed after its call did the work, then retried, ends as one clean run`, async () => {
    const db = killed.wh?.db as PGlite;
    // The API does the work but the answer is held back: the job dies never knowing it succeeded.
    killed.faults.holdAnswers("adminApi", c.route, 60_000);
    await killWhen(c.job, c.args, killed.env, () => killed.faults.handled("adminApi", c.route) >= 1);
    killed.faults.clear();
    await runJobOk(c.job, c.args, killed.env);
    const { snapshot, print } = await cleanRun();
    expect(await c.snapshot(db)).toEqual(snapshot);
    expect(await fingerprint(db)).toEqual(print);
  });
});
