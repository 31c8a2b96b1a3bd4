/**
 * What the routing benchmarks (bench/routing-*.ts) share: the real sidecar
 * in a process of its own on a config written for the run, a paced or
 * closed-loop load of our own that records which target served each answer
 * (x-llmroute-target) and its usage, the sidecar's metrics, and the report
 * files. The fake providers run in the bench process (test/fakes): these
 * benchmarks measure routing decisions (429s, latency percentiles, cache
 * shares), not CPU, so sharing the load generator's process is fine.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { startChild } from './proc.ts';
import { Samples, type LatencySummary } from './stats.ts';
import { imageNodeFlags, sidecarListening } from './targets.ts';

const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));
const REPO = resolve(BENCH_DIR, '..');
export const RESULTS_DIR = join(BENCH_DIR, 'results');

export interface RunningSidecar {
  api: string;
  admin: string;
  /** The sum of a metric's samples whose labels include `labels`. */
  metric: (name: string, labels?: Record<string, string>) => Promise<number>;
  stop: () => Promise<void>;
}

/** Starts the sidecar (its .ts sources, with the image's node flags) on `configYaml`. */
export async function startSidecar(configYaml: string): Promise<RunningSidecar> {
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
  return {
    api,
    admin,
    metric: async (name, labels = {}) => {
      const text = await (await fetch(`${admin}/metrics`)).text();
      let sum = 0;
      for (const line of text.split('\n')) {
        const m = /^([a-zA-Z_:]+)(?:\{(.*)\})? (.+)$/.exec(line);
        if (!m || m[1] !== name) continue;
        const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
        if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
      }
      return sum;
    },
    stop: async () => {
      await child.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Answer {
  status: number;
  target: string;
  /** Milliseconds from the send (paced: from the intended send) to the whole answer. */
  ms: number;
  /** From the JSON answer's usage, when there is one. */
  promptTokens: number;
  cachedTokens: number;
  attempts: number;
}

export interface Tally {
  requests: number;
  statuses: Record<string, number>;
  byTarget: Record<string, number>;
  latency: LatencySummary;
  promptTokens: number;
  cachedTokens: number;
  /** Answers that took more than one try (a fallback or a retry). */
  retried: number;
}

export function tally(answers: Answer[]): Tally {
  const lat = new Samples();
  const t: Tally = { requests: answers.length, statuses: {}, byTarget: {}, latency: lat.summary(), promptTokens: 0, cachedTokens: 0, retried: 0 };
  for (const a of answers) {
    t.statuses[a.status] = (t.statuses[a.status] ?? 0) + 1;
    t.byTarget[a.target || '(none)'] = (t.byTarget[a.target || '(none)'] ?? 0) + 1;
    if (a.status === 200) lat.push(a.ms);
    t.promptTokens += a.promptTokens;
    t.cachedTokens += a.cachedTokens;
    if (a.attempts > 1) t.retried++;
  }
  t.latency = lat.summary();
  return t;
}

export interface Request {
  path: string;
  body: string;
  headers?: Record<string, string>;
}

async function send(pool: Pool, req: Request, started: number): Promise<Answer> {
  try {
    const res = await pool.request({ path: req.path, method: 'POST', headers: { 'content-type': 'application/json', ...req.headers }, body: req.body });
    const text = await res.body.text();
    const ms = performance.now() - started;
    let promptTokens = 0;
    let cachedTokens = 0;
    if (res.statusCode === 200 && text.startsWith('{')) {
      const usage = (JSON.parse(text) as { usage?: { prompt_tokens?: number; prompt_tokens_details?: { cached_tokens?: number } } }).usage;
      promptTokens = usage?.prompt_tokens ?? 0;
      cachedTokens = usage?.prompt_tokens_details?.cached_tokens ?? 0;
    }
    const target = res.headers['x-llmroute-target'];
    return { status: res.statusCode, target: typeof target === 'string' ? target : '', ms, promptTokens, cachedTokens, attempts: Number(res.headers['x-llmroute-attempts'] ?? 1) };
  } catch {
    return { status: 0, target: '', ms: performance.now() - started, promptTokens: 0, cachedTokens: 0, attempts: 0 };
  }
}

/** An open loop: request i goes out at t0 + i / rate whatever the earlier ones do; latency from the intended send. */
export async function pacedLoad(api: string, rate: number, seconds: number, next: (i: number) => Request): Promise<Answer[]> {
  const pool = new Pool(api, { connections: 256, keepAliveTimeout: 30_000 });
  const total = Math.max(1, Math.round(rate * seconds));
  const t0 = performance.now();
  const pending: Promise<Answer>[] = [];
  for (let i = 0; i < total; i++) {
    const at = t0 + (i * 1000) / rate;
    const wait = at - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(send(pool, next(i), at));
  }
  const answers = await Promise.all(pending);
  await pool.close();
  return answers;
}

/** A closed loop: `workers` clients, each sending its next request when the last is answered, for `seconds` or `maxRequests`. */
export async function closedLoad(api: string, workers: number, seconds: number, maxRequests: number, next: (i: number, worker: number) => Request): Promise<Answer[]> {
  const pool = new Pool(api, { connections: workers, keepAliveTimeout: 30_000 });
  const answers: Answer[] = [];
  const until = performance.now() + seconds * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      while (performance.now() < until && n < maxRequests) {
        const i = n++;
        answers.push(await send(pool, next(i, w), performance.now()));
      }
    }),
  );
  await pool.close();
  return answers;
}

/** Sequential requests, in order (sessions whose turns follow each other). */
export async function inOrder(api: string, requests: Request[], concurrency: number): Promise<Answer[]> {
  const pool = new Pool(api, { connections: concurrency, keepAliveTimeout: 30_000 });
  const answers: Answer[] = new Array(requests.length);
  let n = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (n < requests.length) {
        const i = n++;
        answers[i] = await send(pool, requests[i]!, performance.now());
      }
    }),
  );
  await pool.close();
  return answers;
}

export const ms = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(v < 10 ? 1 : 0)} ms` : '–');
export const pct = (v: number): string => (Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : '–');

/** Writes bench/results/<name>.md and .json and prints the Markdown. */
export function report(name: string, markdown: string, json: unknown, out = RESULTS_DIR): void {
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, `${name}.md`), markdown);
  writeFileSync(join(out, `${name}.json`), JSON.stringify(json, null, 2));
  process.stdout.write(markdown);
}

/** A seeded random source (mulberry32), so a run's draws (latencies, failures) are the same each time. */
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
