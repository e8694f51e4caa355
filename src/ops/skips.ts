/**
 * Which executions skipped their work (exit 0, summary line `status: "skipped"`: the overlap guard, "not the
 * 1st", …). Cloud Run reports them as succeeded; only the logs tell. One Cloud Logging query for the whole
 * period instead of one per execution (entries:list allows 60 reads a minute).
 *
 * @example
 * const skipped = await skippedExecutions(target, clients, since); // Set of short execution names, or null
 * skipped?.has("quota-monthly-prod-ab12c")
 */
import type { Clients } from "./clients.ts";
import { listEntriesPage } from "./logs.ts";
import type { Target } from "./target.ts";

const MAX_PAGES = 5;

/** Short names of the executions with a skipped summary since `since`; null when the logs cannot be read. */
export async function skippedExecutions(
  target: Target,
  clients: Clients,
  since: Date,
): Promise<Set<string> | null> {
  const filter = `resource.type="cloud_run_job" AND jsonPayload.status="skipped" AND timestamp>="${since.toISOString()}"`;
  const skipped = new Set<string>();
  try {
    let pageToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const json = await listEntriesPage<{ labels?: Record<string, string> }>(
        target,
        clients,
        filter,
        pageToken,
      );
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
