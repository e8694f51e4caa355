import { existsSync } from "node:fs";
import { defineJob } from "../../src/runtime/job.ts";
import {
  APPLIED_BY_PREFIX,
  applyMigration,
  ensureTrackingTable,
  planMigrations,
  readApplied,
  readMigrations,
} from "../../src/runtime/migrations.ts";

/**
 * `migrations/` shipped beside the code, found relative to this file: the checkout's root when run from
 * source (jobs/manual → migrations), the image's root when compiled (/app/dist/jobs/manual → /app/migrations).
 */
const DEFAULT_DIR =
  ["../../migrations/", "../../../migrations/"]
    .map((path) => new URL(path, import.meta.url))
    .find((url) => existsSync(url)) ?? new URL("../../migrations/", import.meta.url);

/**
 * Release step 1. Each file and its tracking row are one transaction in one request, under an advisory
 * lock; a changed checksum of a file this job applied stops the run before anything is applied. The old
 * tools' `schema_migrations` table and rows are adopted as they are (src/runtime/migrations.ts says how).
 */
export default defineJob({
  name: "migrate",
  description: "Apply pending Supabase SQL migrations from migrations/ (release step 1).",
  timeoutSeconds: 15 * 60,
  retries: 0,
  uses: ["supabase"],
  flags: {
    "dry-run": {
      type: "boolean",
      description: "List pending migrations and change nothing.",
      default: false,
    },
    dir: { type: "string", description: "Folder of NN_*.sql files (default: migrations/ of this image)." },
  },
  async run(ctx) {
    // Folder and names are checked (ConfigError, exit 2) before the first request.
    const files = await readMigrations(ctx.flags.dir ?? DEFAULT_DIR);
    const plan = planMigrations(files, await readApplied(ctx.supabase));
    if (plan.missing.length)
      ctx.log.warn("Tracked migrations not in the folder (old tools' files, or removed)", {
        count: plan.missing.length,
        filenames: plan.missing,
      });
    if (plan.adopted.length)
      ctx.log.info(
        "Applied by the old tools or by the file itself: counted as applied, checksum not verified",
        {
          filenames: plan.adopted,
        },
      );
    const pending = plan.pending.map((f) => f.filename);
    if (ctx.flags["dry-run"]) {
      for (const f of plan.pending)
        ctx.log.info("Pending migration", { filename: f.filename, checksum: f.checksum });
      return {
        status: "succeeded",
        message: `Dry run: ${pending.length} pending of ${files.length} (${pending.join(", ") || "none"}); nothing changed`,
        summary: { dry_run: true, pending, applied: plan.applied.length, adopted: plan.adopted },
      };
    }
    // Nothing pending: no write at all (the table exists whenever a row does).
    if (pending.length) await ensureTrackingTable(ctx.supabase);
    const appliedBy = `${APPLIED_BY_PREFIX}${ctx.config.cloudRun.execution ?? "local"}`;
    const applied: string[] = [];
    const interrupted = (inDoubt: string | null) => {
      const undone = pending.slice(applied.length + (inDoubt ? 1 : 0));
      ctx.log.warn("Stopping: termination requested", { in_doubt: inDoubt, not_applied: undone });
      const doubt = inDoubt
        ? `; ${inDoubt} was in flight (re-running migrate is safe: applied files are skipped)`
        : "";
      return {
        status: "failed" as const,
        message: `Interrupted after ${applied.length} migrations${doubt}; not applied: ${undone.join(", ") || "none"}`,
        summary: { applied, in_doubt: inDoubt, not_applied: undone },
      };
    };
    for (const file of plan.pending) {
      if (ctx.signal.aborted) return interrupted(null);
      const started = Date.now();
      let result: Awaited<ReturnType<typeof applyMigration>>;
      try {
        result = await applyMigration(ctx.supabase, file, appliedBy);
      } catch (error) {
        // Cut off by SIGTERM: the server may or may not have committed this file; say so, do not guess.
        if (ctx.signal.aborted) return interrupted(file.filename);
        throw error;
      }
      ctx.log.info(
        result === "applied" ? "Applied migration" : "Migration applied meanwhile by a concurrent run",
        {
          filename: file.filename,
          checksum: file.checksum,
          duration_ms: Date.now() - started,
        },
      );
      applied.push(file.filename);
    }
    return {
      status: "succeeded",
      message: applied.length
        ? `Applied ${applied.length} migrations: ${applied.join(", ")}`
        : `Up to date: all ${files.length} migrations already applied`,
      summary: { applied, already_applied: plan.applied.length, adopted: plan.adopted },
    };
  },
});
