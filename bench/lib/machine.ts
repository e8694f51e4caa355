/** What the numbers were measured on: results without the machine (and its load) cannot be compared. */
import os from "node:os";

export interface Machine {
  os: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  /** 1, 5 and 15 minute load averages when the run started and ended (the machine is shared). */
  loadStart: number[];
  loadEnd?: number[];
}

/** @example const machine = describeMachine(); // { os: "linux 6.8.0 (x64)", cpu: "…", cores: 2, … } */
export function describeMachine(): Machine {
  const cpus = os.cpus();
  return {
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: os.availableParallelism?.() ?? cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    loadStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

export const loadNow = () => os.loadavg().map((l) => Math.round(l * 100) / 100);
