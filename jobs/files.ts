/**
 * Every job file, by folder and in catalog order, imported only when asked for: the container entrypoint
 * loads the one job it runs (and its own imports), or every job for a listing (`--help`). The file name is
 * the job name. jobs/index.ts loads them all and checks them as the catalog.
 *
 * @example
 * const [job] = await loadJobs(["quota-reset"]); // imports jobs/daily/quota-reset.ts only
 */
import type { AnyJob, Category } from "../src/runtime/job.ts";

type JobFile = () => Promise<{ default: AnyJob }>;

/** The listing itself: add a job here (and nowhere else) after writing its file. */
export const JOB_FILES = {
  /** In release order. */
  manual: {
    migrate: () => import("./manual/migrate.ts"),
    bootstrap: () => import("./manual/bootstrap.ts"),
    "org-sync-all": () => import("./manual/org-sync-all.ts"),
  },
  /** By time of day. */
  daily: {
    "quota-reset": () => import("./daily/quota-reset.ts"),
    "quota-cleanup": () => import("./daily/quota-cleanup.ts"),
    "stale-cleanup": () => import("./daily/stale-cleanup.ts"),
    alerts: () => import("./daily/alerts.ts"),
  },
  monthly: {
    "quota-monthly": () => import("./monthly/quota-monthly.ts"),
  },
} as const satisfies Record<Category, Record<string, JobFile>>;

const files = new Map<string, JobFile>(
  Object.values(JOB_FILES).flatMap((folder) => Object.entries(folder) as [string, JobFile][]),
);

/** Whether a job file of that name is listed (no import). */
export const isJobName = (name: string | undefined): name is string => name !== undefined && files.has(name);

/** Imports one listed job; refuses a file whose job has another name (the file name is the job name). */
async function load(name: string, file: JobFile): Promise<AnyJob> {
  const job = (await file()).default;
  if (job?.name !== name) {
    throw new Error(`jobs/…/${name}.ts: defines job "${job?.name}"; a job file is named after its job`);
  }
  return job;
}

/** The named jobs (unknown names are left out), or every job, in catalog order. */
export async function loadJobs(names?: readonly string[]): Promise<AnyJob[]> {
  const wanted = [...files].filter(([name]) => !names || names.includes(name));
  return Promise.all(wanted.map(([name, file]) => load(name, file)));
}

/** Every job by folder: the input of `buildCatalog`. */
export async function loadJobsByFolder(): Promise<Record<Category, AnyJob[]>> {
  const folder = async (entries: Record<string, JobFile>) =>
    Promise.all(Object.entries(entries).map(([name, file]) => load(name, file)));
  const [manual, daily, monthly] = await Promise.all([
    folder(JOB_FILES.manual),
    folder(JOB_FILES.daily),
    folder(JOB_FILES.monthly),
  ]);
  return { manual, daily, monthly };
}
