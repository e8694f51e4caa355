/**
 * Benchmark 2: job cold start. Wall time from spawn to exit of the entrypoint answering `--version`
 * (imports the catalog and the runtime, does no work), against a bare `node -e 0` as the baseline.
 * Two ways to start the entrypoint: through tsx (how the sandbox and `npm run job` start it) and plain
 * `node src/main.ts` (Node 24 strips the types itself, no loader).
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type BenchResult, toCases } from "./lib/result.ts";
import { interleave } from "./lib/stats.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BASELINE = "node -e 0 (bare node)";
const SPAWN_TIMEOUT_MS = 30_000;

interface Spawned {
  ms: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Spawns `node …args` in the repository root and times it until exit. */
function timeSpawn(args: string[]): Promise<Spawned> {
  // NODE_OPTIONS from the shell (or a loader the parent runs under) would load into the children too.
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), SPAWN_TIMEOUT_MS);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ ms: performance.now() - started, code, stdout, stderr });
    });
  });
}

/** Times a command, failing loudly when it does not do what it should (a fast crash is not a start). */
const timed = (args: string[]) => async () => {
  const r = await timeSpawn(args);
  if (r.code !== 0) throw new Error(`node ${args.join(" ")} exited ${r.code}: ${r.stderr.slice(0, 500)}`);
  return r.ms;
};

/**
 * @example
 * const result = await benchColdStart({ rounds: 10, budgetMs: 30_000 });
 */
export async function benchColdStart(opts: {
  rounds: number;
  minRounds: number;
  budgetMs: number;
}): Promise<BenchResult> {
  const started = performance.now();
  const notes: string[] = [];
  const cases = [
    { label: BASELINE, run: timed(["-e", "0"]) },
    // The loader alone, so the entrypoint's own import cost is the difference to the next case.
    { label: "node --import tsx -e 0 (tsx loader only)", run: timed(["--import", "tsx", "-e", "0"]) },
    {
      label: "node --import tsx src/main.ts --version",
      run: timed(["--import", "tsx", "src/main.ts", "--version"]),
    },
  ];
  // Node 24 runs .ts files by stripping types; check it really works for the entrypoint before timing it.
  const probe = await timeSpawn(["src/main.ts", "--version"]);
  if (probe.code === 0 && probe.stdout.startsWith("scheduler-jobs ")) {
    cases.push({
      label: "node src/main.ts --version (native type stripping)",
      run: timed(["src/main.ts", "--version"]),
    });
  } else {
    notes.push(
      `Skipped \`node src/main.ts --version\`: it exited ${probe.code} (${(probe.stderr.split("\n")[0] ?? "").slice(0, 200)}).`,
    );
  }
  // One untimed start of each warms the OS file cache, so round 1 is not an outlier.
  for (const c of cases) await c.run();
  const samples = await interleave(cases, opts);
  return {
    id: "cold-start",
    title: "Job cold start",
    measures:
      "wall time (ms) from spawn to exit of one process, `--version` (imports catalog + runtime, no work)",
    ratioMeans: "overhead: median ms of the case ÷ median ms of bare `node -e 0`, same run",
    cases: toCases(samples, BASELINE, "ms"),
    notes: [`Spawned with ${process.execPath} (${process.version}), NODE_OPTIONS removed.`, ...notes],
    durationMs: performance.now() - started,
  };
}
