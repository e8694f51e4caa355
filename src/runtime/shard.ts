/**
 * Task sharding: Cloud Run starts CLOUD_RUN_TASK_COUNT copies of a job, each with its own
 * CLOUD_RUN_TASK_INDEX. A key (an org slug) belongs to exactly one task, decided by a hash of the key
 * alone, so a retried task (new CLOUD_RUN_TASK_ATTEMPT) picks up exactly the same keys, and no list
 * order or page boundary can move a key between tasks.
 */
import type { Shard } from "./context.ts";

/** 32-bit FNV-1a over the UTF-8 bytes of `key`: tiny, fast and evenly spread for short strings. */
export function fnv1a(key: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(key)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** The task index (0 ≤ i < count) that owns `key`. */
export function taskFor(key: string, count: number): number {
  return fnv1a(key) % count;
}

/**
 * @example
 * const shard = createShard(2, 4, 0);   // task 2 of 4, first attempt
 * const mine = slugs.filter((slug) => shard.owns(slug));
 */
export function createShard(index: number, count: number, attempt = 0): Shard {
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`Task count must be an integer ≥ 1, got ${count} (CLOUD_RUN_TASK_COUNT)`);
  }
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new RangeError(
      `Task index must be an integer in [0, ${count}), got ${index} (CLOUD_RUN_TASK_INDEX)`,
    );
  }
  return { index, count, attempt, owns: (key) => count === 1 || taskFor(key, count) === index };
}
