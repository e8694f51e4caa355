/**
 * The scheduler's clock: real time by default (auto ticks every second), or moved by tests and operators
 * (`set`, `advance`) to fire "as at time T" without waiting. A job fires when one of its cron slots (in
 * its time zone) falls in the window (lastCheck, at]; once per check even if several slots passed, as
 * Cloud Scheduler does not backfill missed runs.
 */
import type { AttemptResult } from "./fire.ts";

/**
 * The clock control every part of the sandbox shares.
 * @example await sandbox.clock.fireDue(new Date("2026-11-23T00:00:00Z")); // fires the midnight jobs
 */
export interface SandboxClock {
  now(): Date;
  /** Fires every enabled job with a slot in (lastCheck, at]; moves the clock forward to `at` if later. */
  fireDue(at?: Date): Promise<AttemptResult[]>;
  /** Moves the clock by `ms` and fires what fell due. */
  advance(ms: number): Promise<AttemptResult[]>;
  /** Jumps to `at` without firing the slots in between (the window restarts there). */
  set(at: Date): void;
}

/** @example const clock = new SchedulerClock(dueCheck, { autoTick: true }); */
export class SchedulerClock implements SandboxClock {
  #offsetMs: number;
  #lastCheck: Date;
  #timer: NodeJS.Timeout | undefined;
  #busy: Promise<AttemptResult[]> = Promise.resolve([]);
  readonly #check: (from: Date, to: Date) => Promise<AttemptResult[]>;

  constructor(
    check: (from: Date, to: Date) => Promise<AttemptResult[]>,
    opts: { start?: Date; autoTick?: boolean } = {},
  ) {
    this.#check = check;
    this.#offsetMs = opts.start ? opts.start.getTime() - Date.now() : 0;
    this.#lastCheck = this.now();
    if (opts.autoTick ?? true) {
      this.#timer = setInterval(() => void this.fireDue().catch(() => {}), 1000);
      this.#timer.unref();
    }
  }

  now(): Date {
    return new Date(Date.now() + this.#offsetMs);
  }

  get lastCheck(): Date {
    return this.#lastCheck;
  }

  fireDue(at: Date = this.now()): Promise<AttemptResult[]> {
    // Checks run one after another, so two ticks never fire the same slot.
    const run = this.#busy.then(async () => {
      if (at.getTime() > this.now().getTime()) this.#offsetMs = at.getTime() - Date.now();
      const from = this.#lastCheck;
      if (at.getTime() <= from.getTime()) return [];
      this.#lastCheck = at;
      return this.#check(from, at);
    });
    this.#busy = run.catch(() => []);
    return run;
  }

  advance(ms: number): Promise<AttemptResult[]> {
    return this.fireDue(new Date(this.now().getTime() + ms));
  }

  set(at: Date): void {
    this.#offsetMs = at.getTime() - Date.now();
    this.#lastCheck = at;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }
}
