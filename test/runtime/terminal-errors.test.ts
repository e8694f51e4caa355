/**
 * A failing job on a terminal prints plain lines — what failed, the likely cause, the fix — with a specific
 * hint for a refused connection, a name that does not resolve and TLS spoken to a plain-HTTP port; stacks
 * only at LOG_LEVEL=debug. Off a terminal the JSON lines stay, without stacks unless debug. The failures are
 * real: real sockets, a real DNS lookup, a real TLS handshake against a real plain-HTTP server.
 */
import { lookup } from "node:dns/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEntrypoint } from "../../src/runtime/runner.ts";
import { capture, fakeJob } from "./helpers/jobs.ts";

let plain: Server;
let plainPort = 0;
let closedPort = 0;

beforeAll(async () => {
  plain = createServer((_req, res) => res.end("plain http"));
  await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", resolve));
  plainPort = (plain.address() as AddressInfo).port;
  // A port that was just free: nothing listens there any more.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
});
afterAll(() => new Promise((resolve) => plain.close(resolve)));

const FAILURES = {
  refused: () => request(`http://127.0.0.1:${closedPort}/api/v1/quota/reset-daily`, { method: "POST" }),
  dns: () => lookup("no-such-host.invalid"),
  tls: () => request(`https://127.0.0.1:${plainPort}/api/v1/orgs`),
} as const;

async function failWith(kind: keyof typeof FAILURES, { tty = true, level = "info" } = {}) {
  const job = fakeJob({
    run: async () => {
      await FAILURES[kind]();
      return { status: "succeeded", message: "unreachable" };
    },
  });
  const io = capture();
  const code = await runEntrypoint(["fake-job"], {
    catalog: [job],
    env: { ENVIRONMENT: "sandbox", LOG_LEVEL: level },
    stdout: io.stdout,
    stderr: io.stderr,
    isTTY: tty,
  });
  return { code, io };
}

describe("on a terminal", () => {
  it.each([
    ["refused", `nothing listens at 127.0.0.1:`, "connection refused"],
    ["dns", "no-such-host.invalid does not exist", "check the URL for a typo"],
    ["tls", "answered TLS with plain HTTP", "use http://"],
  ] as const)("a %s failure is what failed plus one line of cause and fix", async (kind, cause, fix) => {
    const { code, io } = await failWith(kind);
    expect(code).toBe(1);
    const lines = io.out.trimEnd().split("\n");
    // The local-run note, then the failure and its hint (wrapped at 80 columns): no JSON, no stack.
    expect(lines.length).toBeLessThanOrEqual(4);
    lines[2] = lines.slice(2).join(" ").replace(/\s+/g, " ");
    expect(lines[0]).toContain("Local run of fake-job in sandbox: not a Cloud Run execution");
    expect(lines[1]).toMatch(/ERROR +fake-job failed: .*\(exit 1, \d+\.\d s\)$/);
    expect(lines[2]).toContain("likely cause: ");
    expect(lines[2]).toContain(cause);
    expect(lines[2]).toContain(fix);
    expect(io.out).not.toContain("{");
    expect(io.out).not.toMatch(/\n\s+at /);
    expect(io.out).not.toContain("SSL routines");
  });

  it("prints the stack under the lines at LOG_LEVEL=debug", async () => {
    const { io } = await failWith("refused", { level: "debug" });
    expect(io.out).toContain("likely cause: ");
    expect(io.out).toMatch(/\n\s+at /);
  });
});

describe("off a terminal", () => {
  it("keeps one JSON line per entry, with the error serialised and no stack", async () => {
    const { code, io } = await failWith("refused", { tty: false });
    expect(code).toBe(1);
    const [summary] = io.lines();
    expect(io.lines()).toHaveLength(1);
    expect(summary).toMatchObject({ severity: "ERROR", status: "failed", exit_code: 1 });
    expect(JSON.stringify(summary)).toContain("ECONNREFUSED");
    expect(JSON.stringify(summary)).not.toContain('"stack"');
  });

  it("adds stacks at LOG_LEVEL=debug", async () => {
    const { io } = await failWith("refused", { tty: false, level: "debug" });
    expect(JSON.stringify(io.lines().at(-1))).toContain('"stack"');
  });
});
