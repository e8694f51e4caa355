/**
 * Two runs of one job at once on Cloud Run (the sandbox's emulator, real task processes) against a
 * warehouse on a REAL PostgreSQL server, where the admin API serves both runs' requests at the same time
 * in separate sessions (reliability/concurrency.ts; the full figures are in RELIABILITY.md, section 4).
 * Skipped only when no PostgreSQL server binaries exist on this machine (.ci/run installs them).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Lab,
  labUnavailable,
  runScenario,
  SCENARIOS,
  type Scenario,
  startLab,
} from "../../reliability/concurrency.ts";

const missing = labUnavailable();
const scenario = (job: Scenario["job"], listFails: boolean) =>
  SCENARIOS.find((s) => s.job === job && s.listFails === listFails) as Scenario;
let lab: Lab;

describe.skipIf(missing)(`two runs at once on a real PostgreSQL server${missing ? ` (skipped: ${missing})` : ""}`, () => {
  beforeAll(async () => {
    lab = await startLab();
  }, 120_000);
  afterAll(() => lab?.close());

  it("org-sync-all started twice at once: the newer execution refuses, naming the older; one clean run's end state", async () => {
    const r = await runScenario(lab, scenario("org-sync-all", false));
    console.log(JSON.stringify(r, null, 1));
    expect(r.executions).toHaveLength(2);
    expect({ same: r.sameAsClean, duplicated: r.duplicated, lost: r.lost }).toEqual({
      same: true,
      duplicated: 0,
      lost: 0,
    });
  }, 120_000);

  it("org-sync-all twice at once while the guard cannot read the executions: both sync every org, the end state is one clean run's", async () => {
    const r = await runScenario(lab, scenario("org-sync-all", true));
    console.log(JSON.stringify(r, null, 1));
    expect({ same: r.sameAsClean, duplicated: r.duplicated, lost: r.lost }).toEqual({
      same: true,
      duplicated: 0,
      lost: 0,
    });
  }, 120_000);

  it("alerts delivered twice at once: one sends, the other skips", async () => {
    const r = await runScenario(lab, scenario("alerts", false));
    console.log(JSON.stringify(r, null, 1));
    expect(r.notificationsDuplicated).toBe(0);
  }, 120_000);

  it("alerts delivered twice at once while the executions list answers 503: both fail closed, nothing sent", async () => {
    const r = await runScenario(lab, scenario("alerts", true));
    console.log(JSON.stringify(r, null, 1));
    expect(r.processAll[0]).toBe(0);
    expect(r.untouched).toBe(true);
  }, 120_000);
});
