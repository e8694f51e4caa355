/** Plain job definitions for runner tests (the shape defineJob returns, every default spelled out). */
import type { JobContext } from "../../../src/runtime/context.ts";
import type { AnyJob, JobOutcome } from "../../../src/runtime/job.ts";

export function fakeJob(
  overrides: Partial<AnyJob> & { run?: (ctx: JobContext) => Promise<JobOutcome> },
): AnyJob {
  return {
    name: "fake-job",
    description: "A job for tests.",
    schedule: null,
    timeoutSeconds: 600,
    retries: 0,
    resources: { cpu: "1", memory: "512Mi" },
    tasks: 1,
    parallelism: 0,
    trigger: null,
    ifRunning: "run",
    oncePerDay: false,
    uses: [],
    routes: [],
    flags: {},
    env: null,
    run: async () => ({ status: "succeeded", message: "done" }),
    ...overrides,
  } as AnyJob;
}

/** Collects what the runner writes; `lines()` parses stdout's JSON lines. */
export function capture() {
  let stdout = "";
  let stderr = "";
  return {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    get out() {
      return stdout;
    },
    get err() {
      return stderr;
    },
    lines: () =>
      stdout
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
