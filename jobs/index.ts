/**
 * The catalog: every job of the suite, checked when this module loads (definitions, unique names, each
 * folder against its schedule). The single source of names, schedules, timeouts, retries and resources —
 * provisioning, the README tables and the tests read it, so a bad job file fails them all. The container
 * entrypoint does not load this module: it imports only the job it runs (jobs/files.ts).
 *
 * @example
 * import { catalog, getJob } from "../jobs/index.ts";
 * getJob("quota-reset")?.schedule; // { cron: "0 0 * * *", timeZone: "Etc/UTC" }
 */
import { buildCatalog } from "../src/runtime/catalog.ts";
import type { AnyJob } from "../src/runtime/job.ts";
import { loadJobsByFolder } from "./files.ts";

/**
 * Manual jobs in release order (the release command's steps; a catalog test checks it), then daily jobs
 * by time of day, then monthly ones by day of month, as listed in jobs/files.ts (buildCatalog refuses any
 * other order).
 */
export const catalog: readonly AnyJob[] = buildCatalog(await loadJobsByFolder());

/** The job named `name`, or undefined (the entrypoint then lists the jobs and exits 2). */
export const getJob = (name: string): AnyJob | undefined => catalog.find((job) => job.name === name);

export const jobNames = (): string[] => catalog.map((job) => job.name);
