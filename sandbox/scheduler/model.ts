/**
 * Cloud Scheduler v1 jobs as the REST API spells them, with Google's validation for the fields we use:
 * unix-cron schedule, IANA time zone, retryCount 0–5, attemptDeadline 15 s–30 min, HTTP targets only.
 */
import { CronExpressionParser } from "cron-parser";
import { invalid } from "../http/errors.ts";
import { decodeEnum, type EnumTables, parseDuration } from "../http/wire.ts";

export interface HttpTarget {
  uri: string;
  httpMethod: string;
  headers?: Record<string, string>;
  /** base64, as on the wire. */
  body?: string;
  oauthToken?: { serviceAccountEmail?: string; scope?: string };
  oidcToken?: { serviceAccountEmail?: string; audience?: string };
}
export interface SchedulerJob {
  name: string;
  description?: string;
  httpTarget: HttpTarget;
  schedule: string;
  timeZone: string;
  userUpdateTime: string;
  state: "ENABLED" | "PAUSED";
  status: { code?: number; message?: string };
  scheduleTime?: string;
  lastAttemptTime?: string;
  retryConfig: {
    retryCount?: number;
    maxRetryDuration: string;
    minBackoffDuration: string;
    maxBackoffDuration: string;
    maxDoublings: number;
  };
  attemptDeadline: string;
}

export const SCHEDULER_ENUMS: EnumTables = {
  state: { STATE_UNSPECIFIED: 0, ENABLED: 1, PAUSED: 2, DISABLED: 3, UPDATE_FAILED: 4 },
  httpMethod: {
    HTTP_METHOD_UNSPECIFIED: 0,
    POST: 1,
    GET: 2,
    HEAD: 3,
    PUT: 4,
    DELETE: 5,
    PATCH: 6,
    OPTIONS: 7,
  },
};

/** @example isTimeZone("Europe/Berlin") // true */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The first slot of `schedule` strictly after `after`, in `timeZone` (DST handled by cron-parser).
 * @example nextRun("0 9 * * *", "Europe/Berlin", new Date("2026-03-28T12:00:00Z")) // 2026-03-29T07:00:00Z
 */
export function nextRun(schedule: string, timeZone: string, after: Date): Date {
  return CronExpressionParser.parse(schedule, { tz: timeZone, currentDate: after }).next().toDate();
}

/** Validates and fills Google's defaults; returns the job as stored. */
export function normaliseJob(
  input: Partial<SchedulerJob> & Record<string, unknown>,
): Omit<SchedulerJob, "userUpdateTime" | "state" | "status"> {
  if (input.pubsubTarget || input.appEngineHttpTarget)
    throw invalid("The sandbox's Cloud Scheduler supports httpTarget jobs only");
  const target = input.httpTarget;
  if (!target?.uri || !/^https?:\/\//.test(target.uri))
    throw invalid("job.httpTarget.uri is required: an http(s) URL to call");
  const httpMethod = decodeEnum(
    target.httpMethod ?? "POST",
    SCHEDULER_ENUMS.httpMethod as Record<string, number>,
    "job.httpTarget.httpMethod",
  );
  const schedule = (input.schedule ?? "").trim();
  if (!schedule) throw invalid('job.schedule is required (unix-cron, e.g. "0 1 * * *")');
  const timeZone = input.timeZone || "Etc/UTC";
  if (!isTimeZone(timeZone))
    throw invalid(
      `job.timeZone ${JSON.stringify(timeZone)} is not an IANA time zone (e.g. "Etc/UTC", "Europe/Berlin")`,
    );
  if (schedule.split(/\s+/).length !== 5)
    throw invalid(
      `Schedule ${JSON.stringify(schedule)} has wrong number of fields: unix-cron takes 5 (minute hour day month weekday)`,
    );
  try {
    nextRun(schedule, timeZone, new Date());
  } catch (error) {
    throw invalid(`Schedule ${JSON.stringify(schedule)} is not valid unix-cron: ${(error as Error).message}`);
  }
  const retryCount = input.retryConfig?.retryCount ?? 0;
  if (!Number.isInteger(retryCount) || retryCount < 0 || retryCount > 5)
    throw invalid(`job.retryConfig.retryCount must be 0 to 5; got ${retryCount}`);
  const attemptDeadline = input.attemptDeadline ?? "180s";
  const deadlineMs = parseDuration(attemptDeadline, "job.attemptDeadline");
  if (deadlineMs < 15_000 || deadlineMs > 1_800_000)
    throw invalid(`job.attemptDeadline must be between 15s and 1800s (30 min); got ${attemptDeadline}`);
  return {
    name: input.name ?? "",
    ...(input.description ? { description: input.description } : {}),
    httpTarget: { ...target, httpMethod: httpMethod as string },
    schedule,
    timeZone,
    retryConfig: {
      ...(retryCount ? { retryCount } : {}),
      maxRetryDuration: input.retryConfig?.maxRetryDuration ?? "0s",
      minBackoffDuration: input.retryConfig?.minBackoffDuration ?? "5s",
      maxBackoffDuration: input.retryConfig?.maxBackoffDuration ?? "3600s",
      maxDoublings: input.retryConfig?.maxDoublings ?? 5,
    },
    attemptDeadline,
  };
}

/** "time_zone" → "timeZone" (update masks arrive in either spelling). */
export const camel = (path: string): string => path.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
