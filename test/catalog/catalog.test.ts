import { describe, expect, it } from "vitest";
import { catalog, getJob } from "../../jobs/index.ts";
import { RELEASE_STEPS } from "../../src/ops/commands/release.ts";
import { nextRuns, serializeCatalog } from "../../src/runtime/catalog.ts";

const text = expect.any(String);
const resources = { cpu: "1", memory: "512Mi" };
const trigger = { retryCount: 1, attemptDeadlineSeconds: 180, paused: false };
const utc = (cron: string) => ({ cron, timeZone: "Etc/UTC" });
const bool = { type: "boolean", description: text, default: false };
const str = (def: string | null = null) => ({ type: "string", description: text, default: def });
const manual = {
  schedule: null,
  trigger: null,
  ifRunning: "refuse",
  oncePerDay: false,
  routes: [],
  tasks: 1,
  parallelism: 0,
  resources,
  env: null,
};
const daily = {
  trigger,
  ifRunning: "skip",
  oncePerDay: false,
  routes: [],
  tasks: 1,
  parallelism: 0,
  resources,
  env: null,
};

/** What each job of the catalog serialises to; a job added later is checked field by field below. */
const KNOWN = [
  {
    ...manual,
    name: "migrate",
    description: text,
    timeoutSeconds: 900,
    retries: 0,
    uses: ["supabase"],
    flags: { "dry-run": bool, dir: str() },
  },
  {
    ...manual,
    name: "bootstrap",
    description: text,
    timeoutSeconds: 1800,
    retries: 0,
    uses: ["admin-api"],
    routes: ["bootstrapStatus", "bootstrap", "bootstrapSync"],
    flags: { "force-fresh": bool, "force-sync": bool },
  },
  {
    ...manual,
    name: "org-sync-all",
    description: text,
    timeoutSeconds: 3600,
    retries: 1,
    tasks: 2,
    uses: ["admin-api"],
    routes: ["listOrganizations", "syncOrganization"],
    flags: { org: str(), concurrency: str("8") },
  },
  {
    ...daily,
    name: "quota-reset",
    description: text,
    schedule: utc("0 0 * * *"),
    timeoutSeconds: 900,
    retries: 2,
    uses: ["admin-api"],
    routes: ["resetDailyQuota"],
    flags: {},
  },
  {
    ...daily,
    name: "quota-cleanup",
    description: text,
    schedule: utc("0 1 * * *"),
    timeoutSeconds: 1800,
    retries: 1,
    uses: ["bigquery"],
    flags: { "dry-run": bool },
    env: ["DAYS_TO_KEEP"],
  },
  {
    ...daily,
    name: "stale-cleanup",
    description: text,
    schedule: utc("0 2 * * *"),
    timeoutSeconds: 600,
    retries: 2,
    uses: ["admin-api"],
    routes: ["cleanupStale"],
    flags: {},
  },
  {
    ...daily,
    name: "alerts",
    description: text,
    schedule: utc("0 8 * * *"),
    timeoutSeconds: 1800,
    retries: 0,
    uses: ["admin-api"],
    routes: ["processAlerts"],
    oncePerDay: true,
    flags: { "dry-run": bool, org: str(), types: str() },
  },
  {
    ...daily,
    name: "quota-monthly",
    description: text,
    schedule: utc("5 0 1 * *"),
    timeoutSeconds: 900,
    retries: 0,
    uses: ["admin-api"],
    routes: ["resetMonthlyQuota"],
    oncePerDay: true,
    flags: { force: bool },
  },
];

describe("the catalog", () => {
  it.each(KNOWN.map((job) => [job.name, job]))(
    "serialises %s with every default spelled out",
    (name, expected) => {
      expect(serializeCatalog(catalog).find((job) => job.name === name)).toEqual(expected);
    },
  );

  it("spells out every field of every job, including one added since this test was written", () => {
    const fields = Object.keys(KNOWN[0] ?? {}).sort();
    for (const job of serializeCatalog(catalog)) {
      expect(Object.keys(job).sort(), job.name).toEqual(fields);
      for (const [field, value] of Object.entries(job))
        expect(value, `${job.name}.${field}`).not.toBeUndefined();
    }
  });

  it("lists the manual jobs in release order", () => {
    const manual = catalog.filter((job) => !job.schedule).map((job) => job.name);
    // The release's steps first, in its order; manual jobs outside the release after them.
    expect(manual.slice(0, RELEASE_STEPS.length)).toEqual([...RELEASE_STEPS]);
  });

  it("is plain JSON (no functions or schemas survive serialisation)", () => {
    const json = serializeCatalog(catalog);
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });

  it("finds a job by name and answers undefined for an unknown one", () => {
    expect(getJob("alerts")?.name).toBe("alerts");
    expect(getJob("alert")).toBeUndefined();
  });

  it.each([
    ["quota-reset", "2026-11-22T12:00:00Z", ["2026-11-23T00:00:00.000Z", "2026-11-24T00:00:00.000Z"]],
    ["alerts", "2026-11-22T07:59:00Z", ["2026-11-22T08:00:00.000Z", "2026-11-23T08:00:00.000Z"]],
    ["quota-monthly", "2026-11-22T00:00:00Z", ["2026-12-01T00:05:00.000Z", "2027-01-01T00:05:00.000Z"]],
    ["migrate", "2026-11-22T00:00:00Z", []],
  ])("lists the next runs of %s after %s", (name, from, expected) => {
    const job = getJob(name);
    if (!job) throw new Error(`no job ${name}`);
    expect(nextRuns(job, new Date(from), 2).map((d) => d.toISOString())).toEqual(expected);
  });

  it("evaluates a schedule in its own time zone", () => {
    const berlin = { schedule: { cron: "0 8 * * *", timeZone: "Europe/Berlin" } };
    // 08:00 in Berlin is 07:00 UTC in winter and 06:00 UTC in summer.
    expect(nextRuns(berlin, new Date("2026-01-10T00:00:00Z"), 1)[0]?.toISOString()).toBe(
      "2026-01-10T07:00:00.000Z",
    );
    expect(nextRuns(berlin, new Date("2026-07-10T00:00:00Z"), 1)[0]?.toISOString()).toBe(
      "2026-07-10T06:00:00.000Z",
    );
  });
});
