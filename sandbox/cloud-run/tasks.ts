/**
 * Runs one execution's tasks as child processes, with Cloud Run's semantics: `taskCount` tasks, at most
 * `parallelism` at once, each attempt limited by the task timeout (SIGTERM, then SIGKILL after a grace
 * period), failed attempts retried up to `maxRetries`, and cancel (SIGTERM the running tasks, never start
 * the pending ones). Every output line goes to the LogStore with its task index and attempt.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import type { LogStore, LogStream, TaskRef } from "./logs.ts";

export interface TaskPlan {
  /** Entry command and the container args. */
  command: string[];
  cwd: string;
  /** Env of every task, secrets resolved; the container contract variables are added per task. */
  env: Record<string, string>;
  taskCount: number;
  parallelism: number;
  maxRetries: number;
  timeoutMs: number;
  graceMs: number;
  /** A problem found before start (a missing secret): every task fails with it, nothing is spawned. */
  setupError?: string;
}
export type Outcome = "succeeded" | "failed" | "cancelled";
/**
 * A task process as the host saw it: the argv the sandbox passed to exec (`spawnargs`), and the one the
 * kernel shows for the running process (`/proc/<pid>/cmdline`, read at its first output line; null
 * where there is no /proc or it had already gone). What `ps` would show an operator on the host.
 */
export interface SpawnedTask {
  execution: string;
  taskIndex: number;
  attempt: number;
  pid: number | undefined;
  spawnargs: string[];
  cmdline: string[] | null;
}
export interface TaskCounts {
  running: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  retried: number;
}

/**
 * @example const run = new TaskRunner(plan, ref, logs, onChange); const outcome = await run.start();
 */
export class TaskRunner {
  readonly counts: TaskCounts = { running: 0, succeeded: 0, failed: 0, cancelled: 0, retried: 0 };
  /** The first failed task's message, for the execution's Completed condition. */
  firstFailure: string | undefined;
  readonly #children = new Set<ChildProcess>();
  #cancelled = false;
  readonly plan: TaskPlan;
  readonly ref: Omit<TaskRef, "taskIndex" | "attempt">;
  readonly logs: LogStore;
  readonly onChange: () => void;
  readonly onSpawn: (task: SpawnedTask) => void;

  constructor(
    plan: TaskPlan,
    ref: Omit<TaskRef, "taskIndex" | "attempt">,
    logs: LogStore,
    onChange: () => void,
    onSpawn: (task: SpawnedTask) => void = () => {},
  ) {
    this.plan = plan;
    this.ref = ref;
    this.logs = logs;
    this.onChange = onChange;
    this.onSpawn = onSpawn;
  }

  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** Runs every task; resolves with the execution's outcome once none is left running. */
  async start(): Promise<Outcome> {
    const pending = Array.from({ length: this.plan.taskCount }, (_, i) => i);
    const width = Math.min(
      this.plan.parallelism > 0 ? this.plan.parallelism : this.plan.taskCount,
      this.plan.taskCount,
    );
    const lane = async (): Promise<void> => {
      for (let index = pending.shift(); index !== undefined; index = pending.shift()) {
        if (this.#cancelled) {
          this.counts.cancelled++;
          continue;
        }
        await this.#runTask(index);
        this.onChange();
      }
    };
    await Promise.all(Array.from({ length: width }, lane));
    if (this.#cancelled) return "cancelled";
    return this.counts.failed > 0 ? "failed" : "succeeded";
  }

  /** SIGTERM every running task (SIGKILL after the grace period); pending tasks never start. */
  cancel(graceMs = this.plan.graceMs): void {
    this.#cancelled = true;
    for (const child of this.#children) this.#terminate(child, graceMs);
  }

  /** SIGKILLs every running task at once (the process is about to exit: no time for a grace period). */
  kill(): void {
    this.#cancelled = true;
    for (const child of this.#children) {
      try {
        if (child.pid && child.exitCode === null && child.signalCode === null)
          process.kill(-child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  }

  #log(index: number, attempt: number, stream: LogStream, line: string): void {
    this.logs.append({ ...this.ref, taskIndex: index, attempt }, stream, line);
  }

  async #runTask(index: number): Promise<void> {
    const taskName = `${this.ref.execution}-task${index}`;
    for (let attempt = 0; ; attempt++) {
      if (this.plan.setupError) {
        this.#log(index, attempt, "system", `Task ${taskName} failed to start: ${this.plan.setupError}`);
        this.counts.failed++;
        this.firstFailure ??= `Task ${taskName} failed to start: ${this.plan.setupError}`;
        return;
      }
      this.counts.running++;
      this.onChange();
      const result = await this.#attempt(index, attempt);
      this.counts.running--;
      if (result === "ok") {
        this.counts.succeeded++;
        return;
      }
      if (this.#cancelled) {
        this.counts.cancelled++;
        return;
      }
      if (attempt < this.plan.maxRetries) {
        this.counts.retried++;
        this.onChange();
        continue;
      }
      this.counts.failed++;
      this.firstFailure ??= `Task ${taskName} failed with message: ${result}`;
      return;
    }
  }

  /** One attempt: "ok", or why it failed. */
  #attempt(index: number, attempt: number): Promise<string> {
    const [file, ...args] = this.plan.command;
    const env = {
      ...this.plan.env,
      CLOUD_RUN_JOB: this.ref.job,
      CLOUD_RUN_EXECUTION: this.ref.execution,
      CLOUD_RUN_TASK_INDEX: String(index),
      CLOUD_RUN_TASK_COUNT: String(this.plan.taskCount),
      CLOUD_RUN_TASK_ATTEMPT: String(attempt),
    };
    // detached: the task gets its own process group, so a signal reaches whatever it spawned too.
    const child = spawn(file as string, args, {
      cwd: this.plan.cwd,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    this.#children.add(child);
    const spawned: SpawnedTask = {
      execution: this.ref.execution,
      taskIndex: index,
      attempt,
      pid: child.pid,
      spawnargs: [...child.spawnargs],
      cmdline: null,
    };
    this.onSpawn(spawned);
    // At its first line the task has surely exec'd: /proc shows its own argv, no longer the sandbox's.
    const readCmdline = () => {
      if (spawned.cmdline !== null || !child.pid) return;
      try {
        spawned.cmdline = readFileSync(`/proc/${child.pid}/cmdline`, "utf8").split("\0").filter(Boolean);
      } catch {
        // No /proc (macOS) or the process is gone: spawnargs stays the record.
      }
    };
    for (const stream of ["stdout", "stderr"] as const) {
      createInterface({ input: child[stream] }).on("line", (line) => {
        readCmdline();
        this.#log(index, attempt, stream, line);
      });
    }
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.#log(
        index,
        attempt,
        "system",
        `Task timed out after ${this.plan.timeoutMs / 1000}s: sending SIGTERM`,
      );
      this.#terminate(child, this.plan.graceMs);
    }, this.plan.timeoutMs);
    if (this.#cancelled) this.#terminate(child, this.plan.graceMs);
    return new Promise((resolve) => {
      const done = (message: string): void => {
        clearTimeout(timer);
        this.#children.delete(child);
        this.#log(index, attempt, "system", message);
        resolve(message);
      };
      child.once("error", (error) => done(`The container failed to start: ${error.message}`));
      // "close", not "exit": every output line has been read by then.
      child.once("close", (code, signal) => {
        if (timedOut) done(`Task timed out and was stopped (${signal ?? `exit ${code}`}).`);
        else if (code === 0) {
          clearTimeout(timer);
          this.#children.delete(child);
          resolve("ok");
        } else if (signal) done(`The container was terminated by ${signal}.`);
        else done(`Container called exit(${code}). The container exited with an error.`);
      });
    });
  }

  #terminate(child: ChildProcess, graceMs: number): void {
    const signal = (sig: NodeJS.Signals): void => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        // Already gone: nothing to stop.
      }
    };
    signal("SIGTERM");
    const kill = setTimeout(() => signal("SIGKILL"), graceMs);
    child.once("exit", () => clearTimeout(kill));
  }
}
