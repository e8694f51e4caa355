/**
 * `npm run soak:alerts [-- --days N]`: the alerting soak over 60 simulated days (test/helpers/alert-soak.ts).
 * Every job healthy, except one injected failure and one missed day (trigger paused) per kind of schedule;
 * passes (exit 0) when there is exactly one incident per fault, within its grace, and none otherwise.
 */
import { parseArgs } from "node:util";
import { alertSoak } from "../test/helpers/alert-soak.ts";

const { values } = parseArgs({ options: { days: { type: "string", default: "60" } } });
const days = Number(values.days);
if (!Number.isInteger(days) || days < 35) {
  process.stderr.write("--days must be a whole number of at least 35 (the faults fall on days 3 to 32)\n");
  process.exit(2);
}
const result = await alertSoak({
  days,
  failures: [
    { day: 3, job: "quota-cleanup" },
    { day: 31, job: "quota-monthly" },
  ],
  missed: [
    { day: 10, job: "stale-cleanup" },
    { day: 20, job: "alerts" },
  ],
  progress: (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write(
  `${days} simulated days, ${result.executions} scheduled runs, ${result.incidents.length} incidents:\n`,
);
for (const incident of result.incidents)
  process.stdout.write(
    `  ${incident.openTime} ${incident.alert} ${incident.job} (closed ${incident.closeTime ?? "no"})\n`,
  );
for (const problem of result.problems) process.stdout.write(`  FAIL ${problem}\n`);
process.stdout.write(result.problems.length ? "soak FAILED\n" : "soak passed\n");
process.exit(result.problems.length ? 1 : 0);
