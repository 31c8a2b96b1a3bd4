/**
 * Figures a test measures but does not assert: latency, p99 stability,
 * whether the offered rate was kept up, memory growth over a short run.
 * They move with how busy the machine is (a soak on a loaded CI runner once
 * read a p99 of 148.8 ms against a bound of 43.7), so the tests assert
 * correctness only (nothing lost or answered twice, every error explained,
 * no leaked socket, descriptor or timer, counts that add up) and hand these
 * to a Report: each bound becomes a PASS or FAIL line, printed and written
 * with the figures to a results folder (gitignored) beside the suite, for
 * whoever reads the run (the long soak, CI's log).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Check {
  name: string;
  /** null: not measured (counts as FAIL). */
  value: number | null;
  /** The bound, as text: "≤ 43.7". */
  bound: string;
  unit: string;
  pass: boolean;
}

export class Report {
  readonly checks: Check[] = [];
  /** Written as they are, beside the checks. */
  readonly figures: Record<string, unknown> = {};

  /** `value` ≤ `limit` passes; `unit` (" ms", " MiB") is for the line. */
  atMost(name: string, value: number | null, limit: number, unit = ''): boolean {
    return this.#add({ name, value, bound: `≤ ${limit}`, unit, pass: value !== null && value <= limit });
  }

  /** `value` ≥ `limit` passes. */
  atLeast(name: string, value: number | null, limit: number, unit = ''): boolean {
    return this.#add({ name, value, bound: `≥ ${limit}`, unit, pass: value !== null && value >= limit });
  }

  lines(): string[] {
    return this.checks.map((c) => `${c.pass ? 'PASS' : 'FAIL'} ${c.name}: ${c.value === null ? 'not measured' : `${c.value}${c.unit}`} (${c.bound}${c.unit})`);
  }

  /** Prints the PASS/FAIL lines and writes `<name>.json` (figures and checks) and `<name>.txt` (the lines) to `dir`. */
  write(dir: string, name: string): void {
    mkdirSync(dir, { recursive: true });
    const lines = this.lines();
    writeFileSync(join(dir, `${name}.json`), JSON.stringify({ when: new Date().toISOString(), node: process.version, ...this.figures, checks: this.checks }, null, 2) + '\n');
    writeFileSync(join(dir, `${name}.txt`), lines.join('\n') + '\n');
    console.log(`${lines.join('\n')}\n(not asserted: they depend on the machine; written to ${join(dir, name)}.json and .txt)`);
  }

  #add(c: Check): boolean {
    this.checks.push(c);
    return c.pass;
  }
}
