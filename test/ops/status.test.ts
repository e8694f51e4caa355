import { describe, expect, it } from "vitest";
import { type VerdictInput, verdict, verdictLabel } from "../../src/ops/status.ts";

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
