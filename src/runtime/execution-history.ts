/**
 * Reading this job's own executions through the Cloud Run Admin API v2 (the only history a job has: the
 * admin API keeps none). On Cloud Run the token comes from the metadata server; in the sandbox and in
 * tests, CLOUD_RUN_API_URL points at an emulator and no token is needed.
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
/** Enums arrive as names from the REST API, or as numbers with `enum-encoding=int`. */
const CONDITION_SUCCEEDED = new Set<unknown>(["CONDITION_SUCCEEDED", 4]);
const executionSchema = z.looseObject({
  name: z.string(),
  createTime: z.string().optional(),
  completionTime: z.string().optional(),
  taskCount: z.number().optional(),
  succeededCount: z.number().optional(),
  conditions: z.array(z.looseObject({ type: z.string().optional(), state: z.unknown() })).optional(),
  template: z
    .looseObject({ containers: z.array(z.looseObject({ args: z.array(z.string()).optional() })).optional() })
    .optional(),
});
const pageSchema = z.object({
  executions: z.array(executionSchema).default([]),
  nextPageToken: z.string().optional(),
});

export interface ExecutionInfo {
  /** Short name, e.g. `alerts-prod-x7k2p`. */
  name: string;
  createTime: string | undefined;
  /** Still running: no completion time yet. */
  running: boolean;
  /** Finished with every task succeeded. */
  succeeded: boolean;
  /** The container's args (the job name, then its flags); null when the API did not show them. */
  args: string[] | null;
}

export const shortName = (name: string) => name.split("/").at(-1) ?? name;

function toInfo(e: z.output<typeof executionSchema>): ExecutionInfo {
  const completed = e.conditions?.find((c) => c.type === "Completed");
  const counted =
    e.completionTime !== undefined &&
    e.taskCount !== undefined &&
    (e.succeededCount ?? 0) >= e.taskCount &&
    completed === undefined;
  return {
    name: shortName(e.name),
    createTime: e.createTime,
    running: !e.completionTime,
    succeeded: Boolean(e.completionTime) && (CONDITION_SUCCEEDED.has(completed?.state) || counted),
    args: e.template?.containers?.[0]?.args ?? null,
  };
}

export interface HistoryOptions {
  config: RuntimeConfig;
  log: Logger;
  signal?: AbortSignal;
  /** Test seam for waits between retries. */
  sleep?: HttpClientOptions["sleep"];
}

/**
 * Every kept execution of the Cloud Run job this task belongs to. Throws when the API cannot be read.
 * @example const all = await listOwnExecutions({ config, log }); // [{ name, createTime, running, … }]
 */
export async function listOwnExecutions(options: HistoryOptions): Promise<ExecutionInfo[]> {
  const { config, log } = options;
  const { job, apiUrl } = config.cloudRun;
  if (!job) throw new Error("CLOUD_RUN_JOB is not set: not a Cloud Run execution");
  if (!apiUrl && config.environment === "sandbox")
    throw new Error("CLOUD_RUN_API_URL is not set in the sandbox, so there is no Cloud Run API to ask");
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
    const executions: ExecutionInfo[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const query = { pageSize: 100, pageToken };
      const { data } = await http.request({ method: "GET", path, query, schema: pageSchema });
      executions.push(...data.executions.map(toInfo));
      pageToken = data.nextPageToken;
      if (!pageToken) break;
    }
    return executions;
  } finally {
    await http.close();
  }
}

/** Only reached on real Cloud Run (CLOUD_RUN_API_URL unset): the service account's access token. */
async function metadataToken(options: HistoryOptions): Promise<string> {
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
