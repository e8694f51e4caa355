/**
 * Run `work` over `items` with at most `limit` in flight. Stops starting new items once `signal`
 * aborts (SIGTERM): items never started are returned so the job can say what was left undone.
 * `work` must not throw (catch per item): one failing org must not stop the others.
 *
 * @example
 * const { notStarted } = await forEachBounded(slugs, 8, ctx.signal, (slug) => syncOne(slug));
 */
export async function forEachBounded<T>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal,
  work: (item: T) => Promise<void>,
): Promise<{ notStarted: T[] }> {
  let next = 0;
  const worker = async () => {
    while (next < items.length && !signal.aborted) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return { notStarted: items.slice(next) };
}
