/**
 * Executions: created by runJob from the job's template plus overrides, really run by a {@link TaskRunner},
 * and reported like Cloud Run (counts, conditions, startTime/completionTime, logUri).
 */
import { ApiError, notFound } from "../http/errors.ts";
import type { Collection } from "../http/store.ts";
import { parseDuration } from "../http/wire.ts";
import { condition, type ExecutionResource, newExecution, now, type Overrides } from "./execution-doc.ts";
import type { LogStore } from "./logs.ts";
import type { JobResource } from "./model.ts";
import { type Outcome, type SpawnedTask, type TaskPlan, TaskRunner } from "./tasks.ts";

export type { ExecutionResource, Overrides } from "./execution-doc.ts";
export type { SpawnedTask } from "./tasks.ts";

export interface ExecutionDeps {
  executions: Collection<ExecutionResource>;
  logs: LogStore;
  /** Plaintext of a secret version, or undefined when missing. */
  secret: (secret: string, version: string) => string | undefined;
  entry: string[];
  cwd: string;
  baseEnv: () => Record<string, string>;
  graceMs: number;
  logUri: (executionName: string) => string;
  /** Called when an execution starts or changes state (the job's latestCreatedExecution follows it). */
  onChange: (execution: ExecutionResource) => void;
  log: (event: string, fields: Record<string, unknown>) => void;
}

/**
 * @example const execution = executions.start(job, { containerOverrides: [{ args: ["--dry-run"] }] });
 */
export class ExecutionManager {
  readonly #runs = new Map<string, TaskRunner>();
  readonly #finished = new Map<string, Promise<void>>();
  readonly deps: ExecutionDeps;
  /** Every task process started since the sandbox started (argv as passed and as /proc shows it). */
  readonly spawned: SpawnedTask[] = [];

  constructor(deps: ExecutionDeps) {
    this.deps = deps;
    // A persisted execution that was running when the sandbox stopped cannot resume: it failed.
    for (const execution of deps.executions.values()) {
      if (execution.completionTime) continue;
      Object.assign(execution, { completionTime: now(), reconciling: false, runningCount: 0 });
      execution.conditions = [
        condition("Completed", "CONDITION_FAILED", {
          message: "The sandbox stopped while this execution ran.",
        }),
      ];
      deps.executions.save();
    }
  }

  get(name: string): ExecutionResource {
    const execution = this.deps.executions.get(name);
    if (!execution)
      throw notFound(`Execution ${name} not found; list executions of the job to see what exists`);
    return execution;
  }

  /** Creates the execution and starts its tasks; returns at once. */
  start(job: JobResource, overrides: Overrides, taskCount: number): ExecutionResource {
    const { execution, container, env, setupError } = newExecution(job, overrides, taskCount, {
      baseEnv: this.deps.baseEnv(),
      secret: this.deps.secret,
      logUri: this.deps.logUri,
    });
    const { name, template } = execution;
    this.deps.executions.set(name, execution);
    const plan: TaskPlan = {
      command: [...this.deps.entry, ...(container.args ?? [])],
      cwd: this.deps.cwd,
      env,
      taskCount,
      parallelism: execution.parallelism,
      maxRetries: template.maxRetries ?? 3,
      timeoutMs: parseDuration(template.timeout ?? "600s", "timeout"),
      graceMs: this.deps.graceMs,
      ...(setupError ? { setupError } : {}),
    };
    const [project, location] = name.split("/").filter((_, i) => i % 2 === 1);
    const runner = new TaskRunner(
      plan,
      {
        project: project as string,
        location: location as string,
        job: execution.job,
        execution: name.split("/").at(-1) as string,
      },
      this.deps.logs,
      () => this.#sync(execution, runner),
      (task) => {
        if (this.spawned.push(task) > 10_000) this.spawned.shift(); // a long-lived sandbox keeps the latest
      },
    );
    this.#runs.set(name, runner);
    this.deps.log("execution started", { execution: name, taskCount, args: container.args ?? [] });
    this.deps.onChange(execution);
    this.#finished.set(
      name,
      runner.start().then((outcome) => this.#finish(execution, runner, outcome)),
    );
    return execution;
  }

  #sync(execution: ExecutionResource, runner: TaskRunner): void {
    const c = runner.counts;
    Object.assign(execution, {
      runningCount: c.running,
      succeededCount: c.succeeded,
      failedCount: c.failed,
      cancelledCount: c.cancelled,
      retriedCount: c.retried,
      updateTime: now(),
    });
    const completed = execution.conditions.find((x) => x.type === "Completed");
    if (completed && !execution.completionTime)
      completed.message = `${c.succeeded + c.failed + c.cancelled} of ${execution.taskCount} tasks completed.`;
    this.deps.executions.save();
  }

  #finish(execution: ExecutionResource, runner: TaskRunner, outcome: Outcome): void {
    this.#sync(execution, runner);
    const seconds = ((Date.now() - Date.parse(execution.startTime ?? execution.createTime)) / 1000).toFixed(
      2,
    );
    const completed =
      outcome === "succeeded"
        ? condition("Completed", "CONDITION_SUCCEEDED", {
            message: `Execution completed successfully in ${seconds}s.`,
          })
        : outcome === "cancelled"
          ? condition("Completed", "CONDITION_FAILED", {
              message: "The execution was cancelled.",
              executionReason: "CANCELLED",
            })
          : condition("Completed", "CONDITION_FAILED", {
              message: runner.firstFailure ?? "The execution failed.",
              executionReason: "NON_ZERO_EXIT_CODE",
            });
    execution.conditions = [...execution.conditions.filter((x) => x.type !== "Completed"), completed];
    const cancelled = execution.conditions.find((x) => x.type === "Cancelled");
    if (cancelled)
      Object.assign(cancelled, {
        state: "CONDITION_SUCCEEDED",
        executionReason: "CANCELLED",
        lastTransitionTime: now(),
      });
    Object.assign(execution, {
      completionTime: now(),
      reconciling: false,
      runningCount: 0,
      updateTime: now(),
    });
    this.deps.executions.save();
    this.deps.logs.flush();
    this.#runs.delete(execution.name);
    this.deps.log("execution finished", { execution: execution.name, outcome, ...runner.counts });
    this.deps.onChange(execution);
  }

  /** Cancels a running execution (a finished one is returned unchanged, as Cloud Run does). */
  cancel(name: string): ExecutionResource {
    const execution = this.get(name);
    const runner = this.#runs.get(name);
    if (runner && !runner.cancelled) {
      runner.cancel();
      execution.conditions.push(
        condition("Cancelled", "CONDITION_RECONCILING", { executionReason: "CANCELLING" }),
      );
      this.deps.executions.save();
    }
    return execution;
  }

  delete(name: string): ExecutionResource {
    const execution = this.get(name);
    if (this.#runs.has(name))
      throw new ApiError(
        "FAILED_PRECONDITION",
        `Execution ${name} is still running: cancel it first, then delete it`,
      );
    this.deps.executions.delete(name);
    this.deps.logs.remove(name.split("/").at(-1) as string);
    return execution;
  }

  /** Resolves when the execution's tasks have all ended (tests and shutdown). */
  async settled(name: string): Promise<void> {
    await this.#finished.get(name);
  }

  /** Cancels every running execution and waits for its processes to exit (shutdown). */
  async stopAll(graceMs: number): Promise<void> {
    for (const runner of this.#runs.values()) runner.cancel(graceMs);
    await Promise.all(this.#finished.values());
  }

  /** SIGKILLs every running task synchronously (a forced exit must not leave tasks behind). */
  killAll(): void {
    for (const runner of this.#runs.values()) runner.kill();
  }

  isRunning(name: string): boolean {
    return this.#runs.has(name);
  }
}
