/**
 * Long-running operations as the Cloud Run v2 REST API returns them. A job write answers `done: false` (the
 * written Job as `metadata`) and is done on the first `GET …/operations/*`, as Google's answer is never done
 * at once: `operation.promise()` takes its polling path, without a wait (gax polls once at once). A runJob
 * or cancel operation stays `done: false` until its execution completes (what `operation.promise()` waits
 * for), with the Execution as `metadata` throughout. A failed or cancelled execution ends the operation
 * with an `error` (the Execution stays readable in `metadata`).
 */
import { randomUUID } from "node:crypto";
import { Collection } from "../http/store.ts";
import type { ExecutionResource } from "./executions.ts";

const TYPE = "type.googleapis.com/google.cloud.run.v2.";
type Kind = "Job" | "Execution";
interface StoredOperation {
  name: string;
  kind: Kind;
  /** Resource at the time of the write, for operations that finished immediately. */
  snapshot?: unknown;
  /** Executions whose end ends the operation. */
  execution?: string;
  /** A write not yet reported done: the next poll reports it done. */
  pending?: boolean;
}
export interface OperationJson {
  name: string;
  done: boolean;
  metadata: Record<string, unknown>;
  response?: Record<string, unknown>;
  error?: { code: number; message: string };
}

const typed = (kind: Kind, resource: unknown): Record<string, unknown> => ({
  "@type": `${TYPE}${kind}`,
  ...(resource as Record<string, unknown>),
});

/**
 * @example const op = operations.finished("projects/p/locations/l", "Job", job);
 */
export class Operations {
  readonly #ops: Collection<StoredOperation>;

  constructor(dataDir?: string) {
    this.#ops = new Collection<StoredOperation>("run-operations", dataDir);
  }

  #create(parent: string, fields: Omit<StoredOperation, "name">): StoredOperation {
    const name = `${parent}/operations/${randomUUID()}`;
    return this.#ops.set(name, { name, ...fields });
  }

  /** An operation that is already done, its response the written resource. */
  finished(parent: string, kind: Kind, resource: unknown): OperationJson {
    const op = this.#create(parent, { kind, snapshot: resource });
    return { name: op.name, done: true, metadata: typed(kind, resource), response: typed(kind, resource) };
  }

  /**
   * A write that is not done yet in the answer; the first poll finds it done, its response `resource`.
   * @example return operations.pending(parent, "Job", job); // {done: false, metadata: {...job}}
   */
  pending(parent: string, kind: Kind, resource: unknown): OperationJson {
    const op = this.#create(parent, { kind, snapshot: resource, pending: true });
    return { name: op.name, done: false, metadata: typed(kind, resource) };
  }

  /** An operation that ends when the execution does. */
  forExecution(parent: string, execution: ExecutionResource): OperationJson {
    const op = this.#create(parent, { kind: "Execution", execution: execution.name });
    return this.render(op.name, () => execution) as OperationJson;
  }

  /** The operation as the API shows it now, or undefined. `lookup` finds a live execution. */
  render(
    name: string,
    lookup: (execution: string) => ExecutionResource | undefined,
  ): OperationJson | undefined {
    const op = this.#ops.get(name);
    if (!op) return undefined;
    if (!op.execution) {
      if (op.pending) {
        delete op.pending;
        this.#ops.save();
      }
      return {
        name,
        done: true,
        metadata: typed(op.kind, op.snapshot),
        response: typed(op.kind, op.snapshot),
      };
    }
    const execution = lookup(op.execution) ?? (op.snapshot as ExecutionResource | undefined);
    if (!execution)
      return {
        name,
        done: true,
        metadata: {},
        error: { code: 5, message: `Execution ${op.execution} was deleted` },
      };
    const metadata = typed("Execution", execution);
    if (!execution.completionTime) return { name, done: false, metadata };
    // Keep the final state: the execution may be deleted later.
    op.snapshot = execution;
    this.#ops.save();
    if (execution.succeededCount === execution.taskCount)
      return { name, done: true, metadata, response: metadata };
    const cancelled = execution.cancelledCount > 0;
    const message =
      execution.conditions.find((c) => c.type === "Completed")?.message ?? "The execution failed.";
    return { name, done: true, metadata, error: { code: cancelled ? 1 : 9, message } };
  }
}
