/**
 * The retry budget of a call: the longest all its attempts can take (every attempt running into its
 * timeout, every wait between them as long as allowed). `defineJob` refuses a job whose task timeout is
 * shorter than the budget of a route it declares, so Cloud Run never kills a task in the middle of a
 * retry the client still believes it has time for.
 */

/** The longest wait between two admin API attempts: backoff is capped at 30 s, Retry-After at 2 min. */
export const ADMIN_API_MAX_WAIT_MS = 2 * 60_000;

/**
 * @example routeBudgetMs({ timeoutMs: 120_000, retries: 2 }) // 3 × 2 min + 2 × 2 min = 600_000
 */
export function routeBudgetMs(
  route: { timeoutMs: number; retries: number },
  maxWaitMs = ADMIN_API_MAX_WAIT_MS,
): number {
  return (route.retries + 1) * route.timeoutMs + route.retries * maxWaitMs;
}

/** "10 min", "90 s": for messages. */
export function formatMs(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`;
}
