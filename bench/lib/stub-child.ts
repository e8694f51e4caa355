/**
 * The latency-only stub admin API (./stub-admin-api.ts) in a process of its own, so that its timers and
 * JSON answers do not share an event loop with the job being measured. Started by ./stub-process.ts; sends
 * `{ url }` over IPC once listening, stops on "stop" or when the parent goes away.
 */
import { startStubAdminApi } from "./stub-admin-api.ts";

const api = await startStubAdminApi({
  orgs: Number(process.env.BENCH_ORGS ?? "200"),
  latencyMs: Number(process.env.BENCH_LATENCY_MS ?? "20"),
});
process.send?.({ url: api.url });
const stop = async () => {
  await api.close();
  process.exit(0);
};
process.on("message", (message) => {
  if (message === "stop") void stop();
});
process.on("disconnect", () => void stop());
