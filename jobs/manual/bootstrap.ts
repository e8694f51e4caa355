import type { BootstrapStatus, SyncResult } from "../../src/runtime/admin-api.ts";
import { ConfigError, PermanentError } from "../../src/runtime/errors.ts";
import { defineJob } from "../../src/runtime/job.ts";
import { runKey } from "../lib/run-key.ts";

/**
 * Whether one table's diff entry says anything: a non-empty list, or an object with a non-empty list
 * (`{missing_columns: []}` per table is "no difference", as an API may list every table).
 */
const hasDiff = (d: unknown): boolean =>
  Array.isArray(d)
    ? d.length > 0
    : d != null && typeof d === "object"
      ? Object.values(d).some(hasDiff)
      : Boolean(d);

/** Tables whose schema differs. */
const diffTables = (s: BootstrapStatus) =>
  Object.entries(s.schema_diffs)
    .filter(([, d]) => hasDiff(d))
    .map(([table]) => table);

/** Up to date: dataset there, no table missing, no table with schema differences. */
const upToDate = (s: BootstrapStatus) =>
  s.dataset_exists && s.tables_missing.length === 0 && diffTables(s).length === 0;

const syncProblems = (r: SyncResult) => [
  ...(r.status !== "SUCCESS" ? [`sync status ${r.status}: ${r.message}`] : []),
  ...r.errors.map((e) => (typeof e === "string" ? e : JSON.stringify(e))),
];

/** What smart mode decides from the status, unless a --force flag decides for it. */
function chooseMode(
  s: BootstrapStatus,
  forceFresh: boolean,
  forceSync: boolean,
): "nothing" | "fresh" | "sync" {
  if (forceFresh) return "fresh";
  if (forceSync) return "sync";
  if (!s.dataset_exists) return "fresh";
  return upToDate(s) ? "nothing" : "sync";
}

/**
 * Release step 2. Smart mode reads the status and picks: nothing / fresh / sync (a 409 on fresh means
 * someone bootstrapped meanwhile → sync). Never destructive. Checks the status again at the end.
 */
export default defineJob({
  name: "bootstrap",
  description: "Create or sync the BigQuery datasets and tables of the admin API (release step 2).",
  timeoutSeconds: 30 * 60,
  retries: 0,
  uses: ["admin-api"],
  flags: {
    "force-fresh": {
      type: "boolean",
      description: "Run a fresh bootstrap; fails if already bootstrapped (never recreates).",
      default: false,
    },
    "force-sync": {
      type: "boolean",
      description: "Run a sync of missing tables and columns whatever the status says.",
      default: false,
    },
  },
  async run(ctx) {
    const { "force-fresh": forceFresh, "force-sync": forceSync } = ctx.flags;
    if (forceFresh && forceSync)
      throw new ConfigError("--force-fresh and --force-sync exclude each other; pick one");
    const key = runKey(ctx, undefined, ctx.clock.now());
    const before = await ctx.api.bootstrapStatus();
    ctx.log.info("Bootstrap status", {
      dataset_exists: before.dataset_exists,
      tables_missing: before.tables_missing,
      schema_diffs: diffTables(before),
    });
    let mode = chooseMode(before, forceFresh, forceSync);
    if (mode === "nothing")
      return {
        status: "succeeded",
        message: `Nothing to do: ${before.tables_existing.length} tables present, no schema differences`,
        summary: { mode },
      };
    const tablesCreated: string[] = [];
    let columnsAdded: Record<string, string[]> = {};
    if (mode === "fresh") {
      try {
        const r = await ctx.api.bootstrap({ idempotencyKey: key });
        tablesCreated.push(...r.tables_created);
        if (r.status !== "SUCCESS")
          return {
            status: "failed",
            message: `Fresh bootstrap answered ${r.status}: ${r.message}`,
            summary: { mode, tables_created: tablesCreated },
          };
      } catch (error) {
        if (!(error instanceof PermanentError && error.status === 409)) throw error;
        if (forceFresh)
          throw new PermanentError(
            `--force-fresh: the dataset is already bootstrapped (409), and bootstrap never recreates it; run with --force-sync or without flags`,
            { status: 409, cause: error },
          );
        ctx.log.notice("Already bootstrapped (409): syncing instead");
        mode = "sync";
      }
    }
    if (mode === "sync") {
      const r = await ctx.api.bootstrapSync({ idempotencyKey: key });
      tablesCreated.push(...r.tables_created);
      columnsAdded = r.columns_added;
      const problems = syncProblems(r);
      for (const p of problems) ctx.log.error("Bootstrap sync error", { error: p });
      if (problems.length)
        return {
          status: "failed",
          message: `Bootstrap sync incomplete (${problems.length} problems): ${problems.join("; ")}`,
          summary: { mode, tables_created: tablesCreated, columns_added: columnsAdded, errors: problems },
        };
    }
    const after = await ctx.api.bootstrapStatus();
    const summary = {
      mode,
      tables_created: tablesCreated,
      columns_added: columnsAdded,
      tables_missing: after.tables_missing,
    };
    if (!upToDate(after))
      return {
        status: "failed",
        message: `After ${mode}, the status still shows work: missing ${after.tables_missing.join(", ") || "none"}, diffs in ${diffTables(after).join(", ") || "none"}`,
        summary,
      };
    const columns = Object.values(columnsAdded).reduce((n, c) => n + c.length, 0);
    return {
      status: "succeeded",
      message: `Bootstrap (${mode}) done: ${tablesCreated.length} tables created, ${columns} columns added`,
      summary,
    };
  },
});
