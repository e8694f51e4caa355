/**
 * `executions <env> [job]`: the recent runs, newest first — trigger (scheduler, manual, release; see
 * trigger.ts), result, start, duration (`--wide` adds the log link). `executions <env> describe|logs|cancel
 * <execution>` shows one run, prints (or follows) its own logs, or cancels it (prod asks first).
 *
 * @example
 * ./scripts/executions.sh prod alerts
 * ./scripts/executions.sh prod describe alerts-prod-x7k2p
 * ./scripts/executions.sh prod cancel alerts-prod-x7k2p --yes
 */
import { z } from "zod";
import { ConfigError } from "../../runtime/errors.ts";
import { parseCommandArgs } from "../args.ts";
import { findJob, loadCatalog } from "../catalog.ts";
import type { Command } from "../cli.ts";
import { createClients } from "../clients.ts";
import { confirm } from "../confirm.ts";
import { formatDuration, statusOf } from "../execution.ts";
import {
  describeLines,
  findExecution,
  followLogs,
  printLogs,
  runJson,
  skipReason,
} from "../executions-view.ts";
import { EXIT, type Io, printJson, println } from "../io.ts";
import { recentRuns } from "../runs.ts";
import { resolveTarget } from "../target.ts";
import { triggerOf } from "../trigger.ts";

const ACTIONS = ["describe", "logs", "cancel"] as const;
const USAGE =
  "executions <env> [job] [--limit N] [--days N] [--wide] [--json]\n" +
  "       executions <env> describe|logs|cancel <execution> [--tail N] [--follow] [--yes] [--json]";

const count = (name: string, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `${name} takes a whole number`)
    .transform(Number)
    .refine((n) => n >= 1 && n <= max, `${name} must be from 1 to ${max}`);

const Args = z.object({
  positionals: z.array(z.string()).min(1, "pass an environment").max(3, "too many arguments"),
  limit: count("--limit", 1000).default(20),
  days: count("--days", 90).default(7),
  tail: count("--tail", 10_000).default(100),
  follow: z.boolean().default(false),
  wide: z.boolean().default(false),
  yes: z.boolean().default(false),
  json: z.boolean().default(false),
});

const OPTIONS = {
  limit: { type: "string" },
  days: { type: "string" },
  tail: { type: "string" },
  follow: { type: "boolean", short: "f" },
  wide: { type: "boolean" },
  yes: { type: "boolean", short: "y" },
  json: { type: "boolean" },
} as const;

const stamp = (date: Date | null): string => (date ? date.toISOString().slice(5, 16).replace("T", " ") : "—");

async function run(argv: string[], io: Io): Promise<number> {
  const args = parseCommandArgs(argv, OPTIONS, Args, USAGE);
  const [envName, second, third] = args.positionals;
  const action = (ACTIONS as readonly string[]).includes(second ?? "")
    ? (second as (typeof ACTIONS)[number])
    : null;
  if (action && !third) throw new ConfigError(`${action} needs an execution name (usage: ${USAGE})`);
  if (!action && third) throw new ConfigError(`unexpected "${third}" (usage: ${USAGE})`);
  const catalog = await loadCatalog(io);
  const job = !action && second ? findJob(catalog, second) : undefined;
  const target = await resolveTarget(envName, io);
  const clients = createClients(target);
  const now = io.now?.() ?? new Date();
  try {
    if (action) {
      const { execution, job: owner } = await findExecution(clients, target, catalog, third as string);
      if (action === "describe") {
        const skipped = await skipReason(execution, { clients, target });
        const result = skipped === null ? statusOf(execution) : "skipped";
        if (args.json)
          printJson(io, runJson(execution, owner, now, { trigger: triggerOf(execution, owner), result }));
        else
          for (const line of describeLines(execution, owner, target, now, skipped)) println(io.stdout, line);
        return EXIT.ok;
      }
      if (action === "logs") {
        return args.follow
          ? await followLogs(execution, { io, clients, target }, args.tail)
          : await printLogs(execution, { io, clients, target }, args.tail);
      }
      const short = execution.name?.split("/").pop() ?? "";
      if (statusOf(execution) !== "running") {
        println(io.stderr, `${short} has already ended (${statusOf(execution)}): nothing to cancel`);
        return EXIT.ok;
      }
      if (!(await confirm(target, io, { yes: args.yes, action: `cancel execution ${short}` })))
        return EXIT.failed;
      await (await clients.executions()).cancelExecution({ name: execution.name as string });
      println(io.stdout, `cancel requested for ${short}: its tasks get SIGTERM, then SIGKILL after 10 s`);
      println(io.stdout, `watch it: ./scripts/executions.sh ${target.env.name} describe ${short}`);
      return EXIT.ok;
    }

    const since = new Date(now.getTime() - args.days * 86_400_000);
    const recent = await recentRuns({ clients, target, catalog: job ? [job] : catalog, since, now });
    const runs = recent.runs.slice(0, args.limit);
    if (args.json) {
      printJson(
        io,
        runs.map((r) => runJson(r.execution, r.job, now, r)),
      );
      return EXIT.ok;
    }
    const what = job ? `${job.name} in ${target.env.name}` : target.env.name;
    println(
      io.stdout,
      `${what}: ${runs.length} most recent run(s) of the last ${args.days} days, newest first (UTC)`,
    );
    if (runs.length === 0) {
      println(io.stdout, `no executions; start one: ./scripts/run-job.sh ${target.env.name} <job>`);
    } else {
      const width = Math.max(9, ...runs.map((r) => r.name.length));
      const row = (cells: string[]) => cells.join("  ").trimEnd();
      println(
        io.stdout,
        row([
          "execution".padEnd(width),
          "trigger  ",
          "result   ",
          "started    ",
          "duration",
          ...(args.wide ? ["logs"] : []),
        ]),
      );
      for (const r of runs) {
        println(
          io.stdout,
          row([
            r.name.padEnd(width),
            r.trigger.padEnd(9),
            r.result.padEnd(9),
            stamp(r.start).padEnd(11),
            formatDuration(r.durationMs).padStart(8),
            ...(args.wide ? [r.logUri] : []),
          ]),
        );
      }
    }
    if (recent.unprovisioned.length)
      println(
        io.stdout,
        `not provisioned: ${recent.unprovisioned.join(", ")} (./scripts/create-all-jobs.sh ${target.env.name})`,
      );
    if (!recent.skipsKnown)
      println(io.stdout, "(logs unreadable: runs that skipped their work show as succeeded)");
    if (runs.length) {
      println(
        io.stdout,
        `one run: ./scripts/executions.sh ${target.env.name} describe|logs|cancel <execution>`,
      );
      if (!args.wide) println(io.stdout, "log links: --wide (or describe)");
    }
    return EXIT.ok;
  } finally {
    await clients.close();
  }
}

export const command: Command = {
  help: `usage: ${USAGE}

Lists the recent executions of every catalog job in <env> (or of [job]), newest first: trigger
(scheduler = started by Cloud Scheduler at a cron slot; manual = run-job; release = release.sh;
other = console, gcloud or an older tool), result (succeeded, skipped, failed, cancelled, running),
start and duration. A run made with \`npm run job\` is not an execution and is not listed.

  --limit N     at most N rows (default 20)
  --days N      look back N days (default 7)
  --wide        add each run's log link
  --json        rows as JSON (execution, job, trigger, result, times, durationMs, logUri, tasks)

  describe <execution>            everything about one run: trigger, result, tasks, args, times, log link
  logs <execution> [--tail N]     its own last N log lines (default 100); --follow/-f until it ends
  cancel <execution> [--yes]      cancel a running execution (prod asks first; or pipe "yes", or --yes)`,
  run,
};
