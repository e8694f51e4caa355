import { describe, expect, it } from "vitest";
import { buildCatalog } from "../../src/runtime/catalog.ts";
import { type AnyJob, defineJob, type JobSpec } from "../../src/runtime/job.ts";
import { JobDefinitionError, MAX_JOB_NAME_LENGTH, specProblems } from "../../src/runtime/job-checks.ts";

const base: JobSpec = {
  name: "sample-job",
  description: "A job for tests.",
  schedule: { cron: "0 3 * * *", timeZone: "Etc/UTC" },
  timeoutSeconds: 600,
  retries: 1,
  uses: ["admin-api"],
  run: async () => ({ status: "succeeded", message: "ok" }),
};

/** The problems the catalog's check reports for `spec` ([] when it is valid). */
function problemsOf(spec: Partial<JobSpec> & Record<string, unknown>): string[] {
  return specProblems({ ...base, ...spec } as JobSpec);
}

describe("a job definition", () => {
  it("fills every default of a scheduled job", () => {
    const job = defineJob(base);
    expect({ ...job, run: undefined }).toEqual({
      ...base,
      run: undefined,
      schedule: { cron: "0 3 * * *", timeZone: "Etc/UTC" },
      resources: { cpu: "1", memory: "512Mi" },
      tasks: 1,
      parallelism: 0,
      trigger: { retryCount: 1, attemptDeadlineSeconds: 180, paused: false },
      ifRunning: "skip",
      oncePerDay: false,
      routes: [],
      flags: {},
      env: null,
    });
  });

  it("gives a manual job no trigger, and refuses a second run while one runs", () => {
    const { schedule: _, ...spec } = base;
    const job = defineJob(spec);
    expect([job.schedule, job.trigger, job.ifRunning]).toEqual([null, null, "refuse"]);
  });

  it("accepts the longest name whose sandbox trigger still fits 63 characters", () => {
    const name = `a${"b".repeat(MAX_JOB_NAME_LENGTH - 1)}`;
    expect(problemsOf({ name })).toEqual([]);
    expect(`${name}-sandbox-trigger`).toHaveLength(63);
  });

  it.each([
    ["bad name", { name: "Quota_Reset" }, 'job "Quota_Reset": name: must be lowercase'],
    ["name ending in a dash", { name: "quota-" }, 'job "quota-": name:'],
    ["name too long", { name: "a".repeat(MAX_JOB_NAME_LENGTH + 1) }, "name: must be at most 47 characters"],
    [
      "six-field cron",
      { schedule: { cron: "0 0 0 * * *", timeZone: "Etc/UTC" } },
      'job "sample-job": schedule.cron: "0 0 0 * * *" has 6 fields',
    ],
    ["macro cron", { schedule: { cron: "@daily", timeZone: "Etc/UTC" } }, 'schedule.cron: "@daily": macros'],
    [
      "out-of-range cron",
      { schedule: { cron: "61 0 * * *", timeZone: "Etc/UTC" } },
      'schedule.cron: "61 0 * * *": Constraint error',
    ],
    [
      "Quartz L in cron",
      { schedule: { cron: "0 0 L * *", timeZone: "Etc/UTC" } },
      'schedule.cron: "0 0 L * *": field "L"',
    ],
    [
      "bad time zone",
      { schedule: { cron: "0 0 * * *", timeZone: "Mars/Olympus" } },
      'job "sample-job": schedule.timeZone: "Mars/Olympus" is not an IANA time zone',
    ],
    [
      "timeout over 168 h",
      { timeoutSeconds: 168 * 3600 + 1 },
      'job "sample-job": timeoutSeconds: must be at most 604800',
    ],
    ["timeout under 1 s", { timeoutSeconds: 0 }, "timeoutSeconds: must be at least 1"],
    ["retries over 10", { retries: 11 }, "retries: must be at most 10"],
    ["tasks over 10,000", { tasks: 10_001 }, "tasks: must be at most 10000"],
    ["scheduler retryCount over 5", { trigger: { retryCount: 6 } }, "trigger.retryCount: must be at most 5"],
    ["unknown key", { timeout: 60 }, 'job "sample-job": (definition): Unrecognized key: "timeout"'],
    ["unknown dependency", { uses: ["redis"] }, 'job "sample-job": uses.0:'],
    ["missing run", { run: undefined }, 'job "sample-job": run: must be an async function'],
    [
      "4 vCPU with 512Mi",
      { resources: { cpu: "4", memory: "512Mi" } },
      'job "sample-job": resources: memory "512Mi": 4 vCPU needs at least 2048Mi',
    ],
    [
      "8Gi with 1 vCPU",
      { resources: { memory: "8Gi" } },
      'resources: memory "8Gi": 1 vCPU allows at most 4096Mi',
    ],
    ["3 vCPU", { resources: { cpu: "3" } }, 'resources: cpu "3": Cloud Run jobs take 1, 2, 4, 6 or 8 vCPU'],
  ])("refuses a %s, naming the job and the field", (_, spec, expected) => {
    const problems = problemsOf(spec as Record<string, unknown>);
    expect(problems.join("\n")).toContain(expected);
  });

  it.each([
    ["1", "512Mi"],
    ["1000m", "4Gi"],
    ["2", "8Gi"],
    ["4", "2Gi"],
    ["8", "32Gi"],
  ])("accepts %s vCPU with %s", (cpu, memory) => {
    expect(problemsOf({ resources: { cpu, memory } })).toEqual([]);
  });

  it("accepts UTC, Etc/UTC and named zones", () => {
    for (const timeZone of ["UTC", "Etc/UTC", "America/New_York"]) {
      expect(problemsOf({ schedule: { cron: "0 0 * * *", timeZone } })).toEqual([]);
    }
  });

  it("reports every problem at once", () => {
    expect(problemsOf({ name: "X", retries: 99, timeoutSeconds: 0 })).toHaveLength(3);
  });

  it("is checked by the catalog, not by defineJob (a job file's load does no work)", () => {
    const bad = defineJob({ ...base, retries: 11, schedule: { cron: "@daily", timeZone: "Mars/Olympus" } });
    expect(bad.retries).toBe(11);
    const error = (() => {
      try {
        buildCatalog({ manual: [], daily: [bad], monthly: [] });
      } catch (e) {
        return e as JobDefinitionError;
      }
    })();
    expect(error).toBeInstanceOf(JobDefinitionError);
    expect(error?.problems).toEqual([
      expect.stringContaining('job "sample-job": schedule.timeZone: "Mars/Olympus"'),
      expect.stringContaining('job "sample-job": schedule.cron: "@daily": macros'),
      expect.stringContaining('job "sample-job": retries: must be at most 10'),
    ]);
  });

  it("refuses a catalog entry not made by defineJob", () => {
    const plain = { ...defineJob(base) };
    expect(() => buildCatalog({ manual: [], daily: [plain], monthly: [] })).toThrow(/not made by defineJob/);
  });
});

describe("buildCatalog", () => {
  const job = (name: string, cron?: string): AnyJob => {
    const { schedule: _, ...spec } = base;
    return defineJob(cron ? { ...spec, name, schedule: { cron, timeZone: "Etc/UTC" } } : { ...spec, name });
  };
  const problems = (input: Parameters<typeof buildCatalog>[0]) => {
    try {
      buildCatalog(input);
      return "";
    } catch (error) {
      return (error as JobDefinitionError).problems.join("\n");
    }
  };

  it("returns the jobs in folder order: manual, daily, monthly", () => {
    const list = buildCatalog({
      monthly: [job("m", "0 0 1 * *")],
      daily: [job("d", "0 0 * * *")],
      manual: [job("x")],
    });
    expect(list.map((j) => j.name)).toEqual(["x", "d", "m"]);
  });

  it("refuses a duplicate name, naming both folders", () => {
    expect(problems({ manual: [job("twice")], daily: [job("twice", "0 0 * * *")], monthly: [] })).toContain(
      'job "twice": name: defined twice (jobs/manual and jobs/daily)',
    );
  });

  it.each([
    ["daily", "0 */12 * * *", "does not fire exactly once every day"],
    ["daily", "0 0 * * 1", "does not fire exactly once every day"],
    ["daily", "0 0 1 * *", "does not fire exactly once every day"],
    ["monthly", "0 0 * * *", "does not fire exactly once every month"],
    ["monthly", "0 0 1,15 * *", "does not fire exactly once every month"],
    ["monthly", "0 0 1 1 *", "does not fire exactly once every month"],
  ] as const)("refuses a %s job scheduled %s", (folder, cron, expected) => {
    const input = { manual: [], daily: [], monthly: [], [folder]: [job("wrong-folder", cron)] };
    expect(problems(input)).toContain(
      `job "wrong-folder": schedule.cron: "${cron}" (Etc/UTC) is in jobs/${folder} but ${expected}`,
    );
  });

  it.each([
    ["daily", "30 23 * * *"],
    ["daily", "0 9 * * SUN-SAT"],
    ["monthly", "5 0 1 * *"],
    ["monthly", "0 12 28 * *"],
  ] as const)("accepts a %s job scheduled %s", (folder, cron) => {
    expect(problems({ manual: [], daily: [], monthly: [], [folder]: [job("right", cron)] })).toBe("");
  });

  it.each([
    ["daily", ["0 1 * * *", "0 0 * * *"], '"second" (00:00 UTC) is listed after "first" (01:00 UTC)'],
    ["monthly", ["0 0 2 * *", "5 0 1 * *"], '"second" (01 00:05 UTC) is listed after "first" (02 00:00 UTC)'],
  ] as const)("refuses %s jobs listed out of firing order", (folder, [first, second], expected) => {
    const input = {
      manual: [],
      daily: [],
      monthly: [],
      [folder]: [job("first", first), job("second", second)],
    };
    expect(problems(input)).toContain(
      `jobs/index.ts: ${folder} jobs are listed in the order they fire; ${expected}`,
    );
  });

  it("orders daily jobs by UTC time of day across time zones", () => {
    const zoned = (name: string, cron: string, timeZone: string) =>
      defineJob({ ...base, name, schedule: { cron, timeZone } });
    // 06:00 in Berlin (05:00 UTC in January) fires before 07:00 UTC.
    const daily = [zoned("berlin", "0 6 * * *", "Europe/Berlin"), zoned("utc", "0 7 * * *", "Etc/UTC")];
    expect(problems({ manual: [], daily, monthly: [] })).toBe("");
    expect(problems({ manual: [], daily: [...daily].reverse(), monthly: [] })).toContain(
      '"berlin" (05:00 UTC)',
    );
  });

  it("refuses a schedule in jobs/manual and a scheduled folder without one", () => {
    expect(problems({ manual: [job("m1", "0 0 * * *")], daily: [job("d1")], monthly: [] })).toMatch(
      /job "m1": schedule: jobs in jobs\/manual have no schedule[\s\S]*job "d1": schedule: jobs in jobs\/daily need a schedule/,
    );
  });
});

describe("buildCatalog across time zones", () => {
  const daily = (cron: string, timeZone: string) =>
    defineJob({ ...base, name: "zoned", schedule: { cron, timeZone } });

  it("accepts a daily job late in the evening of a zone far west of UTC", () => {
    expect(() =>
      buildCatalog({ manual: [], daily: [daily("30 23 * * *", "America/Los_Angeles")], monthly: [] }),
    ).not.toThrow();
  });
});
