/**
 * p50/p99 with `balancing: least-latency` against `weighted` at one slow
 * target (issue 13). Three OpenAI targets of one priority, weight 1 each;
 * their time to first content is scripted from log-normal distributions: two
 * fast (median 40 ms), one slow (median 400 ms). Streams, from a closed loop
 * of 12 clients. A second scenario has the third target turn slow halfway
 * through the run, to show how fast the averages (halfLife) follow.
 *
 *   node bench/routing-latency.ts [--quick] [--seconds S]
 *
 * Figures are reported, never enforced: exit 0 unless the benchmark itself
 * could not run. Writes bench/results/routing-latency.md and .json.
 */
import { parseArgs } from 'node:util';
import { startFakeProvider, type FakeProvider } from '../test/fakes/fake-provider.ts';
import { closedLoad, ms, pct, report, startSidecar, tally } from './lib/routing.ts';

const { values: flags } = parseArgs({ options: { quick: { type: 'boolean', default: false }, seconds: { type: 'string' } } });
const seconds = Number(flags.seconds ?? (flags.quick ? 2 : 8));
const WORKERS = 12;
const FAST_MS = 40;
const SLOW_MS = 400;
const SIGMA = 0.5;
const say = (m: string): void => void process.stderr.write(`bench/routing-latency: ${m}\n`);

/** A seeded log-normal sampler: median `median`, shape `sigma`. */
function logNormal(median: number, sigma: number, seed: number): () => number {
  let s = seed >>> 0;
  const u = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 1) / 4294967297;
  return () => median * Math.exp(sigma * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}

interface Row {
  scenario: string;
  balancing: string;
  requests: number;
  errors: number;
  p50: number;
  p90: number;
  p99: number;
  slowShare: number;
  ejections: number;
}

async function run(scenario: 'slow from the start' | 'turns slow halfway', balancing: 'weighted' | 'least-latency'): Promise<Row> {
  const fakes: FakeProvider[] = [];
  const started = performance.now();
  for (const [name, seed] of [['fast1', 1], ['fast2', 2], ['slow', 3]] as const) {
    const fast = logNormal(FAST_MS, SIGMA, seed);
    const slow = logNormal(SLOW_MS, SIGMA, seed + 10);
    const isSlow = (): boolean => name === 'slow' && (scenario === 'slow from the start' || performance.now() - started > (seconds * 1000) / 2 + 1000);
    fakes.push(await startFakeProvider({ flavor: 'openai', name, maxRecords: 0, chunks: 4, behaviour: () => ({ kind: 'ok', thinkMs: isSlow() ? slow() : fast() }) }));
  }
  const sidecar = await startSidecar(`routes:
- name: chat
  balancing: ${balancing}
  targets:
${fakes.map((f) => `  - {name: ${f.name}, provider: openai, baseURL: "${f.url}", model: gpt-4o-mini, apiKey: {value: sk-bench}}`).join('\n')}
`);
  try {
    const body = JSON.stringify({ model: 'chat', stream: true, max_tokens: 32, messages: [{ role: 'user', content: 'Say hello in one short sentence.' }] });
    // A second of warm-up (connections, first averages), then the measured window.
    await closedLoad(sidecar.api, WORKERS, 1, 1_000_000, () => ({ path: '/v1/chat/completions', body }));
    const answers = await closedLoad(sidecar.api, WORKERS, seconds, 1_000_000, () => ({ path: '/v1/chat/completions', body }));
    const measured = scenario === 'turns slow halfway' ? answers.slice(Math.floor(answers.length / 2)) : answers;
    const t = tally(measured);
    return {
      scenario: scenario === 'turns slow halfway' ? 'turns slow halfway (second half measured)' : scenario,
      balancing,
      requests: t.requests,
      errors: t.requests - (t.statuses['200'] ?? 0),
      p50: t.latency.p50,
      p90: t.latency.p90,
      p99: t.latency.p99,
      slowShare: (t.byTarget['slow'] ?? 0) / Math.max(1, t.requests),
      ejections: await sidecar.metric('llmroute_outlier_ejections_total', { route: 'chat' }),
    };
  } finally {
    await sidecar.stop();
    await Promise.all(fakes.map((f) => f.close()));
  }
}

const rows: Row[] = [];
try {
  for (const scenario of ['slow from the start', 'turns slow halfway'] as const) {
    for (const balancing of ['weighted', 'least-latency'] as const) {
      say(`${scenario}, ${balancing}: ${WORKERS} clients for ${seconds}s`);
      rows.push(await run(scenario, balancing));
    }
  }
} catch (err) {
  say(`could not run: ${(err as Error).message}`);
  process.exit(1);
}

const md = [
  '## Latency-aware balancing: p50/p99 at one slow target',
  '',
  `Three targets of one priority, weight 1 each, streams. Time to first content is log-normal (σ ${SIGMA}): median ${FAST_MS} ms on \`fast1\` and \`fast2\`, ${SLOW_MS} ms on \`slow\`. Closed loop, ${WORKERS} clients, ${seconds} s after 1 s of warm-up; latency is the whole stream as the client saw it. Default \`latency\` settings (halfLife 10s, outlierRatio 3, minRequests 20).`,
  '',
  '| scenario | balancing | requests | errors | p50 | p90 | p99 | share served by `slow` | `llmroute_outlier_ejections_total` |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.scenario} | ${r.balancing} | ${r.requests} | ${r.errors} | ${ms(r.p50)} | ${ms(r.p90)} | ${ms(r.p99)} | ${pct(r.slowShare)} | ${r.ejections} |`),
  '',
].join('\n');
report('routing-latency', md, { seconds, workers: WORKERS, fastMs: FAST_MS, slowMs: SLOW_MS, sigma: SIGMA, rows });
