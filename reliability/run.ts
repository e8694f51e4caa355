/**
 * `npm run reliability`: every section in full, then RELIABILITY.md. `--quick` runs the reduced form
 * (the counts of test/reliability/) and writes to stdout only. Sections and figures are described in
 * reliability/report.ts.
 */
import { writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { catalog } from "../jobs/index.ts";
import { startSandbox } from "../sandbox/index.ts";
import { scheduleProblems } from "../src/runtime/schedule.ts";
import { buildImageLayout } from "../tools/image-layout.ts";
import { concurrencySection } from "./concurrency.ts";
import { corpus, runCorpus } from "./corpus.ts";
import { crashSweep, termAfterWork, termInFlight } from "./crash.ts";
import { cleanStates, faultMatrix } from "./fault-matrix.ts";
import { type Report, renderReport } from "./report.ts";
import { checkNextRunsConsistency } from "./schedules.ts";
import { executeEveryJob, redirectTest, scanFiles, scanTranscript } from "./secrets.ts";
import { soak } from "./soak.ts";
import { JOBS, warehouseTemplate } from "./stack.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const quick = process.argv.includes("--quick");
const started = Date.now();
const timings: Record<string, number> = {};
const time = async <T>(name: string, fn: () => Promise<T> | T): Promise<T> => {
  const t = Date.now();
  const out = await fn();
  timings[name] = Date.now() - t;
  process.stderr.write(`reliability: ${name} done in ${Math.round(timings[name] / 1000)} s\n`);
  return out;
};

const template = await warehouseTemplate(new Date());
const sandbox = await startSandbox({ quiet: true, scheduler: { autoTick: false } });
try {
  const cases = await corpus();
  const bad = await time("bad input", () =>
    runCorpus(quick ? cases.filter((_, i) => i % 4 === 0) : cases, sandbox.env),
  );
  const clean = await time("clean runs", () => cleanStates(template));
  const matrix = await time("fault matrix", () =>
    faultMatrix(template, clean, quick ? { jobs: JOBS.slice(3, 4) } : {}),
  );
  const kills = await time("crash sweep", () =>
    crashSweep(template, clean, { points: quick ? 1 : 20, seed: 2026, parallel: 3 }),
  );
  const term = await time("SIGTERM", async () => {
    const out = [];
    for (const j of JOBS) out.push(await termAfterWork(template, j, clean.get(j.job)?.requests ?? 1));
    for (const j of JOBS) out.push(await termInFlight(template, j));
    return out;
  });
  const concurrency = await time("concurrency", () => concurrencySection(quick ? 1 : 3));
  const schedules = await time("schedules", () => ({
    consistency: checkNextRunsConsistency({
      zones: ["America/New_York", "Europe/Berlin", "Etc/UTC", "Australia/Lord_Howe"],
      crons: [
        "30 1 * * *",
        "30 2 * * *",
        "0 2 * * *",
        "59 0 * * *",
        "*/20 1-3 * * *",
        "5 0 1 * *",
        "0 8 * * *",
      ],
      samples: quick ? 20 : 200,
      seed: 2026,
    }),
    catalog: scheduleProblems(catalog),
  }));
  const soaked = await time("soak", () =>
    quick ? soak({ days: 2, from: "2028-02-29T00:00:00Z" }) : soak({ days: 60 }),
  );
  const secrets = await time("secrets", async () => {
    const redirect = await redirectTest(sandbox.env);
    // Every catalog job once as a Cloud Run execution of this sandbox, then its logs and tasks' argv.
    const executions = quick ? null : await executeEveryJob(sandbox);
    const dotSandbox = await scanFiles(`${ROOT}.sandbox`);
    const image = quick
      ? null
      : await buildImageLayout()
          .then((l) => scanFiles(l.dir))
          .catch((e: Error) => ({ files: 0, findings: [], error: e.message }));
    const fromConcurrency = concurrency.results.map((r) => r.secrets);
    const sum = <K extends "logs" | "argv">(k: K) => [
      ...fromConcurrency.map((x) => x[k]),
      ...(executions ? [executions[k]] : []),
    ];
    const logs = sum("logs");
    const argv = sum("argv");
    return {
      transcript: scanTranscript(),
      redirect,
      dotSandbox,
      image,
      executionLogs: {
        executions: (executions?.executions ?? 0) + concurrency.results.length * 2,
        entries: logs.reduce((n, x) => n + x.entries, 0),
        findings: logs.flatMap((x) => x.findings),
      },
      taskArgv: {
        tasks: argv.reduce((n, x) => n + x.tasks, 0),
        tasksWithCmdline: argv.reduce((n, x) => n + x.tasksWithCmdline, 0),
        findings: argv.flatMap((x) => x.findings),
      },
      jobsExecuted: executions?.jobs ?? [],
    };
  });
  const report: Report = {
    date: new Date().toISOString(),
    machine: {
      cores: cpus().length,
      cpu: cpus()[0]?.model ?? "?",
      memGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
    },
    durationMs: Date.now() - started,
    timings,
    bad,
    matrix,
    kills,
    term,
    schedules,
    concurrency,
    soak: soaked,
    secrets,
  };
  const md = renderReport(report);
  if (quick) process.stdout.write(md);
  else await writeFile(`${ROOT}RELIABILITY.md`, md);
  process.stderr.write(
    `reliability: ${quick ? "quick run" : "RELIABILITY.md written"} in ${Math.round(report.durationMs / 1000)} s\n`,
  );
} finally {
  await sandbox.stop();
}
process.exit(0);
