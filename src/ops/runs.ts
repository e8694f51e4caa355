/**
 * The recent executions of the catalog's jobs in one environment, each with its trigger (trigger.ts) and
 * its result as an operator means it (a succeeded execution whose job skipped its work is "skipped").
 * Shared by `executions` and `list-jobs --history`.
 *
 * @example
 * const { runs, unprovisioned } = await recentRuns({ clients, target, catalog, since, now });
 * runs[0] // { job, name: "quota-reset-sandbox-ab12c", trigger: "scheduler", result: "succeeded", … }
 */
import type { AnyJob } from "../runtime/job.ts";
import type { Clients } from "./clients.ts";
import { runJobName } from "./desired.ts";
import { durationMs, type Execution, type ResultStatus, shortName, statusOf, toDate } from "./execution.ts";
import { skippedExecutions } from "./skips.ts";
import type { Target } from "./target.ts";
import { type Trigger, triggerOf } from "./trigger.ts";

export interface Run {
  job: AnyJob;
  /** Short execution name (the last path segment). */
  name: string;
  trigger: Trigger;
  result: ResultStatus;
  created: Date | null;
  start: Date | null;
  durationMs: number;
  logUri: string;
  execution: Execution;
}

/** Pages of 100; the API keeps at most 1,000 finished executions per job. */
const PAGE = 100;
const MAX_PAGES = 10;

const isNotFound = (error: unknown): boolean => {
  const code = (error as { code?: unknown })?.code;
  return code === 5 || code === 404 || code === "NOT_FOUND";
};

/**
 * A job's executions created at or after `since`. List order is not documented, so paging stops only when
 * a whole page is older than `since` (Google and the sandbox list newest first), or after MAX_PAGES.
 */
async function executionsSince(clients: Clients, parent: string, since: Date): Promise<Execution[]> {
  const client = await clients.executions();
  const found: Execution[] = [];
  let pageToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const [items, next] = await client.listExecutions(
      { parent, pageSize: PAGE, ...(pageToken ? { pageToken } : {}) },
      { autoPaginate: false },
    );
    const recent = items.filter((e) => (toDate(e.createTime)?.getTime() ?? 0) >= since.getTime());
    found.push(...recent);
    pageToken = next?.pageToken ?? undefined;
    if (!pageToken || recent.length === 0) break;
  }
  return found;
}

export interface RecentRuns {
  /** Newest first. */
  runs: Run[];
  /** Catalog jobs with no Cloud Run job in the environment. */
  unprovisioned: string[];
  /** False when the logs could not be read: skipped runs then show as succeeded. */
  skipsKnown: boolean;
}

export async function recentRuns(options: {
  clients: Clients;
  target: Target;
  catalog: readonly AnyJob[];
  since: Date;
  now: Date;
}): Promise<RecentRuns> {
  const { clients, target, catalog, since, now } = options;
  const unprovisioned: string[] = [];
  const perJob = await Promise.all(
    catalog.map(async (job) => {
      try {
        return { job, executions: await executionsSince(clients, runJobName(job, target), since) };
      } catch (error) {
        if (!isNotFound(error)) throw error;
        unprovisioned.push(job.name);
        return { job, executions: [] };
      }
    }),
  );
  const anySucceeded = perJob.some((p) => p.executions.some((e) => statusOf(e) === "succeeded"));
  const skipped = anySucceeded ? await skippedExecutions(target, clients, since) : new Set<string>();
  const runs = perJob.flatMap(({ job, executions }) =>
    executions.map((execution): Run => {
      const name = shortName(execution.name ?? "");
      const status = statusOf(execution);
      return {
        job,
        name,
        trigger: triggerOf(execution, job),
        result: status === "succeeded" && skipped?.has(name) ? "skipped" : status,
        created: toDate(execution.createTime),
        start: toDate(execution.startTime) ?? toDate(execution.createTime),
        durationMs: durationMs(execution, now),
        logUri: execution.logUri ?? "",
        execution,
      };
    }),
  );
  runs.sort((a, b) => (b.created?.getTime() ?? 0) - (a.created?.getTime() ?? 0));
  return { runs, unprovisioned: unprovisioned.sort(), skipsKnown: skipped !== null };
}
