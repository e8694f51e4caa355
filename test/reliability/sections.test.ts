/**
 * The reduced form of `npm run reliability` (reliability/run.ts): each section with small counts, on the
 * same harness, so CI proves the figures of RELIABILITY.md can still be reached. Section 5's property
 * test lives in test/catalog/schedule.test.ts; section 4 (two runs at once on a real PostgreSQL server)
 * and section 6's execution logs and task argv in test/jobs/cloud-run-concurrency.test.ts, with the
 * scanners' own check in ./secrets-places.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { corpus, runCorpus } from "../../reliability/corpus.ts";
import { crashSweep, termAfterWork, termInFlight } from "../../reliability/crash.ts";
import { cleanStates, FAULTS, faultMatrix } from "../../reliability/fault-matrix.ts";
import { redirectTest, scanTranscript } from "../../reliability/secrets.ts";
import { JOBS, type WarehouseTemplate, warehouseTemplate } from "../../reliability/stack.ts";
import { type Sandbox, startSandbox } from "../../sandbox/index.ts";

const pick = (...names: string[]) => JOBS.filter((j) => names.includes(j.job));
let template: WarehouseTemplate;
let sandbox: Sandbox;
let clean: Awaited<ReturnType<typeof cleanStates>>;

beforeAll(async () => {
  [template, sandbox] = await Promise.all([
    warehouseTemplate(new Date()),
    startSandbox({ quiet: true, scheduler: { autoTick: false } }),
  ]);
  clean = await cleanStates(template, pick("alerts", "quota-reset"));
}, 240_000);
afterAll(() => sandbox?.stop());

describe("reliability, reduced", () => {
  it("(1) every bad input exits 2 naming the fix, without a stack trace or a single request", async () => {
    const cases = (await corpus()).filter((c) => c.kind !== "script" || c.name.includes("list-jobs"));
    const known = (name: string) => name === 'alerts "--org" ""'; // refused by branch i8-api (issue 8)
    const results = await runCorpus(cases, sandbox.env);
    expect(results.length).toBeGreaterThanOrEqual(60);
    expect(results.filter((r) => !r.ok && !known(r.name))).toEqual([]);
  }, 120_000);

  it("(2) alerts under each fault never notifies twice: a clean run, or exit 3 (outcome unknown) with nothing repeated", async () => {
    const cells = await faultMatrix(template, clean, { jobs: pick("alerts"), faults: FAULTS });
    expect(cells.map((c) => c.fault)).toEqual(FAULTS.map((f) => f.name));
    // The API keeps no Idempotency-Keys and does not de-duplicate (CONTRACT §1): a process-all call that
    // may have reached it is never sent again (exit 3, RELIABILITY.md says why); a 429 is safe to retry.
    for (const cell of cells) {
      expect(cell.duplicated, `${cell.fault}: ${JSON.stringify(cell)}`).toBe(0);
      if (cell.exitCodes.at(-1) === 0) expect(cell.sameAsClean, JSON.stringify(cell)).toBe(true);
      else expect(cell.exitCodes, cell.fault).toEqual([3]);
    }
    expect(cells.find((c) => c.fault.startsWith("429"))).toMatchObject({ sameAsClean: true, exitCodes: [0] });
  }, 120_000);

  it("(3) SIGKILL at seeded points then what production does next ends as a clean run or refuses; SIGTERM after the work exits 0", async () => {
    const kills = await crashSweep(template, clean, { points: 2, seed: 2026, jobs: pick("quota-reset") });
    expect(kills.map((k) => [k.retryExit, k.sameAsClean, k.duplicated, k.lost])).toEqual([
      [0, true, 0, 0],
      [0, true, 0, 0],
    ]);
    // alerts is never retried by Cloud Run: the day's next delivery reads the history, finds the killed
    // execution and refuses (it may have reached the API); nothing is ever sent twice.
    const [killedAlerts] = await crashSweep(template, clean, { points: 1, seed: 7, jobs: pick("alerts") });
    expect(killedAlerts).toMatchObject({ after: "next delivery", duplicated: 0 });
    expect(killedAlerts?.refused || killedAlerts?.sameAsClean, JSON.stringify(killedAlerts)).toBe(true);
    const [alerts] = pick("alerts");
    if (!alerts) throw new Error("no alerts job");
    expect(await termAfterWork(template, alerts, 1)).toMatchObject({ exit: 0, ok: true });
    const cut = await termInFlight(template, alerts, 1_200);
    expect(cut).toMatchObject({ exit: 143, ok: true });
    expect(cut.detail).toMatch(/POST http:\/\/127\.0\.0\.1:\d+\/api\/v1\/admin\/alerts\/process-all/);
  }, 120_000);

  it("(6) no key or token in any output, in any encoding; a redirect never carries the key away", async () => {
    const redirect = await redirectTest(sandbox.env);
    expect(redirect.requestsAtOtherOrigin).toBe(0);
    expect(redirect.results.every((r) => r.refused && r.code !== 0)).toBe(true);
    const scan = scanTranscript();
    expect(scan.scanned).toBeGreaterThan(50);
    expect(scan.findings).toEqual([]);
  }, 60_000);
});

describe("scheduler soak, reduced", () => {
  it("(5) across 2028-02-29 every expected run is delivered once, one execution each, quota rows once per org and day", async () => {
    const { soak } = await import("../../reliability/soak.ts");
    const r = await soak({ days: 2, from: "2028-02-29T00:00:00Z" });
    expect({
      missing: r.missing,
      duplicated: r.duplicated,
      unexpected: r.unexpected,
      overlaps: r.overlaps,
    }).toEqual({
      missing: [],
      duplicated: [],
      unexpected: [],
      overlaps: 0,
    });
    expect(r.delivered).toBe(9); // 4 daily jobs × 2 days + quota-monthly on 2028-03-01
    expect(r.quota.problems).toEqual([]);
    expect(r.quota.rowsPerOrgDay).toEqual({ "1 row(s)": r.quota.days * r.quota.orgs });
  }, 120_000);
});
