/**
 * npm run bench: what the llmroute sidecar costs, side by side with the
 * floor (a bare node:http + undici pass-through), express + http-proxy, and
 * the peers (Portkey gateway, LiteLLM proxy) where they install, all in
 * front of the same fake upstream on 127.0.0.1. See bench/README.md.
 *
 *   node bench/run.ts [--quick] [--duration S] [--rounds N] [--only sidecar,floor,...]
 *                     [--scenarios c1,c64,r1000,r5000,stream,slow-stream,failover]
 *                     [--skip-peers] [--think-ms N] [--sidecar-ts] [--node-args '...']
 *                     [--profile] [--record]
 *
 * The sidecar runs as its image runs it: compiled by tsconfig.build.json,
 * started with the node flags of sidecar/Dockerfile's ENTRYPOINT.
 * --sidecar-ts runs the .ts sources instead; --node-args replaces the flags.
 *
 * Writes the Markdown report to stdout and to bench/results/latest.md, the
 * raw numbers to bench/results/latest.json, and with --record a copy to
 * bench/RESULTS.md. Goals are reported, never enforced: exit 0 unless the
 * benchmark itself could not run.
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PEER_CACHE } from './lib/peers.ts';
import { ROUTING_HEADING, sectionOf } from './routing.ts';
import { RssSampler, hwmMb, startChild, treeRssMb, type Child } from './lib/proc.ts';
import { addDirect, aggregate, checkGoals, markdown, type Aggregate, type MemoryInfo } from './lib/report.ts';
import { ALL_SCENARIOS, SCENARIOS, requestBody, runCell, type CellResult, type ScenarioName } from './lib/scenarios.ts';
import {
  ALL_TARGETS,
  PEERS,
  directTarget,
  expressTarget,
  floorTarget,
  imageNodeFlags,
  litellmTarget,
  portkeyTarget,
  sidecarTarget,
  type Target,
  type TargetName,
  type Upstream,
} from './lib/targets.ts';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const REPO = resolve(BENCH_DIR, '..');
const UPSTREAM_SCRIPT = join(BENCH_DIR, 'servers', 'upstream.ts');

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    rounds: { type: 'string' },
    only: { type: 'string' },
    scenarios: { type: 'string' },
    'skip-peers': { type: 'boolean', default: false },
    'think-ms': { type: 'string', default: '0' },
    profile: { type: 'boolean', default: false },
    'sidecar-ts': { type: 'boolean', default: false },
    'node-args': { type: 'string' },
    record: { type: 'boolean', default: false },
    out: { type: 'string', default: join(BENCH_DIR, 'results') },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});

if (flags.help) {
  process.stdout.write(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]!.replace(/^\/\*\*?\n?/, '').replace(/^ \* ?/gm, '') + '\n');
  process.exit(0);
}

const say = (m: string): void => void process.stderr.write(`bench: ${m}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const quick = flags.quick;
const seconds = Number(flags.duration ?? (quick ? 0.5 : 5));
const rounds = Math.max(1, Math.floor(Number(flags.rounds ?? (quick ? 1 : 2))));
const warmupSeconds = quick ? 0.2 : Math.min(1, Math.max(0.3, seconds / 5));
const pauseMs = quick ? 50 : 300;
if (!(seconds > 0) || seconds > 600) throw new Error('--duration must be a number of seconds between 0 and 600');

function list<T extends string>(flag: string | undefined, all: readonly T[], what: string): T[] {
  if (!flag) return [...all];
  const want = flag.split(',').map((s) => s.trim()).filter(Boolean);
  for (const w of want) if (!all.includes(w as T)) throw new Error(`--${what}: unknown '${w}' (one of ${all.join(', ')})`);
  return all.filter((a) => want.includes(a));
}
let wanted = list<TargetName>(flags.only, ALL_TARGETS, 'only');
if (!wanted.includes('direct')) wanted = ['direct', ...wanted]; // every "added" number is against it
if (flags['skip-peers']) wanted = wanted.filter((t) => !PEERS.includes(t));
const scenarios = list<ScenarioName>(flags.scenarios, ALL_SCENARIOS, 'scenarios');

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  say(`Node ${process.versions.node}: the bench wants Node 24 (put node_modules/.bin first in PATH, or use npm run bench)`);
  process.exit(1);
}

// ------------------------------------------------------------------ start-up

/** Compiles the sources as the image does (npm run build), into a temp folder rather than dist/. */
function compileSidecar(): string {
  const out = mkdtempSync(join(tmpdir(), 'llmroute-bench-dist-'));
  tempDirs.push(out);
  say(`compiling the sidecar into ${out}`);
  execFileSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(REPO, 'tsconfig.build.json'), '--outDir', out], { stdio: 'inherit' });
  symlinkSync(join(REPO, 'node_modules'), join(out, 'node_modules'));
  copyFileSync(join(REPO, 'package.json'), join(out, 'package.json'));
  return join(out, 'sidecar', 'src', 'cli.js');
}
const loadAtStart = loadavg();

const notes: string[] = [];
const children: Child[] = [];
const targets: Target[] = [];
const labels: Partial<Record<TargetName, string>> = {};

const tempDirs: string[] = [];
async function shutdown(): Promise<void> {
  await Promise.all(targets.map((t) => t.stop().catch(() => undefined)));
  await Promise.all(children.map((c) => c.stop().catch(() => undefined)));
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}
let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    interrupted = true;
    say(`${sig}: stopping every process the bench started`);
    void shutdown().finally(() => process.exit(130));
  });
}

const thinkMs = Number(flags['think-ms']);
say(`starting the fake upstream (test/fakes/fake-provider.ts, think ${thinkMs} ms, 20-chunk streams)`);
const { child: upstreamChild, ready: upReady } = await startChild('upstream', process.execPath, [UPSTREAM_SCRIPT, '--think-ms', String(thinkMs)], {
  readyLine: (line) => {
    try {
      return (JSON.parse(line) as { upstream?: Upstream }).upstream;
    } catch {
      return undefined;
    }
  },
});
children.push(upstreamChild);
const up = upReady as Upstream;

let sidecarAdmin: string | undefined;
const profileDir = resolve(flags.out, 'profiles');
for (const name of wanted) {
  try {
    let t: Target | { skip: string };
    switch (name) {
      case 'direct':
        t = directTarget(up);
        break;
      case 'floor':
        t = await floorTarget(up);
        break;
      case 'express':
        t = await expressTarget(up);
        break;
      case 'sidecar': {
        if (flags.profile) mkdirSync(profileDir, { recursive: true });
        const js = flags['sidecar-ts'] ? undefined : compileSidecar();
        const nodeArgs = flags['node-args'] !== undefined ? flags['node-args'].split(/\s+/).filter(Boolean) : imageNodeFlags();
        const shown = nodeArgs.length ? ` with ${nodeArgs.join(' ')}` : '';
        const s = await sidecarTarget(up, {
          extraNodeArgs: [...nodeArgs, ...(flags.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])],
          ...(js
            ? { cli: js, label: `llmroute sidecar (compiled by tsconfig.build.json, node${shown}${flags['node-args'] === undefined ? ': as the image runs it' : ''})` }
            : { label: `llmroute sidecar (the .ts sources, node${shown})` }),
        });
        sidecarAdmin = s.adminURL;
        t = s;
        break;
      }
      case 'portkey':
        say('starting the Portkey gateway (installed on first use)');
        t = await portkeyTarget(up, say);
        break;
      case 'litellm':
        say('starting the LiteLLM proxy (installed on first use)');
        t = await litellmTarget(up, say);
        break;
    }
    if ('skip' in t) {
      say(`skipping ${name}: ${t.skip}`);
      notes.push(`**${name} skipped**: ${t.skip}`);
      continue;
    }
    targets.push(t);
    labels[name] = t.label;
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0];
    if (name === 'direct' || name === 'sidecar' || name === 'floor') throw err;
    say(`skipping ${name}: ${msg}`);
    notes.push(`**${name} skipped**: ${msg}`);
  }
}
if (flags['skip-peers']) notes.push('Peers (Portkey, LiteLLM) not run: --skip-peers.');

// ------------------------------------------------------------------ preflight

/** Targets that cannot stream, with the reason. */
const noStream = new Map<TargetName, string>();

async function preflight(t: Target): Promise<void> {
  const ep = t.endpoint('chat')!;
  const res = await fetch(ep.url, { method: 'POST', headers: ep.headers, body: requestBody(ep.model, false), signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  if (res.status !== 200 || !text.includes('chat.completion')) throw new Error(`${t.name}: a plain chat request got ${res.status}: ${text.slice(0, 200)}`);
  const s = await fetch(ep.url, { method: 'POST', headers: ep.headers, body: requestBody(ep.model, true), signal: AbortSignal.timeout(15_000) });
  const st = await s.text();
  if (s.status !== 200 || !st.includes('[DONE]')) {
    let why = `a stream request got ${s.status}: ${st.slice(0, 160).replace(/\s+/g, ' ')}`;
    const out = t.child?.output() ?? '';
    const m = /TypeError: [^\n]*/.exec(out);
    if (m) why += ` (its log: "${m[0]}")`;
    if (t.name === 'portkey' && m && /immutable/.test(m[0])) {
      why +=
        '. Its stream path appends x-portkey-* headers to the upstream fetch Response, whose Headers are immutable once @hono/node-server hands them through; the same happens on Node 20.20, so it is Portkey\'s, not this setup\'s';
    }
    if (noStream.has(t.name)) return;
    noStream.set(t.name, why);
    notes.push(`**${t.name} cannot stream here**, so it is left out of the streaming scenarios: ${why}.`);
  }
}
for (const t of [...targets]) {
  try {
    // Twice: the first request of some peers pays for lazy imports.
    await preflight(t);
    await preflight(t);
  } catch (err) {
    if (t.name === 'direct' || t.name === 'sidecar' || t.name === 'floor') {
      await shutdown();
      throw err;
    }
    notes.push(`**${t.name} dropped**: ${(err as Error).message}`);
    await t.stop();
    targets.splice(targets.indexOf(t), 1);
  }
}

// ------------------------------------------------------------------ memory

await sleep(quick ? 200 : 1000);
const memory: Partial<Record<TargetName, MemoryInfo>> = {};
const samplers = new Map<TargetName, RssSampler>();
for (const t of targets) {
  if (!t.pid) continue;
  memory[t.name] = { idleMb: treeRssMb(t.pid), peakMb: null };
  const s = new RssSampler(t.pid);
  s.start(100);
  samplers.set(t.name, s);
}

// ------------------------------------------------------------------ the runs

const raw: Partial<Record<ScenarioName, Partial<Record<TargetName, CellResult[]>>>> = {};
const skippedCells = new Set<string>();
const started = Date.now();

function canRun(t: Target, sc: ScenarioName): string | null {
  if (t.child && t.child.proc.exitCode !== null) return 'its process exited';
  if (!t.endpoint(SCENARIOS[sc].route)) return 'no such route';
  if (SCENARIOS[sc].stream && noStream.has(t.name)) return 'cannot stream';
  if (sc === 'r1000' || sc === 'r5000') {
    const sat = raw.c64?.[t.name];
    const rate = sc === 'r1000' ? 1000 : 5000;
    if (sat && sat.length) {
      const best = Math.max(...sat.map((r) => r.rps));
      if (best * 2 < rate) return `its saturation throughput (${best.toFixed(0)} req/s) is under half of ${rate} req/s: an open loop would only measure its queue`;
    }
  }
  return null;
}

for (const sc of scenarios) {
  const info = SCENARIOS[sc];
  const n = info.rounds ? rounds : 1;
  for (let round = 0; round < n; round++) {
    const order = round % 2 === 0 ? [...targets] : [...targets].reverse();
    for (const t of order) {
      if (interrupted) break;
      const why = canRun(t, sc);
      if (why) {
        const key = `${sc}/${t.name}`;
        if (!skippedCells.has(key) && why !== 'no such route' && why !== 'cannot stream') notes.push(`${t.name} not run in ${sc}: ${why}.`);
        skippedCells.add(key);
        continue;
      }
      say(`${sc} round ${round + 1}/${n}: ${t.name}`);
      const cell = await runCell(t, sc, { seconds, warmupSeconds, upstreamPid: upstreamChild.pid });
      if (cell) ((raw[sc] ??= {})[t.name] ??= []).push(cell);
      await sleep(pauseMs);
    }
  }
}

// ------------------------------------------------------------------ wrap up

let sidecarCounted: string | undefined;
if (sidecarAdmin) {
  try {
    const text = await (await fetch(`${sidecarAdmin}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    let total = 0;
    for (const line of text.split('\n')) if (line.startsWith('llmroute_requests_total{')) total += Number(line.split(' ').pop());
    sidecarCounted = `The sidecar's own llmroute_requests_total counted ${total} requests over the run (metrics on, scraped once at the end).`;
  } catch {
    // not essential
  }
}
for (const [name, s] of samplers) {
  s.sample();
  s.stop();
  const t = targets.find((x) => x.name === name)!;
  const hwm = t.pid ? hwmMb(t.pid) : null;
  memory[name]!.peakMb = Math.max(s.peakMb, hwm ?? 0) || null;
}
await shutdown();
const profiles = flags.profile ? readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(profileDir, f)) : [];

const results: Partial<Record<ScenarioName, Partial<Record<TargetName, Aggregate>>>> = {};
for (const [sc, byTarget] of Object.entries(raw) as Array<[ScenarioName, Partial<Record<TargetName, CellResult[]>>]>) {
  for (const [t, cells] of Object.entries(byTarget) as Array<[TargetName, CellResult[]]>) (results[sc] ??= {})[t] = aggregate(cells);
}
addDirect(results);
const goals = checkGoals(results, memory);

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
}
const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? '?';
const argv = process.argv.slice(2).join(' ');
const meta: Record<string, string> = {
  date: new Date().toISOString(),
  command: `node bench/run.ts${argv ? ` ${argv}` : ''}`,
  machine: `${sh('nproc', [])} CPUs (nproc), ${cpuModel}, Linux ${release()}`,
  node: process.version,
  'load average': `${loadAtStart.map((x) => x.toFixed(2)).join(' ')} at the start, ${loadavg().map((x) => x.toFixed(2)).join(' ')} at the end (1, 5, 15 min; 2 cores)`,
  'per cell': `${seconds} s measured after ${warmupSeconds} s of warm-up; ${rounds} round(s) in alternating order (A B C … then … C B A), median of the rounds`,
  upstream: `test/fakes fake OpenAI provider (one process), think ${thinkMs} ms, 20-chunk SSE streams; failover primary/secondary think 5 ms`,
  'load generator': 'this process: autocannon 9 (closed loops), undici (paced open loop, streams, failover)',
};
const allNotes = [
  'One machine, 2 cores: the load generator, the proxy and the fake upstream share them, so a proxy that burns more CPU also slows the generator and the upstream. Read the numbers side by side, not as absolute capacity.',
  'Closed-loop latencies are autocannon\'s per-response times in fractional ms (its own histogram keeps whole ms only).',
  'Open-loop rates use a paced generator (bench/lib/load.ts), not autocannon\'s overallRate: that option spends a per-connection budget as fast as it can at the start of every second, then waits (lib/httpClient.js), so it is bursty and, like any closed loop, hides the time a request would have waited (coordinated omission). The paced generator sends request i at t0 + i/rate whatever the earlier ones are doing, through an undici pool of up to 256 connections whose queueing counts in the latency.',
  'CPU per request: utime+stime of the proxy\'s process tree from /proc/<pid>/stat over the measured window (10 ms ticks), divided by the requests answered.',
  'The sidecar runs its realistic `chat` route: 3 targets on 2 priorities, weights 80/20, retry 1, breaker 5/30s, metrics on, default log level; the failover route has no same-target retry and a breaker at 50 failures in a row (see bench/lib/targets.ts).',
  ...(sidecarCounted ? [sidecarCounted] : []),
  ...(targets.some((t) => t.name === 'portkey' || t.name === 'litellm') || notes.some((n) => /portkey|litellm/.test(n)) ? [`Peers are installed under ${PEER_CACHE} (outside the repository), pinned; their outbound HTTP(S) is pointed at a dead local proxy, 127.0.0.1 excepted.`] : []),
  ...notes,
  ...(profiles.length ? [`CPU profile of the sidecar: ${profiles.join(', ')} (summarise with: node bench/profile-top.ts <file>).`] : []),
];

const order = ALL_TARGETS.filter((t) => targets.some((x) => x.name === t));
const md = markdown({ title: 'llmroute sidecar benchmark', meta, labels, order, results, memory, goals, notes: allNotes });
mkdirSync(flags.out, { recursive: true });
writeFileSync(join(flags.out, 'latest.md'), md);
writeFileSync(join(flags.out, 'latest.json'), JSON.stringify({ meta, labels, results, raw, memory, goals, notes: allNotes }, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
if (flags.record) {
  // The routing features' section (bench/routing.ts --record) is that script's: kept as it was.
  const resultsPath = join(BENCH_DIR, 'RESULTS.md');
  const routing = existsSync(resultsPath) ? sectionOf(readFileSync(resultsPath, 'utf8'), ROUTING_HEADING) : '';
  writeFileSync(resultsPath, routing ? `${md.trimEnd()}\n\n${routing.trimEnd()}\n` : md);
}
process.stdout.write(md + '\n');
say(`done in ${((Date.now() - started) / 1000).toFixed(0)} s; wrote ${join(flags.out, 'latest.md')} and latest.json${flags.record ? ' and bench/RESULTS.md' : ''}`);
process.exit(0);
