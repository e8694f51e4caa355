/**
 * The alerting soak, reduced for CI (the 60-day run is `npm run soak:alerts`): healthy days raise no
 * incident; an injected failure and a missed day (trigger paused) raise exactly one incident each, of the
 * right policy and job, within the job's grace after its slot.
 */
import { describe, expect, it } from "vitest";
import { alertSoak } from "../helpers/alert-soak.ts";

describe("alert policies over simulated days of the sandbox scheduler", () => {
  it("raise nothing while every job is healthy, and one incident per injected fault", async () => {
    const result = await alertSoak({
      days: 2,
      failures: [{ day: 0, job: "alerts" }],
      missed: [{ day: 1, job: "quota-reset" }],
    });
    expect(result.problems).toEqual([]);
    expect(result.incidents.map((i) => `${i.alert} ${i.job}`).sort()).toEqual([
      "failed-run alerts",
      "missed-run quota-reset",
    ]);
    expect(result.executions).toBeGreaterThan(0);
  }, 120_000);
});
