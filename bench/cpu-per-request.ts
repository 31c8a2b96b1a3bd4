/**
 * The sidecar's CPU per request at paced rates (issue 15, point 10): what
 * the injected CPU request is set from (operator/src/inject/options.ts).
 *
 *   node bench/cpu-per-request.ts [--rates 50,200,500] [--seconds 10] [--rounds 3]
 *
 * One sidecar (sidecar/src/cli.ts, with the node flags of its image), the
 * bench's fake upstream, the `chat` route (non-streaming answers); for each
 * rate, an open loop (`paced`: request i at t0 + i/rate) after a 2 s
 * warm-up, and the sidecar process tree's CPU time (utime + stime from
 * /proc) over the measured window. Reported per rate: CPU µs per request,
 * and cores (CPU seconds per second) — the figure a CPU request compares
 * with. Rounds alternate the rates; the median of the rounds is reported.
 * Everything shares the machine's cores: the numbers are this machine's.
 * Writes bench/results/cpu-per-request.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { paced, type RequestSpec } from './lib/load.ts';
import { startChild, treeCpuSeconds } from './lib/proc.ts';
import { requestBody } from './lib/scenarios.ts';
import { median } from './lib/stats.ts';
import { imageNodeFlags, sidecarTarget, type Upstream } from './lib/targets.ts';

const { values } = parseArgs({
  options: {
    rates: { type: 'string', default: '50,200,500' },
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
  },
});
const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const rates = values.rates.split(',').map(Number).filter((r) => r > 0 && r <= 5000);
const seconds = Math.max(1, Math.min(120, Number(values.seconds)));
const rounds = Math.max(1, Math.min(10, Number(values.rounds)));

const { child: upstream, ready } = await startChild('upstream', process.execPath, [join(REPO, 'bench', 'servers', 'upstream.ts')], {
  readyLine: (l) => {
    try {
      return (JSON.parse(l) as { upstream?: Upstream }).upstream;
    } catch {
      return undefined;
    }
  },
});
const sidecar = await sidecarTarget(ready as Upstream, { extraNodeArgs: imageNodeFlags() });
const ep = sidecar.endpoint('chat')!;
const req: RequestSpec = { url: ep.url, headers: ep.headers, body: requestBody(ep.model, false) };

interface Cell {
  rate: number;
  rps: number;
  errors: number;
  cpuUsPerRequest: number;
  cores: number;
  p50Ms: number;
  p99Ms: number;
}
const cells: Record<number, Cell[]> = {};
try {
  for (let round = 0; round < rounds; round++) {
    for (const rate of round % 2 ? [...rates].reverse() : rates) {
      let cpu0 = 0;
      let cpu1 = 0;
      let t0 = 0;
      let t1 = 0;
      const r = await paced(req, {
        rate,
        seconds,
        warmupSeconds: 2,
        connections: 64,
        onMeasureStart: () => {
          cpu0 = treeCpuSeconds(sidecar.pid!)!;
          t0 = performance.now();
        },
        onMeasureEnd: () => {
          cpu1 = treeCpuSeconds(sidecar.pid!)!;
          t1 = performance.now();
        },
      });
      const cpu = cpu1 - cpu0;
      const cell: Cell = {
        rate,
        rps: Math.round(r.rps),
        errors: r.errors,
        cpuUsPerRequest: Math.round((cpu * 1e6) / Math.max(1, r.ok)),
        cores: Number((cpu / ((t1 - t0) / 1000)).toFixed(3)),
        p50Ms: Number(r.latency.p50.toFixed(2)),
        p99Ms: Number(r.latency.p99.toFixed(2)),
      };
      (cells[rate] ??= []).push(cell);
      process.stdout.write(`round ${round + 1} ${JSON.stringify(cell)}\n`);
    }
  }
} finally {
  await sidecar.stop();
  await upstream.stop();
}

const summary = rates.map((rate) => {
  const cs = cells[rate] ?? [];
  return {
    rate,
    rps: median(cs.map((c) => c.rps)),
    cpuUsPerRequest: median(cs.map((c) => c.cpuUsPerRequest)),
    cores: Number(median(cs.map((c) => c.cores)).toFixed(3)),
    p99Ms: median(cs.map((c) => c.p99Ms)),
    errors: cs.reduce((n, c) => n + c.errors, 0),
    rounds: cs.map((c) => ({ cpuUsPerRequest: c.cpuUsPerRequest, cores: c.cores })),
  };
});
process.stdout.write('\n| offered req/s | served req/s | CPU µs/request | cores | p99 ms | errors |\n|---|---|---|---|---|---|\n');
for (const s of summary) process.stdout.write(`| ${s.rate} | ${s.rps} | ${s.cpuUsPerRequest} | ${s.cores} | ${s.p99Ms} | ${s.errors} |\n`);
mkdirSync(join(REPO, 'bench', 'results'), { recursive: true });
writeFileSync(join(REPO, 'bench', 'results', 'cpu-per-request.json'), JSON.stringify({ when: new Date().toISOString(), node: process.version, seconds, rounds, summary }, null, 2) + '\n');
