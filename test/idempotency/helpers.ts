/**
 * The idempotency proof's harness: fresh sandbox data services (the service half of `startSandbox`, with
 * a fixed clock so that two fresh states are byte-for-byte comparable), the real entrypoint as a child
 * process, and state fingerprints read straight from the databases.
 *
 * Why not `startSandbox()`: its warehouse clock is the wall clock, so two fresh states seeded seconds
 * apart differ in every timestamp, and the "killed then retried" state could not be compared with a
 * clean reference run. Here every warehouse of a test file is seeded at, and answers as of, one instant.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { PGlite, types } from "@electric-sql/pglite";
import { startAdminApi } from "../../sandbox/admin-api/server.ts";
import { startWarehouse, type Warehouse, type WarehouseState } from "../../sandbox/admin-api/warehouse.ts";
import { startBigQuery } from "../../sandbox/bigquery/server.ts";
import { SANDBOX, sandboxBaseEnv } from "../../sandbox/index.ts";
import { createMutex, type Service } from "../../sandbox/service.ts";
import { startSupabaseApi } from "../../sandbox/supabase/server.ts";
import { type TestFaults, testFaults } from "./faults.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** A test here runs a job 2–5 times as a child process (tsx start-up included): seconds each on 2 cores. */
export const JOB_TEST_TIMEOUT_MS = 120_000;

/** Fresh copies of one seeded warehouse: a copy takes well under a second, a new PGlite seeds for seconds. */
export interface WarehouseTemplate {
  fresh(): Promise<Warehouse>;
}

/**
 * Seeds one warehouse (as `startWarehouse` does, at the instant `now`, in `state`) and hands out copies of it, each a
 * Warehouse whose clock is fixed at `now`.
 * @example
 * const template = await warehouseTemplate(new Date());
 * const a = await template.fresh(); const b = await template.fresh(); // same rows, independent databases
 */
export async function warehouseTemplate(now: Date, state?: WarehouseState): Promise<WarehouseTemplate> {
  const seeded = await startWarehouse({ now: () => now, ...(state ? { state } : {}) });
  const image = await seeded.db.dumpDataDir("none");
  await seeded.close();
  return {
    async fresh() {
      // Same options as startWarehouse: DATE as 'YYYY-MM-DD' text, the session in UTC.
      const db = await PGlite.create({ loadDataDir: image, parsers: { [types.DATE]: (v: string) => v } });
      await db.exec("SET TIME ZONE 'UTC'");
      const mutex = createMutex();
      return {
        db,
        now: () => now,
        exclusive: (fn) => mutex.run(() => fn(db)),
        close: () => mutex.run(() => db.close()),
      };
    },
  };
}

/** One fresh, isolated state: its own databases, servers and faults. */
export interface Stack {
  /** What a job needs (AGENTS.md "Sandbox endpoints"), for the services started. */
  env: Record<string, string>;
  faults: TestFaults;
  /** The warehouse database (admin API + BigQuery), when started. */
  wh?: Warehouse;
  /** The Supabase database, when started. */
  supabase?: PGlite;
  close(): Promise<void>;
}

/**
 * @example
 * const stack = await startStack({ warehouse: await warehouseTemplate(NOW) });
 * await runJob("quota-reset", [], stack.env).done;
 * await stack.close();
 */
export async function startStack(opts: {
  warehouse?: WarehouseTemplate;
  supabase?: boolean;
}): Promise<Stack> {
  const faults = testFaults();
  const services: Service[] = [];
  const env = sandboxBaseEnv();
  let wh: Warehouse | undefined;
  let supabase: PGlite | undefined;
  if (opts.warehouse) {
    wh = await opts.warehouse.fresh();
    const api = await startAdminApi({ warehouse: wh, rootKey: SANDBOX.caRootApiKey, faults });
    const bq = await startBigQuery({ warehouse: wh, projectId: SANDBOX.project, faults });
    services.push(api, bq);
    env.API_SERVICE_URL = api.url;
    env.BIGQUERY_API_URL = bq.url;
  }
  if (opts.supabase) {
    const sb = await startSupabaseApi({
      token: SANDBOX.supabaseAccessToken,
      projectRef: SANDBOX.supabaseProjectRef,
      faults,
    });
    services.push(sb);
    supabase = sb.db;
    env.SUPABASE_API_URL = sb.url;
  }
  return {
    env,
    faults,
    ...(wh ? { wh } : {}),
    ...(supabase ? { supabase } : {}),
    async close() {
      for (const s of services) await s.close();
      await wh?.close();
    },
  };
}

export interface JobRun {
  child: ChildProcess;
  /** Resolves when the process has exited (code, or the signal that ended it) with its output. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Runs `src/main.ts <job> [args]` as the container would, with only `env` (+ PATH/HOME) and LOG_LEVEL=warn. */
export function runJob(job: string, args: string[], env: Record<string, string>): JobRun {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", job, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d) => (stdout += d));
  child.stderr?.on("data", (d) => (stderr += d));
  const done = new Promise<Awaited<JobRun["done"]>>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** Runs a job to its end and fails with its output when it does not exit 0. */
export async function runJobOk(job: string, args: string[], env: Record<string, string>) {
  const r = await runJob(job, args, env).done;
  if (r.code !== 0) {
    throw new Error(`${job} ${args.join(" ")} exited ${r.code ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  }
  return r;
}

/**
 * Starts `job`, waits until `landed()` says its first side effects are in the database, then stops it
 * with `signal`: SIGKILL (default; no grace, the hardest stop) or SIGTERM (Cloud Run's timeout or cancel:
 * the runner lets in-flight work settle, then exits 143). Fails if the job ended on its own first (then
 * nothing was proven) or did not end the way `signal` should end it.
 */
export async function killWhen(
  job: string,
  args: string[],
  env: Record<string, string>,
  landed: () => Promise<boolean> | boolean,
  signal: "SIGKILL" | "SIGTERM" = "SIGKILL",
): Promise<Awaited<JobRun["done"]>> {
  const run = runJob(job, args, env);
  let exited = false;
  void run.done.then(() => {
    exited = true;
  });
  try {
    await waitFor(async () => exited || (await landed()), 20_000, `${job}: first side effects`);
  } catch (error) {
    run.child.kill("SIGKILL"); // never leave a child behind a failed test
    throw error;
  }
  if (exited) {
    const r = await run.done;
    throw new Error(`${job} ended (${r.code}) before it could be killed mid-run:\n${r.stdout}\n${r.stderr}`);
  }
  run.child.kill(signal);
  const r = await run.done;
  const expected = signal === "SIGKILL" ? r.signal === "SIGKILL" : r.code === 143;
  if (!expected)
    throw new Error(`${job} did not stop as ${signal} should stop it: exit ${r.code ?? r.signal}`);
  return r;
}

/** Polls `ok` every 25 ms until it holds; fails after `timeoutMs` naming `what`. */
export async function waitFor(ok: () => Promise<boolean> | boolean, timeoutMs: number, what: string) {
  const until = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export { fingerprint, rows } from "./state.ts";
