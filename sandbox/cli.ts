/**
 * `npm run sandbox`: starts the sandbox, prints its endpoints and the `export` lines a shell needs, and
 * writes them to `.sandbox/endpoints.json` (`{"env": {...}, "pid": n}`) so `./scripts/*.sh sandbox …` in
 * another terminal finds it. Ctrl-C or SIGTERM stops it: tasks killed, ports closed, the file removed.
 *
 * One sandbox per state directory: a second one refuses to start while the first is alive (it names the
 * first one's pid and endpoints) unless given its own `--state-dir` / SANDBOX_STATE_DIR; and a sandbox
 * removes the endpoints file only while the file is still its own (its pid), never another one's.
 */
import { isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { claimEndpoints, releaseEndpoints, writeEndpoints } from "./endpoints-file.ts";
import { REPO_ROOT, type SandboxOptions, startSandbox } from "./index.ts";

const HELP = `Usage: npm run sandbox -- [options]

Starts, on 127.0.0.1 with no account and no network: Cloud Run Admin API v2 (+ Cloud Logging entries:list),
Cloud Scheduler v1, Secret Manager v1, BigQuery, the Supabase Management API and the reference admin API.

Options:
  --data [dir]       persist state in dir (default <state dir>/data, git-ignored); otherwise in memory
  --orgs N           seed N active organisations (default 10)
  --inactive N       seed N inactive organisations (default 3)
  --legacy          seed the old scripts' jobs and enabled triggers (cloudact-daily-alerts-trigger, …)
                     to rehearse a cutover (create-all-jobs sandbox --retire-legacy)
  --no-data          only the Google APIs (no admin API, Supabase or BigQuery): starts at once
  --no-scheduler     no automatic cron ticks (move the clock with POST <scheduler>/sandbox/clock)
  --entry "cmd …"    command an execution task runs before the container args
                     (default: node --import tsx src/main.ts)
  --state-dir DIR    this sandbox's own state directory (default .sandbox; or SANDBOX_STATE_DIR): a second
                     sandbox needs one; scripts find it with SANDBOX_STATE_DIR=DIR or the export lines
  --endpoints FILE   where to write the endpoints (default <state dir>/endpoints.json)
  --quiet            no JSON log lines on stderr
  --help             this text

Stop with Ctrl-C. The endpoints are also in <state dir>/endpoints.json while it runs. One sandbox per
state directory: a second one started on the same directory refuses and names the running one.`;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Registers the stop handler for SIGINT/SIGTERM. */
  onSignal: (handler: (signal: NodeJS.Signals) => void) => void;
  /** Where `.sandbox/endpoints.json` goes (the checkout root). */
  root: string;
  /** SANDBOX_STATE_DIR, when set: the default for --state-dir. */
  env?: Record<string, string | undefined>;
}

type CliOptions = SandboxOptions & { endpoints?: string; stateDir?: string };

function options(argv: string[], root: string, stateEnv: string | undefined): CliOptions | string {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: "string" },
      orgs: { type: "string" },
      inactive: { type: "string" },
      "no-scheduler": { type: "boolean" },
      legacy: { type: "boolean" },
      "no-data": { type: "boolean" },
      entry: { type: "string" },
      endpoints: { type: "string" },
      "state-dir": { type: "string" },
      quiet: { type: "boolean" },
      help: { type: "boolean" },
    },
    strict: true,
  });
  if (values.help) return HELP;
  const count = (flag: string, value: string | undefined, fallback: number): number => {
    const n = Number(value ?? fallback);
    if (!Number.isInteger(n) || n < 0)
      throw new Error(`--${flag} must be a whole number ≥ 0; got ${JSON.stringify(value)}`);
    return n;
  };
  const stateDir = values["state-dir"] ?? stateEnv;
  if (stateDir === "") throw new Error("--state-dir needs a directory, e.g. --state-dir .sandbox-2");
  const state = resolve(root, stateDir ?? ".sandbox");
  return {
    ...(values.data !== undefined ? { dataDir: resolve(values.data || join(state, "data")) } : {}),
    stateDir: state,
    orgs: { active: count("orgs", values.orgs, 10), inactive: count("inactive", values.inactive, 3) },
    scheduler: { autoTick: !values["no-scheduler"] },
    ...(values.legacy ? { legacy: true } : {}),
    ...(values["no-data"] ? { data: false as const } : {}),
    ...(values.entry ? { entry: values.entry.split(" ").filter(Boolean) } : {}),
    ...(values.quiet ? { quiet: true } : {}),
    ...(values.endpoints ? { endpoints: resolve(values.endpoints) } : {}),
  };
}

/** `--data` with no value: parseArgs needs one, so an empty string stands for "the default folder". */
const withDataDefault = (argv: string[]): string[] =>
  argv.flatMap((arg, i) =>
    arg === "--data" && (argv[i + 1] === undefined || argv[i + 1]?.startsWith("--")) ? [arg, ""] : [arg],
  );

/**
 * Runs the CLI; resolves with the exit code once the sandbox has stopped.
 * @example process.exitCode = await main(process.argv.slice(2), io);
 */
export async function main(argv: string[], io: CliIo): Promise<number> {
  let opts: CliOptions | string;
  try {
    opts = options(
      withDataDefault(argv),
      isAbsolute(io.root) ? io.root : resolve(io.root),
      io.env?.SANDBOX_STATE_DIR,
    );
  } catch (error) {
    io.stderr(`sandbox: ${(error as Error).message}\nRun with --help for the options.\n`);
    return 2;
  }
  if (typeof opts === "string") {
    io.stdout(`${opts}\n`);
    return 0;
  }
  const started = Date.now();
  const { endpoints: _file, stateDir: _state, ...sandboxOptions } = opts;
  const file = opts.endpoints ?? join(opts.stateDir ?? join(io.root, ".sandbox"), "endpoints.json");
  // Claimed before starting (seconds of PGlite): two sandboxes started at once cannot both win.
  const refusal = claimEndpoints(file, process.pid);
  if (refusal) {
    io.stderr(`sandbox: ${refusal}\n`);
    return 2;
  }
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  try {
    sandbox = await startSandbox({ ...sandboxOptions, log: (line) => io.stderr(`${line}\n`) });
  } catch (error) {
    releaseEndpoints(file, process.pid);
    const where = opts.dataDir ? ` with data in ${opts.dataDir} (try another --data folder, or none)` : "";
    io.stderr(`sandbox: could not start${where}: ${(error as Error).message}\n`);
    return 1;
  }
  writeEndpoints(file, { env: sandbox.env, pid: process.pid });

  const width = Math.max(...Object.keys(sandbox.urls).map((k) => k.length));
  const lines = [
    `Sandbox ready in ${((Date.now() - started) / 1000).toFixed(1)} s${opts.dataDir ? ` (state in ${opts.dataDir})` : " (in memory)"}`,
    "",
    ...Object.entries(sandbox.urls).map(([name, url]) => `  ${name.padEnd(width)}  ${url}`),
    "",
    `# environment for a job or a shell (also in ${file}):`,
    ...(opts.stateDir && opts.stateDir !== resolve(io.root, ".sandbox")
      ? [`export SANDBOX_STATE_DIR=${opts.stateDir}`]
      : []),
    ...Object.entries(sandbox.env).map(([k, v]) => `export ${k}=${v}`),
    "",
    "Ctrl-C stops it.",
  ];
  io.stdout(`${lines.join("\n")}\n`);

  return new Promise<number>((done) => {
    let firstSignalAt = 0;
    io.onSignal((signal) => {
      const log = (message: string) =>
        io.stderr(`${JSON.stringify({ severity: "INFO", message, component: "sandbox", signal })}\n`);
      if (firstSignalAt === 0) {
        firstSignalAt = Date.now();
        log("stopping");
        sandbox
          .stop()
          .then(
            () => 0,
            () => 1,
          )
          .then((code) => {
            releaseEndpoints(file, process.pid);
            done(code);
          });
        return;
      }
      // tsx relays Ctrl-C to this process, which the terminal also signalled: a repeat within a moment is
      // the same Ctrl-C. A later one means "now": kill the tasks (never leave them behind) and go.
      if (Date.now() - firstSignalAt < 1_500) return;
      log("stopping now");
      sandbox.cloudRun.executions.killAll();
      releaseEndpoints(file, process.pid);
      done(130);
    });
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const code = await main(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    root: REPO_ROOT,
    env: process.env,
    onSignal: (handler) => {
      for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => handler(signal));
    },
  });
  process.exit(code);
}
