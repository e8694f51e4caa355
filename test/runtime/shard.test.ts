import { describe, expect, it } from "vitest";
import { createShard, fnv1a } from "../../src/runtime/shard.ts";

const slugs = Array.from({ length: 1_000 }, (_, i) => `org-${i.toString(36)}-${(i * 7919) % 1000}`);
const counts = Array.from({ length: 16 }, (_, i) => i + 1);

describe("sharding", () => {
  it.each(counts)("with %i task(s), every one of 1,000 org slugs lands on exactly one task", (count) => {
    const shards = Array.from({ length: count }, (_, i) => createShard(i, count, 0));
    for (const slug of slugs) {
      expect(shards.filter((s) => s.owns(slug))).toHaveLength(1);
    }
    const sizes = shards.map((s) => slugs.filter((slug) => s.owns(slug)).length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(1_000);
    // Spread: no task is starved or overloaded (an even split is 1000/count).
    for (const size of sizes) {
      expect(size).toBeGreaterThan((1_000 / count) * 0.5);
      expect(size).toBeLessThan((1_000 / count) * 1.5);
    }
  });

  it.each(counts)(
    "a retried task (new attempt) owns exactly the slugs of the first attempt (%i tasks)",
    (count) => {
      for (let index = 0; index < count; index++) {
        const first = slugs.filter((slug) => createShard(index, count, 0).owns(slug));
        const retry = slugs.filter((slug) => createShard(index, count, 3).owns(slug));
        expect(retry).toEqual(first);
      }
    },
  );

  it("depends on the key only, not on list order", () => {
    const reversed = [...slugs].reverse();
    const shard = createShard(3, 7, 0);
    expect(reversed.filter((s) => shard.owns(s)).sort()).toEqual(slugs.filter((s) => shard.owns(s)).sort());
  });

  it("hashes with 32-bit FNV-1a", () => {
    // Reference values of the FNV-1a 32-bit test suite.
    expect(fnv1a("")).toBe(0x811c9dc5);
    expect(fnv1a("a")).toBe(0xe40c292c);
    expect(fnv1a("foobar")).toBe(0xbf9cf968);
  });

  it.each([
    [0, 0],
    [2, 2],
    [-1, 3],
    [1.5, 3],
  ])("refuses index %s with count %s", (index, count) => {
    expect(() => createShard(index, count, 0)).toThrow(RangeError);
  });
});
