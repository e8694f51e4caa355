/**
 * Section (6): the sandbox's key and token, and their base64, base64url and URL-encoded forms, searched
 * in everything the other sections recorded (every log line and error of every run, in-process and
 * child), in the Cloud Run emulator's execution logs (entries:list) and its task processes' argv, in
 * files (`.sandbox/`, the image layout), and the redirect test: an API base URL that answers 307 to
 * another loopback port must not carry the key there.
 */

import { readdir, readFile, stat } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { catalog } from "../jobs/index.ts";
import type { SpawnedTask } from "../sandbox/cloud-run/tasks.ts";
import { SANDBOX, type Sandbox } from "../sandbox/index.ts";
import { cli } from "../test/ops/support.ts";
import { KEYS, runInProcess, transcript } from "./stack.ts";

/** The forms a value can leak in. */
export function forms(value: string): Record<string, string> {
  const out: Record<string, string> = {
    raw: value,
    base64: Buffer.from(value).toString("base64").replace(/=+$/, ""),
    base64url: Buffer.from(value).toString("base64url"),
  };
  if (encodeURIComponent(value) !== value) out.url = encodeURIComponent(value);
  return out;
}

export interface Finding {
  where: string;
  key: string;
  form: string;
}

export function scan(where: string, text: string): Finding[] {
  const found: Finding[] = [];
  for (const [key, value] of Object.entries(KEYS))
    for (const [form, needle] of Object.entries(forms(value)))
      if (text.includes(needle)) found.push({ where, key, form });
  return found;
}

/** Every recorded output: `{ scanned, findings }`. */
export function scanTranscript() {
  const findings = transcript.flatMap(([where, text]) => scan(where, text));
  const bytes = transcript.reduce((n, [, t]) => n + t.length, 0);
  return { scanned: transcript.length, bytes, findings };
}

/** Every file under `dir` (missing dir: nothing). */
export async function scanFiles(dir: string) {
  const findings: Finding[] = [];
  let files = 0;
  const walk = async (d: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== "node_modules") await walk(p);
      } else if (e.isFile() && (await stat(p)).size < 5_000_000) {
        files++;
        findings.push(...scan(p, (await readFile(p)).toString("latin1")));
      }
    }
  };
  await walk(dir);
  return { files, findings };
}

/** A job whose API answers 307 to another loopback origin: what reached that origin. */
export async function redirectTest(base: Record<string, string>) {
  const seen: { headers: Record<string, unknown> }[] = [];
  const other = createServer((req, res) => {
    seen.push({ headers: req.headers });
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
  await new Promise<void>((r) => other.listen(0, "127.0.0.1", r));
  const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
  const redirector = createServer((req, res) =>
    res.writeHead(307, { location: `${otherUrl}${req.url}` }).end(),
  );
  await new Promise<void>((r) => redirector.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}`;
  const results = [];
  for (const job of ["quota-reset", "alerts", "bootstrap", "org-sync-all"]) {
    const { code, out } = await runInProcess([job], { ...base, API_SERVICE_URL: url });
    results.push({ job, code, refused: /redirected to another origin/.test(out) });
  }
  await new Promise((r) => redirector.close(r));
  await new Promise((r) => other.close(r));
  const leaked = seen.filter((s) => JSON.stringify(s.headers).includes(KEYS.CA_ROOT_API_KEY)).length;
  return { results, requestsAtOtherOrigin: seen.length, keyAtOtherOrigin: leaked };
}

/**
 * Every execution log entry the Cloud Run emulator keeps, read as operators read them (Cloud Logging
 * `entries:list`, every page), each entry scanned whole (payload, labels, names).
 */
export async function scanExecutionLogs(cloudRunUrl: string, project: string) {
  const findings: Finding[] = [];
  let entries = 0;
  let pageToken: string | undefined;
  do {
    const res = await fetch(`${cloudRunUrl}/v2/entries:list`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ resourceNames: [`projects/${project}`], pageSize: 1000, pageToken }),
    });
    if (!res.ok) throw new Error(`entries:list answered ${res.status}: ${await res.text()}`);
    const page = (await res.json()) as { entries?: Record<string, unknown>[]; nextPageToken?: string };
    for (const e of page.entries ?? []) {
      entries++;
      const labels = (e.labels ?? {}) as Record<string, string>;
      findings.push(...scan(`log ${labels["run.googleapis.com/execution_name"]}`, JSON.stringify(e)));
    }
    pageToken = page.nextPageToken;
  } while (pageToken);
  return { entries, findings };
}

/**
 * The argv of every task process the emulator started: as passed to exec, and as /proc showed it while
 * the task ran (`tasksWithCmdline` says for how many that could be read).
 */
export function scanTaskArgv(spawned: readonly SpawnedTask[]) {
  const findings = spawned.flatMap((t) =>
    scan(
      `argv of ${t.execution} task ${t.taskIndex}/${t.attempt}`,
      [...t.spawnargs, ...(t.cmdline ?? [])].join("\0"),
    ),
  );
  return { tasks: spawned.length, tasksWithCmdline: spawned.filter((t) => t.cmdline).length, findings };
}

/**
 * Every catalog job provisioned (create-all-jobs) and run once as a Cloud Run execution of `sandbox`
 * (real task processes, the job's own env and secrets), then its execution logs and task argv scanned.
 */
export async function executeEveryJob(sandbox: Sandbox) {
  const applied = await cli(["create-all-jobs", "sandbox"], { env: sandbox.env });
  if (applied.code !== 0) throw new Error(`create-all-jobs exited ${applied.code}: ${applied.stderr}`);
  const parent = `projects/${SANDBOX.project}/locations/${SANDBOX.location}/jobs`;
  const jobs: string[] = [];
  for (const job of catalog) {
    const res = await fetch(`${sandbox.urls.cloudRun}/v2/${parent}/${job.name}-sandbox:run`, {
      method: "POST",
      body: "{}",
    });
    const op = (await res.json()) as { metadata?: { name?: string } };
    const name = op.metadata?.name;
    if (!res.ok || !name) throw new Error(`run ${job.name}: HTTP ${res.status}`);
    await sandbox.cloudRun.executions.settled(name);
    const e = sandbox.cloudRun.executions.get(name);
    jobs.push(`${job.name} ${e.succeededCount === e.taskCount ? "succeeded" : "failed"}`);
  }
  return {
    executions: catalog.length,
    jobs,
    logs: await scanExecutionLogs(sandbox.urls.cloudRun, SANDBOX.project),
    argv: scanTaskArgv(sandbox.cloudRun.executions.spawned),
  };
}
