/**
 * Every environment key the runtime reads, with its zod schema and its documentation in one place, so
 * the README's configuration reference is generated from the same table the parser uses (no drift).
 * Conditional requirements (which job needs what) live in config.ts; the schemas here only check shape
 * and never echo the value of a secret key in a message.
 */
import { z } from "zod";
import { type ENVIRONMENTS, isEnvironmentName, REFUSED_ENVIRONMENTS } from "./environments.ts";
import { LOG_LEVELS } from "./logger.ts";

/** When a key must be set: always, or only for jobs that `use` a dependency. */
export type RequiredWhen = "always" | "never" | "admin-api" | "supabase" | "bigquery";

export interface ConfigKeyDoc {
  name: string;
  requiredWhen: RequiredWhen;
  /** Human description of the default ("from the environments table"), or null when there is none. */
  default: string | null;
  description: string;
  /** Its value is redacted from every log line and error. */
  secret: boolean;
}

const LABELS: Readonly<Record<string, keyof typeof ENVIRONMENTS>> = {
  testing: "test",
  staging: "stage",
  production: "prod",
};

const text = z.string().optional();

const environment = text.transform((value, ctx) => {
  if (value === undefined) return undefined;
  const name = LABELS[value] ?? value;
  if (isEnvironmentName(name)) return name;
  ctx.addIssue({
    code: "custom",
    message:
      REFUSED_ENVIRONMENTS[value] ??
      `"${value}" is not an environment; set it to one of test, stage, prod, sandbox (or testing, staging, production)`,
  });
  return z.NEVER;
});

const logLevel = text.transform((value, ctx) => {
  const level = (value ?? "info").toLowerCase().replace(/^warning$/, "warn");
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as (typeof LOG_LEVELS)[number];
  ctx.addIssue({ code: "custom", message: `"${value}" is not a level; use one of ${LOG_LEVELS.join(", ")}` });
  return z.NEVER;
});

const integer = (min: number, max: number, fallback: number) =>
  text.transform((value, ctx) => {
    if (value === undefined) return fallback;
    const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (n >= min && n <= max) return n;
    ctx.addIssue({ code: "custom", message: `must be a whole number from ${min} to ${max}, got "${value}"` });
    return z.NEVER;
  });

const optionalInteger = (min: number, max: number) =>
  text.transform((value, ctx) => {
    if (value === undefined) return null;
    const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (n >= min && n <= max) return n;
    ctx.addIssue({ code: "custom", message: `must be a whole number from ${min} to ${max}, got "${value}"` });
    return z.NEVER;
  });

/** Shape only; whether http is allowed depends on ENVIRONMENT and is checked in config.ts. */
const url = text.transform((value, ctx) => {
  if (value === undefined) return undefined;
  try {
    const parsed = new URL(value);
    if (parsed.protocol === "https:" || parsed.protocol === "http:") return value.replace(/\/+$/, "");
  } catch {
    // reported below
  }
  ctx.addIssue({
    code: "custom",
    message: `"${value}" is not an http(s) URL; use e.g. https://api.example.com`,
  });
  return z.NEVER;
});

const pattern = (re: RegExp, example: string) =>
  text.refine((v) => v === undefined || re.test(v), {
    message: `does not look right; expected e.g. ${example}`,
  });

const secret = text.refine((v) => v === undefined || v.trim() === v, {
  message: "has leading or trailing whitespace (a copy-paste accident?); remove it",
});

interface KeySpec extends ConfigKeyDoc {
  schema: z.ZodType;
}

const key = (
  name: string,
  requiredWhen: RequiredWhen,
  schema: z.ZodType,
  fallback: string | null,
  description: string,
  isSecret = false,
): KeySpec => ({ name, requiredWhen, schema, default: fallback, description, secret: isSecret });

export const KEY_SPECS: readonly KeySpec[] = [
  key(
    "ENVIRONMENT",
    "always",
    environment,
    null,
    "test | stage | prod | sandbox (also testing, staging, production). Picks the row of the environments table.",
  ),
  key("LOG_LEVEL", "never", logLevel, "info", "debug | info | notice | warn | error."),
  key("RELEASE_VERSION", "never", text, "dev", "Release version, a label on every log line."),
  key("GIT_COMMIT", "never", text, "dev", "Commit the image was built from."),
  key(
    "IDEMPOTENCY_SCOPE",
    "never",
    pattern(/^[A-Za-z0-9._-]{1,64}$/, "rerun-1"),
    null,
    "A deliberate re-run label (run-job --rerun <label> sets it): alerts and quota-monthly then run even when an execution already succeeded for the day (they otherwise run at most once per day).",
  ),
  key(
    "API_SERVICE_URL",
    "admin-api",
    url,
    "from the environments table",
    "Admin API base URL (https; http only in the sandbox or on loopback).",
  ),
  key(
    "CA_ROOT_API_KEY",
    "admin-api",
    secret,
    null,
    "Admin API root key, sent as X-CA-Root-Key to the API origin only.",
    true,
  ),
  key("SUPABASE_ACCESS_TOKEN", "supabase", secret, null, "Supabase Management API token (migrate).", true),
  key(
    "SUPABASE_PROJECT_REF",
    "never",
    pattern(/^[a-z0-9-]+$/, "kwroaccbrxppfiysqlzs"),
    "from the environments table",
    "Supabase project ref.",
  ),
  key("SUPABASE_API_URL", "never", url, "https://api.supabase.com", "Supabase Management API base URL."),
  key(
    "GCP_PROJECT_ID",
    "never",
    pattern(/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/, "cloudact-testing-1"),
    "from the environments table",
    "GCP project (BigQuery, Cloud Run overlap guard).",
  ),
  key(
    "BIGQUERY_API_URL",
    "never",
    url,
    "Google's endpoint",
    "BigQuery API endpoint override (sandbox, tests).",
  ),
  key("CLOUD_RUN_JOB", "never", text, null, "Set by Cloud Run: this job's name."),
  key("CLOUD_RUN_EXECUTION", "never", text, null, "Set by Cloud Run: this execution's name."),
  key("CLOUD_RUN_TASK_INDEX", "never", integer(0, 9_999, 0), "0", "Set by Cloud Run: this task's index."),
  key("CLOUD_RUN_TASK_COUNT", "never", integer(1, 10_000, 1), "1", "Set by Cloud Run: number of tasks."),
  key(
    "CLOUD_RUN_TASK_ATTEMPT",
    "never",
    integer(0, 10, 0),
    "0",
    "Set by Cloud Run: retry attempt of this task.",
  ),
  key(
    "CLOUD_RUN_API_URL",
    "never",
    url,
    "https://run.googleapis.com",
    "Cloud Run Admin API v2 endpoint (the sandbox sets it; no token is fetched then).",
  ),
  key(
    "HTTP_TIMEOUT_MS",
    "never",
    optionalInteger(100, 3_600_000),
    "each call's own timeout (5–11 min)",
    "Caps every HTTP call's timeout, in milliseconds, for tests and drills of a slow server (e.g. 2000). Leave unset in production.",
  ),
  key(
    "CLOUD_RUN_REGION",
    "never",
    pattern(/^[a-z]+-[a-z]+\d+$/, "us-central1"),
    "from the environments table",
    "Region of the Cloud Run job.",
  ),
];

/**
 * Machine-readable reference of every key, for the README and `--help`.
 *
 * @example
 * for (const k of CONFIG_KEYS) console.log(`| ${k.name} | ${k.requiredWhen} | ${k.default ?? ""} | ${k.description} |`);
 */
export const CONFIG_KEYS: readonly ConfigKeyDoc[] = KEY_SPECS.map(({ schema: _schema, ...doc }) => doc);

/**
 * The README's configuration reference as a Markdown table, generated from CONFIG_KEYS.
 *
 * @example
 * console.log(configReferenceMarkdown()); // | Key | Required | Default | Description |
 */
export function configReferenceMarkdown(): string {
  const required = (k: ConfigKeyDoc) =>
    k.requiredWhen === "always"
      ? "always"
      : k.requiredWhen === "never"
        ? "no"
        : `jobs using ${k.requiredWhen}`;
  const cell = (text: string) => text.replaceAll("|", "\\|");
  const rows = CONFIG_KEYS.map(
    (k) =>
      `| \`${k.name}\` | ${required(k)} | ${cell(k.default ?? "—")} | ${cell(k.description)}${k.secret ? " Secret: never logged." : ""} |`,
  );
  return ["| Key | Required | Default | Description |", "|---|---|---|---|", ...rows, ""].join("\n");
}
