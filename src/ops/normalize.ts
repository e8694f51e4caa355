/**
 * Both sides of a diff in one comparable shape: a flat map `field → string`.
 *
 * What the API gives back differs from what we send without being a change: durations as `{seconds}` objects
 * (or Longs, or "900s"), enums as numbers or names, defaults left out, `UTC` for `Etc/UTC`, env vars and
 * labels in any order. Normalising once here keeps every plan free of false changes.
 *
 * @example
 * flattenRunJob(actual)["timeout"] // "900s", whether the API said {seconds: "900"} or "900s"
 */
import type { RunJob, Trigger } from "./desired.ts";

export type Flat = Record<string, string>;

/** Durations as "Ns" from {seconds, nanos}, Long-likes, numbers or "Ns" strings. */
export function durationText(value: unknown, fallbackSeconds: number): string {
  if (value === null || value === undefined) return `${fallbackSeconds}s`;
  if (typeof value === "string") return `${Number.parseFloat(value)}s`;
  if (typeof value === "number") return `${value}s`;
  const { seconds, nanos } = value as { seconds?: unknown; nanos?: unknown };
  const total = Number(String(seconds ?? 0)) + Number(nanos ?? 0) / 1e9;
  return `${total}s`;
}

const UTC_ALIASES = new Set([
  "UTC",
  "Etc/UTC",
  "Etc/GMT",
  "GMT",
  "Etc/Universal",
  "Universal",
  "Etc/Zulu",
  "Zulu",
]);
export const normalizeTimeZone = (zone: string | null | undefined): string =>
  !zone || UTC_ALIASES.has(zone) ? "Etc/UTC" : zone;

const HTTP_METHODS = ["HTTP_METHOD_UNSPECIFIED", "POST", "GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"];
const SCHEDULER_STATES = ["STATE_UNSPECIFIED", "ENABLED", "PAUSED", "DISABLED", "UPDATE_FAILED"];
/** Enum values arrive as numbers (`enum-encoding=int`) or names depending on the transport. */
export const enumName = (names: readonly string[], value: unknown, fallback: string): string =>
  typeof value === "number" ? (names[value] ?? String(value)) : typeof value === "string" ? value : fallback;
export const schedulerState = (value: unknown): string => enumName(SCHEDULER_STATES, value, "ENABLED");

const num = (value: unknown, fallback: number): string =>
  value === null || value === undefined ? String(fallback) : String(Number(String(value)));

/** Cloud Run defaults: 1 task, parallelism 0 (= as many as possible), 3 retries, 600 s timeout. */
export function flattenRunJob(job: RunJob): Flat {
  const flat: Flat = {};
  const execution = job.template ?? {};
  const task = execution.template ?? {};
  const container = task.containers?.[0] ?? {};
  flat.image = container.image ?? "";
  flat.args = JSON.stringify(container.args ?? []);
  for (const variable of container.env ?? []) {
    const ref = variable.valueSource?.secretKeyRef;
    if (ref) flat[`secret.${variable.name}`] = `${ref.secret}:${ref.version || "latest"}`;
    else flat[`env.${variable.name}`] = variable.value ?? "";
  }
  const limits = container.resources?.limits ?? {};
  flat.cpu = limits.cpu ?? "1";
  flat.memory = limits.memory ?? "512Mi";
  flat.timeout = durationText(task.timeout, 600);
  flat.maxRetries = num(task.maxRetries, 3);
  flat.taskCount = num(execution.taskCount, 1);
  flat.parallelism = num(execution.parallelism, 0);
  flat.serviceAccount = task.serviceAccount ?? "";
  for (const [key, value] of Object.entries(job.labels ?? {})) flat[`label.${key}`] = value;
  return flat;
}

/** Scheduler defaults: attempt deadline 180 s, no retries, state ENABLED. */
export function flattenTrigger(job: Trigger): Flat {
  const http = job.httpTarget ?? {};
  return {
    description: job.description ?? "",
    schedule: (job.schedule ?? "").trim().replace(/\s+/g, " "),
    timeZone: normalizeTimeZone(job.timeZone),
    uri: http.uri ?? "",
    httpMethod: enumName(HTTP_METHODS, http.httpMethod, "POST"),
    "oauthToken.serviceAccountEmail": http.oauthToken?.serviceAccountEmail ?? "",
    "oauthToken.scope": http.oauthToken?.scope ?? "",
    retryCount: num(job.retryConfig?.retryCount, 0),
    attemptDeadline: durationText(job.attemptDeadline, 180),
    paused: String(schedulerState(job.state) === "PAUSED"),
  };
}

/** Scheduler update-mask path of each flat field (`paused` is pause/resume, not an update). */
export const TRIGGER_MASK_PATHS: Readonly<Record<string, string>> = {
  description: "description",
  schedule: "schedule",
  timeZone: "time_zone",
  uri: "http_target.uri",
  httpMethod: "http_target.http_method",
  "oauthToken.serviceAccountEmail": "http_target.oauth_token.service_account_email",
  "oauthToken.scope": "http_target.oauth_token.scope",
  retryCount: "retry_config.retry_count",
  attemptDeadline: "attempt_deadline",
};
