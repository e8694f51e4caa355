/**
 * An execution's logs through a local Cloud Logging `entries:list` server: the tail of a long log, in time
 * order, with the number of earlier lines left out; and the result block built from them.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClients } from "../../src/ops/clients.ts";
import type { ExecutionResult } from "../../src/ops/execution.ts";
import { resolveIo } from "../../src/ops/io.ts";
import { type ExecutionLogs, executionLogs } from "../../src/ops/logs.ts";
import { fetchLogs, resultLines, withSkip } from "../../src/ops/report.ts";
import type { Target } from "../../src/ops/target.ts";
import { ENVIRONMENTS } from "../../src/runtime/environments.ts";

/** Entries of a fake execution: line i at second i; the last one is the runner's summary. */
let entries: { timestamp: string; severity: string; jsonPayload: Record<string, unknown> }[] = [];
const setEntries = (count: number, summary?: Record<string, unknown>) => {
  entries = Array.from({ length: count }, (_, i) => ({
    timestamp: new Date(Date.UTC(2026, 10, 22, 0, 0, i)).toISOString(),
    severity: "INFO",
    jsonPayload: { message: `line ${i}` },
  }));
  const last = entries.at(-1);
  if (last && summary) last.jsonPayload = summary;
};
const orders: string[] = [];
const filters: string[] = [];
/** The next this many requests get an empty page with a token: Cloud Logging still searching. */
let emptyPages = 0;
/** The runner's summary line is not ingested yet: left out of answers to requests before this one. */
let summaryFromCall = 0;
let calls = 0;
let server: Server;
let target: Target;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const { orderBy, pageSize, pageToken, filter } = JSON.parse(body) as Record<string, string | number>;
      orders.push(String(orderBy));
      filters.push(String(filter));
      calls++;
      res.writeHead(200, { "content-type": "application/json" });
      if (emptyPages > 0) {
        emptyPages--;
        res.end(JSON.stringify({ entries: [], nextPageToken: String(pageToken ?? 0) }));
        return;
      }
      const ingested =
        calls >= summaryFromCall ? entries : entries.filter((e) => !("status" in e.jsonPayload));
      const sorted = String(orderBy).endsWith("desc") ? [...ingested].reverse() : ingested;
      const from = Number(pageToken ?? 0);
      const page = sorted.slice(from, from + Number(pageSize));
      const next = from + page.length < sorted.length ? String(from + page.length) : undefined;
      res.end(JSON.stringify({ entries: page, ...(next ? { nextPageToken: next } : {}) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  target = {
    env: ENVIRONMENTS.sandbox,
    endpoints: { cloudRun: url, scheduler: url, secretManager: url, env: {} },
    runApiBase: url,
    loggingBase: url,
  };
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const read = async (tail: number, options: { since?: Date; budgetMs?: number } = {}) => {
  const clients = createClients(target);
  try {
    return await executionLogs(target, clients, "quota-reset-sandbox-abc12", { tail, ...options });
  } finally {
    await clients.close();
  }
};

describe("executionLogs", () => {
  it("keeps the last lines of a long log, oldest first, and counts the earlier ones", async () => {
    setEntries(1200);
    const logs = await read(100);
    expect(orders.at(-1)).toBe("timestamp desc");
    expect(logs.lines).toHaveLength(100);
    expect(logs.lines[0]).toContain("line 1100");
    expect(logs.lines.at(-1)).toContain("line 1199");
    expect(logs).toMatchObject({ omitted: 1100, more: false });
  });

  it("says there is more when the log is longer than it reads", async () => {
    setEntries(5500);
    const logs = await read(10);
    expect(logs.lines.at(-1)).toContain("line 5499");
    expect(logs).toMatchObject({ omitted: 4990, more: true });
  });

  it("finds the runner's summary line", async () => {
    setEntries(5, {
      message: "quota-reset skipped: older execution x is still running",
      status: "skipped",
      exit_code: 0,
    });
    const logs = await read(100);
    expect(logs.summaries).toEqual([
      { status: "skipped", message: "quota-reset skipped: older execution x is still running" },
    ]);
    expect(logs.omitted).toBe(0);
  });
});

describe("reading logs that are still being searched or ingested", () => {
  const skipped = { message: "quota-reset skipped: not the 1st", status: "skipped", exit_code: 0 };
  const finished = (taskCount: number): ExecutionResult => ({
    name: "projects/p/locations/l/jobs/quota-reset-sandbox/executions/quota-reset-sandbox-abc12",
    status: "succeeded",
    durationMs: 1000,
    logUri: "https://console.cloud.google.com/logs?x",
    execution: { createTime: { seconds: Date.parse("2026-11-22T00:00:30Z") / 1000 }, taskCount },
  });
  const fetch = async (result: ExecutionResult, logWaitMs: number) => {
    const clients = createClients(target);
    try {
      return await fetchLogs(result, { io: resolveIo({ pollMs: 20, logWaitMs }), clients, target });
    } finally {
      await clients.close();
    }
  };

  it("bounds the search to a minute before the execution was created", async () => {
    setEntries(3);
    await read(100, { since: new Date("2026-11-22T00:00:30Z") });
    expect(filters.at(-1)).toBe(
      'resource.type="cloud_run_job" AND labels."run.googleapis.com/execution_name"="quota-reset-sandbox-abc12" AND timestamp>="2026-11-21T23:59:30.000Z"',
    );
  });

  it("does not count empty pages with a token toward the page limit", async () => {
    setEntries(3);
    emptyPages = 7;
    const before = calls;
    const logs = await read(100);
    expect(calls - before).toBe(8);
    expect(logs.lines).toHaveLength(3);
    expect(logs.more).toBe(false);
  });

  it("stops paging empty pages when its time is up and says there is more", async () => {
    setEntries(3);
    emptyPages = Number.MAX_SAFE_INTEGER;
    try {
      const logs = await read(100, { budgetMs: 150 });
      expect(logs).toMatchObject({ lines: [], more: true });
    } finally {
      emptyPages = 0;
    }
  });

  it("waits for the summary line that arrives late, so a skipped run is reported as skipped", async () => {
    setEntries(5, skipped);
    summaryFromCall = calls + 3;
    const result = finished(1);
    const logs = await fetch(result, 5000);
    expect(calls).toBeGreaterThanOrEqual(summaryFromCall);
    expect(logs?.arriving).toBeUndefined();
    expect(withSkip(result, logs).status).toBe("skipped");
    expect(filters.at(-1)).toContain('timestamp>="2026-11-21T23:59:30.000Z"');
  });

  it.each([
    ["the summary line never arrives", 5, Number.MAX_SAFE_INTEGER, 1],
    ["only one of two tasks' summary lines is in", 5, 0, 2],
  ])(
    "when %s, prints what there is and says the logs may still be arriving",
    async (_what, count, from, tasks) => {
      setEntries(count, skipped);
      summaryFromCall = from;
      const before = calls;
      const result = finished(tasks);
      const logs = await fetch(result, 200);
      expect(calls - before).toBeGreaterThan(1);
      expect(logs?.arriving).toBe(true);
      const lines = resultLines(withSkip(result, logs), logs);
      expect(lines[0]).toContain("SUCCEEDED");
      expect(lines.at(-1)).toContain("may still be arriving");
      expect(lines.at(-1)).toContain(result.logUri);
      summaryFromCall = 0;
    },
  );
});

describe("the result block", () => {
  const result: ExecutionResult = {
    name: "projects/p/locations/l/jobs/quota-reset-sandbox/executions/quota-reset-sandbox-abc12",
    status: "succeeded",
    durationMs: 1500,
    logUri: "https://console.cloud.google.com/logs?x",
    execution: {},
  };
  const logsWith = (summaries: ExecutionLogs["summaries"], omitted = 0): ExecutionLogs => ({
    lines: ["a", "b"],
    omitted,
    more: false,
    summaries,
  });

  it.each<[string, ExecutionLogs["summaries"], string]>([
    [
      "every task skipped",
      [
        { status: "skipped", message: "why" },
        { status: "skipped", message: "why" },
      ],
      "skipped",
    ],
    [
      "one task did its work",
      [
        { status: "skipped", message: "why" },
        { status: "succeeded", message: "done" },
      ],
      "succeeded",
    ],
    ["no summary was found", [], "succeeded"],
  ])("reports a succeeded execution where %s (%j) as %s", (_what, summaries, expected) => {
    expect(withSkip(result, logsWith(summaries)).status).toBe(expected);
  });

  it("never turns a failure into a skip", () => {
    const failed = { ...result, status: "failed" as const };
    expect(withSkip(failed, logsWith([{ status: "skipped", message: "x" }])).status).toBe("failed");
  });

  it("prints SKIPPED with the reason, and says how many earlier lines are not shown and where they are", () => {
    const logs = logsWith([{ status: "skipped", message: "older execution x is still running" }], 1100);
    expect(resultLines(withSkip(result, logs), logs)).toEqual([
      "quota-reset-sandbox-abc12: SKIPPED in 1.5s: older execution x is still running",
      `logs: ${result.logUri}`,
      "--- logs of quota-reset-sandbox-abc12 (2 lines) ---",
      `… 1100 earlier lines not shown; see ${result.logUri}`,
      "a",
      "b",
    ]);
  });
});
