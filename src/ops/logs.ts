/**
 * One execution's own log lines, from Cloud Logging `entries:list` filtered by the execution's name, so a
 * run never shows another run's logs (the old run-job.sh did). The sandbox serves the same route on its
 * Cloud Run emulator; Google needs a bearer token.
 *
 * @example
 * for (const line of await executionLogs(target, clients, "quota-reset-sandbox-abc12")) println(io.stdout, line);
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

/** At most this many pages of 1,000 entries: the tail of a huge log belongs in the console link. */
const MAX_PAGES = 5;

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

/** The formatted log lines of one execution, oldest first. Throws with the URL and status on an HTTP error. */
export async function executionLogs(
  target: Target,
  clients: Clients,
  executionShortName: string,
): Promise<string[]> {
  const url = `${target.loggingBase}/v2/entries:list`;
  const token = await clients.accessToken();
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const lines: string[] = [];
  let pageToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const body = {
      resourceNames: [`projects/${target.env.project}`],
      filter: executionFilter(executionShortName),
      orderBy: "timestamp asc",
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
    lines.push(...(json.entries ?? []).map(formatEntry));
    pageToken = json.nextPageToken || undefined;
    if (!pageToken) break;
  }
  return lines;
}
