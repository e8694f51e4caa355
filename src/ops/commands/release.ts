/**
 * `release <env> [--from <job>]`: migrate → bootstrap → org-sync-all, each as an execution waited for; stops
 * at the first failure with that step's logs; `--from` resumes at a step; a summary table at the end.
 *
 * @example
 * ./scripts/release.sh stage
 * ./scripts/release.sh stage --from bootstrap
 */
import { z } from "zod";
import { ConfigError } from "../../runtime/errors.ts";
import { parseCommandArgs } from "../args.ts";
import { findJob, loadCatalog } from "../catalog.ts";
import type { Command } from "../cli.ts";
import { type Clients, createClients } from "../clients.ts";
import { confirm } from "../confirm.ts";
import { runJobName } from "../desired.ts";
import {
  type ExecutionResult,
  formatDuration,
  shortName,
  startExecution,
  waitForExecution,
} from "../execution.ts";
import { runningExecution } from "../execution-state.ts";
import { COMPACT, EXIT, type Io, printJson, println } from "../io.ts";
import { fetchLogs, printResult, withSkip } from "../report.ts";
import { resolveTarget, type Target } from "../target.ts";
import { triggerEnv } from "../trigger.ts";
import { EXIT_DETACHED } from "./run-job.ts";

export const RELEASE_STEPS = ["migrate", "bootstrap", "org-sync-all"] as const;
const USAGE = `release <env> [--from ${RELEASE_STEPS.join("|")}] [--yes] [--json]`;

const Args = z.object({
  positionals: z.array(z.string()).length(1, "pass exactly one environment"),
  from: z
    .string()
    .refine((step) => (RELEASE_STEPS as readonly string[]).includes(step), {
      message: `--from must be one of ${RELEASE_STEPS.join(", ")}`,
    })
    .default("migrate"),
  yes: z.boolean().default(false),
  json: z.boolean().default(false),
});

interface StepRow {
  step: string;
  result: string;
  execution: string;
  duration: string;
}

/**
 * Starts a step, unless it is already running: a release stopped while it waited (an error, Ctrl-C) and
 * resumed with --from adopts the running execution instead of starting a second copy next to it. A running
 * execution with other args (a manual run with flags) is waited for first, then the step starts.
 */
async function startStep(
  jobName: string,
  args: string[],
  context: { io: Io; clients: Clients; target: Target },
): Promise<string> {
  const { io, clients } = context;
  const running = await runningExecution(await clients.executions(), jobName);
  if (running && running.args.join(" ") === args.join(" ")) {
    println(io.stderr, `${shortName(running.name)} is already running: waiting for it, not starting another`);
    return running.name;
  }
  if (running) {
    println(
      io.stderr,
      `${shortName(running.name)} (${running.args.join(" ")}) is running: waiting for it to end before starting ${args.join(" ")}`,
    );
    const ended = await waitForExecution(running.name, context);
    if (ended.status === "detached") return running.name;
  }
  return startExecution(clients, jobName, args, triggerEnv("release"));
}

async function run(argv: string[], io: Io): Promise<number> {
  const args = parseCommandArgs(
    argv,
    { from: { type: "string" }, yes: { type: "boolean", short: "y" }, json: { type: "boolean" } },
    Args,
    USAGE,
  );
  const target = await resolveTarget(args.positionals[0], io);
  const catalog = await loadCatalog(io);
  const steps = RELEASE_STEPS.slice(RELEASE_STEPS.indexOf(args.from as (typeof RELEASE_STEPS)[number]));
  for (const step of steps) {
    if (!catalog.some((job) => job.name === step))
      throw new ConfigError(`release step "${step}" is not in the catalog`);
  }
  if (!(await confirm(target, io, { yes: args.yes, action: `release (${steps.join(" → ")})` })))
    return EXIT.failed;
  const clients = createClients(target);
  const rows: StepRow[] = RELEASE_STEPS.map((step) => ({
    step,
    result: steps.includes(step) ? "not run" : "skipped (--from)",
    execution: "",
    duration: "",
  }));
  let code: number = EXIT.ok;
  try {
    for (const step of steps) {
      const job = findJob(catalog, step);
      println(io.stderr, `release ${target.env.name}: ${step}…`);
      const context = { io, clients, target };
      const name = await startStep(runJobName(job, target), [job.name], context);
      const waited: ExecutionResult = await waitForExecution(name, context);
      const logs = waited.status === "detached" ? null : await fetchLogs(waited, context);
      const result = withSkip(waited, logs);
      const row = rows.find((candidate) => candidate.step === step);
      if (row)
        Object.assign(row, {
          // A step the job skipped (exit 0) says so and why; the release goes on, as after a success.
          result: result.status === "skipped" ? `skipped: ${result.message}` : result.status,
          execution: shortName(name),
          duration: formatDuration(result.durationMs),
        });
      if (result.status === "detached") {
        code = EXIT_DETACHED;
        break;
      }
      if (result.status !== "succeeded" && result.status !== "skipped") {
        printResult(result, logs, io);
        println(
          io.stderr,
          `release stopped at ${step}; fix it, then resume: ./scripts/release.sh ${target.env.name} --from ${step}`,
        );
        code = EXIT.failed;
        break;
      }
    }
  } finally {
    await clients.close();
  }
  if (args.json) printJson(io, { steps: rows, ok: code === EXIT.ok });
  else {
    const { default: Table } = await import("cli-table3");
    const table = new Table({
      head: ["step", "result", "execution", "duration"],
      style: { head: [], border: [] },
      chars: COMPACT,
    });
    for (const row of rows) table.push([row.step, row.result, row.execution || "—", row.duration || "—"]);
    println(io.stdout, table.toString());
    println(
      io.stdout,
      code === EXIT.ok ? `release ${target.env.name}: done` : `release ${target.env.name}: FAILED`,
    );
  }
  return code;
}

export const command: Command = {
  help: `usage: ${USAGE}

Runs the release steps ${RELEASE_STEPS.join(" → ")} in <env> as executions, waiting for each; stops at
the first failure and prints that step's logs; a summary table at the end.

  --from <step>   resume at this step (earlier steps are skipped); a step already running is waited
                  for, never started a second time
  --yes, -y       confirm for environments that ask (prod); or pipe "yes" on stdin
  --json          print the summary as JSON`,
  run,
};
