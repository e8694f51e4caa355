/**
 * The container entrypoint: `node src/main.ts <job> [flags]` (locally `npm run job -- <job> [flags]`).
 * The only place that touches `process`: argv, env, stdout/stderr, signals and the exit code. Everything
 * else is in src/runtime/runner.ts, which tests drive directly. Exit codes are documented there.
 */
import { secretValues } from "./runtime/config.ts";
import { createRedactor } from "./runtime/logger.ts";
import { runEntrypoint, type StopSignal } from "./runtime/runner.ts";

/**
 * After the runner returns, give stdout a moment to flush, then exit even if a stray handle lingers
 * (an interrupted run may still hold a socket; Cloud Run's SIGKILL is close after a SIGTERM).
 */
const exitAfterMs = (code: number) => (code >= 128 ? 200 : 2_000);

// A catalog that fails validation (a bug in this image) ends as one JSON line and exit 2, not a stack trace.
const catalog = await import("../jobs/index.ts").then(
  (m) => m.catalog,
  (error: unknown) => {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const line = {
      severity: "ERROR",
      message: `The job catalog of this image is invalid; fix the job files named below and rebuild: ${message}`,
      exit_code: 2,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    process.exit(2);
  },
);

let signals = 0;
const code = await runEntrypoint(process.argv.slice(2), {
  catalog,
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  isTTY: Boolean(process.stdout.isTTY),
  entry: process.env.npm_lifecycle_event === "job" ? "npm run job --" : "node src/main.ts",
  onSignal(handler) {
    const on = (signal: StopSignal) => () => {
      signals++;
      // A second Ctrl-C (or SIGTERM) means "now": skip the grace period.
      if (signals > 1) process.exit(signal === "SIGINT" ? 130 : 143);
      handler(signal);
    };
    process.on("SIGTERM", on("SIGTERM"));
    process.on("SIGINT", on("SIGINT"));
  },
}).catch((error: unknown) => {
  // A bug in the runner itself (it handles every job error): still one JSON line, still exit 1.
  const redact = createRedactor(secretValues(process.env));
  const message = redact(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  process.stdout.write(`${JSON.stringify({ severity: "ERROR", message: `Runner crashed: ${message}` })}\n`);
  return 1;
});
process.exitCode = code;
setTimeout(() => process.exit(code), exitAfterMs(code)).unref();
