/**
 * Desired state: the catalog × one environment → the Cloud Run jobs and Scheduler triggers that should exist,
 * as the request bodies the official clients take.
 *
 * Secrets go in as `secretKeyRef` (never a value); names and labels carry the environment because test and
 * stage share a project. Scheduler jobs have no labels, so their description carries the same marker.
 *
 * The IAM roles the deploying, job and invoker accounts need are in iam.ts.
 *
 * @example
 * const desired = desiredState(catalog, target, { image: "…/jobs@sha256:…", commit: "abc123" });
 * desired.runJobs.get("projects/p/locations/r/jobs/quota-reset-stage")
 */
import type { protos as runProtos } from "@google-cloud/run";
import type { protos as schedulerProtos } from "@google-cloud/scheduler";
import type { AnyJob } from "../runtime/job.ts";
import { categoryOf } from "./catalog.ts";
import { parentOf } from "./clients.ts";
import type { Target } from "./target.ts";

export type RunJob = runProtos.google.cloud.run.v2.IJob;
export type Trigger = schedulerProtos.google.cloud.scheduler.v1.IJob;

export const MANAGED_BY = "scheduler-jobs";
export const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";
/** The sandbox's own URLs the jobs need to reach its emulators. */
const SANDBOX_ENV_KEYS = [
  "API_SERVICE_URL",
  "SUPABASE_API_URL",
  "BIGQUERY_API_URL",
  "CLOUD_RUN_API_URL",
  "SUPABASE_PROJECT_REF",
] as const;

export interface DesiredOptions {
  /** Image reference (CI passes a digest); undefined = keep the deployed one. */
  image?: string | undefined;
  /** Value of the source-commit label. */
  commit: string;
  /**
   * The admin API URL from `--api-url` (api-url.ts resolveApiUrl). Never the operator's shell API_SERVICE_URL: that
   * would silently deploy a laptop's value into every job. Undefined = the table's, else the deployed one.
   */
  apiUrl?: string | undefined;
}

export interface DesiredState {
  runJobs: Map<string, RunJob>;
  triggers: Map<string, Trigger>;
  /** Secret ids the jobs reference (preflight checks they exist). */
  secrets: Set<string>;
  /** Run jobs that call the admin API and got no URL (no --api-url, none in the table): the plan keeps the
   * deployed value, and refuses to create them. */
  apiUrlMissing: Set<string>;
}

export const runJobName = (job: AnyJob, target: Target): string =>
  `${parentOf(target)}/jobs/${job.name}${target.env.resourceSuffix}`;
export const triggerName = (job: AnyJob, target: Target): string => `${runJobName(job, target)}-trigger`;
/** Marker in a trigger's description: Scheduler has no labels. */
export const triggerMarker = (envName: string): string => `[managed-by=${MANAGED_BY} environment=${envName}]`;

/** Label values allow [a-z0-9_-], at most 63 characters. */
const labelValue = (value: string): string =>
  value
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, "-")
    .slice(0, 63);

function plainEnv(job: AnyJob, target: Target, options: DesiredOptions): Record<string, string> {
  const vars: Record<string, string> = {
    ENVIRONMENT: target.env.label,
    GCP_PROJECT_ID: target.env.project,
  };
  // Outside the sandbox: --api-url or the table; with neither the plan keeps what is deployed.
  const apiUrl = target.env.name === "sandbox" ? undefined : (options.apiUrl ?? target.env.apiUrl);
  if (apiUrl) vars.API_SERVICE_URL = apiUrl;
  if (job.uses.includes("supabase")) vars.SUPABASE_PROJECT_REF = target.env.supabaseProjectRef;
  if (target.env.name === "sandbox" && target.endpoints) {
    for (const key of SANDBOX_ENV_KEYS) {
      const value = target.endpoints.env[key];
      if (value) vars[key] = value;
    }
  }
  // Job-specific defaults (DAYS_TO_KEEP=90, …) come from the job's own env schema, so they cannot drift.
  const defaults = job.env?.safeParse({});
  if (defaults?.success) {
    for (const [key, value] of Object.entries(defaults.data as Record<string, unknown>)) {
      if (value !== undefined && vars[key] === undefined) vars[key] = String(value);
    }
  }
  return vars;
}

function secretEnv(job: AnyJob, target: Target): Record<string, string> {
  const secrets: Record<string, string> = {};
  if (job.uses.includes("admin-api")) secrets.CA_ROOT_API_KEY = target.env.secrets.caRootApiKey;
  if (job.uses.includes("supabase")) secrets.SUPABASE_ACCESS_TOKEN = target.env.secrets.supabaseAccessToken;
  return secrets;
}

export function desiredRunJob(job: AnyJob, target: Target, options: DesiredOptions): RunJob {
  const env = [
    ...Object.entries(plainEnv(job, target, options)).map(([name, value]) => ({ name, value })),
    ...Object.entries(secretEnv(job, target)).map(([name, secret]) => ({
      name,
      valueSource: { secretKeyRef: { secret, version: "latest" } },
    })),
  ].sort((a, b) => a.name.localeCompare(b.name));
  return {
    name: runJobName(job, target),
    labels: {
      "managed-by": MANAGED_BY,
      environment: target.env.name,
      category: categoryOf(job),
      job: labelValue(job.name),
      "source-commit": labelValue(options.commit),
    },
    template: {
      taskCount: job.tasks,
      parallelism: job.parallelism,
      template: {
        containers: [
          {
            image: options.image ?? "",
            args: [job.name],
            env,
            resources: { limits: { cpu: job.resources.cpu, memory: job.resources.memory } },
          },
        ],
        maxRetries: job.retries,
        timeout: { seconds: job.timeoutSeconds },
        serviceAccount: target.env.jobServiceAccount,
      },
    },
  };
}

export function desiredTrigger(job: AnyJob, target: Target): Trigger | null {
  if (!job.schedule) return null;
  const trigger = job.trigger ?? { retryCount: 0, attemptDeadlineSeconds: 180, paused: false };
  const runPath = `${runJobName(job, target)}:run`;
  return {
    name: triggerName(job, target),
    description: `${job.description} ${triggerMarker(target.env.name)}`.trim(),
    schedule: job.schedule.cron,
    timeZone: job.schedule.timeZone,
    httpTarget: {
      uri: `${target.runApiBase}/v2/${runPath}`,
      httpMethod: "POST",
      oauthToken: { serviceAccountEmail: target.env.invokerServiceAccount, scope: CLOUD_PLATFORM_SCOPE },
    },
    retryConfig: { retryCount: trigger.retryCount },
    attemptDeadline: { seconds: trigger.attemptDeadlineSeconds },
    state: trigger.paused ? "PAUSED" : "ENABLED",
  };
}

export function desiredState(
  catalog: readonly AnyJob[],
  target: Target,
  options: DesiredOptions,
): DesiredState {
  const state: DesiredState = {
    runJobs: new Map(),
    triggers: new Map(),
    secrets: new Set(),
    apiUrlMissing: new Set(),
  };
  for (const job of catalog) {
    const runJob = desiredRunJob(job, target, options);
    state.runJobs.set(runJob.name ?? "", runJob);
    const env = runJob.template?.template?.containers?.[0]?.env ?? [];
    const needsUrl = target.env.name !== "sandbox" && job.uses.includes("admin-api");
    if (needsUrl && !env.some((variable) => variable.name === "API_SERVICE_URL"))
      state.apiUrlMissing.add(runJob.name ?? "");
    for (const secret of Object.values(secretEnv(job, target))) state.secrets.add(secret);
    const trigger = desiredTrigger(job, target);
    if (trigger) state.triggers.set(trigger.name ?? "", trigger);
  }
  return state;
}
