/**
 * One execution's own log lines, from Cloud Logging `entries:list` filtered by the execution's name, so a
 * run never shows another run's logs (the old run-job.sh did). The sandbox serves the same route on its
 * Cloud Run emulator; Google needs a bearer token. Also the runner's summary lines, which say whether a run
 * that exited 0 really did its work or skipped it.
 *
 * @example
 * const logs = await executionLogs(target, clients, "quota-reset-sandbox-abc12", { tail: 100 });
 * for (const line of logs.lines) println(io.stdout, line); // the last 100, oldest first
 * logs.omitted // 2345 earlier lines not shown
 */
import { request } from "undici";
import type { Clients } from "./clients.ts";
import type { Target } from "./target.ts";

interface LogEntry {
  timestamp?: string;
  severity?: string;
  textPayload?: string;
  jsonPayload?: Record<string, unknown>;
  labels?: Record<string, string>;
}

/** At most this many pages of 1,000 entries are read (newest first); anything older is only counted up to there. */
const MAX_PAGES = 5;
/** Lines shown by default: the end of a run is where its outcome and its error are. */
export const TAIL_LINES = 500;

export const executionFilter = (executionShortName: string): string =>
  `resource.type="cloud_run_job" AND labels."run.googleapis.com/execution_name"="${executionShortName}"`;

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
}

export interface ExecutionLogs {
  /** The newest lines (at most `tail`), oldest first. */
  lines: string[];
  /** How many older lines are not in `lines`; a lower bound when `more`. */
  omitted: number;
  /** More entries exist than were read (MAX_PAGES pages). */
  more: boolean;
  /** The summary lines among the entries read, newest first. */
  summaries: RunSummary[];
}

function summaryOf(entry: LogEntry): RunSummary | null {
  const payload = entry.jsonPayload;
  if (typeof payload?.status !== "string" || !("exit_code" in payload)) return null;
  return { status: payload.status, message: typeof payload.message === "string" ? payload.message : "" };
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
  options: { tail?: number } = {},
): Promise<ExecutionLogs> {
  const tail = options.tail ?? TAIL_LINES;
  const url = `${target.loggingBase}/v2/entries:list`;
  const token = await clients.accessToken();
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const newestFirst: string[] = [];
  const logs: ExecutionLogs = { lines: [], omitted: 0, more: false, summaries: [] };
  let pageToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const body = {
      resourceNames: [`projects/${target.env.project}`],
      filter: executionFilter(executionShortName),
      orderBy: "timestamp desc",
      pageSize: 1000,
      ...(pageToken ? { pageToken } : {}),
    };
    const response = await request(url, { method: "POST", headers, body: JSON.stringify(body) });
    if (response.statusCode !== 200) {
      const text = await response.body.text();
      throw new Error(
        `Request failed with status ${response.statusCode}: POST ${url}: ${text.slice(0, 200)}`,
      );
    }
    const json = (await response.body.json()) as { entries?: LogEntry[]; nextPageToken?: string };
    for (const entry of json.entries ?? []) {
      const summary = summaryOf(entry);
      if (summary) logs.summaries.push(summary);
      if (newestFirst.length < tail) newestFirst.push(formatEntry(entry));
      else logs.omitted++;
    }
    pageToken = json.nextPageToken || undefined;
    if (!pageToken) break;
  }
  logs.more = pageToken !== undefined;
  logs.lines = newestFirst.reverse();
  return logs;
}
