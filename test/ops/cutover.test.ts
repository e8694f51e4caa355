/**
 * Cutover from the old scripts in a sandbox seeded with their jobs and enabled triggers (CONTRACT §5):
 * the plan lists them with their replacements, an apply that would run both is refused, --retire-legacy
 * pauses the replaced triggers in the apply that makes ours live (deleting nothing), list-jobs warns while
 * one still fires, and after the cutover every daily slot runs exactly once.
 *
 * Tasks run `node -e 0`: what is counted is executions per slot, not the jobs' work.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { catalog } from "../../jobs/index.ts";
import { startSandbox } from "../../sandbox/index.ts";
import { cli } from "./support.ts";

type Sandbox = Awaited<ReturnType<typeof startSandbox>>;
let sandbox: Sandbox;
const parent = "projects/sandbox-project/locations/us-central1";
const env = () => sandbox.env as Record<string, string>;

async function get<T>(url: string): Promise<T> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return (await response.json()) as T;
}
const triggerState = async (id: string) =>
  (await get<{ state: string }>(`${sandbox.urls.scheduler}/v1/${parent}/jobs/${id}`)).state;
const executions = async (job: string) =>
  (
    (await get<{ executions?: unknown[] }>(`${sandbox.urls.cloudRun}/v2/${parent}/jobs/${job}/executions`))
      .executions ?? []
  ).length;

/** Legacy daily triggers and the job of ours each one duplicates. */
const DAILY: [legacy: string, ours: string][] = [
  ["cloudact-daily-quota-reset", "quota-reset"],
  ["cloudact-daily-quota-cleanup", "quota-cleanup"],
  ["cloudact-daily-stale-cleanup", "stale-cleanup"],
  ["cloudact-daily-alerts", "alerts"],
];

beforeAll(async () => {
  sandbox = await startSandbox({
    quiet: true,
    data: false,
    legacy: true,
    entry: [process.execPath, "-e", "0"],
    scheduler: { autoTick: false, start: new Date("2026-03-10T12:00:00Z") },
  });
});
afterAll(async () => {
  await sandbox?.stop();
});

describe("cutover from the old scripts", () => {
  it("lists every legacy resource with the job that replaces it, and refuses an apply that would run both", async () => {
    const plan = await cli(["create-all-jobs", "sandbox", "--plan"], { env: env() });
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(
      /trigger cloudact-daily-alerts-trigger\s+ENABLED → replaced by alerts-sandbox-trigger; STILL ENABLED/,
    );
    expect(plan.stdout).toMatch(/run-job cloudact-manual-bootstrap-sync\s+→ replaced by bootstrap-sandbox/);
    expect(plan.stdout).toMatch(
      /cloudact-quota-reset-daily-trigger\s+ENABLED → replaced by quota-reset-sandbox-trigger/,
    );
    expect(plan.stdout).toMatch(/cloudact-daily-pipelines-trigger\s+ENABLED: no replacement here/);

    const apply = await cli(["create-all-jobs", "sandbox"], { env: env() });
    expect(apply.code).toBe(2);
    expect(apply.stderr).toContain("pass --retire-legacy");
    const [jobs] = [await get<{ jobs?: { name: string }[] }>(`${sandbox.urls.cloudRun}/v2/${parent}/jobs`)];
    expect((jobs.jobs ?? []).some((job) => job.name.endsWith("-sandbox"))).toBe(false);
  });

  it("list-jobs warns while a replaced legacy trigger is still enabled", async () => {
    const status = await cli(["list-jobs", "sandbox"], { env: env() });
    expect(status.stderr).toContain("warning: legacy trigger cloudact-daily-alerts-trigger is still ENABLED");
    expect(status.stderr).not.toContain("cloudact-daily-pipelines-trigger");
  });

  it("--retire-legacy pauses each replaced trigger in the apply that makes ours live, and deletes nothing", async () => {
    const planned = await cli(
      ["create-all-jobs", "sandbox", "--plan", "--retire-legacy", "--detailed-exitcode"],
      {
        env: env(),
      },
    );
    expect(planned.code).toBe(2);
    expect(planned.stdout).toContain("will be paused in this apply (--retire-legacy)");

    const apply = await cli(["create-all-jobs", "sandbox", "--retire-legacy"], { env: env() });
    expect(apply.stderr).not.toContain("error");
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain(
      "legacy trigger cloudact-daily-alerts-trigger: paused (replaced by alerts-sandbox-trigger",
    );
    for (const [legacy] of DAILY) expect(await triggerState(`${legacy}-trigger`)).toBe("PAUSED");
    expect(await triggerState("cloudact-quota-reset-daily-trigger")).toBe("PAUSED");
    expect(await triggerState("cloudact-monthly-quota-reset-trigger")).toBe("PAUSED");
    expect(await triggerState("cloudact-daily-pipelines-trigger")).toBe("ENABLED");
    // Nothing deleted: every legacy job is still there.
    const { jobs = [] } = await get<{ jobs?: { name: string }[] }>(
      `${sandbox.urls.cloudRun}/v2/${parent}/jobs`,
    );
    const names = jobs.map((job) => job.name.split("/").pop());
    expect(names).toEqual(expect.arrayContaining(["cloudact-daily-alerts", "cloudact-daily-pipelines"]));
    expect(names.filter((name) => name?.endsWith("-sandbox"))).toHaveLength(catalog.length);

    const status = await cli(["list-jobs", "sandbox"], { env: env() });
    expect(status.stderr).not.toContain("warning: legacy trigger");
    const again = await cli(
      ["create-all-jobs", "sandbox", "--plan", "--retire-legacy", "--detailed-exitcode"],
      {
        env: env(),
      },
    );
    expect(again.code).toBe(0);
  });

  it("after the cutover each daily slot runs once; the job with no replacement keeps running", async () => {
    await sandbox.clock.advance(24 * 3600_000);
    for (const [legacy, ours] of DAILY) {
      expect({ job: ours, runs: (await executions(`${ours}-sandbox`)) + (await executions(legacy)) }).toEqual(
        {
          job: ours,
          runs: 1,
        },
      );
    }
    expect(await executions("cloudact-quota-reset-daily")).toBe(0);
    expect(await executions("cloudact-daily-pipelines")).toBe(1);
  });
});
