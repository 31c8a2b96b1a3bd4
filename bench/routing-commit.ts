/**
 * The commit window's trade-off (issue 13): what holding a stream's first
 * content costs in time to first token, against the failovers it makes
 * invisible. One primary whose streams are mostly healthy, some start and
 * then stall, some crawl; a healthy backup. The same requests go through
 * routes that differ only in `commit`: none (today: commit at the first
 * content chunk) and windows of growing length.
 *
 *   node bench/routing-commit.ts [--quick] [--requests N] [--concurrency C] [--out DIR]
 *
 * The sidecar runs as a process of its own (its .ts sources, with the node
 * flags of sidecar/Dockerfile's ENTRYPOINT); the fake providers and the
 * clients run in this one: the figures are latencies of a few streams at a
 * time, not CPU. Figures are reported, never enforced: exit 0 unless the
 * benchmark itself could not run. Writes bench/results/routing-commit.md
 * and .json, and prints the markdown.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { startFakeProvider, type Behaviour } from '../test/fakes/fake-provider.ts';
import { startChild } from './lib/proc.ts';
import { Samples } from './lib/stats.ts';
import { imageNodeFlags, sidecarListening } from './lib/targets.ts';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const REPO = resolve(BENCH_DIR, '..');

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    requests: { type: 'string' },
    concurrency: { type: 'string' },
    out: { type: 'string', default: join(BENCH_DIR, 'results') },
  },
});
const REQUESTS = Number(flags.requests ?? (flags.quick ? 20 : 60));
const CONCURRENCY = Number(flags.concurrency ?? 10);
const say = (m: string): void => void process.stderr.write(`bench/routing-commit: ${m}\n`);

/** What the primary does with a request: the client names it in its message (the mix below). */
type Kind = 'healthy' | 'stall' | 'crawl';
const CHUNK = 'lorem ipsum dolor s '; // 20 characters: 5 estimated tokens a chunk
/** 40 chunks 10 ms apart: 200 tokens at about 500 tokens/s. */
const HEALTHY: Behaviour = { kind: 'ok', text: CHUNK.repeat(40), chunks: 40, chunkDelayMs: 10 };
/** Starts, 3 chunks, then nothing more (the socket stays open). */
const STALL: Behaviour = { kind: 'stall', text: CHUNK.repeat(40), chunks: 40, afterChunks: 3, chunkDelayMs: 10 };
/** 8 chunks 400 ms apart: 12.5 tokens/s, a crawl. */
const CRAWL: Behaviour = { kind: 'ok', text: CHUNK.repeat(8), chunks: 8, chunkDelayMs: 400 };
const BEHAVIOUR: Record<Kind, Behaviour> = { healthy: HEALTHY, stall: STALL, crawl: CRAWL };
/** 70 % healthy, 15 % stall, 15 % crawl, spread evenly (the same sequence for every route). */
const MIX: Kind[] = ['healthy', 'healthy', 'stall', 'healthy', 'healthy', 'crawl', 'healthy', 'healthy', 'healthy', 'stall', 'healthy', 'crawl', 'healthy', 'healthy', 'healthy', 'stall', 'healthy', 'healthy', 'crawl', 'healthy'];

/** The routes compared: the label in the table and the `commit` of the route (none: today). */
const WINDOWS: Array<{ name: string; label: string; commit: string | undefined }> = [
  { name: 'today', label: 'none (commit at the first content chunk)', commit: undefined },
  { name: 'tokens-20', label: '`{afterTokens: 20}`', commit: '{afterTokens: 20}' },
  { name: 'window-1s', label: '`{afterTokens: 50, afterMs: 1s, minTokensPerSecond: 30}`', commit: '{afterTokens: 50, afterMs: 1s, minTokensPerSecond: 30}' },
  { name: 'window-2s', label: '`{afterTokens: 150, afterMs: 2s, minTokensPerSecond: 30}`', commit: '{afterTokens: 150, afterMs: 2s, minTokensPerSecond: 30}' },
];

const primary = await startFakeProvider({
  flavor: 'openai',
  name: 'primary',
  maxRecords: 0,
  behaviour: (req) => BEHAVIOUR[(String(req.body?.messages?.[0]?.content ?? 'healthy') as Kind)] ?? HEALTHY,
});
const backup = await startFakeProvider({ flavor: 'anthropic', name: 'backup', maxRecords: 0, text: CHUNK.repeat(40), chunks: 40, chunkDelayMs: 10 });

const dir = mkdtempSync(join(tmpdir(), 'llmroute-bench-commit-'));
const configPath = join(dir, 'config.yaml');
const targets = `
  - {name: primary, provider: openai, baseURL: "${primary.url}", model: gpt-4o-mini, apiKey: {value: sk-bench}}
  - {name: backup, provider: anthropic, baseURL: "${backup.url}", model: claude-sonnet-4-5, priority: 1, apiKey: {value: sk-bench}}`;
// No retry on the same target and a breaker that does not open: every request meets the primary,
// so each route sees the same mix (a breaker would move traffic off it, hiding the difference).
writeFileSync(
  configPath,
  `routes:${WINDOWS.map(
    (w) => `
- name: ${w.name}
  targets:${targets}
  retry: {attempts: 0}
  circuitBreaker: {consecutiveFailures: 1000, openFor: 1s}
  timeouts: {firstByte: 5s, idle: 1s, total: 30s}${w.commit ? `\n  commit: ${w.commit}` : ''}`,
  ).join('')}
`,
);

const { child, ready } = await startChild('sidecar', process.execPath, [...imageNodeFlags(), join(REPO, 'sidecar', 'src', 'cli.ts'), '--config', configPath, '--port', '0', '--admin-port', '0'], {
  readyLine: sidecarListening,
  cwd: dir,
  env: { ...process.env },
});
const r = ready as { api: string; admin: string };
const api = `http://${r.api}`;
const admin = `http://${r.admin}`;

interface Outcome {
  kind: Kind;
  status: number;
  /** Time to the first content delta the client got (ms), or NaN. */
  ttft: number;
  /** Time to the end of the response (ms). */
  end: number;
  target: string;
  fallbacks: number;
  /** The client got an error event: a broken stream. */
  broken: boolean;
}

const pool = new Pool(api, { connections: CONCURRENCY, pipelining: 1 });
const HEADERS = { 'content-type': 'application/json' };

async function one(route: string, kind: Kind): Promise<Outcome> {
  const t0 = performance.now();
  const res = await pool.request({ path: '/v1/chat/completions', method: 'POST', headers: HEADERS, body: JSON.stringify({ model: route, stream: true, messages: [{ role: 'user', content: kind }] }) });
  let ttft = Number.NaN;
  let broken = false;
  let buf = '';
  for await (const chunk of res.body) {
    buf += chunk.toString();
    let nl;
    while ((nl = buf.indexOf('\n\n')) !== -1) {
      const frame = buf.slice(0, nl);
      buf = buf.slice(nl + 2);
      if (!frame.startsWith('data: ') || frame === 'data: [DONE]') continue;
      const data = JSON.parse(frame.slice(6)) as { error?: unknown; choices?: Array<{ delta?: { content?: string } }> };
      if (data.error) broken = true;
      else if (Number.isNaN(ttft) && data.choices?.[0]?.delta?.content) ttft = performance.now() - t0;
    }
  }
  const header = (h: string): string => String(res.headers[h] ?? '');
  return { kind, status: res.statusCode, ttft, end: performance.now() - t0, target: header('x-llmroute-target'), fallbacks: Number(header('x-llmroute-fallbacks') || 0), broken };
}

async function metricSum(name: string, route: string): Promise<number> {
  const text = await (await fetch(`${admin}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) && line.includes(`route="${route}"`)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

interface Row {
  name: string;
  label: string;
  requests: number;
  ttftHealthyP50: number;
  ttftHealthyP90: number;
  ttftAllP90: number;
  endP50: number;
  endP90: number;
  /** Streams that went wrong on the primary and reached the client clean from the backup. */
  invisibleFailovers: number;
  /** Of those, the ones the window won (llmroute_commit_window_fallbacks_total). */
  windowWon: number;
  /** Streams the client saw break (an error event after content). */
  broken: number;
  /** Crawls served to their end by the primary (slow, but not an error). */
  crawlsServed: number;
  errors: number;
  heldMean: number;
}

const rows: Row[] = [];
say(`${REQUESTS} streams per route, ${CONCURRENCY} at a time; mix ${MIX.filter((k) => k === 'healthy').length}/${MIX.length} healthy, ${MIX.filter((k) => k === 'stall').length} stall, ${MIX.filter((k) => k === 'crawl').length} crawl`);
// Warm up the sidecar (JIT, connections) on every route with healthy streams, so that the first
// route measured pays no more than the others.
for (const w of WINDOWS) await Promise.all(Array.from({ length: CONCURRENCY }, () => one(w.name, 'healthy')));

for (const w of WINDOWS) {
  const heldBefore = await metricSum('llmroute_commit_window_held_seconds_sum', w.name);
  const heldCountBefore = await metricSum('llmroute_commit_window_held_seconds_count', w.name);
  const outcomes: Outcome[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) {
        const i = next++;
        outcomes.push(await one(w.name, MIX[i % MIX.length]!));
      }
    }),
  );
  const ttftHealthy = new Samples();
  const ttftAll = new Samples();
  const end = new Samples();
  for (const o of outcomes) {
    if (o.status !== 200) continue;
    if (!Number.isNaN(o.ttft)) {
      ttftAll.push(o.ttft);
      if (o.kind === 'healthy') ttftHealthy.push(o.ttft);
    }
    end.push(o.end);
  }
  const held = (await metricSum('llmroute_commit_window_held_seconds_sum', w.name)) - heldBefore;
  const heldCount = (await metricSum('llmroute_commit_window_held_seconds_count', w.name)) - heldCountBefore;
  const row: Row = {
    name: w.name,
    label: w.label,
    requests: outcomes.length,
    ttftHealthyP50: ttftHealthy.summary().p50,
    ttftHealthyP90: ttftHealthy.summary().p90,
    ttftAllP90: ttftAll.summary().p90,
    endP50: end.summary().p50,
    endP90: end.summary().p90,
    invisibleFailovers: outcomes.filter((o) => o.status === 200 && !o.broken && o.kind !== 'healthy' && o.target === 'backup').length,
    windowWon: await metricSum('llmroute_commit_window_fallbacks_total', w.name),
    broken: outcomes.filter((o) => o.broken).length,
    crawlsServed: outcomes.filter((o) => o.kind === 'crawl' && o.target === 'primary' && !o.broken).length,
    errors: outcomes.filter((o) => o.status !== 200).length,
    heldMean: heldCount > 0 ? (held / heldCount) * 1000 : Number.NaN,
  };
  rows.push(row);
  say(`${w.name}: ttft healthy p50 ${row.ttftHealthyP50.toFixed(0)} ms, invisible failovers ${row.invisibleFailovers}, broken ${row.broken}, crawls served ${row.crawlsServed}`);
}

await pool.close();
await child.stop();
await Promise.all([primary.close(), backup.close()]);
rmSync(dir, { recursive: true, force: true });

const base = rows[0]!;
const ms = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : 'n/a');
const added = (x: number): string => (Number.isFinite(x) && Number.isFinite(base.ttftHealthyP50) ? `+${Math.max(0, x - base.ttftHealthyP50).toFixed(0)}` : 'n/a');
const wrong = MIX.filter((k) => k !== 'healthy').length / MIX.length;
const lines = [
  '# Routing: the commit window, time to first token against invisible failovers',
  '',
  `node bench/routing-commit.ts${flags.quick ? ' --quick' : ''}: ${REQUESTS} streams per route, ${CONCURRENCY} at a time; ${cpus().length} cores, load average at the end ${loadavg()[0]!.toFixed(2)}.`,
  `The primary's streams: ${Math.round((1 - wrong) * 100)} % healthy (200 tokens at ~500 tokens/s), ${Math.round((MIX.filter((k) => k === 'stall').length / MIX.length) * 100)} % start then stall after 3 chunks, ${Math.round((MIX.filter((k) => k === 'crawl').length / MIX.length) * 100)} % crawl (12.5 tokens/s); the backup is healthy. Every route: retry.attempts 0, idle 1s.`,
  '',
  '| commit | TTFT p50, healthy streams (ms) | added by the window | held, mean (ms) | TTFT p90, every stream (ms) | invisible failovers | of them won by the window | streams the client saw break | crawls served to the end | end p50 / p90 (ms) | errors |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (x) =>
      `| ${x.label} | ${ms(x.ttftHealthyP50)} | ${x === base ? '' : added(x.ttftHealthyP50)} | ${ms(x.heldMean)} | ${ms(x.ttftAllP90)} | ${x.invisibleFailovers} | ${x.windowWon} | ${x.broken} | ${x.crawlsServed} | ${ms(x.endP50)} / ${ms(x.endP90)} | ${x.errors} |`,
  ),
  '',
  'TTFT is the client\'s: request sent to first content delta received. "Invisible failovers": streams that went wrong on the primary and reached the client whole from the backup; "won by the window": tries that failed inside the window (llmroute_commit_window_fallbacks_total), each a broken stream or a crawl without it. "Held": how long committed streams were held (llmroute_commit_window_held_seconds), crawls that committed included. A stall inside the window costs the idle timeout (1 s) before the failover; a crawl, afterMs.',
  '',
];
const md = lines.join('\n');
mkdirSync(flags.out, { recursive: true });
writeFileSync(join(flags.out, 'routing-commit.md'), md);
writeFileSync(join(flags.out, 'routing-commit.json'), JSON.stringify({ requests: REQUESTS, concurrency: CONCURRENCY, mix: MIX, rows }, null, 2));
process.stdout.write(md);
