/**
 * The scans of section 6's newer places find what they look for: a key written to an execution's log
 * (served by entries:list) or passed in a task's argv is reported, in each encoding. The clean figures
 * (nothing found in real executions) come from test/jobs/cloud-run-concurrency.test.ts.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { forms, scanExecutionLogs, scanTaskArgv } from "../../reliability/secrets.ts";
import { KEYS } from "../../reliability/stack.ts";
import { SANDBOX, type Sandbox, startSandbox } from "../../sandbox/index.ts";

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ quiet: true, data: false, scheduler: { autoTick: false } });
});
afterAll(() => sandbox?.stop());

const ref = (execution: string) => ({
  project: SANDBOX.project,
  location: SANDBOX.location,
  job: "alerts-sandbox",
  execution,
  taskIndex: 0,
  attempt: 0,
});

it("a key in any encoding in an execution log line is found through entries:list", async () => {
  const logs = sandbox.cloudRun.executions.deps.logs;
  const encoded = forms(KEYS.CA_ROOT_API_KEY);
  for (const [form, value] of Object.entries(encoded))
    logs.append(ref(`leak-${form}`), "stdout", JSON.stringify({ severity: "INFO", message: `x ${value} y` }));
  logs.append(ref("clean"), "stdout", "nothing to see");
  const r = await scanExecutionLogs(sandbox.urls.cloudRun, SANDBOX.project);
  expect(r.entries).toBe(Object.keys(encoded).length + 1);
  // Each line holds one encoding; a raw key is also inside nothing else, so every form is found once at least.
  expect(new Set(r.findings.map((f) => f.form))).toEqual(new Set(Object.keys(encoded)));
  expect(r.findings.every((f) => f.where.startsWith("log leak-"))).toBe(true);
});

it("a token in a task's argv, as spawned or as /proc showed it, is found", () => {
  const task = { execution: "e", taskIndex: 0, attempt: 0, pid: 1 };
  const r = scanTaskArgv([
    {
      ...task,
      spawnargs: ["node", "main.js", "alerts"],
      cmdline: ["node", "main.js", `--org=${encodeURIComponent(KEYS.SUPABASE_ACCESS_TOKEN)}`],
    },
    { ...task, spawnargs: ["node", "main.js", "alerts"], cmdline: null },
  ]);
  expect(r).toMatchObject({ tasks: 2, tasksWithCmdline: 1 });
  expect(r.findings.map((f) => f.key)).toContain("SUPABASE_ACCESS_TOKEN");
});
