/**
 * Runs org-sync-all in this process exactly as the container entrypoint does (runEntrypoint: flags, config
 * from an env object, context, run, summary line, exit code), once per task when sharded, all tasks side
 * by side as Cloud Run starts them. The job's log lines are kept in memory and parsed for its summary.
 */
import { catalog } from "../../jobs/index.ts";
import { runEntrypoint } from "../../src/runtime/runner.ts";

export interface OrgSyncRun {
  ms: number;
  /** Exit code of each task. */
  exitCodes: number[];
  /** Orgs each task handled (synced + unchanged + failed), from its summary line. */
  total: number;
  synced: number;
  unchanged: number;
  failed: number;
  /** HTTP retries the client logged ("Retrying …" warnings), over all tasks. */
  retries: number;
}

interface Summary {
  total: number;
  synced: number;
  unchanged: number;
  failed: unknown[];
}

let executions = 0;

/**
 * @example
 * const r = await runOrgSync({ env: sandbox.env, concurrency: 8, tasks: 2 });
 * console.log(r.ms, r.total, r.exitCodes);
 */
export async function runOrgSync(opts: {
  env: Record<string, string>;
  concurrency: number;
  tasks?: number;
}): Promise<OrgSyncRun> {
  const tasks = opts.tasks ?? 1;
  // One execution name per run, shared by its tasks (as on Cloud Run): the job's Idempotency-Keys are
  // per execution, so a later run is not answered from the API's replay store.
  const execution = `bench-org-sync-${process.pid}-${++executions}`;
  const outputs = Array.from({ length: tasks }, () => [] as string[]);
  const started = performance.now();
  const exitCodes = await Promise.all(
    outputs.map((lines, index) =>
      runEntrypoint(["org-sync-all", "--concurrency", String(opts.concurrency)], {
        catalog,
        env: {
          ...opts.env,
          CLOUD_RUN_EXECUTION: execution,
          CLOUD_RUN_TASK_INDEX: String(index),
          CLOUD_RUN_TASK_COUNT: String(tasks),
        },
        stdout: { write: (chunk: string) => lines.push(chunk) },
        stderr: { write: (chunk: string) => lines.push(chunk) },
      }),
    ),
  );
  const ms = performance.now() - started;
  const run: OrgSyncRun = { ms, exitCodes, total: 0, synced: 0, unchanged: 0, failed: 0, retries: 0 };
  for (const lines of outputs) {
    const entries = lines.join("").split("\n").filter(Boolean).map(parseLine);
    run.retries += entries.filter((e) => String(e.message ?? "").startsWith("Retrying ")).length;
    const summary = entries.findLast((e) => e.summary !== undefined)?.summary as Summary | undefined;
    if (!summary) {
      const last = String(entries.at(-1)?.message ?? "no output").replaceAll(/\s+/g, " ");
      throw new Error(`org-sync-all wrote no summary line; its last message: ${last}`);
    }
    run.total += summary.total;
    run.synced += summary.synced;
    run.unchanged += summary.unchanged;
    run.failed += summary.failed.length;
  }
  return run;
}

function parseLine(line: string): Record<string, unknown> {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { message: line };
  }
}
