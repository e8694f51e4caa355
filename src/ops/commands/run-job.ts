/**
 * `run-job <env> <job> [job flags]`: validate the job and its flags against the catalog, start an execution
 * with the flags as container args, wait with live progress, then print the result, duration, log link and
 * the tail of that execution's own logs; a run the job skipped (overlap guard, …) shows SKIPPED with the job's
 * reason. Exit 0 on success or skip, 1 on failure or cancel, 130 when Ctrl-C stopped the waiting.
 *
 * @example
 * ./scripts/run-job.sh stage bootstrap --force-sync
 * ./scripts/run-job.sh sandbox quota-cleanup --no-wait
 */
import { ConfigError } from "../../runtime/errors.ts";
import { findJob, loadCatalog, validateFlags } from "../catalog.ts";
import type { Command } from "../cli.ts";
import { createClients } from "../clients.ts";
import { confirm } from "../confirm.ts";
import { runJobName } from "../desired.ts";
import { shortName, startExecution, waitForExecution } from "../execution.ts";
import { EXIT, type Io, printJson, println } from "../io.ts";
import { fetchLogs, printResult, withSkip } from "../report.ts";
import { explainRerun } from "../rerun.ts";
import { parseEnvironment, resolveTarget } from "../target.ts";
import { triggerEnv } from "../trigger.ts";

const USAGE = "run-job <env> <job> [job flags] [--rerun <label>] [--no-wait] [--yes] [--json]";
/** IDEMPOTENCY_SCOPE's shape (src/runtime/config-keys.ts): checked here so a typo costs no execution. */
const RERUN_LABEL = /^[A-Za-z0-9._-]{1,64}$/;
/** Options of run-job itself; everything else after the job name (or after `--`) belongs to the job. */
const OWN = new Set(["--no-wait", "--yes", "-y", "--json"]);

export function splitArgs(argv: readonly string[]) {
  const separator = argv.indexOf("--");
  let head = separator >= 0 ? argv.slice(0, separator) : [...argv];
  // `--rerun <label>` / `--rerun=<label>` is run-job's own option with a value.
  let rerun: string | undefined;
  const at = head.findIndex((arg) => arg === "--rerun" || arg.startsWith("--rerun="));
  if (at >= 0) {
    const arg = head[at] as string;
    rerun = arg.includes("=") ? arg.slice("--rerun=".length) : (head[at + 1] ?? "");
    head = [...head.slice(0, at), ...head.slice(at + (arg.includes("=") ? 1 : 2))];
  }
  const own = head.filter((arg) => OWN.has(arg));
  const rest = head.filter((arg) => !OWN.has(arg));
  const [env, job, ...flags] = rest;
  if (separator >= 0) flags.push(...argv.slice(separator + 1));
  return {
    env,
    job,
    flags,
    rerun,
    noWait: own.includes("--no-wait"),
    yes: own.includes("--yes") || own.includes("-y"),
    json: own.includes("--json"),
  };
}

export const EXIT_DETACHED = 130;

async function run(argv: string[], io: Io): Promise<number> {
  const args = splitArgs(argv);
  if (args.env?.startsWith("-") || args.job?.startsWith("-")) {
    throw new ConfigError(`put the environment and the job first (usage: ${USAGE})`);
  }
  // Validate everything local first: a typo must not need a running sandbox or credentials to be reported.
  parseEnvironment(args.env);
  const job = findJob(await loadCatalog(io), args.job);
  validateFlags(job, args.flags);
  if (args.rerun !== undefined && !RERUN_LABEL.test(args.rerun)) {
    throw new ConfigError(
      `--rerun takes a label of letters, digits, ".", "_" or "-" (e.g. --rerun fix-1); got "${args.rerun}"`,
    );
  }
  const target = await resolveTarget(args.env, io);
  const containerArgs = [job.name, ...args.flags];
  if (!(await confirm(target, io, { yes: args.yes, action: `run ${containerArgs.join(" ")}` })))
    return EXIT.failed;
  const clients = createClients(target);
  try {
    // A deliberate re-run the same day: IDEMPOTENCY_SCOPE makes the job skip its once-per-day check
    // (alerts, quota-monthly), so the work is done again on purpose (see IDEMPOTENCY_SCOPE in the README).
    // JOB_TRIGGER=manual marks the run for `executions` and `list-jobs --history` (trigger.ts).
    const env = { ...triggerEnv("manual"), ...(args.rerun ? { IDEMPOTENCY_SCOPE: args.rerun } : {}) };
    const name = await startExecution(clients, runJobName(job, target), containerArgs, env);
    println(io.stderr, `started ${shortName(name)} (${containerArgs.join(" ")}) in ${target.env.name}`);
    if (args.noWait) {
      if (args.json) printJson(io, { execution: name, status: "running" });
      else println(io.stdout, name);
      return EXIT.ok;
    }
    const context = { io, clients, target };
    const waited = await waitForExecution(name, context);
    if (waited.status === "detached") return EXIT_DETACHED;
    const logs = await fetchLogs(waited, context);
    const result = withSkip(waited, logs);
    if (args.json) {
      printJson(io, {
        execution: name,
        status: result.status,
        ...(result.message ? { message: result.message } : {}),
        durationMs: result.durationMs,
        logUri: result.logUri,
      });
    } else {
      printResult(result, logs, io);
      // A deliberate re-run: say what the API did this time, from the job's own counts.
      if (args.rerun && logs && result.status === "succeeded")
        for (const line of explainRerun(args.rerun, logs.summaries)) println(io.stdout, line);
    }
    // A clean skip is a success (exit 0), as it is for the container.
    return result.status === "succeeded" || result.status === "skipped" ? EXIT.ok : EXIT.failed;
  } finally {
    await clients.close();
  }
}

export const command: Command = {
  help: `usage: ${USAGE}

Runs <job> in <env> as a Cloud Run execution with [job flags] as its arguments (checked against the
catalog first), waits for it and prints the result, duration, log link and the last lines of that
execution's logs. A run the job itself skipped (an older execution still running, …) shows SKIPPED with
the job's reason. Exit code: 0 succeeded or skipped, 1 failed or cancelled, 2 bad invocation, 130 stopped waiting (Ctrl-C).

  --rerun <label>  a deliberate re-run today (sets IDEMPOTENCY_SCOPE=<label> for this execution): alerts
              and quota-monthly skip their once-per-day check, so customers are notified again or the
              monthly counters zeroed again; the result says what the API did this time
  --no-wait   print the execution's name and return at once
  --yes, -y   confirm for environments that ask (prod); or pipe "yes" on stdin
  --json      print the result as JSON
  --          everything after it is passed to the job unchanged
Ctrl-C while waiting asks whether to cancel the execution (on a terminal).`,
  run,
};
