/**
 * The only reader of environment keys. `loadConfig(job, env)` parses the environment once with zod and
 * reports EVERY bad or missing key in one ConfigError (exit 2, before any side effect). Only what the
 * chosen job `uses` is required. Precedence: explicit variable > environments table > built-in default.
 */
import { z } from "zod";
import { KEY_SPECS } from "./config-keys.ts";
import { ENVIRONMENTS, type Environment, type EnvironmentName, isEnvironmentName } from "./environments.ts";
import { ConfigError } from "./errors.ts";
import type { AnyJob } from "./job.ts";
import type { LogLevel } from "./logger.ts";
import { readRelease } from "./release.ts";

export { CONFIG_KEYS, type ConfigKeyDoc, configReferenceMarkdown } from "./config-keys.ts";
export { readRelease } from "./release.ts";

export interface RuntimeConfig {
  environment: EnvironmentName;
  /** The admin API's vocabulary: testing | staging | production | sandbox. */
  environmentLabel: Environment["label"];
  /** GCP_PROJECT_ID, else the environments table. */
  project: string;
  /** CLOUD_RUN_REGION, else the environments table. */
  region: string;
  logLevel: LogLevel;
  release: { version: string; commit: string };
  /** IDEMPOTENCY_SCOPE: a deliberate re-run's label (`run-job --rerun <label>`); null = an ordinary run. */
  idempotencyScope: string | null;
  cloudRun: {
    job: string | null;
    execution: string | null;
    taskIndex: number;
    taskCount: number;
    taskAttempt: number;
    /** CLOUD_RUN_API_URL; null = https://run.googleapis.com with a metadata-server token. */
    apiUrl: string | null;
  };
  /** HTTP_TIMEOUT_MS: caps every HTTP call's timeout (tests, drills); null = each call's own timeout. */
  httpTimeoutMs: number | null;
  /** Present when the job uses "admin-api". */
  api: { url: string; key: string } | null;
  /** Present when the job uses "supabase". */
  supabase: { url: string; token: string; projectRef: string } | null;
  /** Present when the job uses "bigquery". apiUrl null = Google's endpoint. */
  bigquery: { projectId: string; apiUrl: string | null } | null;
  /** Values to redact from every log line and error. */
  secrets: string[];
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);

/** True for loopback hosts (127.0.0.0/8, ::1, localhost): plain http never leaves the machine there. */
export function isLoopbackUrl(value: string): boolean {
  try {
    const host = new URL(value).hostname;
    return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}

const baseShape = Object.fromEntries(KEY_SPECS.map((k) => [k.name, k.schema]));
const baseSchema = z.object(baseShape);
type Parsed = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** Cross-key rules: what the job needs, table fallbacks, and http only in the sandbox or on loopback. */
function requirements(job: AnyJob, v: Parsed, ctx: z.RefinementCtx): void {
  const problem = (key: string, message: string) => ctx.addIssue({ code: "custom", path: [key], message });
  const missing = (key: string, why: string, fix: string) => problem(key, `required ${why}; ${fix}`);
  const raw = str(v.ENVIRONMENT);
  const name = raw !== undefined && isEnvironmentName(raw) ? raw : undefined;
  const uses = new Set(job.uses);
  if (v.ENVIRONMENT === undefined)
    missing("ENVIRONMENT", "by every job", "set ENVIRONMENT=test, stage, prod or sandbox");
  const sandbox = name === "sandbox";
  for (const k of ["API_SERVICE_URL", "SUPABASE_API_URL", "BIGQUERY_API_URL", "CLOUD_RUN_API_URL"]) {
    const u = str(v[k]);
    if (u?.startsWith("http:") && !sandbox && !isLoopbackUrl(u)) {
      problem(
        k,
        `"${u}" is plain http; use https (http is only allowed with ENVIRONMENT=sandbox or a loopback host)`,
      );
    }
  }
  const task = { index: v.CLOUD_RUN_TASK_INDEX, count: v.CLOUD_RUN_TASK_COUNT };
  if (typeof task.index === "number" && typeof task.count === "number" && task.index >= task.count) {
    problem("CLOUD_RUN_TASK_INDEX", `must be below CLOUD_RUN_TASK_COUNT (${task.count}), got ${task.index}`);
  }
  const by = (dep: string) => `by job "${job.name}" (it uses ${dep})`;
  if (uses.has("admin-api")) {
    if (v.CA_ROOT_API_KEY === undefined)
      missing(
        "CA_ROOT_API_KEY",
        by("admin-api"),
        "on Cloud Run it comes from the ca-root-api-key-<env> secret; locally export it",
      );
    if (v.API_SERVICE_URL === undefined && name && !ENVIRONMENTS[name].apiUrl) {
      missing(
        "API_SERVICE_URL",
        `${by("admin-api")}: the environments table has no API URL for "${name}"`,
        "set API_SERVICE_URL to the admin API's https base URL",
      );
    }
  }
  if (uses.has("supabase") && v.SUPABASE_ACCESS_TOKEN === undefined) {
    missing(
      "SUPABASE_ACCESS_TOKEN",
      by("supabase"),
      "on Cloud Run it comes from the supabase-access-token-<env> secret; locally export it",
    );
  }
}

/** Drops empty values: Cloud Run and shells often pass `KEY=` meaning "unset". */
const present = (env: Record<string, string | undefined>) =>
  Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));

const definedOnly = (env: Record<string, string | undefined>) =>
  Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined));

/**
 * Control characters anywhere, or spaces around a value, in any key the job reads: a newline pasted into
 * a secret, or `DAYS_TO_KEEP=" 30"`, is refused here (exit 2) instead of failing later at a server. The
 * message names the character's position, never the value (it may be a secret).
 */
/** C0 and C1 controls, DEL, and the Unicode line/paragraph separators. */
function isControl(char: string): boolean {
  const c = char.codePointAt(0) ?? 0;
  return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029;
}

function stray(raw: Record<string, string | undefined>, names: string[]): string[] {
  const out: string[] = [];
  for (const name of new Set(names)) {
    const value = raw[name];
    if (value === undefined) continue;
    const at = [...value].findIndex(isControl);
    if (at >= 0) {
      const code = `U+${([...value][at]?.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
      out.push(
        `${name}: contains a control character (${code} at position ${at + 1}); remove it (a stray newline or tab from a file or a paste?)`,
      );
    } else if (value.trim() !== value) {
      out.push(
        `${name}: has leading or trailing whitespace; remove it (write ${name}=<value> without spaces)`,
      );
    }
  }
  return out;
}

const describe = (issue: z.core.$ZodIssue) =>
  `${issue.path.map(String).join(".") || "(environment)"}: ${issue.message}`;

/**
 * @example
 * const { config, jobEnv } = loadConfig(job, process.env);  // throws ConfigError listing every problem
 * config.api?.url;      // "https://api.cloudact.ai" for ENVIRONMENT=prod
 */
export function loadConfig(
  job: AnyJob,
  env: Record<string, string | undefined>,
): { config: RuntimeConfig; jobEnv: unknown } {
  const raw = present(env);
  const shape = stray(raw, [...KEY_SPECS.map((k) => k.name), ...Object.keys(job.env?.shape ?? {})]);
  const schema = baseSchema.superRefine((v, ctx) => requirements(job, v, ctx), { when: () => true });
  const base = schema.safeParse(raw);
  // The job's own keys see the environment as given: an explicitly empty DAYS_TO_KEEP= is refused by the
  // job's schema, never read as "unset" (an empty value is not a default).
  const own = job.env
    ? (job.env as z.ZodType).safeParse(definedOnly(env))
    : { success: true as const, data: {} };
  // A key with a stray character gets that one message, not a second one from its schema.
  const strayKeys = new Set(shape.map((p) => p.split(":")[0]));
  const issues = [...(base.error?.issues ?? []), ...(own.error?.issues ?? [])];
  const problems = [...shape, ...issues.filter((i) => !strayKeys.has(String(i.path[0]))).map(describe)];
  if (!base.success || !own.success || problems.length) {
    throw new ConfigError(
      `Configuration of job "${job.name}" is invalid (${problems.length} problem(s))`,
      problems,
    );
  }
  return { config: toRuntimeConfig(job, base.data as Parsed), jobEnv: own.data };
}

function toRuntimeConfig(job: AnyJob, v: Parsed): RuntimeConfig {
  const row = ENVIRONMENTS[v.ENVIRONMENT as EnvironmentName];
  const uses = new Set(job.uses);
  const project = str(v.GCP_PROJECT_ID) ?? row.project;
  const api = uses.has("admin-api")
    ? { url: str(v.API_SERVICE_URL) ?? (row.apiUrl as string), key: str(v.CA_ROOT_API_KEY) as string }
    : null;
  const supabase = uses.has("supabase")
    ? {
        url: str(v.SUPABASE_API_URL) ?? "https://api.supabase.com",
        token: str(v.SUPABASE_ACCESS_TOKEN) as string,
        projectRef: str(v.SUPABASE_PROJECT_REF) ?? row.supabaseProjectRef,
      }
    : null;
  // Redact every secret present in the environment, even of keys this job does not use.
  const secrets = KEY_SPECS.filter((k) => k.secret)
    .map((k) => str(v[k.name]))
    .filter((s): s is string => s !== undefined);
  return {
    environment: row.name,
    environmentLabel: row.label,
    project,
    region: str(v.CLOUD_RUN_REGION) ?? row.region,
    logLevel: v.LOG_LEVEL as LogLevel,
    release: readRelease(v),
    idempotencyScope: str(v.IDEMPOTENCY_SCOPE) ?? null,
    cloudRun: {
      job: str(v.CLOUD_RUN_JOB) ?? null,
      execution: str(v.CLOUD_RUN_EXECUTION) ?? null,
      taskIndex: v.CLOUD_RUN_TASK_INDEX as number,
      taskCount: v.CLOUD_RUN_TASK_COUNT as number,
      taskAttempt: v.CLOUD_RUN_TASK_ATTEMPT as number,
      apiUrl: str(v.CLOUD_RUN_API_URL) ?? null,
    },
    httpTimeoutMs: (v.HTTP_TIMEOUT_MS as number | null) ?? null,
    api,
    supabase,
    bigquery: uses.has("bigquery") ? { projectId: project, apiUrl: str(v.BIGQUERY_API_URL) ?? null } : null,
    secrets,
  };
}

/** Values of secret keys found in a raw environment, to redact even when the config did not parse. */
export function secretValues(env: Record<string, string | undefined>): string[] {
  return KEY_SPECS.filter((k) => k.secret)
    .map((k) => env[k.name])
    .filter((s): s is string => Boolean(s));
}
