import { describe, expect, it } from "vitest";
import { PermanentError } from "../../src/runtime/errors.ts";
import { createLogger, type LoggerOptions } from "../../src/runtime/logger.ts";

const SECRET = "sk-live-0123456789";

function logger(options: Partial<LoggerOptions> = {}) {
  const lines: string[] = [];
  const log = createLogger({
    write: (l) => lines.push(l),
    now: () => new Date("2026-11-22T08:00:00.000Z"),
    ...options,
  });
  return { log, lines, entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe("logger", () => {
  it("writes one JSON line per entry with severity, message, time and labels", () => {
    const { log, lines, entries } = logger({ labels: { job: "alerts", environment: "prod", task: 0 } });
    log.info("Processed alerts", { orgs: 3 });
    log.warn("Slow");
    expect(lines.every((l) => l.endsWith("}\n") && l.split("\n").length === 2)).toBe(true);
    expect(entries()).toEqual([
      {
        severity: "INFO",
        message: "Processed alerts",
        time: "2026-11-22T08:00:00.000Z",
        job: "alerts",
        environment: "prod",
        task: 0,
        orgs: 3,
      },
      {
        severity: "WARNING",
        message: "Slow",
        time: "2026-11-22T08:00:00.000Z",
        job: "alerts",
        environment: "prod",
        task: 0,
      },
    ]);
  });

  it.each([
    ["debug", 5],
    ["info", 4],
    ["notice", 3],
    ["warn", 2],
    ["error", 1],
  ] as const)("at level %s keeps %i of the five levels", (level, kept) => {
    const { log, lines } = logger({ level });
    log.debug("d");
    log.info("i");
    log.notice("n");
    log.warn("w");
    log.error("e");
    expect(lines).toHaveLength(kept);
  });

  it("adds labels in a child logger without changing the parent", () => {
    const { log, entries } = logger({ labels: { job: "org-sync-all" } });
    log.child({ org_slug: "acme" }).info("Synced");
    log.info("Done");
    expect(entries().map((e) => e.org_slug)).toEqual(["acme", undefined]);
  });

  it("keeps a field named like a core key without overwriting the entry's message", () => {
    const { log, entries } = logger();
    log.info("Summary", { message: "from the API", severity: "x" });
    expect(entries()[0]).toMatchObject({
      severity: "INFO",
      message: "Summary",
      field_message: "from the API",
      field_severity: "x",
    });
  });

  it("serialises errors with name, message, status and the cause chain", () => {
    const { log, entries } = logger();
    const cause = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    log.error("Sync failed", {
      error: new PermanentError("Request failed with status 404", { status: 404, cause }),
    });
    expect(entries()[0]?.error).toMatchObject({
      name: "PermanentError",
      message: "Request failed with status 404",
      status: 404,
      cause: { name: "Error", message: "socket hang up", code: "ECONNRESET" },
    });
  });

  it("replaces every secret value with [redacted]: message, fields, errors and causes", () => {
    const { log, lines } = logger({ secrets: [SECRET] });
    const cause = new Error(`upstream said key ${SECRET} is wrong`);
    log.error(`Bad key ${SECRET}`, {
      header: `Bearer ${SECRET}`,
      nested: { deeper: [SECRET] },
      [`key-${SECRET}`]: 1,
      error: new Error(`wrapped ${SECRET}`, { cause }),
    });
    const output = lines.join("");
    expect(output).not.toContain(SECRET);
    expect(output.match(/\[redacted\]/g)?.length).toBeGreaterThanOrEqual(6);
  });

  it("redacts a secret that JSON escapes (quote, backslash, newline) and keeps the line valid JSON", () => {
    const awkward = 'k"ey\\with\nnewline-0123';
    const { log, lines, entries } = logger({ secrets: [awkward] });
    log.warn(`got ${awkward}`, { header: awkward, list: [1n, new Date(0)] });
    expect(lines.join("")).not.toContain(JSON.stringify(awkward).slice(1, -1));
    expect(entries()[0]).toMatchObject({
      message: "got [redacted]",
      header: "[redacted]",
      list: ["1", "1970-01-01T00:00:00.000Z"],
    });
  });

  it("cuts a cycle instead of throwing", () => {
    const { log, entries } = logger();
    const loop: Record<string, unknown> = { name: "a" };
    loop.self = loop;
    log.info("cycle", { loop });
    expect(entries()[0]?.loop).toEqual({ name: "a", self: "[circular]" });
  });
  it("prints a readable line on a TTY", () => {
    const { log, lines } = logger({
      pretty: true,
      labels: { job: "alerts", execution: "local" },
      secrets: [SECRET],
    });
    log.notice(`Done with ${SECRET}`, { orgs: 2 });
    expect(lines).toEqual(["08:00:00.000 NOTICE  Done with [redacted]  orgs=2\n"]);
  });
});
