/**
 * The routing features' scenarios (issue 13), one after the other: every
 * `bench/routing-<feature>.ts` beside this file, each a standalone script
 * that starts the real sidecar and its fake providers, reports what the
 * feature wins and costs (never enforced), and writes
 * bench/results/routing-<feature>.md and .json.
 *
 *   node bench/routing.ts [--quick] [--only hedge,commit] [--record]
 *
 * `--quick` is passed on (a few seconds a scenario: CI's smoke, it only
 * must run); `--record` also writes the "Routing features" section of
 * bench/RESULTS.md. Writes bench/results/routing.md (all the reports, in
 * order). Exits non-zero when a scenario could not run.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const RESULTS = join(BENCH_DIR, 'results');

/** The scenario files, by feature name (`routing-hedge.ts` → hedge), in name order. */
export function scenarioFiles(names: string[]): Array<{ feature: string; file: string }> {
  return names
    .map((f) => /^routing-([a-z0-9-]+)\.ts$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ feature: m[1]!, file: m[0] }))
    .sort((a, b) => a.feature.localeCompare(b.feature));
}

function run(file: string, args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(BENCH_DIR, file), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      stdout += d;
      process.stdout.write(d);
    });
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), stdout }));
  });
}

/** Shifts a scenario's markdown headings so that its top one is `level` (`###`: under the section's `##`). */
export function demoteHeadings(md: string, level = 3): string {
  const levels = [...md.matchAll(/^(#+) /gm)].map((m) => m[1]!.length);
  if (levels.length === 0) return md;
  const shift = level - Math.min(...levels);
  return md.replace(/^(#+) /gm, (_m, h: string) => `${'#'.repeat(Math.min(6, h.length + shift))} `);
}

/** The heading of the routing section of bench/RESULTS.md (bench/run.ts --record keeps it). */
export const ROUTING_HEADING = '## Routing features (node bench/routing.ts)';

/** `heading`'s section of `doc` (up to the next `## `), or '' when it has none. */
export function sectionOf(doc: string, heading: string): string {
  const start = doc.indexOf(`\n${heading}\n`);
  if (start < 0) return '';
  const next = doc.indexOf('\n## ', start + heading.length + 2);
  return doc.slice(start + 1, next < 0 ? undefined : next + 1);
}

/** Puts `section` into RESULTS.md under its heading, replacing an earlier copy (up to the next `## `). */
export function replaceSection(doc: string, heading: string, section: string): string {
  const start = doc.indexOf(`\n${heading}\n`);
  if (start < 0) return `${doc.trimEnd()}\n\n${section.trimEnd()}\n`;
  const next = doc.indexOf('\n## ', start + heading.length + 2);
  return `${doc.slice(0, start + 1)}${section.trimEnd()}\n${next < 0 ? '' : doc.slice(next)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values: flags } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      record: { type: 'boolean', default: false },
    },
  });
  const only = flags.only?.split(',').map((s) => s.trim());
  const scenarios = scenarioFiles(readdirSync(BENCH_DIR)).filter((s) => !only || only.includes(s.feature));
  if (scenarios.length === 0) {
    process.stderr.write(`bench/routing: no scenario${only ? ` named ${only.join(', ')}` : ''} (bench/routing-<feature>.ts)\n`);
    process.exit(2);
  }
  const parts: string[] = [];
  const failed: string[] = [];
  for (const s of scenarios) {
    process.stderr.write(`bench/routing: ${s.feature} (${s.file})\n`);
    const r = await run(s.file, flags.quick ? ['--quick'] : []);
    if (r.code !== 0) failed.push(s.feature);
    parts.push(r.code === 0 ? demoteHeadings(r.stdout.trim()) : `### ${s.feature}\n\nDid not run (exit ${r.code}).`);
  }
  const HEADING = ROUTING_HEADING;
  const report = `${HEADING}\n\n${flags.quick ? 'A --quick smoke: too short to read figures from.\n\n' : ''}${parts.join('\n\n')}\n`;
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'routing.md'), report);
  if (flags.record) {
    const path = join(BENCH_DIR, 'RESULTS.md');
    writeFileSync(path, replaceSection(readFileSync(path, 'utf8'), HEADING, report));
  }
  if (failed.length) {
    process.stderr.write(`bench/routing: could not run: ${failed.join(', ')}\n`);
    process.exit(1);
  }
}
