/**
 * The one runner that owns the process: argv → flags + config → context → overlap guard → run → one
 * summary line → exit code. `runEntrypoint` returns the code instead of exiting, so tests drive it with an
 * argv array and an env object.
 *
 * Exit codes (Cloud Run retries a task that exits non-zero, up to the job's `retries`):
 *   0    succeeded, or skipped cleanly (nothing to do, an older execution still running, already done
 *        today, not the 1st…)
 *   1    failed: the job returned status "failed", or run() threw; a manual job refused because another
 *        execution of it is running; a once-per-day job that could not read its execution history
 *   2    bad invocation or configuration (unknown job, bad flag, bad/missing env key, a ConfigError
 *        thrown by the job): nothing was done; fix the input, a retry will not help
 *   3    outcome unknown: a request to a route that is not repeatable (alerts, the monthly reset) may have
 *        reached the API and failed; it was not sent again. Jobs that can end this way run with Cloud Run
 *        maxRetries 0 (defineJob insists), so no task retry repeats it either: check, then re-run on purpose
 *   143  interrupted by SIGTERM (Cloud Run timeout or cancel), 130 interrupted by SIGINT (128 + signal
 *        number, as a shell reports it), when work was cut short: run() reported "failed" (it stopped
 *        early; its summary names what it did not start), threw, or did not settle within the grace period
 *        (the summary names each request still in flight as "outcome unknown"). When run() finished its
 *        work within the grace period (succeeded or skipped), the exit is 0: a retry would only repeat it.
 */
import type { loadConfig } from "./config.ts";
import { ConfigError, isConfigError } from "./errors.ts";
import { EXIT } from "./exit-codes.ts";
import { formatJobHelp, formatJobList, parseFlags } from "./flags.ts";
import type { AnyJob } from "./job.ts";
import { createLogger } from "./logger.ts";
import { readRelease } from "./release.ts";
import type { RunJobDeps } from "./run-job.ts";

export { EXIT } from "./exit-codes.ts";
export type { StopSignal } from "./run-job.ts";

export interface RunnerDeps extends RunJobDeps {
  catalog: readonly AnyJob[];
  env: Record<string, string | undefined>;
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  /** Human-readable log lines instead of JSON. */
  isTTY?: boolean;
  /** How the entrypoint is invoked, for help texts. */
  entry?: string;
}

/**
 * @example
 * const code = await runEntrypoint(["quota-reset"], { catalog, env: process.env, stdout: process.stdout, stderr: process.stderr });
 */
export async function runEntrypoint(argv: readonly string[], deps: RunnerDeps): Promise<number> {
  const entry = deps.entry ?? "scheduler-jobs";
  const [name, ...args] = argv;
  if (name === "--help" || name === "-h")
    return write(deps.stdout, formatJobList(deps.catalog, entry), EXIT.ok);
  if (name === "--version") {
    const { version, commit } = readRelease(deps.env);
    return write(deps.stdout, `scheduler-jobs ${version} (commit ${commit})\n`, EXIT.ok);
  }
  const job = deps.catalog.find((j) => j.name === name);
  if (!job) {
    const what = name === undefined ? "No job given." : `Unknown job "${name}".`;
    return write(deps.stderr, `${what}\n${formatJobList(deps.catalog, entry)}`, EXIT.usage);
  }
  if (args.includes("--help") || args.includes("-h"))
    return write(deps.stdout, formatJobHelp(job, entry), EXIT.ok);

  // Loaded only to run a job: the config schema (zod) and the HTTP stack are most of a start's cost.
  const [{ loadConfig, secretValues }, { runJob }] = await Promise.all([
    import("./config.ts"),
    import("./run-job.ts"),
  ]);
  // Flags and environment are checked together, so one attempt shows every problem, before any side effect.
  const flags = parseFlags(job, args);
  let loaded: ReturnType<typeof loadConfig> | undefined;
  const problems = [...flags.problems];
  try {
    loaded = loadConfig(job, deps.env);
  } catch (error) {
    if (!isConfigError(error)) throw error;
    problems.push(...error.problems);
  }
  if (!loaded || problems.length) {
    const log = createLogger({ labels: { job: job.name }, ...output(deps), secrets: secretValues(deps.env) });
    const error = new ConfigError(
      `Job "${job.name}" not started: ${problems.length} problem(s) with its flags or environment (nothing was done; see \`${entry} ${job.name} --help\`)`,
      problems,
    );
    log.error(error.message, { status: "invalid", exit_code: EXIT.usage, problems });
    return EXIT.usage;
  }
  const { config, jobEnv } = loaded;
  const log = createLogger({
    level: config.logLevel,
    labels: {
      job: job.name,
      environment: config.environment,
      execution: config.cloudRun.execution ?? "local",
      task: config.cloudRun.taskIndex,
      attempt: config.cloudRun.taskAttempt,
      release: config.release.version,
    },
    ...output(deps),
    secrets: config.secrets,
  });
  if (deps.isTTY && !config.cloudRun.execution) log.notice(localRunNote(job.name, config.environment));
  return runJob(job, { config, jobEnv, flags: flags.values, args, log }, deps);
}

/**
 * Said on a terminal when the job runs outside Cloud Run (`npm run job`): its logs carry
 * `execution: "local"`, and no execution exists for list-jobs, `executions` or the console to show.
 */
export const localRunNote = (job: string, environment: string): string =>
  `Local run of ${job} in ${environment}: not a Cloud Run execution, so list-jobs, executions and the console will not show it`;

function output(deps: RunnerDeps) {
  return { write: (line: string) => void deps.stdout.write(line), pretty: deps.isTTY ?? false };
}

function write(stream: { write(chunk: string): unknown }, text: string, code: number): number {
  stream.write(text);
  return code;
}
