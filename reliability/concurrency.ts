/**
 * Section (4): two runs of one job at once, against a sandbox whose warehouse and Supabase databases live
 * on a REAL PostgreSQL server (sandbox/supabase/postgres-server.ts), so the admin API handles the two
 * runs' requests at the same time, each in a session of its own, as the real API does. Each scenario gets
 * its own sandbox and its own copy of one seeded warehouse (CREATE DATABASE … TEMPLATE), the jobs are
 * provisioned by create-all-jobs, and runs start the way production starts them: two `jobs.run` calls
 * (two operators, or a retried release step), or two Cloud Scheduler deliveries. Task processes are the
 * real entrypoint. The end state is compared table by table with one clean run on another copy.
 */
import { join } from "node:path";
import { startAdminApi } from "../sandbox/admin-api/server.ts";
import { startWarehouse } from "../sandbox/admin-api/warehouse.ts";
import { createDatabase } from "../sandbox/admin-api/warehouse-db.ts";
import { startBigQuery } from "../sandbox/bigquery/server.ts";
import { createFaults } from "../sandbox/faults.ts";
import { REPO_ROOT, SANDBOX, type Sandbox, sandboxBaseEnv, startSandbox } from "../sandbox/index.ts";
import {
  findPostgresBin,
  type PostgresServer,
  startPostgresServer,
} from "../sandbox/supabase/postgres-server.ts";
import { cli } from "../test/ops/support.ts";
import { scanExecutionLogs, scanTaskArgv } from "./secrets.ts";
import {
  compare,
  type EndState,
  endStateOf,
  record,
  requestCounts,
  runInProcess,
  syncCalls,
} from "./stack.ts";

const PARENT = `projects/${SANDBOX.project}/locations/${SANDBOX.location}`;
const PROCESS_ALL = "POST /api/v1/admin/alerts/process-all";

export interface Lab {
  server: PostgresServer;
  clean: Map<string, { state: EndState; syncs: number; processAll: number }>;
  /** The seeded state, before any run. */
  seeded: EndState;
  close(): Promise<void>;
}

/** Why the section cannot run here (no PostgreSQL server binaries), or undefined. */
export function labUnavailable(): string | undefined {
  try {
    findPostgresBin();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

let copies = 0;
const copy = (lab: Lab, prefix: string) =>
  createDatabase(lab.server.url, `${prefix}_${++copies}`, "wh_template");

/** The server, one seeded warehouse to copy, and one clean run of each job on a copy of it. */
export async function startLab(jobs = ["org-sync-all", "alerts"]): Promise<Lab> {
  const server = await startPostgresServer();
  const lab: Lab = {
    server,
    clean: new Map(),
    seeded: { tables: {}, rows: {} },
    close: () => server.close(),
  };
  try {
    const seeded = await startWarehouse({ postgresUrl: await createDatabase(server.url, "wh_template") });
    lab.seeded = await endStateOf(seeded.db).finally(() => seeded.close());
    for (const job of jobs) {
      const wh = await startWarehouse({ postgresUrl: await copy(lab, "clean") });
      const faults = createFaults();
      const api = await startAdminApi({ warehouse: wh, rootKey: SANDBOX.caRootApiKey, faults });
      const bq = await startBigQuery({ warehouse: wh, projectId: SANDBOX.project, faults });
      try {
        const env = { ...sandboxBaseEnv(), API_SERVICE_URL: api.url, BIGQUERY_API_URL: bq.url };
        const { code, out } = await runInProcess([job], env);
        if (code !== 0) throw new Error(`clean ${job} exited ${code}:\n${out}`);
        const counts = await requestCounts(env);
        lab.clean.set(job, {
          state: await endStateOf(wh.db),
          syncs: syncCalls(counts),
          processAll: counts.API_SERVICE_URL?.[PROCESS_ALL] ?? 0,
        });
      } finally {
        await api.close();
        await bq.close();
        await wh.close();
      }
    }
    return lab;
  } catch (error) {
    await server.close();
    throw error;
  }
}

/** A sandbox on fresh databases of the lab's server, every catalog job provisioned. */
async function labSandbox(lab: Lab): Promise<{ sandbox: Sandbox; warehouseUrl: string }> {
  const warehouseUrl = await copy(lab, "wh");
  const sandbox = await startSandbox({
    quiet: true,
    scheduler: { autoTick: false },
    // The warehouse on the server (the two runs meet there); Supabase stays on PGlite (migrate is not run
    // here, and its roles are per cluster: a second sandbox on the same server could not create them).
    postgres: { warehouseUrl },
    // Node 24 strips the types itself: a third less CPU per task start than tsx.
    entry: [process.execPath, join(REPO_ROOT, "src", "main.ts")],
  });
  const applied = await cli(["create-all-jobs", "sandbox"], { env: sandbox.env });
  if (applied.code !== 0) {
    await sandbox.stop();
    throw new Error(`create-all-jobs exited ${applied.code}:\n${applied.stdout}\n${applied.stderr}`);
  }
  return { sandbox, warehouseUrl };
}

export interface ExecutionView {
  name: string;
  succeeded: boolean;
  retried: number;
  /** Each task attempt's last summary line: `task/attempt exit N: message`. */
  attempts: string[];
}

/** Waits for every execution of `job` and reads how each ended, from the sandbox's own record and logs. */
async function executionsOf(sandbox: Sandbox, job: string): Promise<ExecutionView[]> {
  const manager = sandbox.cloudRun.executions;
  const mine = () =>
    manager.deps.executions.values().filter((e) => e.name.startsWith(`${PARENT}/jobs/${job}-sandbox/`));
  for (const e of mine()) await manager.settled(e.name);
  return mine()
    .sort((a, b) => a.createTime.localeCompare(b.createTime) || a.name.localeCompare(b.name))
    .map((e) => {
      const short = e.name.split("/").at(-1) as string;
      const attempts = new Map<string, string>();
      for (const entry of manager.deps.logs.forExecution(short)) {
        const p = entry.jsonPayload;
        if (p?.exit_code === undefined) continue;
        const key = `${entry.labels["run.googleapis.com/task_index"]}/${entry.labels["run.googleapis.com/task_attempt"]}`;
        attempts.set(key, `${key} exit ${p.exit_code}: ${String(p.message).slice(0, 240)}`);
      }
      return {
        name: short,
        succeeded: e.succeededCount === e.taskCount && Boolean(e.completionTime),
        retried: e.retriedCount,
        attempts: [...attempts.values()].sort(),
      };
    });
}

export interface ConcurrencyResult {
  scenario: string;
  job: string;
  executions: ExecutionView[];
  sameAsClean: boolean;
  /** Nothing changed at all (what a guard that fails closed must leave). */
  untouched: boolean;
  differing: string[];
  duplicated: number;
  lost: number;
  /** Notifications rows beyond the clean run's, and process-all calls the API received (clean in brackets). */
  notificationsDuplicated: number;
  processAll: [number, number];
  /** Org syncs the API received (clean run in brackets). */
  syncs: [number, number];
  /** Section 6 on this sandbox: its execution logs (entries:list) and its task processes' argv. */
  secrets: {
    logs: Awaited<ReturnType<typeof scanExecutionLogs>>;
    argv: ReturnType<typeof scanTaskArgv>;
  };
}

const run = (sandbox: Sandbox, job: string) =>
  fetch(`${sandbox.urls.cloudRun}/v2/${PARENT}/jobs/${job}-sandbox:run`, { method: "POST", body: "{}" });
const deliver = (sandbox: Sandbox, job: string) =>
  fetch(`${sandbox.urls.scheduler}/v1/${PARENT}/jobs/${job}-sandbox-trigger:run`, {
    method: "POST",
    body: "{}",
  });
const listRoute = (job: string) => `GET /v2/${PARENT}/jobs/${job}-sandbox/executions`;

export interface Scenario {
  name: string;
  job: "org-sync-all" | "alerts";
  /** 503 on the job's executions list (the runtime's overlap and once-per-day guards cannot read it). */
  listFails: boolean;
  start: "run" | "deliver";
}

export const SCENARIOS: Scenario[] = [
  { name: "org-sync-all: jobs.run twice at once", job: "org-sync-all", listFails: false, start: "run" },
  {
    name: "org-sync-all: jobs.run twice at once, executions list 503 (guard blind, both sync)",
    job: "org-sync-all",
    listFails: true,
    start: "run",
  },
  { name: "alerts: two scheduled deliveries at once", job: "alerts", listFails: false, start: "deliver" },
  {
    name: "alerts: two scheduled deliveries at once, executions list 503",
    job: "alerts",
    listFails: true,
    start: "deliver",
  },
];

/** Runs one scenario on a sandbox of its own, then scans its execution logs and task argv for the keys. */
export async function runScenario(lab: Lab, s: Scenario): Promise<ConcurrencyResult> {
  const { sandbox, warehouseUrl } = await labSandbox(lab);
  try {
    if (s.listFails) sandbox.faults.set("cloudRun", { route: listRoute(s.job), status: 503 });
    const start = s.start === "run" ? run : deliver;
    const answers = await Promise.all([start(sandbox, s.job), start(sandbox, s.job)]);
    for (const a of answers)
      if (!a.ok) throw new Error(`${s.start} ${s.job}: HTTP ${a.status} ${await a.text()}`);
    const executions = await executionsOf(sandbox, s.job);
    sandbox.faults.clear();
    for (const e of executions) record(`execution ${e.name}`, e.attempts.join("\n"));
    const counts = await requestCounts(sandbox.env);
    const wh = await startWarehouse({ postgresUrl: warehouseUrl });
    const state = await endStateOf(wh.db).finally(() => wh.close());
    const ref = lab.clean.get(s.job);
    if (!ref) throw new Error(`no clean run of ${s.job}`);
    const diff = compare(ref.state, state);
    return {
      scenario: s.name,
      job: s.job,
      executions,
      sameAsClean: diff.same,
      untouched: compare(lab.seeded, state).same,
      differing: diff.differing,
      duplicated: diff.duplicated,
      lost: diff.lost,
      notificationsDuplicated: diff.kinds.notifications,
      processAll: [counts.API_SERVICE_URL?.[PROCESS_ALL] ?? 0, ref.processAll],
      syncs: [syncCalls(counts), ref.syncs],
      secrets: {
        logs: await scanExecutionLogs(sandbox.urls.cloudRun, SANDBOX.project),
        argv: scanTaskArgv(sandbox.cloudRun.executions.spawned),
      },
    };
  } finally {
    await sandbox.stop();
  }
}

/** Whether a scenario ended as the product promises (see `verdict` for why not). */
export function verdict(r: ConcurrencyResult): string[] {
  const problems: string[] = [];
  const attempts = r.executions.flatMap((e) => e.attempts);
  const failed = attempts.filter((a) => !/ exit 0: /.test(a));
  if (r.executions.length !== 2) problems.push(`${r.executions.length} executions, expected 2`);
  if (r.duplicated) problems.push(`${r.duplicated} rows duplicated`);
  if (r.secrets.logs.findings.length + r.secrets.argv.findings.length) problems.push("a key leaked");
  const [older] = r.executions;
  if (r.job === "org-sync-all") {
    if (!r.sameAsClean) problems.push(`end state differs: ${r.differing.join(", ")}`);
    const why = r.scenario.includes("503") ? /already exists/ : new RegExp(`refused: .*${older?.name}`);
    for (const a of failed) if (!why.test(a)) problems.push(`unexpected failure: ${a}`);
  } else if (r.scenario.includes("503")) {
    if (!r.untouched || r.processAll[0] !== 0) problems.push("the API was called while the guard was blind");
    for (const a of attempts)
      if (!/exit 1: alerts failed closed: cannot read the execution history/.test(a))
        problems.push(`not failed closed: ${a}`);
  } else {
    if (!r.sameAsClean || r.processAll[0] !== r.processAll[1])
      problems.push("not exactly one delivery's work");
    if (failed.length) problems.push(`failed: ${failed.join("; ")}`);
    if (attempts.filter((a) => / exit 0: alerts skipped: /.test(a)).length !== 1)
      problems.push("expected exactly one skip");
  }
  return problems;
}

/** Every scenario `rounds` times, each on its own sandbox and warehouse copy. */
export async function concurrencySection(rounds: number) {
  const unavailable = labUnavailable();
  if (unavailable) return { skipped: unavailable, results: [] as ConcurrencyResult[] };
  const lab = await startLab();
  try {
    const results: ConcurrencyResult[] = [];
    for (let i = 0; i < rounds; i++) for (const s of SCENARIOS) results.push(await runScenario(lab, s));
    return { skipped: undefined, results };
  } finally {
    await lab.close();
  }
}
