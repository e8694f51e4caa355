/** Running the bad-input cases of ./corpus.ts and judging each: exit 2, names it, names a fix, no stack, 0 requests. */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Case } from "./corpus.ts";
import { record, requestCounts, resetCounts, total } from "./stack.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** A hint of a fix: an instruction, not just a complaint. */
export const FIX =
  /\b(use|set|remove|pass|rename|add|move|unset|expected|one of|valid|write|see|must be|put|accepts|usage|wants)\b|e\.g\.|--help/i;
/** A JavaScript stack frame. */
export const STACK = /\n\s+at .+(:\d+:\d+\)?|\(native\))/;

export function runScript(
  file: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(ROOT, "scripts", file), args, {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("close", (code) => {
      record(`scripts/${file} ${args.join(" ")}`, out);
      resolve({ code: code ?? -1, out });
    });
  });
}

export interface CaseResult {
  kind: Case["kind"];
  name: string;
  code: number;
  namesIt: boolean;
  namesFix: boolean;
  stackTrace: boolean;
  requests: number;
  ok: boolean;
  message: string;
}

/** Runs each case against the sandbox whose env is `base` (every service URL in it is counted). */
export async function runCorpus(cases: Case[], base: Record<string, string>): Promise<CaseResult[]> {
  const out: CaseResult[] = [];
  for (const c of cases) {
    await resetCounts(base);
    const { code, out: text } = await c.run(base);
    const requests = total(await requestCounts(base));
    const namesIt = text.includes(c.names) || text.includes(JSON.stringify(c.names).slice(1, -1));
    const namesFix = FIX.test(text);
    const stackTrace = STACK.test(text.replace(/\\n/g, "\n"));
    const message =
      (/"message":"((?:[^"\\]|\\.)*)"/.exec(text)?.[1] ?? text).split("\n")[0]?.slice(0, 200) ?? "";
    const ok = code === 2 && namesIt && namesFix && !stackTrace && requests === 0;
    out.push({ kind: c.kind, name: c.name, code, namesIt, namesFix, stackTrace, requests, ok, message });
  }
  return out;
}
