/**
 * Schedules: `nextRuns` agrees with itself from every instant (including inside DST transitions), and a
 * schedule whose fire times can fall in a skipped or repeated local hour is refused, naming the fix.
 */
import { describe, expect, it } from "vitest";
import { catalog } from "../../jobs/index.ts";
import { checkNextRunsConsistency } from "../../reliability/schedules.ts";
import { nextRuns } from "../../src/runtime/catalog.ts";
import { dstProblem, scheduleProblems, wallToInstant } from "../../src/runtime/schedule.ts";

const ZONED = ["America/New_York", "Europe/Berlin", "Etc/UTC"];
const CRONS = ["30 1 * * *", "30 2 * * *", "0 2 * * *", "59 0 * * *", "*/20 1-3 * * *", "5 0 1 * *"];

describe("nextRuns", () => {
  it("is self-consistent from every instant across the 2026 DST transitions (seeded property test)", () => {
    const result = checkNextRunsConsistency({ zones: ZONED, crons: CRONS, samples: 60, seed: 7 });
    expect(result.violations).toEqual([]);
    expect(result.checks).toBeGreaterThan(1_000);
  });

  it("fires a skipped wall time once, after the gap, and a repeated one at its first occurrence", () => {
    const ny = { schedule: { cron: "30 2 * * *", timeZone: "America/New_York" } };
    // 2026-03-08 02:30 does not exist in New York: it runs at 03:30 EDT (07:30Z).
    expect(nextRuns(ny, new Date("2026-03-08T05:00:00Z"), 2).map((d) => d.toISOString())).toEqual([
      "2026-03-08T07:30:00.000Z",
      "2026-03-09T06:30:00.000Z",
    ]);
    const berlin = { schedule: { cron: "30 2 * * *", timeZone: "Europe/Berlin" } };
    // 2026-10-25 02:30 happens twice in Berlin: the first (CEST, 00:30Z) only, also asked from inside the hour.
    expect(nextRuns(berlin, new Date("2026-10-24T23:00:00Z"), 1)[0]?.toISOString()).toBe(
      "2026-10-25T00:30:00.000Z",
    );
    expect(nextRuns(berlin, new Date("2026-10-25T00:45:00Z"), 1)[0]?.toISOString()).toBe(
      "2026-10-26T01:30:00.000Z",
    );
    expect(new Date(wallToInstant(Date.UTC(2026, 9, 25, 2, 30), "Europe/Berlin")).toISOString()).toBe(
      "2026-10-25T00:30:00.000Z",
    );
  });
});

describe("schedules and daylight saving", () => {
  it.each([
    ["30 2 * * *", "America/New_York", /skipped.*Etc\/UTC.*02:00–03:00/],
    ["30 1 * * *", "America/New_York", /repeated.*Etc\/UTC.*01:00–02:00/],
    ["30 2 * * *", "Europe/Berlin", /skipped|repeated/],
    ["15 2 * * 0", "Europe/Berlin", /skipped/],
    ["*/10 * * * *", "Europe/Berlin", /skipped/],
  ])("refuses %s in %s, naming the fix", (cron, timeZone, message) => {
    expect(dstProblem({ cron, timeZone })).toMatch(message);
    expect(dstProblem({ cron, timeZone })).toMatch(/Use timeZone "Etc\/UTC", or move the time/);
  });

  it.each([
    ["0 8 * * *", "America/New_York"],
    ["30 3 * * *", "Europe/Berlin"],
    ["30 2 * * *", "Etc/UTC"],
    ["0 2 * * 1-5", "Europe/Berlin"], // both 2026–2028 transitions fall on a Sunday
  ])("accepts %s in %s", (cron, timeZone) => {
    expect(dstProblem({ cron, timeZone })).toBeNull();
  });

  it("no job of the catalog is scheduled in a skipped or repeated hour", () => {
    expect(scheduleProblems(catalog)).toEqual([]);
  });
});
