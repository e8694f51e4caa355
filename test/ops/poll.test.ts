import { describe, expect, it } from "vitest";
import { createPacer, READ_BUDGET_PER_MINUTE } from "../../src/ops/poll.ts";

describe("execution poll pacing", () => {
  it("reads every 100 ms at first and backs off the longer an execution runs", () => {
    let t = 0;
    const pacer = createPacer(undefined, () => t);
    expect(pacer.delay()).toBe(100);
    t = 20_000;
    expect(pacer.delay()).toBe(500);
    t = 120_000;
    expect(pacer.delay()).toBe(2_000);
    t = 3_600_000;
    expect(pacer.delay()).toBe(5_000);
  });

  it("never reads faster than a quarter of Cloud Run's read quota, re-reads included", () => {
    let t = 0;
    const pacer = createPacer(10, () => t);
    let reads = 0;
    while (t < 60_000) {
      pacer.read();
      reads++;
      t += pacer.delay();
    }
    expect(reads).toBeLessThanOrEqual(READ_BUDGET_PER_MINUTE);
    expect(reads).toBe(READ_BUDGET_PER_MINUTE);
  });
});
