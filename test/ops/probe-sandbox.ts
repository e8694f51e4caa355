import { writeFileSync } from "node:fs";
import { startSandbox } from "../../sandbox/index.ts";
const s = await startSandbox({ quiet: true, scheduler: { autoTick: false } });
writeFileSync("/tmp/opsprobe/env.sh", Object.entries(s.env).map(([k, v]) => `export ${k}='${v}'`).join("\n"));
process.on("SIGTERM", async () => { await s.stop(); process.exit(0); });
setInterval(() => {}, 1000);
