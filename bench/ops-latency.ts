/**
 * How fast the operators' commands answer with `latencyMs` added to every emulated Google API request (sandbox
 * fault rules), each against the same work done one call at a time in the same run:
 * - `create-all-jobs` from an empty project: from its first Google request to its last answer (the Google
 *   part of the command; start-up is the start-up benchmark's), against the same reads and writes made
 *   through the same clients one after another;
 * - `list-jobs --json`: the same span, against its reads one after another;
 * - `run-job`: from the execution's completionTime to the wait noticing it, with the adaptive poll
 *   (poll.ts), against the former fixed 1 s poll.
 * Every request passes a recording proxy (lib/request-timeline.ts), so each case also reports its dependent
 * round trips (levels) and the most requests it had in flight.
 */
import { catalog } from "../jobs/index.ts";
import { type Sandbox, startSandbox } from "../sandbox/index.ts";
import { applyAlertItem, planAlerts, readPolicies, resolveChannels } from "../src/ops/alerting/plan.ts";
import { resolveApiUrl } from "../src/ops/api-url.ts";
import { main } from "../src/ops/cli.ts";
import { createClients, parentOf } from "../src/ops/clients.ts";
import { desiredState } from "../src/ops/desired.ts";
import { startExecution, toDate, waitForExecution } from "../src/ops/execution.ts";
import type { Io } from "../src/ops/io.ts";
import { buildPlan } from "../src/ops/plan.ts";
import { resolveTarget } from "../src/ops/target.ts";
import { dependentLevels, startTimeline, type Timeline } from "./lib/request-timeline.ts";
import { type BenchResult, toCases } from "./lib/result.ts";
import { interleave } from "./lib/stats.ts";

const GOOGLE = ["cloudRun", "scheduler", "secretManager", "monitoring"] as const;
/** Tasks that end after 300–800 ms, so an end falls anywhere between two polls. */
const TASK = "setTimeout(() => process.exit(0), 300 + Math.random() * 500)";

const quietIo = (env: Record<string, string>, pollMs?: number): Io => ({
  env,
  stdout: { write: () => true },
  stderr: { write: () => true },
  ...(pollMs ? { pollMs } : {}),
});

/** Runs a CLI command in-process; a failure fails the benchmark rather than timing a fast error. */
async function command(argv: string[], env: Record<string, string>): Promise<void> {
  let output = "";
  const write = (text: string) => {
    output += text;
    return true;
  };
  const code = await main(argv, { env, stdout: { write }, stderr: { write } });
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}:\n${output.slice(-2000)}`);
}

/** The Google part of one run: first request sent → last answer received, and its round-trip levels. */
async function span(timeline: Timeline, work: () => Promise<unknown>): Promise<number> {
  timeline.reset();
  await work();
  const starts = timeline.requests.map((r) => r.start);
  return Math.max(...timeline.requests.map((r) => r.end)) - Math.min(...starts);
}

/** Deletes every job, trigger and policy in the sandbox project (untimed, no latency). */
async function emptyProject(sandbox: Sandbox): Promise<void> {
  const parent = "projects/sandbox-project/locations/us-central1";
  const all = async (url: string, key: string) =>
    (((await (await fetch(url)).json()) as Record<string, { name: string }[]>)[key] ?? []).map((r) => r.name);
  const drop = (base: string, version: string, names: string[]) =>
    Promise.all(names.map((name) => fetch(`${base}/${version}/${name}`, { method: "DELETE" })));
  const { cloudRun, scheduler, monitoring } = sandbox.urls;
  await drop(scheduler, "v1", await all(`${scheduler}/v1/${parent}/jobs`, "jobs"));
  await drop(cloudRun, "v2", await all(`${cloudRun}/v2/${parent}/jobs`, "jobs"));
  await drop(
    monitoring,
    "v3",
    await all(`${monitoring}/v3/projects/sandbox-project/alertPolicies`, "alertPolicies"),
  );
}

/** create-all-jobs' reads and writes, through the same clients, one call at a time. */
async function createAllOneAtATime(env: Record<string, string>): Promise<void> {
  const io = quietIo(env);
  const target = await resolveTarget("sandbox", io);
  const clients = createClients(target);
  try {
    const desired = desiredState(catalog, target, {
      commit: "bench",
      apiUrl: resolveApiUrl(target, undefined),
    });
    for (const secret of desired.secrets)
      await (await clients.secrets()).getSecret({ name: `projects/${target.env.project}/secrets/${secret}` });
    const channels = await resolveChannels(clients, target);
    const deployed = await readPolicies(clients, target);
    const [runJobs] = await (await clients.jobs()).listJobs({ parent: parentOf(target) });
    const [triggers] = await (await clients.scheduler()).listJobs({ parent: parentOf(target) });
    const plan = buildPlan(desired, { runJobs, triggers }, target, {});
    for (const item of plan.items.filter((i) => i.action === "create")) {
      if (item.kind === "run-job") {
        const job = { ...item.desired, name: "" };
        const jobId = item.name.split("/").pop() ?? "";
        const [operation] = await (await clients.jobs()).createJob({ parent: parentOf(target), jobId, job });
        await operation.promise();
      } else {
        const { state: _state, ...job } = item.desired as { state?: string };
        await (await clients.scheduler()).createJob({ parent: parentOf(target), job });
      }
    }
    const alerts = planAlerts(catalog, target, channels.names, deployed);
    for (const item of alerts.items) await applyAlertItem(item, clients, target);
  } finally {
    await clients.close();
  }
}

/** list-jobs' reads, one call at a time. */
async function listOneAtATime(env: Record<string, string>): Promise<void> {
  const target = await resolveTarget("sandbox", quietIo(env));
  const clients = createClients(target);
  try {
    await (await clients.jobs()).listJobs({ parent: parentOf(target) });
    await (await clients.scheduler()).listJobs({ parent: parentOf(target) });
  } finally {
    await clients.close();
  }
}

/** Starts an execution and waits for it; returns ms from its completionTime to the wait returning. */
async function noticeDelay(env: Record<string, string>, job: string, pollMs?: number): Promise<number> {
  const io = quietIo(env, pollMs);
  const target = await resolveTarget("sandbox", io);
  const clients = createClients(target);
  try {
    const name = await startExecution(clients, `${parentOf(target)}/jobs/${job}`, []);
    const result = await waitForExecution(name, { io, clients, target });
    const ended = toDate(result.execution.completionTime);
    if (result.status !== "succeeded" || !ended) throw new Error(`${name} ended ${result.status}`);
    return Date.now() - ended.getTime();
  } finally {
    await clients.close();
  }
}

export interface OpsLatencyOptions {
  latencyMs: number;
  rounds: number;
  minRounds: number;
  budgetMs: number;
}

export async function benchOpsLatency(opts: OpsLatencyOptions): Promise<BenchResult> {
  const started = performance.now();
  const sandbox = await startSandbox({
    quiet: true,
    data: false,
    entry: [process.execPath, "-e", TASK],
    scheduler: { autoTick: false },
  });
  const timeline = await startTimeline(sandbox.env);
  const slow = () => {
    for (const service of GOOGLE) sandbox.faults.set(service, { route: "*", latencyMs: opts.latencyMs });
  };
  const env = timeline.env;
  const levels: Record<string, string> = {};
  const record = (label: string) => {
    const l = dependentLevels(timeline.requests);
    levels[label] =
      `${l.levels} level(s) + ${l.operationWaits} operation wait(s), ${l.requests} requests, up to ${l.peakInFlight} in flight`;
  };
  const fresh = async (work: () => Promise<unknown>, label: string) => {
    sandbox.faults.clear();
    await emptyProject(sandbox);
    slow();
    const ms = await span(timeline, work);
    record(label);
    return ms;
  };
  try {
    const job = "stale-cleanup-sandbox";
    const cases = [
      {
        label: "create-all-jobs from empty",
        run: () => fresh(() => command(["create-all-jobs", "sandbox"], env), "create-all-jobs from empty"),
      },
      {
        label: "create-all-jobs' calls one at a time",
        run: () => fresh(() => createAllOneAtATime(env), "create-all-jobs' calls one at a time"),
      },
    ];
    const provisioned = await interleave(cases, opts);
    // A provisioned project for the rest, with one finished execution.
    sandbox.faults.clear();
    await command(["create-all-jobs", "sandbox"], env);
    slow();
    await noticeDelay(env, job);
    const listed = await interleave(
      [
        {
          label: "list-jobs",
          run: () =>
            span(timeline, () => command(["list-jobs", "sandbox", "--json"], env)).finally(() =>
              record("list-jobs"),
            ),
        },
        {
          label: "list-jobs' reads one at a time",
          run: () =>
            span(timeline, () => listOneAtATime(env)).finally(() => record("list-jobs' reads one at a time")),
        },
      ],
      opts,
    );
    const noticed = await interleave(
      [
        { label: "run-job, adaptive poll", run: () => noticeDelay(env, job) },
        { label: "run-job, fixed 1 s poll (before)", run: () => noticeDelay(env, job, 1000) },
      ],
      opts,
    );
    return {
      id: "ops-latency",
      title: `Operators' commands with ${opts.latencyMs} ms added to every Google API request`,
      measures: `create-all-jobs and list-jobs: ms from the command's first Google request to its last answer; run-job: ms from the execution's completionTime to the wait noticing it`,
      ratioMeans:
        "each command ÷ its own baseline in the same run (create-all-jobs and list-jobs: the same calls one at a time; run-job: the former fixed 1 s poll); below 1 is faster. The summary's baseline column shows the first of the three",
      cases: [
        ...toCases(provisioned, "create-all-jobs' calls one at a time", "ms"),
        ...toCases(listed, "list-jobs' reads one at a time", "ms"),
        ...toCases(noticed, "run-job, fixed 1 s poll (before)", "ms"),
      ],
      notes: [
        ...Object.entries(levels).map(
          ([label, text]) => `${label}: ${text} (last sample, lib/request-timeline.ts).`,
        ),
        "Targets (issue 12): create-all-jobs at most 3 dependent round-trip levels plus the operation waits; list-jobs one wave; run-job notices an end within 250 ms.",
        "A level is a request that started only after another ended (the longest such chain); an operation wait is a poll of a Cloud Run write's long-running operation.",
        `run-job's first reads come every 100 ms (poll.ts) and each takes ${opts.latencyMs} ms here, so it notices an end about one poll interval plus one or two reads after it.`,
      ],
      durationMs: performance.now() - started,
    };
  } finally {
    await timeline.close();
    await sandbox.stop();
  }
}
