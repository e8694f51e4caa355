/**
 * The sandbox's fault rules plus one fault the idempotency proof needs and the sandbox lacks: "the work
 * is done but the answer is late" (`holdAnswers`). Latency before the handler (the sandbox's `latencyMs`)
 * lets a kill land BEFORE a side effect; a held answer lets it land right AFTER one — the case a retry
 * must survive: the server changed state, the caller never heard, the caller's retry sends it again.
 * It also counts, per service and `"METHOD /path"`, the requests whose handler finished (work committed).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { createFaults, type Faults, type ServiceName } from "../../sandbox/faults.ts";
import type { Handler } from "../../sandbox/service.ts";

export interface TestFaults extends Faults {
  /** Delay the answers (not the work) of requests whose `"METHOD /path"` starts with `prefix`. */
  holdAnswers(service: ServiceName, prefix: string, ms: number): void;
  /** Requests handled to the end (their work committed) whose `"METHOD /path"` starts with `prefix`. */
  handled(service: ServiceName, prefix: string): number;
  /** Requests of `service` received and not yet handled (e.g. still waiting out a `latencyMs`). */
  inFlight(service: ServiceName): number;
}

/**
 * @example
 * const faults = testFaults();
 * faults.holdAnswers("adminApi", "POST /api/v1/quota/reset-daily", 10_000);
 * await waitFor(() => faults.handled("adminApi", "POST /api/v1/quota/reset-daily") === 1);
 */
export function testFaults(): TestFaults {
  const inner = createFaults();
  const holds = new Map<ServiceName, { prefix: string; ms: number }[]>();
  const done = new Map<string, number>();
  const open = new Map<ServiceName, number>();
  const keyOf = (req: IncomingMessage) => `${req.method ?? "GET"} ${(req.url ?? "/").split("?")[0]}`;

  const holdEnd = (res: ServerResponse, ms: number) => {
    const end = res.end.bind(res) as (...a: unknown[]) => ServerResponse;
    // The answer is written later (or never, if the caller died meanwhile): the work itself is not delayed.
    res.end = ((...args: unknown[]) => {
      setTimeout(() => {
        if (!res.destroyed) end(...args);
      }, ms).unref();
      return res;
    }) as ServerResponse["end"];
  };

  return {
    ...inner,
    clear(service) {
      inner.clear(service);
      if (service) holds.delete(service);
      else holds.clear();
    },
    holdAnswers(service, prefix, ms) {
      holds.set(service, [...(holds.get(service) ?? []), { prefix, ms }]);
    },
    handled(service, prefix) {
      let n = 0;
      for (const [k, v] of done) if (k.startsWith(`${service} ${prefix}`)) n += v;
      return n;
    },
    inFlight(service) {
      return open.get(service) ?? 0;
    },
    wrap(service, handler): Handler {
      const wrapped: Handler = async (req, res) => {
        const key = keyOf(req);
        const hold = (holds.get(service) ?? []).find((h) => key.startsWith(h.prefix));
        if (hold) holdEnd(res, hold.ms);
        await handler(req, res);
        const k = `${service} ${key}`;
        done.set(k, (done.get(k) ?? 0) + 1);
      };
      const outer = inner.wrap(service, wrapped);
      return async (req, res) => {
        open.set(service, (open.get(service) ?? 0) + 1);
        try {
          await outer(req, res);
        } finally {
          open.set(service, (open.get(service) ?? 1) - 1);
        }
      };
    },
  };
}
