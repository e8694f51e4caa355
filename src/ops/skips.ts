/**
 * Which executions skipped their work (exit 0, summary line `status: "skipped"`: the overlap guard, "not the
 * 1st", …). Cloud Run reports them as succeeded; only the logs tell. One Cloud Logging query for the whole
 * period instead of one per execution (entries:list allows 60 reads a minute).
 *
 * @example
 * const skipped = await skippedExecutions(target, clients, since); // Set of short execution names, or null
 * skipped?.has("quota-monthly-prod-ab12c")
 */
import { request } from "undici";
import type { Clients } from "./clients.ts";
import type { Target } from "./target.ts";

const MAX_PAGES = 5;

/** Short names of the executions with a skipped summary since `since`; null when the logs cannot be read. */
export async function skippedExecutions(
  target: Target,
  clients: Clients,
  since: Date,
): Promise<Set<string> | null> {
  const url = `${target.loggingBase}/v2/entries:list`;
  const filter = `resource.type="cloud_run_job" AND jsonPayload.status="skipped" AND timestamp>="${since.toISOString()}"`;
  const skipped = new Set<string>();
  try {
    const token = await clients.accessToken();
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (token) headers.authorization = `Bearer ${token}`;
    let pageToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const body = {
        resourceNames: [`projects/${target.env.project}`],
        filter,
        orderBy: "timestamp desc",
        pageSize: 1000,
        ...(pageToken ? { pageToken } : {}),
      };
      const response = await request(url, { method: "POST", headers, body: JSON.stringify(body) });
      if (response.statusCode !== 200) {
        await response.body.dump();
        return null;
      }
      const json = (await response.body.json()) as {
        entries?: { labels?: Record<string, string> }[];
        nextPageToken?: string;
      };
      for (const entry of json.entries ?? []) {
        const name = entry.labels?.["run.googleapis.com/execution_name"];
        if (name) skipped.add(name);
      }
      pageToken = json.nextPageToken || undefined;
      if (!pageToken) break;
    }
    return skipped;
  } catch {
    return null;
  }
}
