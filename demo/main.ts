/**
 * `npm start`: the whole product on one machine, through the same code paths operators use.
 *
 * 1. start the sandbox (emulated Cloud Run, Scheduler, Secret Manager, BigQuery, Supabase, admin API);
 * 2. `create-all-jobs sandbox`: plan, then apply a Cloud Run job per catalog job and a Scheduler trigger per scheduled one;
 * 3. `release sandbox`: migrate → bootstrap → org-sync-all as real executions;
 * 4. fire each trigger once (Cloud Scheduler "run now", which POSTs to the emulated `:run`);
 * 5. `list-jobs sandbox`: the status table, every verdict OK;
 * 6. alerts (demo/alerts.ts): a paused trigger and a failing run raise one incident each, healthy jobs none;
 * then stay up with the scheduler ticking until Ctrl-C.
 *
 * `--exit` stops after step 5 (exit code 0 only when every verdict is OK): the demo's own test uses it.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { claimEndpoints, releaseEndpoints, writeEndpoints } from "../sandbox/endpoints-file.ts";
import { REPO_ROOT, startSandbox } from "../sandbox/index.ts";
import { main as ops } from "../src/ops/cli.ts";
import { createClients, parentOf } from "../src/ops/clients.ts";
import type { Io } from "../src/ops/io.ts";
import { screenWidth, wrapLine } from "../src/ops/screen.ts";
import { resolveTarget } from "../src/ops/target.ts";
import { demoAlerts } from "./alerts.ts";

const exitAfterDemo = process.argv.includes("--exit");
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
const bold =
  process.stdout.isTTY && !process.env.NO_COLOR ? (t: string) => `\x1b[1m${t}\x1b[0m` : (t: string) => t;
// Every line the demo writes itself fits the terminal (COLUMNS, its width, else 80), as the commands' do.
const width = screenWidth({ env: process.env, stdout: process.stdout });
const print = (text: string) => {
  for (const line of text.split("\n")) process.stdout.write(`${wrapLine(line, width, 2).join("\n")}\n`);
};
const say = (text: string) =>
  process.stdout.write(`\n${wrapLine(`[${elapsed()}] ${text}`, width, 2).map(bold).join("\n")}\n`);

say("Starting the sandbox on 127.0.0.1 (no account, no network)…");
const logFile = join(REPO_ROOT, ".sandbox", "demo.log");
mkdirSync(join(REPO_ROOT, ".sandbox"), { recursive: true });
writeFileSync(logFile, "");
const sandbox = await startSandbox({
  orgs: { active: 12, inactive: 3 },
  log: (line) => writeFileSync(logFile, `${line}\n`, { flag: "a" }),
});
const endpointsFile = join(REPO_ROOT, ".sandbox", "endpoints.json");
// Another sandbox already owns the file: leave it to that one (the demo passes its own endpoints directly).
const otherSandbox = claimEndpoints(endpointsFile, process.pid);
if (otherSandbox === null) writeEndpoints(endpointsFile, { env: sandbox.env, pid: process.pid });

let stopping = false;
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    process.stdout.write("\nStopping the sandbox…\n");
    await sandbox.stop();
    releaseEndpoints(endpointsFile, process.pid);
  }
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));

const io: Partial<Io> = {
  env: sandbox.env,
  stdout: process.stdout,
  stderr: process.stderr,
  isTTY: Boolean(process.stdout.isTTY),
  cwd: REPO_ROOT,
  pollMs: 250,
};
for (const [name, url] of Object.entries(sandbox.urls)) process.stdout.write(`  ${name.padEnd(14)} ${url}\n`);

async function step(title: string, argv: string[]): Promise<void> {
  say(title);
  const code = await ops(argv, io);
  if (code !== 0) {
    process.stdout.write(`\n\`${argv.join(" ")}\` exited ${code}; the sandbox log is ${logFile}\n`);
    await stop(1);
  }
}

await step("Provisioning: ./scripts/create-all-jobs.sh sandbox", ["create-all-jobs", "sandbox"]);
await step("Release: ./scripts/release.sh sandbox (migrate → bootstrap → org-sync-all)", [
  "release",
  "sandbox",
]);

say("Firing each Cloud Scheduler trigger once (run now → POST …:run)…");
const target = await resolveTarget("sandbox", { env: sandbox.env, cwd: REPO_ROOT } as Io);
const clients = createClients(target);
const scheduler = await clients.scheduler();
const [triggers] = await scheduler.listJobs({ parent: parentOf(target) });
const fired: string[] = [];
for (const trigger of triggers) {
  if (!trigger.name) continue;
  await scheduler.runJob({ name: trigger.name });
  fired.push(trigger.name.split("/").pop() ?? trigger.name);
}
print(`  fired: ${fired.join(", ")}`);

// Wait until every triggered execution has finished (bounded: the demo must not hang).
const executionsClient = await clients.executions();
const deadline = Date.now() + 60_000;
for (;;) {
  const running: string[] = [];
  for (const name of fired) {
    const job = `${parentOf(target)}/jobs/${name.replace(/-trigger$/, "")}`;
    const [executions] = await executionsClient.listExecutions({ parent: job });
    if (executions.length === 0 || executions.some((e) => !e.completionTime)) running.push(name);
  }
  if (running.length === 0) break;
  if (Date.now() > deadline) {
    process.stdout.write(`  still running after 60 s: ${running.join(", ")}\n`);
    break;
  }
  await new Promise((resolve) => setTimeout(resolve, 250));
}
await clients.close();

say("Status: ./scripts/list-jobs.sh sandbox");
await ops(["list-jobs", "sandbox"], io);
const json: string[] = [];
await ops(["list-jobs", "sandbox", "--json"], {
  ...io,
  stdout: { write: (s: string) => json.push(s) } as never,
});
const rows = JSON.parse(json.join("")) as
  | { jobs?: { job: string; verdict: string }[] }
  | { job: string; verdict: string }[];
const list = Array.isArray(rows) ? rows : (rows.jobs ?? []);
const notOk = list.filter((row) => row.verdict !== "OK");
say(
  notOk.length === 0
    ? `All ${list.length} jobs OK — scripted part done in ${elapsed()}.`
    : `Not OK: ${notOk.map((r) => `${r.job} ${r.verdict}`).join(", ")}`,
);
const alerting = await demoAlerts(sandbox, target, say, print);
const alertsOk = alerting.failed === 1 && alerting.missed === 1 && alerting.others === 0;
say(
  `Alert incidents: ${alerting.failed} failed run, ${alerting.missed} missed run, ${alerting.others} from healthy jobs${alertsOk ? " — as expected." : " — NOT as expected."}`,
);
if (exitAfterDemo) await stop(notOk.length === 0 && alertsOk ? 0 : 1);

print(`
The sandbox keeps running, with the scheduler ticking in real time. In another terminal, try:
  ./scripts/run-job.sh sandbox alerts            # run as an execution, wait, logs
  ./scripts/run-job.sh sandbox quota-cleanup --dry-run
  ./scripts/list-jobs.sh sandbox                 # the status table (--json too)
  curl ${sandbox.urls.monitoring}/sandbox/incidents
                                                 # the alert incidents raised
  ./scripts/create-all-jobs.sh sandbox --plan    # the plan: 0 changes now
  ./scripts/release.sh sandbox --from bootstrap  # resume a release
${otherSandbox === null ? "The scripts find this sandbox through .sandbox/endpoints.json." : ".sandbox/endpoints.json belongs to another running sandbox (the scripts talk to that one)."} Sandbox log: ${logFile}
Press Ctrl-C to stop everything.`);
