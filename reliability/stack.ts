/**
 * The harness's ground: fresh sandbox data services per trial (copies of one seeded warehouse, at one
 * fixed instant, so end states compare row for row), jobs run in-process through the real runner or as
 * child processes, requests counted AT THE SANDBOX (`GET /__sandbox/requests` of every service), and
 * end states read straight from the databases. Every byte a job writes goes through `transcript`, which
 * the secrets section scans.
 */

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { catalog } from "../jobs/index.ts";
import type { WarehouseQueries } from "../sandbox/admin-api/warehouse-db.ts";
import { SANDBOX } from "../sandbox/index.ts";
import { runEntrypoint } from "../src/runtime/runner.ts";
import {
  fingerprint,
  type Stack,
  startStack,
  type WarehouseTemplate,
  warehouseTemplate,
} from "../test/idempotency/helpers.ts";

export { type Stack, type WarehouseTemplate, warehouseTemplate };

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Everything a job or a script wrote, for the secrets scan: `[where, text]`. */
export const transcript: [string, string][] = [];
export const record = (where: string, text: string) => {
  if (text) transcript.push([where, text]);
};

/** The sandbox's keys (the values the secrets scan looks for). */
export const KEYS = {
  CA_ROOT_API_KEY: SANDBOX.caRootApiKey,
  SUPABASE_ACCESS_TOKEN: SANDBOX.supabaseAccessToken,
};

const URL_KEYS = [
  "API_SERVICE_URL",
  "BIGQUERY_API_URL",
  "SUPABASE_API_URL",
  "CLOUD_RUN_API_URL",
  "CLOUD_SCHEDULER_API_URL",
  "SECRET_MANAGER_API_URL",
];

/** Requests each service of `env` received (counted by the service itself), by env key. */
export async function requestCounts(
  env: Record<string, string | undefined>,
): Promise<Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, number>> = {};
  for (const key of URL_KEYS) {
    const url = env[key];
    if (!url) continue;
    const res = await fetch(`${url}/__sandbox/requests`);
    out[key] = ((await res.json()) as { routes: Record<string, number> }).routes;
  }
  return out;
}

export const total = (counts: Record<string, Record<string, number>>) =>
  Object.values(counts).reduce((n, routes) => n + Object.values(routes).reduce((a, b) => a + b, 0), 0);

export async function resetCounts(env: Record<string, string | undefined>): Promise<void> {
  for (const key of URL_KEYS)
    if (env[key]) await fetch(`${env[key]}/__sandbox/requests`, { method: "DELETE" });
}

/** A fresh stack for `job`: the warehouse for every job but migrate, Supabase for migrate. */
export const stackFor = (job: string, template: WarehouseTemplate) =>
  job === "migrate" ? startStack({ supabase: true }) : startStack({ warehouse: template });

/** Runs the entrypoint in this process (the real runner, flags and config): fast, for most trials. */
export async function runInProcess(
  argv: string[],
  env: Record<string, string | undefined>,
  extra: { graceMs?: number; onSignal?: (h: (s: "SIGTERM") => void) => void; now?: () => Date } = {},
): Promise<{ code: number; out: string }> {
  let out = "";
  const sink = {
    write: (s: string) => {
      out += s;
    },
  };
  const code = await runEntrypoint(argv, { catalog, env, stdout: sink, stderr: sink, ...extra });
  record(`in-process ${argv.join(" ")}`, out);
  return { code, out };
}

/**
 * Runs `src/main.ts` as a child process, as the container does, with this Node (24: it strips the types
 * itself, a third less CPU per start than tsx; the sweep starts hundreds).
 */
export function runProcess(job: string, args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ["src/main.ts", job, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    stdout += d;
  });
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const done = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      record(`process ${job} ${args.join(" ")}`, `${stdout}\n${stderr}`);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, done };
}

/** Per-run columns of the Supabase database (when, how long, who; `DEFAULT now()`): not part of the end state. */
const PER_RUN = ["applied_at", "execution_time_ms", "applied_by", "created_at", "updated_at"];
/**
 * Per-run columns of the warehouse: a notification's random id and the instant it was sent (a retry after
 * Retry-After sends the same notification a second later). Duplicates still show as extra rows.
 */
const WAREHOUSE_PER_RUN = ["notification_id", "sent_at", "created_at", "updated_at"];

export interface EndState {
  tables: Record<string, string>;
  rows: Record<string, number>;
}

/** The end state of a stack: a digest and a row count per table. */
export async function endState(stack: Stack): Promise<EndState> {
  const db = stack.wh?.db ?? stack.supabase;
  if (!db) throw new Error("stack without a database");
  return endStateOf(db, stack.supabase ? PER_RUN : WAREHOUSE_PER_RUN);
}

/** The end state of one database (a warehouse unless `skip` says otherwise). */
export async function endStateOf(
  db: Pick<WarehouseQueries, "query">,
  skip: string[] = WAREHOUSE_PER_RUN,
): Promise<EndState> {
  const tables = await fingerprint(db, skip);
  const rows = Object.fromEntries(
    Object.entries(tables).map(([t, f]) => [t, Number(/rows=(\d+)/.exec(f)?.[1] ?? 0)]),
  );
  return { tables, rows };
}

/** Side effects that would be duplicated, by kind, and rows lost, compared with a clean run. */
export function compare(clean: EndState, got: EndState) {
  let extra = 0;
  let lost = 0;
  const kinds = { notifications: 0, quotaRows: 0, migrations: 0, other: 0 };
  for (const [table, n] of Object.entries({ ...clean.rows, ...got.rows })) {
    const diff = (got.rows[table] ?? 0) - (clean.rows[table] ?? 0);
    if (diff > 0) {
      extra += diff;
      if (table.endsWith("org_notifications_sent")) kinds.notifications += diff;
      else if (table.endsWith("org_usage_quotas")) kinds.quotaRows += diff;
      else if (table.endsWith("schema_migrations")) kinds.migrations += diff;
      else kinds.other += diff;
    } else lost += -diff;
    void n;
  }
  const differing = Object.keys({ ...clean.tables, ...got.tables }).filter(
    (t) => clean.tables[t] !== got.tables[t],
  );
  return { same: differing.length === 0, differing, duplicated: extra, lost, kinds };
}

/** The 8 jobs, each with the arguments of a normal run and the service it mostly talks to. */
export const JOBS: {
  job: string;
  args: string[];
  service: "API_SERVICE_URL" | "BIGQUERY_API_URL" | "SUPABASE_API_URL";
  faults: "adminApi" | "bigquery" | "supabase";
}[] = [
  { job: "migrate", args: [], service: "SUPABASE_API_URL", faults: "supabase" },
  { job: "bootstrap", args: [], service: "API_SERVICE_URL", faults: "adminApi" },
  { job: "org-sync-all", args: [], service: "API_SERVICE_URL", faults: "adminApi" },
  { job: "quota-reset", args: [], service: "API_SERVICE_URL", faults: "adminApi" },
  { job: "quota-cleanup", args: [], service: "BIGQUERY_API_URL", faults: "bigquery" },
  { job: "stale-cleanup", args: [], service: "API_SERVICE_URL", faults: "adminApi" },
  { job: "alerts", args: [], service: "API_SERVICE_URL", faults: "adminApi" },
  // --force: the trial day is rarely the 1st; the reset then applies to the current month.
  { job: "quota-monthly", args: ["--force"], service: "API_SERVICE_URL", faults: "adminApi" },
];

/** Cloud Run's retry of a failed task: up to the job's `retries` more attempts. */
export const retriesOf = (job: string) => catalog.find((j) => j.name === job)?.retries ?? 0;

/** Org syncs the admin API received (a repeated sync is harmless by contract, but counted). */
export const syncCalls = (counts: Record<string, Record<string, number>>) =>
  Object.entries(counts.API_SERVICE_URL ?? {})
    .filter(([route]) => /^POST \/api\/v1\/organizations\/[^/]+\/sync$/.test(route))
    .reduce((n, [, v]) => n + v, 0);
