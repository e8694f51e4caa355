/**
 * Section (1): bad input, table-driven. Every case must exit 2 with a message that names the key, flag,
 * file or field AND says how to fix it, print no stack trace, and reach no emulated service (requests
 * counted by each service of the sandbox). Jobs run in-process through the real runner; the four scripts
 * run as child processes; catalog cases build a catalog with one bad definition (the catalog's check, which
 * the tests, the README generator and provisioning run) and expect its refusal, exit 2.
 */
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { buildCatalog } from "../src/runtime/catalog.ts";
import { isConfigError } from "../src/runtime/errors.ts";
import { defineJob } from "../src/runtime/job.ts";
import { scheduleProblems } from "../src/runtime/schedule.ts";
import { runScript } from "./corpus-run.ts";
import { runInProcess } from "./stack.ts";

export { type CaseResult, runCorpus } from "./corpus-run.ts";

export interface Case {
  kind: "env" | "flag" | "migrations" | "catalog" | "script";
  name: string;
  /** Words the message must contain (the key, flag, file or field it is about). */
  names: string;
  run(base: Record<string, string>): Promise<{ code: number; out: string }>;
}

const CONTROL = ["\n", "\t", "\r", "\u0000", "\u007f", "\u001b[31m"];
const env = (job: string, args: string[], key: string, value: string | undefined, name = key): Case => ({
  kind: "env",
  name: `${job}: ${key}=${JSON.stringify(value)}`,
  names: name,
  run: (base) => runInProcess([job, ...args], { ...base, [key]: value }),
});
const flag = (job: string, args: string[], names: string): Case => ({
  kind: "flag",
  name: `${job} ${args.map((a) => JSON.stringify(a)).join(" ")}`,
  names,
  run: (base) => runInProcess([job, ...args], base),
});

/** Env keys with a valid value each, and the job that reads them. */
const KEYS: [string, string, string][] = [
  ["CA_ROOT_API_KEY", "quota-reset", "sandbox-root-key-x"],
  ["SUPABASE_ACCESS_TOKEN", "migrate", "sbp_token_x"],
  ["ENVIRONMENT", "quota-reset", "sandbox"],
  ["API_SERVICE_URL", "quota-reset", "http://127.0.0.1:9"],
  ["SUPABASE_API_URL", "migrate", "http://127.0.0.1:9"],
  ["BIGQUERY_API_URL", "quota-cleanup", "http://127.0.0.1:9"],
  ["LOG_LEVEL", "quota-reset", "info"],
  ["CLOUD_RUN_TASK_INDEX", "org-sync-all", "0"],
  ["CLOUD_RUN_TASK_COUNT", "org-sync-all", "2"],
  ["CLOUD_RUN_TASK_ATTEMPT", "alerts", "1"],
  ["GCP_PROJECT_ID", "quota-cleanup", "sandbox-project"],
  ["SUPABASE_PROJECT_REF", "migrate", "sandboxprojectref000"],
  ["IDEMPOTENCY_SCOPE", "alerts", "rerun-1"],
  ["HTTP_TIMEOUT_MS", "bootstrap", "2000"],
  ["DAYS_TO_KEEP", "quota-cleanup", "30"],
  ["CLOUD_RUN_REGION", "stale-cleanup", "us-central1"],
];

export async function corpus(): Promise<Case[]> {
  const cases: Case[] = [];
  KEYS.forEach(([key, job, good], i) => {
    const c = CONTROL[i % CONTROL.length] as string;
    cases.push(
      env(
        job,
        job === "quota-monthly" ? ["--force"] : [],
        key,
        i % 2 ? `${good}${c}` : `${good.slice(0, 3)}${c}${good.slice(3)}`,
      ),
    );
    cases.push(env(job, [], key, i % 2 ? ` ${good}` : `${good} `));
  });
  cases.push(
    env("quota-reset", [], "ENVIRONMENT", "local"),
    env("quota-reset", [], "ENVIRONMENT", "qa"),
    env("quota-reset", [], "LOG_LEVEL", "loud"),
    env("quota-reset", [], "API_SERVICE_URL", "ftp://127.0.0.1:9"),
    env("quota-reset", [], "CA_ROOT_API_KEY", undefined),
    env("migrate", [], "SUPABASE_ACCESS_TOKEN", undefined),
    env("org-sync-all", [], "CLOUD_RUN_TASK_INDEX", "-1"),
    env("org-sync-all", [], "CLOUD_RUN_TASK_INDEX", "5"),
    env("org-sync-all", [], "CLOUD_RUN_TASK_COUNT", "0"),
    env("org-sync-all", [], "CLOUD_RUN_TASK_COUNT", "1e3"),
    env("quota-cleanup", [], "DAYS_TO_KEEP", "0"),
    env("quota-cleanup", [], "DAYS_TO_KEEP", "1.5"),
    env("quota-cleanup", [], "DAYS_TO_KEEP", "１０"),
    env("bootstrap", [], "HTTP_TIMEOUT_MS", "10"),
    flag("no-such-job", [], "no-such-job"),
    flag("alerts", ["--bogus"], "bogus"),
    flag("alerts", ["--types", "budget_percent,nope"], "nope"),
    flag("alerts", ["--force"], "force"),
    flag("org-sync-all", ["--concurrency", "0"], "concurrency"),
    flag("org-sync-all", ["--concurrency", "65"], "concurrency"),
    flag("org-sync-all", ["--concurrency", " 8"], "concurrency"),
    flag("org-sync-all", ["--concurrency", "8\n"], "concurrency"),
    flag("alerts", ["--org", "acme\n"], "org"),
    flag("alerts", ["--org", " acme"], "org"),
    flag("alerts", ["--org", ""], "org"),
    flag("quota-reset", ["stray"], "stray"),
  );
  const dirs = await mkdtemp(join(tmpdir(), "reliability-migrations-"));
  const folder = async (name: string, files: Record<string, string>) => {
    const d = join(dirs, name);
    await mkdir(d, { recursive: true });
    for (const [f, sql] of Object.entries(files)) await writeFile(join(d, f), sql);
    return d;
  };
  const migrations = (title: string, dir: Promise<string>, names: string): Case => ({
    kind: "migrations",
    name: `migrate --dir <${title}>`,
    names,
    run: async (base) => runInProcess(["migrate", "--dir", await dir], base),
  });
  cases.push(
    migrations("missing folder", Promise.resolve(join(dirs, "nope")), "nope"),
    migrations(
      "a file, not a folder",
      folder("f", { "01_a.sql": "select 1;" }).then((d) => join(d, "01_a.sql")),
      "01_a.sql",
    ),
    migrations("empty folder", folder("empty", {}), "empty"),
    migrations("badly named file", folder("badname", { "1-init.sql": "select 1;" }), "1-init.sql"),
    migrations("uppercase name", folder("upper", { "01_Init.sql": "select 1;" }), "01_Init.sql"),
    migrations("name with a space", folder("space", { "01_ init.sql": "select 1;" }), "01_ init.sql"),
    migrations("name with a newline", folder("nl", { "01_in\nit.sql": "select 1;" }), "01_in"),
  );
  const define = (spec: Record<string, unknown>) =>
    defineJob({
      name: "x-job",
      description: "d",
      timeoutSeconds: 60,
      retries: 0,
      uses: [],
      run: async () => ({ status: "succeeded", message: "" }),
      ...spec,
    } as never);
  // defineJob only fills defaults; the catalog's check (buildCatalog: tests, README, provisioning) refuses.
  const job = (spec: Record<string, unknown>) => () =>
    buildCatalog(
      spec.schedule
        ? { manual: [], daily: [define(spec)], monthly: [] }
        : { manual: [define(spec)], daily: [], monthly: [] },
    );
  const catalogCase = (title: string, names: string, build: () => unknown): Case => ({
    kind: "catalog",
    name: title,
    names,
    run: async () => {
      try {
        const built = build();
        const problems = Array.isArray(built) ? (built as string[]) : [];
        if (problems.length) return { code: 2, out: problems.join("\n") };
        return { code: 0, out: "accepted" };
      } catch (error) {
        // The catalog's check refuses a bad definition (JobDefinitionError), as a ConfigError: exit 2.
        const usage = isConfigError(error) || (error as Error)?.name === "JobDefinitionError";
        return { code: usage ? 2 : 1, out: error instanceof Error ? error.message : String(error) };
      }
    },
  });
  cases.push(
    catalogCase("job name with a newline", "name", job({ name: "x-job\n" })),
    catalogCase("job name with a surrounding space", "name", job({ name: " x-job" })),
    catalogCase("cron with a tab", "cron", job({ schedule: { cron: "0\t8 * * *", timeZone: "Etc/UTC" } })),
    catalogCase(
      "cron with 6 fields",
      "cron",
      job({ schedule: { cron: "0 0 8 * * *", timeZone: "Etc/UTC" } }),
    ),
    catalogCase(
      "time zone with a trailing space",
      "timeZone",
      job({ schedule: { cron: "0 8 * * *", timeZone: "Etc/UTC " } }),
    ),
    catalogCase("timeoutSeconds 0", "timeoutSeconds", job({ timeoutSeconds: 0 })),
    catalogCase("retries 11", "retries", job({ retries: 11 })),
    catalogCase("env schema of a job", "env", job({ env: z.string() })),
    catalogCase("daily folder, monthly cron", "schedule", () =>
      buildCatalog({
        manual: [],
        daily: [define({ schedule: { cron: "5 0 1 * *", timeZone: "Etc/UTC" } })],
        monthly: [],
      }),
    ),
    catalogCase("schedule in the skipped hour", "schedule", () =>
      scheduleProblems([{ name: "x-job", schedule: { cron: "30 2 * * *", timeZone: "America/New_York" } }]),
    ),
  );
  const script = (file: string, args: string[], names: string): Case => ({
    kind: "script",
    name: `scripts/${file} ${args.map((a) => JSON.stringify(a)).join(" ")}`,
    names,
    run: (base) => runScript(file, args, base),
  });
  cases.push(
    script("run-job.sh", [], "env"),
    script("run-job.sh", ["sandbox", "no-such-job"], "no-such-job"),
    script("run-job.sh", ["sandbox", "alerts", "--bogus"], "bogus"),
    script("run-job.sh", ["sandbox\n", "alerts"], "sandbox"),
    script("run-job.sh", ["sandbox", "alerts "], "alerts"),
    script("run-job.sh", ["sandbox", "org-sync-all", "--concurrency", "0"], "concurrency"),
    script("list-jobs.sh", ["qa"], "qa"),
    script("list-jobs.sh", [" sandbox"], "sandbox"),
    script("create-all-jobs.sh", ["sandbox", "--bogus"], "bogus"),
    script("create-all-jobs.sh", ["local"], "local"),
    script("release.sh", ["sandbox", "--from", "nope"], "--from"),
    script("release.sh", ["sandbox\t"], "sandbox"),
  );
  return cases;
}
