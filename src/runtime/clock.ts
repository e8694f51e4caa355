/**
 * The system clock. Jobs take time from `ctx.clock` (never `Date.now()` directly) so tests and the
 * sandbox can pin "today" (quota-monthly's 1st-of-month check, idempotency keys).
 */
import { setTimeout as delay } from "node:timers/promises";
import type { Clock } from "./context.ts";

/**
 * Resolves after `ms`; rejects with an `AbortError` as soon as `signal` aborts (or at once if it already has).
 *
 * @example
 * await sleep(1_000, ctx.signal); // throws AbortError on SIGTERM instead of waiting out the second
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(Math.max(0, ms), undefined, signal ? { signal } : undefined);
}

/**
 * @example
 * const clock = createClock();                       // real time
 * const fixed = createClock(() => new Date("2026-12-01T00:05:00Z")); // pinned "now", real sleeps
 */
export function createClock(now: () => Date = () => new Date()): Clock {
  return { now, sleep };
}

export const systemClock: Clock = createClock();
