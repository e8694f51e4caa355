/**
 * The sandbox: every service the suite talks to, on 127.0.0.1 with ports from listen(0), in one process.
 * Google Cloud half: Cloud Run Admin API v2 (+ Cloud Logging entries:list), Cloud Scheduler v1, Secret
 * Manager v1. Data half: the reference admin API, BigQuery and the Supabase Management API.
 *
 * State is in memory by default; with `dataDir` it persists: control-plane resources as JSON files under
 * `<dataDir>/control-plane/` (see http/store.ts for why not PGlite), the warehouse and Supabase databases
 * as PGlite folders under `<dataDir>/warehouse` and `<dataDir>/supabase`.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startAdminApi } from "./admin-api/server.ts";
import { startWarehouse } from "./admin-api/warehouse.ts";
import { startBigQuery } from "./bigquery/server.ts";
import { type CloudRun, startCloudRun } from "./cloud-run/server.ts";
import { createFaults, type FaultRule, type Faults, type ServiceName } from "./faults.ts";
import { seedLegacy } from "./legacy.ts";
import { type MetadataServer, startMetadataServer } from "./metadata/server.ts";
import { type Monitoring, startMonitoring } from "./monitoring/server.ts";
import type { SandboxClock } from "./scheduler/clock.ts";
import { startScheduler } from "./scheduler/server.ts";
import { startSecretManager } from "./secret-manager/server.ts";
import { startSupabaseApi } from "./supabase/server.ts";

export type { SandboxClock } from "./scheduler/clock.ts";

/** The repository root: default working directory of execution tasks. */
export const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Fixed names of the sandbox (AGENTS.md "Sandbox endpoints"); the keys are not secret. */
export const SANDBOX = {
  project: "sandbox-project",
  location: "us-central1",
  caRootApiKey: "sandbox-root-key",
  supabaseAccessToken: "sandbox-supabase-token",
  supabaseProjectRef: "sandboxprojectref000",
  /** The notification channel every project of the sandbox's Monitoring has (an e-mail nobody receives). */
  alertChannel: "Sandbox on-call",
} as const;

/** The sandbox's fixed variables (AGENTS.md "Sandbox endpoints"); the URLs are added as services start. */
export const sandboxBaseEnv = (): Record<string, string> => ({
  ENVIRONMENT: "sandbox",
  GCP_PROJECT_ID: SANDBOX.project,
  CA_ROOT_API_KEY: SANDBOX.caRootApiKey,
  SUPABASE_ACCESS_TOKEN: SANDBOX.supabaseAccessToken,
  SUPABASE_PROJECT_REF: SANDBOX.supabaseProjectRef,
});

export interface SandboxOptions {
  /** Persist state under this folder (keep it git-ignored, e.g. `.sandbox/data`). Default: in memory. */
  dataDir?: string;
  /** Seeded organisations of the admin API. */
  orgs?: { active: number; inactive: number };
  /** Command an execution task runs, before the container args. Default: `node --import tsx src/main.ts`. */
  entry?: string[];
  /** Working directory of execution tasks. Default: the repository root. */
  cwd?: string;
  scheduler?: { autoTick?: boolean; start?: Date };
  /** Fault rules to start with (more at run time through `sandbox.faults` or `/__sandbox/faults`). */
  faults?: Partial<Record<ServiceName, FaultRule[]>>;
  /** Grace period between SIGTERM and SIGKILL for a task on timeout or cancel (Cloud Run: 10 s). */
  graceMs?: number;
  /** Supabase's start state: "legacy" (default: as the old tools left production) or "fresh". */
  supabaseState?: "fresh" | "legacy";
  /**
   * Databases on a real PostgreSQL server instead of PGlite (e.g. from supabase/postgres-server.ts and
   * admin-api/warehouse-db.ts `createDatabase`): requests then run at once in sessions of their own.
   */
  postgres?: { warehouseUrl?: string; supabaseUrl?: string };
  /** false: start only the Google Cloud half (no PGlite), for fast tests of it. Default true. */
  data?: boolean;
  /** Seed the old scripts' Cloud Run jobs and ENABLED triggers (CONTRACT §5; legacy.ts), for cutover tests. */
  legacy?: boolean;
  /**
   * Display names of the e-mail notification channels every project of the Monitoring emulator starts with
   * (default: ["Sandbox on-call"]); more can be created through `notificationChannels.create`.
   */
  alertChannels?: readonly string[];
  /** No log lines at all. */
  quiet?: boolean;
  /** Where the JSON log lines go (default: stderr). */
  log?: (line: string) => void;
}

export interface Sandbox {
  /** The variables a job or a shell needs (AGENTS.md "Sandbox endpoints"). */
  env: Record<string, string>;
  urls: {
    cloudRun: string;
    scheduler: string;
    secretManager: string;
    monitoring: string;
    adminApi?: string;
    bigquery?: string;
    supabase?: string;
  };
  clock: SandboxClock;
  faults: Faults;
  /** The GCE metadata server (credentials for stage/prod commands pointed here: GCE_METADATA_HOST). */
  metadata: MetadataServer;
  /** The Cloud Run emulator (tests wait on `cloudRun.executions.settled(name)`). */
  cloudRun: CloudRun;
  /** The Monitoring emulator: `monitoring.evaluator.evaluate()` / `.incidents` (also `GET /sandbox/incidents`). */
  monitoring: Monitoring;
  stop(): Promise<void>;
}

/** Variables of the host a task may need to start at all (a container has its own PATH and HOME). */
const HOST_ENV = ["PATH", "HOME", "TMPDIR", "LANG", "SYSTEMROOT", "NO_COLOR"];

/**
 * Starts the sandbox.
 * @example
 * const sandbox = await startSandbox({ scheduler: { autoTick: false } });
 * const jobs = new JobsClient({ apiEndpoint: "127.0.0.1", port: new URL(sandbox.urls.cloudRun).port, protocol: "http", fallback: true, auth });
 * await sandbox.stop();
 */
export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const write = opts.quiet ? () => {} : (opts.log ?? ((line: string) => process.stderr.write(`${line}\n`)));
  const log = (message: string, fields: Record<string, unknown> = {}) =>
    write(JSON.stringify({ severity: "INFO", message, component: "sandbox", ...fields }));
  const faults = createFaults(opts.faults ?? {});
  const stops: (() => Promise<void>)[] = [];
  const env = sandboxBaseEnv();
  // The data half (PGlite: seconds) starts first and in parallel with the Google half (milliseconds).
  const data = opts.data === false ? undefined : startData(opts, faults, env, stops, write);
  // Handled here too, so a failure while the Google half starts is not an "unhandled rejection".
  data?.catch(() => {});
  try {
    const metadata = await startMetadataServer({ project: SANDBOX.project });
    stops.push(() => metadata.close());
    env.GCE_METADATA_HOST = metadata.host;
    // Google emulators take the metadata server's tokens (and refuse forged or expired ones).
    const wrap = (service: ServiceName) => (h: Parameters<Faults["wrap"]>[1]) =>
      metadata.guard(service, faults.wrap(service, h));
    const secrets = await startSecretManager({
      project: SANDBOX.project,
      ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
      seed: {
        "ca-root-api-key-sandbox": SANDBOX.caRootApiKey,
        "supabase-access-token-sandbox": SANDBOX.supabaseAccessToken,
      },
      wrap: wrap("secretManager"),
    });
    stops.push(() => secrets.service.close());
    env.SECRET_MANAGER_API_URL = secrets.service.url;

    const hostEnv = Object.fromEntries(
      HOST_ENV.flatMap((k) => (process.env[k] ? [[k, process.env[k] as string]] : [])),
    );
    const cloudRun = await startCloudRun({
      entry: opts.entry ?? [process.execPath, "--import", "tsx", join(REPO_ROOT, "src", "main.ts")],
      cwd: opts.cwd ?? REPO_ROOT,
      // Like Cloud Run, a task sees only its job's env (+ PATH/HOME to start at all): a job that forgot
      // API_SERVICE_URL or a secretKeyRef fails here as it would on Google, instead of working by accident.
      baseEnv: () => hostEnv,
      secret: (secret, version) => secrets.store.access(secret, version),
      ...(opts.graceMs !== undefined ? { graceMs: opts.graceMs } : {}),
      ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
      log,
      wrap: wrap("cloudRun"),
    });
    stops.push(() => cloudRun.stop());
    env.CLOUD_RUN_API_URL = cloudRun.service.url;

    const scheduler = await startScheduler({
      ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
      ...(opts.scheduler?.autoTick !== undefined ? { autoTick: opts.scheduler.autoTick } : {}),
      ...(opts.scheduler?.start ? { start: opts.scheduler.start } : {}),
      cloudRunUrl: () => cloudRun.service.url,
      log,
      wrap: wrap("scheduler"),
    });
    stops.push(() => scheduler.stop());
    env.CLOUD_SCHEDULER_API_URL = scheduler.service.url;
    if (opts.legacy)
      await seedLegacy(
        { cloudRun: cloudRun.service.url, scheduler: scheduler.service.url },
        SANDBOX.project,
        SANDBOX.location,
      );

    const monitoring = await startMonitoring({
      now: () => scheduler.clock.now(),
      executions: () =>
        cloudRun.executions.deps.executions.values().map((e) => {
          // projects/{p}/locations/{l}/jobs/{j}/executions/{e}
          const [, project = "", , location = ""] = e.name.split("/");
          return {
            project,
            location,
            job: e.job,
            name: e.name,
            completed: Boolean(e.completionTime),
            succeeded: e.succeededCount === e.taskCount,
          };
        }),
      channels: (opts.alertChannels ?? [SANDBOX.alertChannel]).map((displayName) => ({
        displayName,
        type: "email",
        labels: { email_address: "oncall@sandbox.invalid" },
      })),
      ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
      autoEvaluate: opts.scheduler?.autoTick ?? true,
      wrap: wrap("monitoring"),
    });
    stops.push(() => monitoring.stop());
    env.MONITORING_API_URL = monitoring.service.url;

    await data;

    const urls = {
      cloudRun: cloudRun.service.url,
      scheduler: scheduler.service.url,
      secretManager: secrets.service.url,
      monitoring: monitoring.service.url,
      ...(env.API_SERVICE_URL ? { adminApi: env.API_SERVICE_URL } : {}),
      ...(env.BIGQUERY_API_URL ? { bigquery: env.BIGQUERY_API_URL } : {}),
      ...(env.SUPABASE_API_URL ? { supabase: env.SUPABASE_API_URL } : {}),
    };
    log("sandbox ready", { urls, persisted: Boolean(opts.dataDir) });
    let stopping: Promise<void> | undefined;
    return {
      env,
      urls,
      clock: scheduler.clock,
      faults,
      metadata,
      cloudRun,
      monitoring,
      stop: () => {
        // Scheduler first (no new executions), then Cloud Run (tasks stopped), then the rest.
        stopping ??= (async () => {
          await scheduler.stop();
          await cloudRun.stop();
          for (const stop of [...stops].reverse()) await stop();
          log("sandbox stopped");
        })();
        return stopping;
      },
    };
  } catch (error) {
    await data?.catch(() => {});
    for (const stop of stops.reverse()) await stop().catch(() => {});
    throw error;
  }
}

/** Starts the warehouse (admin API + BigQuery) and the Supabase database, filling `env` and `stops`. */
async function startData(
  opts: SandboxOptions,
  faults: Faults,
  env: Record<string, string>,
  stops: (() => Promise<void>)[],
  write: (line: string) => void,
): Promise<void> {
  const dir = (name: string) => (opts.dataDir ? { dataDir: join(opts.dataDir, name) } : {});
  // Two PGlite databases (one per concern): started together, it saves seconds.
  const [warehouse, supabase] = await Promise.allSettled([
    startWarehouse({
      ...dir("warehouse"),
      ...(opts.orgs ? { orgs: opts.orgs } : {}),
      ...(opts.postgres?.warehouseUrl ? { postgresUrl: opts.postgres.warehouseUrl } : {}),
    }),
    startSupabaseApi({
      ...dir("supabase"),
      ...(opts.postgres?.supabaseUrl ? { postgresUrl: opts.postgres.supabaseUrl } : {}),
      token: SANDBOX.supabaseAccessToken,
      projectRef: SANDBOX.supabaseProjectRef,
      state: opts.supabaseState ?? "legacy",
      faults,
    }),
  ]);
  if (warehouse.status === "fulfilled") stops.push(() => warehouse.value.close());
  if (supabase.status === "fulfilled") stops.push(() => supabase.value.close());
  if (warehouse.status === "rejected") throw warehouse.reason;
  if (supabase.status === "rejected") throw supabase.reason;
  env.SUPABASE_API_URL = supabase.value.url;
  const requestLog = (e: Record<string, unknown>) =>
    write(JSON.stringify({ severity: "INFO", message: "request", ...e }));
  const adminApi = await startAdminApi({
    warehouse: warehouse.value,
    rootKey: SANDBOX.caRootApiKey,
    faults,
    log: requestLog,
  });
  stops.push(() => adminApi.close());
  env.API_SERVICE_URL = adminApi.url;
  const bigquery = await startBigQuery({ warehouse: warehouse.value, projectId: SANDBOX.project, faults });
  stops.push(() => bigquery.close());
  env.BIGQUERY_API_URL = bigquery.url;
}
