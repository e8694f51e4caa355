/**
 * Two runs of one job at once on Cloud Run (the sandbox's emulator, real task processes) against a
 * warehouse on a REAL PostgreSQL server, where the admin API serves both runs' requests at the same time
 * in separate sessions (reliability/concurrency.ts; the full figures are in RELIABILITY.md, section 4).
 * Each scenario also scans its execution logs and task argv for the keys (section 6).
 * Skipped only when no PostgreSQL server binaries exist on this machine (.ci/run installs them).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ConcurrencyResult,
  type Lab,
  labUnavailable,
  runScenario,
  SCENARIOS,
  type Scenario,
  startLab,
  verdict,
} from "../../reliability/concurrency.ts";

const missing = labUnavailable();
const scenario = (job: Scenario["job"], listFails: boolean) =>
  SCENARIOS.find((s) => s.job === job && s.listFails === listFails) as Scenario;
let lab: Lab;

/** Every attempt of every execution, for a readable failure. */
const story = (r: ConcurrencyResult) => r.executions.flatMap((e) => e.attempts.map((a) => `${e.name} ${a}`));

function expectClean(r: ConcurrencyResult) {
  expect(verdict(r), story(r).join("\n")).toEqual([]);
  expect(r.duplicated).toBe(0);
  expect(r.secrets.logs.entries).toBeGreaterThanOrEqual(2); // at least each execution's summary line
  expect(r.secrets.logs.findings).toEqual([]);
  expect(r.secrets.argv.tasks).toBeGreaterThanOrEqual(2);
  expect(r.secrets.argv.findings).toEqual([]);
  if (process.platform === "linux") expect(r.secrets.argv.tasksWithCmdline).toBeGreaterThan(0);
}

describe.skipIf(missing)(
  `two runs at once on a real PostgreSQL server${missing ? ` (skipped: ${missing})` : ""}`,
  () => {
    beforeAll(async () => {
      lab = await startLab();
    }, 120_000);
    afterAll(() => lab?.close());

    it("org-sync-all started twice at once: the newer execution refuses while the older runs, naming it; the end state is one clean run's", async () => {
      const r = await runScenario(lab, scenario("org-sync-all", false));
      expectClean(r);
      expect(r.sameAsClean).toBe(true);
      expect(r.executions[0]?.succeeded, story(r).join("\n")).toBe(true);
    }, 120_000);

    it("org-sync-all twice at once while the guard cannot read the executions (503): both sync every org at once; races end as PARTIAL 'already exists', Cloud Run's retry finishes; one clean run's end state", async () => {
      const r = await runScenario(lab, scenario("org-sync-all", true));
      expectClean(r);
      expect({ same: r.sameAsClean, lost: r.lost }).toEqual({ same: true, lost: 0 });
      // Both really ran: each execution's tasks asked the API to sync its orgs.
      expect(r.syncs[0]).toBeGreaterThanOrEqual(2 * r.syncs[1]);
    }, 120_000);

    it("alerts delivered twice at once: one execution sends, the other skips naming it; notifications as one clean run", async () => {
      const r = await runScenario(lab, scenario("alerts", false));
      expectClean(r);
      expect(r.processAll).toEqual([1, 1]);
      expect(r.notificationsDuplicated).toBe(0);
    }, 120_000);

    it("alerts delivered twice at once while the executions list answers 503: both fail closed (exit 1, saying why), nothing sent", async () => {
      const r = await runScenario(lab, scenario("alerts", true));
      expectClean(r);
      expect(r.processAll[0]).toBe(0);
      expect(r.untouched).toBe(true);
      expect(r.executions.map((e) => e.succeeded)).toEqual([false, false]);
    }, 120_000);
  },
);
