/**
 * The operators' CLI: `create-all-jobs | run-job | list-jobs | release`, one file per command, each imported
 * only when used (the Google clients cost ~150 ms each to load). `main(argv, io)` returns the exit code, so
 * tests drive it in-process; run as a script it owns the process's exit code.
 *
 * Exit codes: 0 done, 1 failed or aborted, 2 bad invocation (unknown job or environment, bad flags, no sandbox).
 *
 * @example
 * const code = await main(["list-jobs", "sandbox", "--json"], { env: sandbox.env, stdout });
 */
import { resolve } from "node:path";
import { isConfigError } from "../runtime/errors.ts";
import { closeInput, describeError, EXIT, type Io, println, resolveIo } from "./io.ts";

export interface Command {
  /** Usage and options, printed by `--help`. */
  help: string;
  run(argv: string[], io: Io): Promise<number>;
}

const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  "create-all-jobs": () => import("./commands/create-all-jobs.ts"),
  "run-job": () => import("./commands/run-job.ts"),
  "list-jobs": () => import("./commands/list-jobs.ts"),
  release: () => import("./commands/release.ts"),
  executions: () => import("./commands/executions.ts"),
};

const USAGE = `usage: cli <command> <env> [options]

commands:
  create-all-jobs <env> [--plan] [--prune] [--image <ref>] [--yes] [--json]   plan and apply the catalog
  run-job <env> <job> [job flags] [--no-wait] [--yes]                         run a job and wait for it
  list-jobs <env> [--json]                                                    status of every job
  release <env> [--from <job>] [--yes]                                        migrate → bootstrap → org-sync-all
  executions <env> [job] | describe|logs|cancel <execution>                   recent runs; one run

environments: test, stage, prod, sandbox ("local": use the sandbox or \`npm run job\`)
\`<command> --help\` shows a command's options.`;

export async function main(argv: readonly string[], partialIo: Partial<Io> = {}): Promise<number> {
  const io = resolveIo(partialIo);
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    println(name ? io.stdout : io.stderr, USAGE);
    return name ? EXIT.ok : EXIT.usage;
  }
  const load = COMMANDS[name];
  if (!load) {
    println(io.stderr, `unknown command "${name}": valid commands are ${Object.keys(COMMANDS).join(", ")}`);
    return EXIT.usage;
  }
  try {
    const { command } = await load();
    if (rest.includes("--help") || rest.includes("-h")) {
      println(io.stdout, command.help);
      return EXIT.ok;
    }
    return await command.run(rest, io);
  } catch (error) {
    if (isConfigError(error)) {
      println(io.stderr, `error: ${error.message}`);
      return EXIT.usage;
    }
    println(io.stderr, `error: ${describeError(error)}`);
    return EXIT.failed;
  } finally {
    await closeInput(io);
  }
}

/** Ctrl-C while a command waits: the first press is handed to the command (it asks), the second exits. */
function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  process.on("SIGINT", () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  });
  return controller.signal;
}

/**
 * A rejection nobody awaited (a library's fire-and-forget promise, e.g. google-auth inside a client) would
 * end the process with a stack trace: report it as `error: …` and fail, like any other error.
 */
function catchUnhandled(): { error: unknown } {
  const seen: { error: unknown } = { error: undefined };
  process.on("unhandledRejection", (error) => {
    seen.error ??= error ?? new Error("unhandled rejection");
  });
  return seen;
}

if (import.meta.main) {
  const unhandled = catchUnhandled();
  let code = await main(process.argv.slice(2), {
    env: process.env,
    stdin: process.stdin,
    isTTY: Boolean(process.stdout.isTTY && process.stdin.isTTY),
    interrupt: interruptSignal(),
    // The checkout's root, wherever the operator stands: .sandbox/endpoints.json and git live there.
    cwd: resolve(import.meta.dirname, "../.."),
  });
  // When the command failed it said why already; a stray rejection only matters when it thinks it succeeded.
  if (unhandled.error !== undefined && code === EXIT.ok) {
    const { error } = unhandled;
    println(process.stderr, `error: ${error instanceof Error ? error.message : String(error)}`);
    code = EXIT.failed;
  }
  process.exitCode = code;
}
