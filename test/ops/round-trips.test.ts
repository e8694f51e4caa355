/**
 * How many round trips the operators' commands make one after another, measured on the wire: every Google
 * API request goes through a recording proxy (bench/lib/request-timeline.ts) and the emulators answer each
 * after 150 ms (fault rule), so a request that waited for another starts after it ended. The assertion is on
 * the structure (the longest chain of dependent requests), not on a time.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dependentLevels, startTimeline, type Timeline } from "../../bench/lib/request-timeline.ts";
import { type Sandbox, startSandbox } from "../../sandbox/index.ts";
import { catalogCounts } from "../helpers/catalog-counts.ts";
import { cli } from "./support.ts";

/** Far above the few ms it takes to send a whole wave, even on a busy machine (a late send is not a dependency). */
const LATENCY_MS = 150;
const GOOGLE = ["cloudRun", "scheduler", "secretManager", "monitoring"] as const;
let sandbox: Sandbox;
let timeline: Timeline;

beforeAll(async () => {
  sandbox = await startSandbox({
    quiet: true,
    data: false,
    // Every task exits at once: 0, or 1 when its args say --fail.
    entry: [process.execPath, "-e", "process.exit(process.argv.includes('--fail') ? 1 : 0)"],
    scheduler: { autoTick: false },
  });
  timeline = await startTimeline(sandbox.env);
  for (const service of GOOGLE) sandbox.faults.set(service, { route: "*", latencyMs: LATENCY_MS });
});
afterAll(async () => {
  await timeline?.close();
  await sandbox?.stop();
});

const measured = async (argv: string[]) => {
  timeline.reset();
  const result = await cli(argv, { env: timeline.env });
  return { ...result, ...dependentLevels(timeline.requests) };
};

describe("dependent round trips", () => {
  it("create-all-jobs from empty: one wave of reads, one wave of writes, plus the operation waits", async () => {
    const n = catalogCounts();
    const run = await measured(["create-all-jobs", "sandbox"]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    // Secrets, channels, policies, jobs, triggers; then every job, trigger and policy.
    expect(run.levels, run.chain.join("\n")).toBe(2);
    expect(run.operationWaits).toBe(1);
    expect(run.peakInFlight).toBeGreaterThanOrEqual(n.resources + n.policies);

    const again = await measured(["create-all-jobs", "sandbox"]);
    expect(again.stdout).toContain("Nothing to change.");
    expect(again.levels, again.chain.join("\n")).toBe(1);
  });

  it("list-jobs reads everything in one wave, and a failed last run's execution in a second", async () => {
    const [job] = catalogCounts().names;
    const jobName = `projects/sandbox-project/locations/us-central1/jobs/${job}-sandbox`;
    const run = async (args?: string[]) => {
      const response = await fetch(`${sandbox.urls.cloudRun}/v2/${jobName}:run`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(args ? { overrides: { containerOverrides: [{ args }] } } : {}),
      });
      expect(response.ok).toBe(true);
      const { name } = ((await response.json()) as { metadata: { name: string } }).metadata;
      await sandbox.cloudRun.executions.settled(name);
    };
    await run();
    const healthy = await measured(["list-jobs", "sandbox", "--json"]);
    expect(healthy.code, healthy.stderr).toBe(0);
    expect(healthy.levels, healthy.chain.join("\n")).toBe(1);
    expect(healthy.requests).toBe(2);

    // A run that fails (its task exits 1): its reason needs the full execution.
    await run(["--fail"]);
    const failing = await measured(["list-jobs", "sandbox", "--json"]);
    const rows = JSON.parse(failing.stdout) as { job: string; verdict: string; reason: string | null }[];
    const row = rows.find((candidate) => candidate.job === job);
    expect(row).toMatchObject({ verdict: "FAILED" });
    expect(row?.reason).toMatch(/failed: \S/);
    expect(row?.reason).not.toContain("no message");
    expect(failing.levels, failing.chain.join("\n")).toBe(2);
    expect(failing.requests).toBe(3);
  });
});

describe("the ops-latency benchmark (npm run bench), smoke form", () => {
  it("measures every command against its one-at-a-time baseline", async () => {
    const { benchOpsLatency } = await import("../../bench/ops-latency.ts");
    const result = await benchOpsLatency({ latencyMs: 20, rounds: 1, minRounds: 1, budgetMs: 1 });
    expect(result.cases.map((c) => [c.label, c.baseline])).toEqual([
      ["create-all-jobs from empty", false],
      ["create-all-jobs' calls one at a time", true],
      ["list-jobs", false],
      ["list-jobs' reads one at a time", true],
      ["run-job, adaptive poll", false],
      ["run-job, fixed 1 s poll (before)", true],
    ]);
    for (const c of result.cases) expect(c.samples[0]).toBeGreaterThan(0);
  });
});
