import { describe, expect, it } from "vitest";
import { getJob } from "../../jobs/index.ts";
import type { Execution } from "../../src/ops/execution.ts";
import { triggerOf } from "../../src/ops/trigger.ts";

const execution = (createTime: string, trigger?: string): Execution => ({
  createTime: { seconds: Date.parse(createTime) / 1000 },
  template: { containers: [{ env: trigger ? [{ name: "JOB_TRIGGER", value: trigger }] : [] }] },
});

describe("who started an execution", () => {
  it.each([
    ["run-job's marker", "quota-reset", execution("2026-11-22T10:00:00Z", "manual"), "manual"],
    ["release's marker", "migrate", execution("2026-11-22T10:00:00Z", "release"), "release"],
    ["no marker, seconds after the cron slot", "quota-reset", execution("2026-11-22T00:00:20Z"), "scheduler"],
    ["no marker, 14 minutes after the slot", "alerts", execution("2026-11-22T08:14:00Z"), "scheduler"],
    ["no marker, hours after the slot", "quota-reset", execution("2026-11-22T10:00:00Z"), "other"],
    ["no marker on a job without a schedule", "migrate", execution("2026-11-22T00:00:20Z"), "other"],
  ])("%s (%s)", (_what, job, run, expected) => {
    expect(triggerOf(run, getJob(job))).toBe(expected);
  });
});
