/**
 * Test support for the operators' tools: drive `main(argv, io)` in-process and capture its output, and a
 * counting proxy in front of the sandbox (to prove a declined confirmation sent nothing that mutates).
 */
import { createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { main } from "../../src/ops/cli.ts";
import type { Io } from "../../src/ops/io.ts";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * gcp-metadata (google-auth's metadata server client) reads these from process.env, not from the CLI's
 * io.env: an in-process run copies them over, as a real process would have them. Without a
 * GCE_METADATA_HOST, detection is off, so no test ever probes the real link-local metadata address.
 */
async function metadataEnvironment(env: Record<string, string | undefined> | undefined): Promise<void> {
  const wanted = {
    GCE_METADATA_HOST: env?.GCE_METADATA_HOST,
    METADATA_SERVER_DETECTION:
      env?.METADATA_SERVER_DETECTION ?? (env?.GCE_METADATA_HOST ? undefined : "none"),
  };
  let changed = false;
  for (const [key, value] of Object.entries(wanted)) {
    if (process.env[key] === value) continue;
    changed = true;
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  if (changed) (await import("gcp-metadata")).resetIsAvailableCache();
}

/** Runs the CLI in-process; `stdin` lines become its standard input (absent = closed). */
export async function cli(argv: string[], io: Partial<Io> & { input?: string } = {}): Promise<CliResult> {
  await metadataEnvironment(io.env);
  let stdout = "";
  let stderr = "";
  const { input, ...rest } = io;
  const code = await main(argv, {
    pollMs: 100,
    ...rest,
    stdin: input === undefined ? undefined : Readable.from([input]),
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

export interface CountingProxy {
  url: string;
  /** `METHOD path` of every request seen. */
  requests: string[];
  mutating(): string[];
  close(): Promise<void>;
}

/** A pass-through HTTP proxy to `upstream` that records every request. */
export async function countingProxy(upstream: string): Promise<CountingProxy> {
  const requests: string[] = [];
  const target = new URL(upstream);
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const forward = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    // entries:list is a read that happens to be a POST.
    mutating: () => requests.filter((line) => !line.startsWith("GET ") && !line.includes("entries:list")),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** `create-all-jobs sandbox` through the CLI; throws with its output when it fails (a beforeAll step). */
export async function provisionSandbox(env: Record<string, string | undefined>): Promise<void> {
  const provision = await cli(["create-all-jobs", "sandbox"], { env });
  if (provision.code !== 0) throw new Error(`provisioning failed:\n${provision.stdout}\n${provision.stderr}`);
}
