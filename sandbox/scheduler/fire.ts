/**
 * One scheduler attempt: call the job's HTTP target as Cloud Scheduler does (method, headers, body, a
 * bearer token when the job has an oauthToken/oidcToken, see ../http/tokens.ts), bounded by attemptDeadline, retried up to
 * retryCount. The result becomes the job's `status` (a google.rpc.Status: empty when it succeeded).
 */
import { schedulerAuthorization } from "../http/tokens.ts";
import { parseDuration } from "../http/wire.ts";
import type { SchedulerJob } from "./model.ts";

const HTTP_TO_CODE: Record<number, number> = {
  400: 3,
  401: 16,
  403: 7,
  404: 5,
  409: 6,
  429: 8,
  499: 1,
  500: 13,
  501: 12,
  503: 14,
  504: 4,
};
const STATUS_NAME: Record<number, string> = {
  1: "CANCELLED",
  2: "UNKNOWN",
  3: "INVALID_ARGUMENT",
  4: "DEADLINE_EXCEEDED",
  5: "NOT_FOUND",
  6: "ALREADY_EXISTS",
  7: "PERMISSION_DENIED",
  8: "RESOURCE_EXHAUSTED",
  12: "UNIMPLEMENTED",
  13: "INTERNAL",
  14: "UNAVAILABLE",
  16: "UNAUTHENTICATED",
};

export interface AttemptResult {
  job: string;
  scheduleTime: string;
  /** HTTP status of the last try, or 0 when none answered. */
  httpStatus: number;
  status: { code?: number; message?: string };
  tries: number;
}
export interface FireOptions {
  /** Base URL of the Cloud Run emulator: targets on run.googleapis.com are sent there (no network). */
  cloudRunUrl?: string;
  /** Pause between retries; Cloud Scheduler's minBackoffDuration is compressed in the sandbox. */
  backoffMs?: number;
}

/** Rewrites `https://run.googleapis.com/...` to the emulator, so a job provisioned for Google works here. */
export function targetUrl(uri: string, cloudRunUrl?: string): string {
  const url = new URL(uri);
  if (cloudRunUrl && url.hostname === "run.googleapis.com")
    return `${cloudRunUrl}${url.pathname}${url.search}`;
  return uri;
}

async function tryOnce(
  job: SchedulerJob,
  scheduleTime: string,
  opts: FireOptions,
): Promise<{ httpStatus: number; error?: string }> {
  const target = job.httpTarget;
  const headers: Record<string, string> = {
    "User-Agent": "Google-Cloud-Scheduler",
    "Content-Type": "application/octet-stream",
    ...target.headers,
    "X-CloudScheduler": "true",
    "X-CloudScheduler-JobName": job.name.split("/").at(-1) as string,
    "X-CloudScheduler-ScheduleTime": scheduleTime,
  };
  const authorization = schedulerAuthorization(target);
  if (authorization) headers.Authorization = authorization;
  const method = target.httpMethod;
  try {
    const res = await fetch(targetUrl(target.uri, opts.cloudRunUrl), {
      method,
      headers,
      ...(target.body && !["GET", "HEAD"].includes(method)
        ? { body: Buffer.from(target.body, "base64") }
        : {}),
      signal: AbortSignal.timeout(parseDuration(job.attemptDeadline, "attemptDeadline")),
    });
    const text = await res.text();
    return res.ok ? { httpStatus: res.status } : { httpStatus: res.status, error: text.slice(0, 500) };
  } catch (error) {
    const timeout = (error as Error).name === "TimeoutError";
    return {
      httpStatus: timeout ? 504 : 0,
      error: timeout
        ? `no answer within attemptDeadline ${job.attemptDeadline}`
        : String((error as Error).cause ?? error),
    };
  }
}

/**
 * @example const result = await attempt(job, "2026-11-22T00:00:00Z", { cloudRunUrl });
 */
export async function attempt(
  job: SchedulerJob,
  scheduleTime: string,
  opts: FireOptions = {},
): Promise<AttemptResult> {
  const retries = job.retryConfig.retryCount ?? 0;
  let last: { httpStatus: number; error?: string } = { httpStatus: 0 };
  let tries = 0;
  for (; tries <= retries; tries++) {
    if (tries > 0) await new Promise((r) => setTimeout(r, (opts.backoffMs ?? 100) * 2 ** (tries - 1)));
    last = await tryOnce(job, scheduleTime, opts);
    if (!last.error) break;
  }
  const code = last.error ? (HTTP_TO_CODE[last.httpStatus] ?? (last.httpStatus === 0 ? 14 : 2)) : undefined;
  const status =
    code === undefined
      ? {}
      : {
          code,
          message: `${STATUS_NAME[code] ?? "UNKNOWN"}: ${job.httpTarget.httpMethod} ${job.httpTarget.uri} answered ${last.httpStatus || "nothing"}: ${last.error}`,
        };
  return {
    job: job.name,
    scheduleTime,
    httpStatus: last.httpStatus,
    status,
    tries: Math.min(tries + 1, retries + 1),
  };
}
