/**
 * The Cloud Run adapter: everything the runtime knows about running as a Cloud Run Job task.
 *
 * Overlap guard: Cloud Scheduler's attempt ends when Cloud Run ACCEPTS a run, so a slow execution can
 * still be running at the next tick. A job with `skipIfRunning` lists its own executions through the
 * Cloud Run Admin API v2 and skips (exit 0, logged) when an OLDER execution has not completed. Skipping
 * the newer one (not the older) keeps the run that has already done part of the work.
 */
import { z } from "zod";
import type { RuntimeConfig } from "./config.ts";
import { createHttpClient, type HttpClientOptions } from "./http.ts";
import type { Logger } from "./logger.ts";

export const CLOUD_RUN_API = "https://run.googleapis.com";
export const METADATA_URL = "http://metadata.google.internal";
const TOKEN_PATH = "/computeMetadata/v1/instance/service-account/default/token";
/**
 * Cloud Run keeps at most 1,000 finished executions per job: 10 pages of 100 see all of them, so the check
 * does not depend on the order the API lists them in (newest first, as far as we know, but not documented).
 */
const MAX_PAGES = 10;

const tokenSchema = z.object({ access_token: z.string().min(1) });
const executionsSchema = z.object({
  executions: z
    .array(
      z.object({
        name: z.string(),
        createTime: z.string().optional(),
        completionTime: z.string().optional(),
      }),
    )
    .default([]),
  nextPageToken: z.string().optional(),
});

export type OverlapVerdict =
  | { skip: false; reason: string }
  | { skip: true; other: string; otherCreateTime: string; reason: string };

export interface OverlapOptions {
  config: RuntimeConfig;
  log: Logger;
  now: () => Date;
  signal?: AbortSignal;
  /** Test seam for waits between retries. */
  sleep?: HttpClientOptions["sleep"];
}

const shortName = (name: string) => name.split("/").at(-1) ?? name;

/**
 * Decides whether this execution should skip because an older one of the same job is still running.
 * Never throws: when the check itself fails it logs a WARNING and lets the run proceed, because a guard
 * that failed closed would skip every run whenever the Cloud Run API hiccups (a missed run is worse
 * than a rare overlap, and every job is idempotent).
 *
 * @example
 * const verdict = await checkOverlap({ config, log, now: () => new Date() });
 * if (verdict.skip) return { status: "skipped", message: `older execution ${verdict.other} is still running` };
 */
export async function checkOverlap(options: OverlapOptions): Promise<OverlapVerdict> {
  const { config, log } = options;
  const { job, execution, apiUrl } = config.cloudRun;
  if (!job || !execution) return { skip: false, reason: "not running as a Cloud Run execution" };
  if (!apiUrl && config.environment === "sandbox") {
    // The sandbox is never real Cloud Run: without its endpoint there is nothing to ask (and no metadata server).
    log.warn("Overlap check skipped: CLOUD_RUN_API_URL is not set in the sandbox; running anyway", {
      cloud_run_job: job,
    });
    return { skip: false, reason: "sandbox without CLOUD_RUN_API_URL" };
  }
  try {
    const headers: Record<string, string> = apiUrl
      ? {}
      : { authorization: `Bearer ${await metadataToken(options)}` };
    const http = createHttpClient({
      baseUrl: apiUrl ?? CLOUD_RUN_API,
      headers,
      allowInsecure: config.environment === "sandbox",
      timeoutMs: 15_000,
      retries: 2,
      log,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.sleep ? { sleep: options.sleep } : {}),
    });
    try {
      const path = `/v2/projects/${config.project}/locations/${config.region}/jobs/${encodeURIComponent(job)}/executions`;
      const executions: z.output<typeof executionsSchema>["executions"] = [];
      let pageToken: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const query = { pageSize: 100, pageToken };
        const { data } = await http.request({ method: "GET", path, query, schema: executionsSchema });
        executions.push(...data.executions);
        pageToken = data.nextPageToken;
        if (!pageToken) break;
      }
      const mine = executions.find((e) => shortName(e.name) === execution);
      const myTime = mine?.createTime ?? options.now().toISOString();
      const older = executions
        .filter((e) => shortName(e.name) !== execution && !e.completionTime && e.createTime)
        .filter((e) => isBefore(e.createTime as string, shortName(e.name), myTime, execution))
        .sort((a, b) => Date.parse(a.createTime as string) - Date.parse(b.createTime as string))[0];
      if (!older) return { skip: false, reason: `no older execution of ${job} is running` };
      const other = shortName(older.name);
      return {
        skip: true,
        other,
        otherCreateTime: older.createTime as string,
        reason: `an older execution of ${job} (${other}, created ${older.createTime}) is still running`,
      };
    } finally {
      await http.close();
    }
  } catch (error) {
    log.warn(
      `Overlap check failed, running anyway (a failed check must not block every run): ${(error as Error).message}`,
      { error, cloud_run_job: job },
    );
    return { skip: false, reason: "overlap check failed" };
  }
}

/** Older by createTime; an exact tie is broken by name so that exactly one of the two skips. */
function isBefore(time: string, name: string, myTime: string, myName: string): boolean {
  const [a, b] = [Date.parse(time), Date.parse(myTime)];
  return a < b || (a === b && name < myName);
}

/** Only reached on real Cloud Run (CLOUD_RUN_API_URL unset): the service account's access token. */
async function metadataToken(options: OverlapOptions): Promise<string> {
  const http = createHttpClient({
    baseUrl: METADATA_URL,
    headers: { "Metadata-Flavor": "Google" },
    allowInsecure: true, // the metadata server is link-local and only speaks http
    timeoutMs: 5_000,
    retries: 1,
    log: options.log,
  });
  try {
    return (await http.request({ method: "GET", path: TOKEN_PATH, schema: tokenSchema })).data.access_token;
  } finally {
    await http.close();
  }
}
