import { startSandboxProcess } from "./lib/sandbox-process.ts";
import { runEntrypoint } from "../src/runtime/runner.ts";
import { catalog } from "../jobs/index.ts";
let t = performance.now();
const sb = await startSandboxProcess({ orgs: 200 });
console.log("sandbox", performance.now() - t);
for (const [c, lat] of [[8,0],[1,0],[8,0],[32,0],[1,20],[8,20],[32,20]]) {
  await sb.setFaults(lat ? [{ route: "POST /api/v1/organizations/*", latencyMs: lat }] : []);
  await sb.resetCounts();
  let out = "";
  t = performance.now();
  const code = await runEntrypoint(["org-sync-all", "--concurrency", String(c)], { catalog, env: { ...sb.env, CLOUD_RUN_EXECUTION: `x-${c}-${lat}-${Date.now()}` }, stdout: { write: (s: string) => { out += s; } }, stderr: process.stderr });
  const ms = performance.now() - t;
  const last = JSON.parse(out.trim().split("\n").at(-1)!);
  console.log(c, lat, code, Math.round(ms), last.message, JSON.stringify(await sb.counts()));
}
await sb.stop();
