/**
 * What the routing benches (bench/routing-*.ts) share: the real sidecar in
 * a process of its own (its .ts sources, with the node flags of
 * sidecar/Dockerfile's ENTRYPOINT) on a config the bench writes, and its
 * metrics read back from the admin port. The fake providers run in the
 * bench's process (test/fakes/fake-provider.ts), so the bench can count
 * what each one was sent and which requests were abandoned; these benches
 * measure latency distributions and request counts at modest rates, not
 * CPU, so sharing a process with the load costs them nothing that matters.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChild } from './proc.ts';
import { imageNodeFlags, sidecarListening } from './targets.ts';

export const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));
const REPO = resolve(BENCH_DIR, '..');

export interface BenchSidecar {
  api: string;
  admin: string;
  /** The sum of a metric's series whose labels include `labels`. */
  metric: (name: string, labels?: Record<string, string>) => Promise<number>;
  stop: () => Promise<void>;
}

export async function startBenchSidecar(configYaml: string): Promise<BenchSidecar> {
  const dir = mkdtempSync(join(tmpdir(), 'llmroute-bench-routing-'));
  const configPath = join(dir, 'config.yaml');
  writeFileSync(configPath, configYaml);
  const { child, ready } = await startChild('sidecar', process.execPath, [...imageNodeFlags(), join(REPO, 'sidecar', 'src', 'cli.ts'), '--config', configPath, '--port', '0', '--admin-port', '0'], {
    readyLine: sidecarListening,
    cwd: dir,
    env: { ...process.env },
  });
  const r = ready as { api: string; admin: string };
  const api = `http://127.0.0.1:${r.api.split(':').pop()}`;
  const admin = `http://127.0.0.1:${r.admin.split(':').pop()}`;
  const metric = async (name: string, labels: Record<string, string> = {}): Promise<number> => {
    const text = await (await fetch(`${admin}/metrics`)).text();
    let sum = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return sum;
  };
  return {
    api,
    admin,
    metric,
    stop: async () => {
      await child.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Writes bench/results/<name>.md and .json (or under --out) and prints the markdown. */
export function report(out: string, name: string, md: string, json: unknown): void {
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, `${name}.md`), md);
  writeFileSync(join(out, `${name}.json`), JSON.stringify(json, null, 2));
  process.stdout.write(md);
}

/** A seeded random source (mulberry32), so a run's latency draws are the same each time. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
