/**
 * The few errors of the suite, named for the decision they drive.
 *
 * - `ConfigError`: bad invocation or configuration; nothing was done; exit 2; fix the input.
 * - `PermanentError`: retrying will not help (4xx, contract violation, success:false); exit 1.
 * - `RetryableError`: transient (connect error, 408, 429, 5xx); `retryAfterMs` when the server said so.
 * - `OutcomeUnknownError`: a non-repeatable request may have reached the server; never sent again; exit 3.
 *
 * Every message says what happened, where, and how to fix it. Secrets never appear in messages.
 */
export class JobError extends Error {
  override readonly name: string = "JobError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Bad flags or environment: reported before any side effect, exit code 2. */
export class ConfigError extends JobError {
  override readonly name = "ConfigError";
  /** One line per problem, e.g. `CA_ROOT_API_KEY: required by job "bootstrap"`. */
  readonly problems: readonly string[];
  constructor(message: string, problems: readonly string[] = [], options?: { cause?: unknown }) {
    super(problems.length ? `${message}\n  - ${problems.join("\n  - ")}` : message, options);
    this.problems = problems;
  }
}

/** Do not retry: the same request will fail the same way. */
export class PermanentError extends JobError {
  override readonly name = "PermanentError";
  readonly status: number | undefined;
  constructor(message: string, options?: { cause?: unknown; status?: number }) {
    super(message, options);
    this.status = options?.status;
  }
}

/** Transient: safe to try again, after `retryAfterMs` when the server asked for a pause. */
export class RetryableError extends JobError {
  override readonly name = "RetryableError";
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options?: { cause?: unknown; status?: number; retryAfterMs?: number }) {
    super(message, options);
    this.status = options?.status;
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/**
 * A request to a route that is not repeatable may have reached the server and failed (timeout, reset,
 * 5xx): what it did is unknown, and sending it again could do it twice. Never retried, not by the client
 * and not by a Cloud Run task retry (jobs that can raise it run with retries: 0); exit 3.
 */
export class OutcomeUnknownError extends JobError {
  override readonly name = "OutcomeUnknownError";
  readonly status: number | undefined;
  constructor(message: string, options?: { cause?: unknown; status?: number }) {
    super(message, options);
    this.status = options?.status;
  }
}

export const isRetryable = (error: unknown): error is RetryableError => error instanceof RetryableError;
export const isConfigError = (error: unknown): error is ConfigError => error instanceof ConfigError;
