/**
 * One execution's own log lines, from Cloud Logging `entries:list` filtered by the execution's name, so a
 * run never shows another run's logs (the old run-job.sh did). The sandbox serves the same route on its
 * Cloud Run emulator; Google needs a bearer token. Each page is retried on transient failures (retry.ts).
 * Also the runner's summary lines, which say whether a run that exited 0 really did its work or skipped it.
 *
 * @example
 * const logs = await executionLogs(target, clients, "quota-reset-sandbox-abc12", { tail: 100 });
 * for (const line of logs.lines) println(io.stdout, line); // the last 100, oldest first
 * logs.omitted // 2345 earlier lines not shown
 */
import { request } from "undici";
import type { Clients } from "./clients.ts";
import { retryTransient } from "./retry.ts";
import type { Target } from "./target.ts";

interface LogEntry {
  timestamp?: string;
  severity?: string;
  textPayload?: string;
  jsonPayload?: Record<string, unknown>;
  labels?: Record<string, string>;
}

/** At most this many non-empty pages of 1,000 entries are read (newest first); older ones are not counted. */
const MAX_PAGES = 5;
/**
 * How long one read may page. Cloud Logging answers a long search with empty pages that carry a
 * nextPageToken ("still searching"): those do not count toward MAX_PAGES, so time bounds them instead.
 */
const READ_BUDGET_MS = 30_000;
/** Entries are searched from this long before the execution was created (clock skew, task start-up). */
const SINCE_MARGIN_MS = 60_000;
/** Lines shown by default: the end of a run is where its outcome and its error are. */
export const TAIL_LINES = 500;

/**
 * The entries:list filter for one execution. `since` (the execution's createTime) bounds the search: without a
 * timestamp term Cloud Logging searches the whole retention period, which is slow and pages emptily.
 *
 * @example
 * executionFilter("x-abc12", new Date("2026-11-22T10:00:00Z"))
 * // 'resource.type="cloud_run_job" AND labels."run.googleapis.com/execution_name"="x-abc12" AND timestamp>="2026-11-22T09:59:00.000Z"'
 */
export function executionFilter(executionShortName: string, since?: Date | null): string {
  const filter = `resource.type="cloud_run_job" AND labels."run.googleapis.com/execution_name"="${executionShortName}"`;
  if (!since || Number.isNaN(since.getTime())) return filter;
  return `${filter} AND timestamp>="${new Date(since.getTime() - SINCE_MARGIN_MS).toISOString()}"`;
}

function formatEntry(entry: LogEntry): string {
  const payload = entry.jsonPayload;
  const message =
    entry.textPayload ??
    (typeof payload?.message === "string" ? payload.message : JSON.stringify(payload ?? {}));
  // Tasks of one execution interleave: say which task wrote the line.
  const task = entry.labels?.["run.googleapis.com/task_index"];
  const where = task === undefined ? "" : `[task ${task}] `;
  return `${entry.timestamp ?? ""} ${(entry.severity ?? "DEFAULT").padEnd(7)} ${where}${message}`.trim();
}

/** The runner's one summary line per task (runtime/run-job.ts): a JSON payload with `status` and `exit_code`. */
export interface RunSummary {
  status: string;
  message: string;
  /** The job's own summary fields (the API's counts), when it logged any. */
  fields?: Record<string, unknown>;
}

export interface ExecutionLogs {
  /** The newest lines (at most `tail`), oldest first. */
  lines: string[];
  /** How many older lines are not in `lines`; a lower bound when `more`. */
  omitted: number;
  /** More entries exist than were read (MAX_PAGES pages, or the time budget ran out). */
  more: boolean;
  /** The summary lines among the entries read, newest first. */
  summaries: RunSummary[];
  /** Set by fetchLogs (report.ts) when a summary line was still missing after waiting: logs may be arriving. */
  arriving?: boolean;
}

function summaryOf(entry: LogEntry): RunSummary | null {
  const payload = entry.jsonPayload;
  if (typeof payload?.status !== "string" || !("exit_code" in payload)) return null;
  const fields = payload.summary && typeof payload.summary === "object" ? payload.summary : undefined;
  return {
    status: payload.status,
    message: typeof payload.message === "string" ? payload.message : "",
    ...(fields ? { fields: fields as Record<string, unknown> } : {}),
  };
}

export interface LogsOptions {
  /** Lines to keep (default TAIL_LINES). */
  tail?: number;
  /** When the execution was created: entries from a minute before are searched (see executionFilter). */
  since?: Date | null;
  /** How long paging may take (default 30 s); then `more` is set. */
  budgetMs?: number;
}

/**
 * One page of Cloud Logging's `entries:list` for the target's project, newest first. Retried like every
 * Google call of the tools (retry.ts): one 503 must not lose a run's logs. Throws with the URL and status.
 *
 * @example const page = await listEntriesPage(target, clients, 'resource.type="cloud_run_job"');
 */
export async function listEntriesPage<E>(
  target: Target,
  clients: Clients,
  filter: string,
  pageToken?: string,
): Promise<{ entries?: E[]; nextPageToken?: string }> {
  const url = `${target.loggingBase}/v2/entries:list`;
  const token = await clients.accessToken();
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const body = JSON.stringify({
    resourceNames: [`projects/${target.env.project}`],
    filter,
    orderBy: "timestamp desc",
    pageSize: 1000,
    ...(pageToken ? { pageToken } : {}),
  });
  return retryTransient("entries:list", async () => {
    const response = await request(url, { method: "POST", headers, body });
    if (response.statusCode !== 200) {
      const text = await response.body.text();
      throw Object.assign(
        new Error(`Request failed with status ${response.statusCode}: POST ${url}: ${text.slice(0, 200)}`),
        { status: response.statusCode },
      );
    }
    return (await response.body.json()) as { entries?: E[]; nextPageToken?: string };
  });
}

/**
 * The last `tail` log lines of one execution, in time order, and how many earlier ones were left out. Read
 * newest first (`timestamp desc`): a long log's head is setup noise, its tail has the outcome.
 * Throws with the URL and status on an HTTP error.
 */
export async function executionLogs(
  target: Target,
  clients: Clients,
  executionShortName: string,
  options: LogsOptions = {},
): Promise<ExecutionLogs> {
  const tail = options.tail ?? TAIL_LINES;
  const deadline = Date.now() + (options.budgetMs ?? READ_BUDGET_MS);
  const filter = executionFilter(executionShortName, options.since);
  const newestFirst: string[] = [];
  const logs: ExecutionLogs = { lines: [], omitted: 0, more: false, summaries: [] };
  let pageToken: string | undefined;
  for (let pages = 0; pages < MAX_PAGES; ) {
    const json = await listEntriesPage<LogEntry>(target, clients, filter, pageToken);
    if (json.entries?.length) pages++;
    for (const entry of json.entries ?? []) {
      const summary = summaryOf(entry);
      if (summary) logs.summaries.push(summary);
      if (newestFirst.length < tail) newestFirst.push(formatEntry(entry));
      else logs.omitted++;
    }
    pageToken = json.nextPageToken || undefined;
    if (!pageToken || Date.now() >= deadline) break;
  }
  logs.more = pageToken !== undefined;
  logs.lines = newestFirst.reverse();
  return logs;
}
