/**
 * Section (5), the soak: the sandbox's Cloud Scheduler, provisioned by create-all-jobs from the catalog,
 * driven day by day over 60 days that include month ends and a leap day (2028-01-15 → 2028-03-15). Task
 * processes are the fast stand-in entry (test/fixtures/entry-task.ts), so 300 executions take seconds.
 * Checked: every run `nextRuns` expects was delivered exactly once and became exactly one execution, none
 * unexpected, none overlapping another of its job. Then the quota jobs are replayed in-process at each
 * delivered schedule time against a warehouse whose clock is that time: one quota row per active org and
 * day, one monthly reset per org and month.
 */
import { fileURLToPath } from "node:url";
import { catalog } from "../jobs/index.ts";
import { startAdminApi } from "../sandbox/admin-api/server.ts";
import { startWarehouse } from "../sandbox/admin-api/warehouse.ts";
import { createFaults } from "../sandbox/faults.ts";
import { SANDBOX, sandboxBaseEnv, startSandbox } from "../sandbox/index.ts";
import { nextRuns } from "../src/runtime/catalog.ts";
import { cli } from "../test/ops/support.ts";
import { runInProcess } from "./stack.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const DAY = 86_400_000;

export interface SoakResult {
  from: string;
  to: string;
  expected: number;
  delivered: number;
  missing: string[];
  duplicated: string[];
  unexpected: string[];
  executions: Record<string, number>;
  overlaps: number;
  quota: {
    days: number;
    orgs: number;
    rowsPerOrgDay: Record<string, number>;
    monthlyResets: Record<string, number>;
    problems: string[];
  };
}

const short = (name: string) =>
  name
    .split("/")
    .at(-1)
    ?.replace(/-sandbox(-trigger)?$/, "") ?? name;

export async function soak(opts: { days: number; from?: string }): Promise<SoakResult> {
  const from = new Date(opts.from ?? "2028-01-15T00:00:00Z");
  const to = new Date(from.getTime() + opts.days * DAY);
  const sandbox = await startSandbox({
    quiet: true,
    scheduler: { autoTick: false },
    entry: [process.execPath, `${ROOT}test/fixtures/entry-task.ts`],
  });
  try {
    const applied = await cli(["create-all-jobs", "sandbox"], { env: sandbox.env });
    if (applied.code !== 0) throw new Error(`create-all-jobs: ${applied.stderr}`);
    sandbox.clock.set(new Date(from.getTime() - 1));
    const delivered: { job: string; at: string; status: number }[] = [];
    const list = async (job: string) => {
      const url = `${sandbox.urls.cloudRun}/v2/projects/${SANDBOX.project}/locations/us-central1/jobs/${job}-sandbox/executions?pageSize=1000`;
      return (
        (
          (await (await fetch(url)).json()) as {
            executions?: { startTime?: string; completionTime?: string }[];
          }
        ).executions ?? []
      );
    };
    for (let t = from.getTime(); t < to.getTime(); t += 6 * 3_600_000) {
      const fired = await sandbox.clock.fireDue(new Date(t + 6 * 3_600_000 - 1));
      for (const a of fired) delivered.push({ job: short(a.job), at: a.scheduleTime, status: a.httpStatus });
      // Each virtual step waits for its executions to end, as real days would.
      for (const job of new Set(fired.map((a) => short(a.job))))
        for (let i = 0; i < 300 && !(await list(job)).every((e) => e.completionTime); i++)
          await new Promise((r) => setTimeout(r, 50));
    }
    const expected = catalog.flatMap((job) =>
      nextRuns(job, new Date(from.getTime() - 1), 1_000)
        .filter((d) => d < to)
        .map((d) => `${job.name} ${d.toISOString()}`),
    );
    const got = delivered.map((d) => `${d.job} ${new Date(d.at).toISOString()}`);
    const count = new Map<string, number>();
    for (const g of got) count.set(g, (count.get(g) ?? 0) + 1);
    const executions: Record<string, number> = {};
    let overlaps = 0;
    for (const job of catalog.filter((j) => j.schedule)) {
      for (let i = 0; i < 200; i++) {
        const all = await list(job.name);
        executions[job.name] = all.length;
        if (all.every((e) => e.completionTime)) {
          const spans = all
            .map((e) => [Date.parse(e.startTime ?? ""), Date.parse(e.completionTime ?? "")] as const)
            .sort((a, b) => a[0] - b[0]);
          for (let k = 1; k < spans.length; k++)
            if ((spans[k]?.[0] ?? 0) < (spans[k - 1]?.[1] ?? 0)) overlaps++;
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const quota = await replayQuota(
      delivered.filter((d) => d.job === "quota-reset" || d.job === "quota-monthly"),
    );
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      expected: expected.length,
      delivered: got.length,
      missing: expected.filter((e) => !count.has(e)),
      duplicated: [...count].filter(([, n]) => n > 1).map(([k, n]) => `${k} ×${n}`),
      unexpected: got.filter((g) => !expected.includes(g)),
      executions,
      overlaps,
      quota,
    };
  } finally {
    await sandbox.stop();
  }
}

/** The quota jobs at each delivered time, in order, on a warehouse whose clock is that time. */
async function replayQuota(runs: { job: string; at: string }[]) {
  let now = new Date(runs[0]?.at ?? Date.now());
  const wh = await startWarehouse({ now: () => now });
  const api = await startAdminApi({ warehouse: wh, rootKey: SANDBOX.caRootApiKey, faults: createFaults() });
  const problems: string[] = [];
  try {
    const env = { ...sandboxBaseEnv(), API_SERVICE_URL: api.url, LOG_LEVEL: "warn" };
    for (const r of runs) {
      now = new Date(r.at);
      const { code, out } = await runInProcess([r.job], env, { now: () => now });
      if (code !== 0) problems.push(`${r.job} at ${r.at} exited ${code}: ${out.slice(0, 200)}`);
    }
    const days = [...new Set(runs.filter((r) => r.job === "quota-reset").map((r) => r.at.slice(0, 10)))];
    const orgs =
      (
        await wh.db.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM organizations.org_profiles WHERE status = 'ACTIVE'",
        )
      ).rows[0]?.n ?? 0;
    const perDay = await wh.db.query<{ n: number; c: number }>(
      `SELECT n, count(*)::int AS c FROM (SELECT org_slug, usage_date, count(*)::int AS n FROM organizations.org_usage_quotas
         WHERE usage_date = ANY($1::date[]) GROUP BY 1, 2) x GROUP BY n`,
      [days],
    );
    const rowsPerOrgDay = Object.fromEntries(perDay.rows.map((r) => [`${r.n} row(s)`, r.c]));
    const covered = perDay.rows.reduce((n, r) => n + r.c, 0);
    if (covered !== days.length * orgs)
      problems.push(`${days.length * orgs - covered} (org, day) pairs without a quota row`);
    const resets = await wh.db.query<{ period: string; n: number }>(
      "SELECT period, count(*)::int AS n FROM organizations.org_quota_resets WHERE reset_kind = 'monthly' GROUP BY 1 ORDER BY 1",
    );
    const monthlyResets = Object.fromEntries(resets.rows.map((r) => [r.period, r.n]));
    for (const [period, n] of Object.entries(monthlyResets))
      if (n !== orgs) problems.push(`${period}: ${n} monthly resets for ${orgs} orgs`);
    return { days: days.length, orgs, rowsPerOrgDay, monthlyResets, problems };
  } finally {
    await api.close();
    await wh.close();
  }
}
