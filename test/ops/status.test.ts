import { describe, expect, it } from "vitest";
import { executionState } from "../../src/ops/execution-state.ts";
import { missedReason, type VerdictInput, verdict, verdictLabel } from "../../src/ops/status.ts";

const slot = new Date("2026-11-22T00:00:00Z");
const base: VerdictInput = {
  drifted: false,
  triggerEnabled: true,
  latest: null,
  slot,
  createdAt: new Date("2026-11-01T00:00:00Z"),
};
const after = new Date("2026-11-22T00:00:05Z");
const before = new Date("2026-11-21T00:00:05Z");

describe("verdict", () => {
  it.each<[string, Partial<VerdictInput>, string]>([
    ["a drifted job", { drifted: true, latest: { status: "succeeded", start: after } }, "DRIFTED"],
    ["a drifted job that never ran", { drifted: true, createdAt: after }, "DRIFTED"],
    [
      "a drifted job whose last run failed",
      { drifted: true, latest: { status: "failed", start: after } },
      "FAILED",
    ],
    [
      "a drifted job that missed its slot",
      { drifted: true, latest: { status: "succeeded", start: before } },
      "MISSED",
    ],
    [
      "a drifted job that is running",
      { drifted: true, latest: { status: "running", start: before } },
      "RUNNING",
    ],
    ["a running execution", { latest: { status: "running", start: after } }, "RUNNING"],
    ["a failed last execution", { latest: { status: "failed", start: after } }, "FAILED"],
    ["a cancelled last execution", { latest: { status: "cancelled", start: after } }, "FAILED"],
    ["no run since the last slot", { latest: { status: "succeeded", start: before } }, "MISSED"],
    ["no run at all though a slot passed", {}, "MISSED"],
    ["a job created after the last slot", { createdAt: after }, "NEVER RAN"],
    ["a paused trigger", { triggerEnabled: false }, "NEVER RAN"],
    ["a manual job never run", { slot: null, triggerEnabled: false }, "NEVER RAN"],
    ["a run after the slot", { latest: { status: "succeeded", start: after } }, "OK"],
  ])("calls %s %s", (_what, input, expected) => {
    expect(verdict({ ...base, ...input })).toBe(expected);
  });
});

describe("verdictLabel", () => {
  it.each<[Parameters<typeof verdictLabel>[0], string[], string]>([
    ["FAILED", ["job timeout"], "FAILED (drifted)"],
    ["MISSED", ["trigger missing"], "MISSED (drifted)"],
    ["DRIFTED", ["job timeout"], "DRIFTED"],
    ["OK", [], "OK"],
  ])("shows %s with drift %j as %s", (value, drift, expected) => {
    expect(verdictLabel(value, drift)).toBe(expected);
  });
});

describe("missedReason", () => {
  const uri = "https://run.googleapis.com/v2/projects/p/locations/r/jobs/alerts-prod:run";
  const attempt = new Date("2026-11-22T00:00:01Z");
  it.each<[string, Parameters<typeof missedReason>[0], string]>([
    [
      "a refused :run",
      { status: { code: 7, message: "" }, time: attempt, uri },
      "last attempt 2026-11-22T00:00:01Z failed: 403 PERMISSION_DENIED from :run",
    ],
    [
      "a job missing at :run",
      { status: { code: 5, message: "Job not found" }, time: attempt, uri },
      "last attempt 2026-11-22T00:00:01Z failed: 404 NOT_FOUND from :run: Job not found",
    ],
    [
      "an accepted attempt with no execution",
      { status: {}, time: attempt, uri },
      "last attempt 2026-11-22T00:00:01Z was accepted by :run, yet no execution started after it",
    ],
    [
      "no attempt since the slot",
      { status: {}, time: new Date("2026-11-21T00:00:01Z"), uri },
      "no Scheduler attempt since the slot at 2026-11-22T00:00:00Z (last attempt: 2026-11-21T00:00:01Z)",
    ],
    [
      "no attempt ever",
      { status: null, time: null, uri },
      "no Scheduler attempt since the slot at 2026-11-22T00:00:00Z (last attempt: never)",
    ],
  ])("explains %s", (_what, last, expected) => {
    expect(missedReason(last, slot)).toBe(expected);
  });
});

describe("executionState", () => {
  const completed = (state: string, executionReason?: string) => ({
    type: "Completed",
    state,
    ...(executionReason ? { executionReason } : {}),
  });
  const done = { seconds: 1_700_000_000 };
  it.each<[string, Record<string, unknown>, ReturnType<typeof executionState>]>([
    [
      "a success, all fields agreeing",
      {
        taskCount: 1,
        succeededCount: 1,
        completionTime: done,
        conditions: [completed("CONDITION_SUCCEEDED")],
      },
      { status: "succeeded", consistent: true },
    ],
    [
      "a completionTime ahead of the counts",
      {
        taskCount: 1,
        succeededCount: 0,
        runningCount: 1,
        completionTime: done,
        conditions: [completed("CONDITION_RECONCILING")],
      },
      { status: "running", consistent: false },
    ],
    [
      "a terminal condition ahead of completionTime",
      { taskCount: 2, succeededCount: 1, failedCount: 1, conditions: [completed("CONDITION_FAILED")] },
      { status: "failed", consistent: false },
    ],
    [
      "counts and completionTime without a condition (enums as numbers)",
      { taskCount: 2, succeededCount: 2, completionTime: "2026-11-22T00:00:00Z", conditions: [] },
      { status: "succeeded", consistent: true },
    ],
    [
      "a cancelled run",
      {
        taskCount: 1,
        cancelledCount: 1,
        completionTime: done,
        conditions: [completed("CONDITION_FAILED", "CANCELLED")],
      },
      { status: "cancelled", consistent: true },
    ],
    [
      "a failed run with enum numbers",
      {
        taskCount: 1,
        failedCount: 1,
        completionTime: done,
        conditions: [{ type: "Completed", state: 3, executionReason: 2 }],
      },
      { status: "failed", consistent: true },
    ],
    [
      "a run that just started",
      { taskCount: 3, runningCount: 3, conditions: [] },
      { status: "running", consistent: true },
    ],
  ])("reads %s", (_what, execution, expected) => {
    expect(executionState(execution as never)).toEqual(expected);
  });
});
