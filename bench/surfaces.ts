/**
 * What the Responses and Messages APIs cost the sidecar, beside the Chat
 * Completions pass-through in the same run (issue 11): CPU per request of
 * the sidecar process, whole answers at 32 connections and streams at 16,
 * for each inbound API native (the target speaks it) and translated
 * (through Chat Completions to a provider of the other family), and the
 * memory of the response store filled past its bound; then the stream codecs
 * alone, in this process (bench/lib/stream-codecs.ts).
 *
 *   node bench/surfaces.ts [--quick] [--seconds S] [--rounds N] [--out DIR]
 *
 * The sidecar runs its .ts sources with the node flags of sidecar/Dockerfile's
 * ENTRYPOINT; the fake providers (test/fakes/cli.ts) run in processes of
 * their own and the load in this one, so none of their CPU is the sidecar's. Figures are reported, never
 * enforced: exit 0 unless the benchmark itself could not run. Writes
 * bench/results/surfaces.md and .json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { closedLoop } from './lib/load.ts';
import { startChild, treeCpuSeconds, treeRssMb } from './lib/proc.ts';
import { median } from './lib/stats.ts';
import { measureStreamCodecs } from './lib/stream-codecs.ts';
import { imageNodeFlags, sidecarListening } from './lib/targets.ts';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const REPO = resolve(BENCH_DIR, '..');

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    rounds: { type: 'string' },
    out: { type: 'string', default: join(BENCH_DIR, 'results') },
  },
});
const seconds = Number(flags.seconds ?? (flags.quick ? 1 : 4));
const rounds = Number(flags.rounds ?? (flags.quick ? 1 : 3));
const say = (m: string): void => void process.stderr.write(`bench/surfaces: ${m}\n`);

/** A fake provider in a process of its own (test/fakes/cli.ts), so that it does not share the load generator's. */
async function fake(flavor: 'openai' | 'anthropic'): Promise<{ url: string; stop: () => Promise<void> }> {
  const { child: c, ready: line } = await startChild(`fake-${flavor}`, process.execPath, [join(REPO, 'test', 'fakes', 'cli.ts'), '--flavor', flavor, '--port', '0', '--chunks', '20'], {
    readyLine: (l) => {
      try {
        return (JSON.parse(l) as { url?: string }).url;
      } catch {
        return undefined;
      }
    },
  });
  return { url: line as string, stop: () => c.stop() };
}
const gpt = await fake('openai');
const claude = await fake('anthropic');

/** A store small enough to fill in a few seconds: its bound is what is measured. */
const STORE = { maxEntries: 100_000, maxBytes: '4Mi' };
const dir = mkdtempSync(join(tmpdir(), 'llmroute-bench-surfaces-'));
const configPath = join(dir, 'config.yaml');
const gptT = `{name: gpt, provider: openai, baseURL: "${gpt.url}", model: gpt-4o-mini, apiKey: {value: sk-bench}}`;
const claudeT = `{name: claude, provider: anthropic, baseURL: "${claude.url}", model: claude-sonnet-4-5, apiKey: {value: sk-bench}}`;
const compatT = `{name: compat, provider: openai-compatible, baseURL: "${gpt.url}", model: gpt-4o-mini, apiKey: {value: sk-bench}}`;
writeFileSync(
  configPath,
  `routes:
- {name: chat, targets: [${compatT}]}
- {name: openai, targets: [${gptT}], responseStore: {maxEntries: ${STORE.maxEntries}, maxBytes: ${STORE.maxBytes}}}
- {name: anthropic, targets: [${claudeT}], responseStore: {maxEntries: ${STORE.maxEntries}, maxBytes: ${STORE.maxBytes}}}
`,
);

const { child, ready } = await startChild('sidecar', process.execPath, [...imageNodeFlags(), join(REPO, 'sidecar', 'src', 'cli.ts'), '--config', configPath, '--port', '0', '--admin-port', '0'], {
  readyLine: sidecarListening,
  cwd: dir,
  env: { ...process.env },
});
const r = ready as { api: string; admin: string };
const api = `http://127.0.0.1:${r.api.split(':').pop()}`;
const admin = `http://127.0.0.1:${r.admin.split(':').pop()}`;

interface Cell {
  name: string;
  path: string;
  body: (stream: boolean) => string;
  /** The text a clean stream ends with. */
  end: string;
}

const system = 'You are a terse assistant.';
const user = 'Say hello in one short sentence.';
const chatBody = (model: string) => (stream: boolean) => JSON.stringify({ model, messages: [{ role: 'system', content: system }, { role: 'user', content: user }], max_tokens: 64, ...(stream ? { stream: true } : {}) });
// store: false on the CPU cells: the store is measured on its own below.
const responsesBody = (model: string) => (stream: boolean) => JSON.stringify({ model, instructions: system, input: user, max_output_tokens: 64, store: false, ...(stream ? { stream: true } : {}) });
const messagesBody = (model: string) => (stream: boolean) => JSON.stringify({ model, system, messages: [{ role: 'user', content: user }], max_tokens: 64, ...(stream ? { stream: true } : {}) });

const CELLS: Cell[] = [
  { name: 'chat → openai-compatible (pass-through, the baseline)', path: '/v1/chat/completions', body: chatBody('chat'), end: 'data: [DONE]' },
  { name: 'chat → anthropic (translated: the Chat API\'s own translation, for reference)', path: '/v1/chat/completions', body: chatBody('anthropic'), end: 'data: [DONE]' },
  { name: 'responses → openai (native)', path: '/v1/responses', body: responsesBody('openai'), end: 'response.completed' },
  { name: 'responses → anthropic (translated)', path: '/v1/responses', body: responsesBody('anthropic'), end: 'response.completed' },
  { name: 'messages → anthropic (native)', path: '/v1/messages', body: messagesBody('anthropic'), end: 'message_stop' },
  { name: 'messages → openai (translated)', path: '/v1/messages', body: messagesBody('openai'), end: 'message_stop' },
];

const HEADERS = { 'content-type': 'application/json' };

/** Sidecar CPU µs per request over a window in which `load` ran. */
async function cpuPer(load: () => Promise<{ ok: number; errors: number }>): Promise<{ us: number; rps: number; ok: number; errors: number }> {
  const c0 = treeCpuSeconds(child.pid)!;
  const t0 = performance.now();
  const res = await load();
  const c1 = treeCpuSeconds(child.pid)!;
  return { us: ((c1 - c0) * 1e6) / Math.max(1, res.ok + res.errors), rps: (res.ok * 1000) / (performance.now() - t0), ...res };
}

/** 16 streams at a time for `s` seconds; a stream counts as ok only when it ends with its API's clean end. */
async function streams(cell: Cell, s: number): Promise<{ ok: number; errors: number }> {
  const pool = new Pool(api, { connections: 16 });
  const body = cell.body(true);
  let ok = 0;
  let errors = 0;
  const until = performance.now() + s * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < until) {
      try {
        const res = await pool.request({ path: cell.path, method: 'POST', headers: HEADERS, body });
        const text = await res.body.text();
        if (res.statusCode === 200 && text.trimEnd().endsWith(cell.end === 'data: [DONE]' ? cell.end : '}') && text.includes(cell.end)) ok++;
        else errors++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  await pool.close();
  return { ok, errors };
}

const results: Array<{ cell: string; wholeUs: number; streamUs: number; wholeRps: number; streamRps: number; wholeErrors: number; streamErrors: number }> = [];
for (const cell of CELLS) results.push({ cell: cell.name, wholeUs: 0, streamUs: 0, wholeRps: 0, streamRps: 0, wholeErrors: 0, streamErrors: 0 });
const wholeRps: number[][] = CELLS.map(() => []);
const streamRps: number[][] = CELLS.map(() => []);
// A warm-up pass over every cell first: the first cell measured must not pay the JIT for all.
for (const cell of CELLS) {
  await closedLoop({ url: `${api}${cell.path}`, headers: HEADERS, body: cell.body(false) }, { connections: 32, seconds: flags.quick ? 0.5 : 1.5, maxRequests: 200_000 });
  await streams(cell, flags.quick ? 0.5 : 1.5);
}
const wholeRounds: number[][] = CELLS.map(() => []);
const streamRounds: number[][] = CELLS.map(() => []);
for (let round = 0; round < rounds; round++) {
  for (let i = 0; i < CELLS.length; i++) {
    const cell = CELLS[i]!;
    say(`round ${round + 1}/${rounds}: ${cell.name}`);
    const req = { url: `${api}${cell.path}`, headers: HEADERS, body: cell.body(false) };
    const whole = await cpuPer(() => closedLoop(req, { connections: 32, seconds, warmupSeconds: flags.quick ? 0.3 : 1, maxRequests: 200_000 }));
    const st = await cpuPer(() => streams(cell, seconds));
    wholeRounds[i]!.push(whole.us);
    streamRounds[i]!.push(st.us);
    wholeRps[i]!.push(whole.rps);
    streamRps[i]!.push(st.rps);
    results[i]!.wholeErrors += whole.errors;
    results[i]!.streamErrors += st.errors;
  }
}
for (let i = 0; i < CELLS.length; i++) {
  results[i]!.wholeUs = median(wholeRounds[i]!);
  results[i]!.streamUs = median(streamRounds[i]!);
  results[i]!.wholeRps = median(wholeRps[i]!);
  results[i]!.streamRps = median(streamRps[i]!);
}

// The response store at its bound: distinct stored responses until well past maxBytes.
say(`filling the response store (maxBytes ${STORE.maxBytes}) past its bound`);
const rssBefore = treeRssMb(child.pid);
const fill = new Pool(api, { connections: 16 });
const padding = 'x'.repeat(8000);
let stored = 0;
const fillUntil = performance.now() + (flags.quick ? 2 : 6) * 1000;
await Promise.all(
  Array.from({ length: 16 }, async () => {
    while (performance.now() < fillUntil) {
      const res = await fill.request({ path: '/v1/responses', method: 'POST', headers: HEADERS, body: JSON.stringify({ model: 'openai', input: `${padding} ${stored}` }) });
      await res.body.dump();
      if (res.statusCode === 200) stored++;
    }
  }),
);
await fill.close();
const metrics = await (await fetch(`${admin}/metrics`)).text();
const storeBytes = Number(/^llmroute_response_store_bytes (\S+)$/m.exec(metrics)?.[1] ?? NaN);
const rssAfter = treeRssMb(child.pid);

await child.stop();
await Promise.all([gpt.stop(), claude.stop()]);
rmSync(dir, { recursive: true, force: true });

// The codecs alone, in this process, once the sidecar and the fakes are gone.
say('the stream codecs alone, in process');
const codecs = measureStreamCodecs(flags.quick ? 3 : 7, flags.quick ? 500 : 4000);

const base = results[0]!;
const ratio = (x: number, b: number): string => (b > 0 ? `${(x / b).toFixed(2)} ×` : 'n/a');
const lines = [
  `# The Responses and Messages APIs: CPU per request beside Chat Completions`,
  '',
  `node bench/surfaces.ts${flags.quick ? ' --quick' : ''}: ${rounds} round(s) of ${seconds} s a cell, median shown; ${cpus().length} cores, load average at the end ${loadavg()[0]!.toFixed(2)}.`,
  'Whole answers: 32 connections, closed loop. Streams: 16 at a time, 20 content chunks each.',
  '',
  '| inbound → target | CPU µs / request | × chat pass-through | req/s | CPU µs / stream | × chat pass-through | streams/s | errors |',
  '|---|---:|---:|---:|---:|---:|---:|---:|',
  ...results.map(
    (x) =>
      `| ${x.cell} | ${x.wholeUs.toFixed(0)} | ${ratio(x.wholeUs, base.wholeUs)} | ${x.wholeRps.toFixed(0)} | ${x.streamUs.toFixed(0)} | ${ratio(x.streamUs, base.streamUs)} | ${x.streamRps.toFixed(0)} | ${x.wholeErrors + x.streamErrors} |`,
  ),
  '',
  `Response store filled past its bound (maxBytes ${STORE.maxBytes}, ${stored} responses of ~8 KB of input each): it holds ${Number.isFinite(storeBytes) ? `${(storeBytes / 1024 / 1024).toFixed(2)} MiB` : 'unknown'} (llmroute_response_store_bytes); sidecar RSS ${rssBefore?.toFixed(0)} → ${rssAfter?.toFixed(0)} MB.`,
  '',
  'The stream codecs alone, in this process (no sockets): one 20-chunk stream decoded from the provider and encoded in the client\'s API (bench/lib/stream-codecs.ts), median of rounds.',
  '',
  '| decoder → encoder | µs / stream | × the pass-through\'s decoder | bytes out |',
  '|---|---:|---:|---:|',
  ...codecs.map((c) => `| ${c.name} | ${c.us.toFixed(1)} | ${ratio(c.us, codecs[0]!.us)} | ${c.bytes} |`),
  '',
];
const md = lines.join('\n');
mkdirSync(flags.out, { recursive: true });
writeFileSync(join(flags.out, 'surfaces.md'), md);
writeFileSync(join(flags.out, 'surfaces.json'), JSON.stringify({ rounds, seconds, results, store: { maxBytes: STORE.maxBytes, stored, storeBytes, rssBefore, rssAfter }, codecs }, null, 2));
process.stdout.write(md);
