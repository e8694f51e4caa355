import type { BootstrapStatus, SyncResult } from "../../src/runtime/admin-api.ts";
import { ConfigError, PermanentError } from "../../src/runtime/errors.ts";
import { defineJob } from "../../src/runtime/job.ts";

/** Tables with columns the config has and BigQuery lacks: work a sync does. */
const missingColumnTables = (s: BootstrapStatus) =>
  Object.entries(s.schema_diffs)
    .filter(([, d]) => d.missing_columns.length > 0)
    .map(([table]) => table);

/**
 * What a sync can never change: tables and columns BigQuery has and the config does not (the API reports
 * OUT_OF_SYNC for them too, but sync never removes anything). A warning, never work.
 */
const extras = (s: BootstrapStatus) => ({
  tables: s.tables_extra,
  columns: Object.fromEntries(
    Object.entries(s.schema_diffs)
      .filter(([, d]) => d.extra_columns.length > 0)
      .map(([table, d]) => [table, d.extra_columns]),
  ),
});

/** Up to date: dataset there, no table missing, no table missing a column (extras do not count). */
const upToDate = (s: BootstrapStatus) =>
  s.dataset_exists && s.tables_missing.length === 0 && missingColumnTables(s).length === 0;

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
  routes: ["bootstrapStatus", "bootstrap", "bootstrapSync"],
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
    const before = await ctx.api.bootstrapStatus();
    ctx.log.info("Bootstrap status", {
      api_status: before.status,
      dataset_exists: before.dataset_exists,
      tables_missing: before.tables_missing,
      missing_columns_in: missingColumnTables(before),
    });
    const extra = extras(before);
    const extraCount = extra.tables.length + Object.keys(extra.columns).length;
    const warning = extraCount
      ? `; warning: BigQuery has what the API's config does not (extra tables: ${extra.tables.join(", ") || "none"}; extra columns in: ${Object.keys(extra.columns).join(", ") || "none"}); sync never removes them, so they are not work`
      : "";
    if (extraCount) ctx.log.warn("Extra tables or columns (not work for bootstrap)", { extra });
    let mode = chooseMode(before, forceFresh, forceSync);
    if (mode === "nothing")
      return {
        status: "succeeded",
        message: `Nothing to do: ${before.tables_existing.length} tables present, no missing columns${warning}`,
        summary: { mode, ...(extraCount ? { extra } : {}) },
      };
    const tablesCreated: string[] = [];
    let columnsAdded: Record<string, string[]> = {};
    if (mode === "fresh") {
      try {
        const r = await ctx.api.bootstrap();
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
      const r = await ctx.api.bootstrapSync();
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
      ...(extraCount ? { extra } : {}),
    };
    if (!upToDate(after))
      return {
        status: "failed",
        message: `After ${mode}, the status (force_refresh) still shows work: missing tables ${after.tables_missing.join(", ") || "none"}, missing columns in ${missingColumnTables(after).join(", ") || "none"}`,
        summary,
      };
    const columns = Object.values(columnsAdded).reduce((n, c) => n + c.length, 0);
    return {
      status: "succeeded",
      message: `Bootstrap (${mode}) done: ${tablesCreated.length} tables created, ${columns} columns added${warning}`,
      summary,
    };
  },
});
