/**
 * Section (6): the sandbox's key and token, and their base64, base64url and URL-encoded forms, searched
 * in everything the other sections recorded (every log line and error of every run, in-process and
 * child), in files (`.sandbox/`, the image layout), and the redirect test: an API base URL that answers
 * 307 to another loopback port must not carry the key there.
 */

import { readdir, readFile, stat } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
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
