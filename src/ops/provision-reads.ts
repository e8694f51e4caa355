/**
 * Everything create-all-jobs reads before it plans, in one parallel wave: the secrets the jobs reference
 * (preflight), the notification channels and alert policies (alerting/), the Cloud Run jobs and the Scheduler
 * triggers (plan.ts). None of these reads needs another's answer, so the command spends one round trip on
 * them instead of four in a row.
 *
 * The clients are made first, all at once: each is a ~150 ms import, and a request sent while another
 * library still loads would wait on the event loop, so the reads would not really leave together.
 *
 * @example
 * const seen = await readForProvisioning(clients, target, { secrets: desired.secrets, alerts: true });
 * assertPreflight(target, seen.problems);
 */
import { readPolicies, resolveChannels } from "./alerting/plan.ts";
import type { AlertPolicy } from "./alerting/policies.ts";
import type { Clients } from "./clients.ts";
import { type Actual, readActual } from "./plan.ts";
import { secretProblems } from "./preflight.ts";
import type { Target } from "./target.ts";

export interface ProvisioningReads {
  actual: Actual;
  /** Preflight problems, each with its fix: missing secrets, missing or ambiguous channels. */
  problems: string[];
  /** With alerts: the channels' resource names and our deployed policies. */
  alerts: { channels: string[]; deployed: AlertPolicy[] } | null;
}

/**
 * Waits for every read, then throws the first failure: a rejected read never leaves the others running
 * while the command closes its clients.
 */
async function settleAll<T extends readonly unknown[]>(
  reads: T,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(reads);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as {
    -readonly [K in keyof T]: Awaited<T[K]>;
  };
}

export async function readForProvisioning(
  clients: Clients,
  target: Target,
  options: { secrets: ReadonlySet<string>; alerts: boolean },
): Promise<ProvisioningReads> {
  await settleAll([
    clients.jobs(),
    clients.scheduler(),
    clients.secrets(),
    ...(options.alerts ? [clients.notificationChannels(), clients.alertPolicies()] : []),
  ]);
  const [secrets, actual, channels, deployed] = await settleAll([
    secretProblems(target, clients, options.secrets),
    readActual(clients, target),
    options.alerts ? resolveChannels(clients, target) : Promise.resolve(null),
    options.alerts ? readPolicies(clients, target) : Promise.resolve(null),
  ] as const);
  return {
    actual,
    problems: [...secrets, ...(channels?.problems ?? [])],
    alerts: channels && deployed ? { channels: channels.names, deployed } : null,
  };
}
