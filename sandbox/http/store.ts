/**
 * Where the control plane keeps its resources (jobs, executions, operations, scheduler jobs, secrets).
 *
 * Why JSON files and not PGlite: these are a few dozen small documents read and written whole; a PGlite
 * database costs 1–3 s to start on this machine, which would make every sandbox (and every test file)
 * slower for no gain. In memory by default; with `dataDir`, each collection is one JSON file under
 * `<dataDir>/control-plane/`, rewritten atomically on change, so state survives a restart.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * A named map of documents, persisted when a data folder is given.
 * @example const jobs = new Collection<Job>("run-jobs", dataDir); jobs.set(name, job);
 */
export class Collection<T> {
  readonly #items = new Map<string, T>();
  readonly #file: string | undefined;

  constructor(name: string, dataDir?: string) {
    if (dataDir) {
      const dir = join(dataDir, "control-plane");
      mkdirSync(dir, { recursive: true });
      this.#file = join(dir, `${name}.json`);
      try {
        const saved = JSON.parse(readFileSync(this.#file, "utf8")) as Record<string, T>;
        for (const [key, value] of Object.entries(saved)) this.#items.set(key, value);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      }
    }
  }

  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  has(key: string): boolean {
    return this.#items.has(key);
  }

  values(): T[] {
    return [...this.#items.values()];
  }

  set(key: string, value: T): T {
    this.#items.set(key, value);
    this.save();
    return value;
  }

  delete(key: string): boolean {
    const existed = this.#items.delete(key);
    if (existed) this.save();
    return existed;
  }

  /** Writes the collection (call after mutating a stored document in place). */
  save(): void {
    if (!this.#file) return;
    const tmp = `${this.#file}.tmp`;
    writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.#items), null, 1));
    renameSync(tmp, this.#file);
  }
}
