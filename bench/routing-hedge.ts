/**
 * Hedged requests (issue 13): the p99 with and without hedging when each
 * provider has a 5 % slow tail, and what the hedges cost upstream.
 *
 *   node bench/routing-hedge.ts [--quick] [--seconds S] [--rate R] [--out DIR]
 *
 * Two fake OpenAI-compatible providers, each answering 95 % of requests
 * after 40-60 ms and 5 % after 2 s (independent draws, seeded), behind the
 * real sidecar on two routes with the same targets: `plain` (no hedge) and
 * `hedged` (hedge: {after: 250ms}, the defaults otherwise: maxExtra 1,
 * budgetPercent 10). An open loop sends R requests a second (non-stream,
 * then streams) to each route in turn. Reported: client latency p50, p90,
 * p99, max (from the intended send time), the upstream requests per client
 * request, the hedges started and won, the loser requests the providers
 * saw abandoned, and llmroute_hedge_wasted_tokens_total. Figures are
 * reported, never enforced: exit 0 unless the bench itself could not run.
 * Writes bench/results/routing-hedge.md and .json.
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { latencyDistribution, startFakeProvider, type FakeProvider } from '../test/fakes/fake-provider.ts';
import { paced } from './lib/load.ts';
import { report, RESULTS_DIR, seeded, startSidecar } from './lib/routing.ts';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    rate: { type: 'string' },
    out: { type: 'string', default: RESULTS_DIR },
  },
});
const seconds = Number(flags.seconds ?? (flags.quick ? 1.5 : 12));
const rate = Number(flags.rate ?? (flags.quick ? 20 : 50));
const say = (m: string): void => void process.stderr.write(`bench/routing-hedge: ${m}\n`);

const TAIL = { share: 0.05, ms: 2000 };
const AFTER = '250ms';
/** 95 % between 40 and 60 ms (ten steps), 5 % at 2 s. */
function slowTail(rng: () => number) {
  const fast = Array.from({ length: 10 }, (_, i) => ({ share: 0.095, ms: 40 + 2 * i }));
  return latencyDistribution([...fast, TAIL], rng, { chunks: 8 });
}

const a = await startFakeProvider({ flavor: 'openai', name: 'a', behaviour: slowTail(seeded(1)), maxRecords: 0, validate: false });
const b = await startFakeProvider({ flavor: 'openai', name: 'b', behaviour: slowTail(seeded(2)), maxRecords: 0, validate: false });
const targets = `
  - {name: a, provider: openai-compatible, baseURL: "${a.url}", model: m}
  - {name: b, provider: openai-compatible, baseURL: "${b.url}", model: m, priority: 1}`;
const sidecar = await startSidecar(`routes:
- name: plain
  targets:${targets}
- name: hedged
  hedge: {after: ${AFTER}}
  targets:${targets}
`);

interface Row {
  route: string;
  stream: boolean;
  requests: number;
  errors: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  upstreamPerRequest: number;
  hedgesStarted: number;
  hedgesWon: number;
  abandoned: number;
  wastedTokens: number;
}

const rows: Row[] = [];
for (const stream of [false, true]) {
  for (const route of ['plain', 'hedged']) {
    say(`${route}, ${stream ? 'streams' : 'whole answers'}: ${rate}/s for ${seconds} s`);
    a.reset();
    b.reset();
    const before = {
      started: await sidecar.metric('llmroute_hedges_total', { route, outcome: 'started' }),
      won: await sidecar.metric('llmroute_hedges_total', { route, outcome: 'won' }),
      wasted: await sidecar.metric('llmroute_hedge_wasted_tokens_total', { route }),
    };
    const body = JSON.stringify({ model: route, messages: [{ role: 'user', content: 'Say hello in one short sentence.' }], max_tokens: 64, ...(stream ? { stream: true } : {}) });
    const res = await paced({ url: `${sidecar.api}/v1/chat/completions`, headers: { 'content-type': 'application/json' }, body }, { rate, seconds, warmupSeconds: flags.quick ? 0 : 1, connections: 256, drainMs: 5000 });
    // Let the aborted losers' closes reach the providers.
    await new Promise((r) => setTimeout(r, 200));
    const lat = res.corrected ?? res.latency;
    const requests = res.ok + res.errors;
    rows.push({
      route,
      stream,
      requests,
      errors: res.errors,
      p50: lat.p50,
      p90: lat.p90,
      p99: lat.p99,
      max: lat.max,
      upstreamPerRequest: (a.counts.requests + b.counts.requests) / Math.max(1, requests + (flags.quick ? 0 : Math.round(rate))),
      hedgesStarted: (await sidecar.metric('llmroute_hedges_total', { route, outcome: 'started' })) - before.started,
      hedgesWon: (await sidecar.metric('llmroute_hedges_total', { route, outcome: 'won' })) - before.won,
      abandoned: a.counts.abandoned + b.counts.abandoned,
      wastedTokens: (await sidecar.metric('llmroute_hedge_wasted_tokens_total', { route })) - before.wasted,
    });
  }
}
await sidecar.stop();
await Promise.all([a.close(), b.close()]);

const ms = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(0)} ms` : 'n/a');
const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
const md = [
  '# Hedged requests: p99 at a 5 % slow tail, and the extra upstream cost',
  '',
  `node bench/routing-hedge.ts${flags.quick ? ' --quick' : ''}: ${rate} requests/s for ${seconds} s per row (open loop, latency from the intended send time); ${cpus().length} cores, load average at the end ${loadavg()[0]!.toFixed(2)}.`,
  `Two providers, each answering 95 % of requests in 40-60 ms and ${TAIL.share * 100} % after ${TAIL.ms / 1000} s (independent, seeded draws). Route \`hedged\`: \`hedge: {after: ${AFTER}}\` (maxExtra 1, budgetPercent 10).`,
  'Upstream requests per client request counts every request the two providers were sent, warm-up included in both; abandoned: requests whose connection the sidecar closed before the answer (hedge losers).',
  '',
  '| route | answers | requests | errors | p50 | p90 | p99 | max | upstream / request | hedges started | hedges won | abandoned upstream | wasted tokens (est.) |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.route} | ${r.stream ? 'streams' : 'whole'} | ${r.requests} | ${r.errors} | ${ms(r.p50)} | ${ms(r.p90)} | ${ms(r.p99)} | ${ms(r.max)} | ${r.upstreamPerRequest.toFixed(3)} | ${r.hedgesStarted} (${pct(r.hedgesStarted / Math.max(1, r.requests))}) | ${r.hedgesWon} | ${r.abandoned} | ${r.wastedTokens} |`,
  ),
  '',
].join('\n');
report('routing-hedge', md, { rate, seconds, tail: TAIL, after: AFTER, rows }, flags.out);
