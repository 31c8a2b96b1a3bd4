/**
 * The retry budget (issue 13): upstream amplification when every target of
 * a route is degraded, with and without the budget.
 *
 *   node bench/routing-retry-budget.ts [--quick] [--seconds S] [--rate R] [--out DIR]
 *
 * Three fake OpenAI-compatible providers, each failing a share p of the
 * requests it gets with a 503 (independent, seeded draws), behind the real
 * sidecar. The route retries generously (retry.attempts 2, backoff 10-100
 * ms). Its breaker is first set not to open (consecutiveFailures 1000):
 * the fleet is degraded, not down, which is the case a breaker does not
 * catch and a retry storm grows from; then left at the default (5 in a
 * row, open 30 s), to see the two together. `unbudgeted` sets a budget that cannot
 * bind (percent 1000, minPerSecond 100000); `budgeted` the defaults
 * (percent 20, minPerSecond 3, window 10s). An open loop sends R requests a
 * second. Reported: upstream tries per client request (amplification), the
 * share of client requests answered 200, p99, and
 * llmroute_retry_budget_exhausted_total. Figures are reported, never
 * enforced: exit 0 unless the bench itself could not run. Writes
 * bench/results/routing-retry-budget.md and .json.
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { randomFailures, startFakeProvider, type FakeProvider } from '../test/fakes/fake-provider.ts';
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
const seconds = Number(flags.seconds ?? (flags.quick ? 1.5 : 5));
const rate = Number(flags.rate ?? (flags.quick ? 20 : 60));
const say = (m: string): void => void process.stderr.write(`bench/routing-retry-budget: ${m}\n`);

/** The failure rates, and the breaker: `held` (1000 in a row: degraded, not down) or the route default (5 in a row, open 30 s). */
const CASES: Array<{ p: number; breaker: 'held' | 'default' }> = flags.quick
  ? [{ p: 0.5, breaker: 'held' }]
  : [
      { p: 0.2, breaker: 'held' },
      { p: 0.5, breaker: 'held' },
      { p: 0.8, breaker: 'held' },
      { p: 0.5, breaker: 'default' },
      { p: 0.8, breaker: 'default' },
    ];
const BREAKER = { held: 'circuitBreaker: {consecutiveFailures: 1000, openFor: 1s}', default: 'circuitBreaker: {}' } as const;
const BUDGETS = {
  unbudgeted: 'retryBudget: {percent: 1000, minPerSecond: 100000}',
  budgeted: 'retryBudget: {}',
} as const;

interface Row {
  failureRate: number;
  breaker: 'held' | 'default';
  route: keyof typeof BUDGETS;
  requests: number;
  ok: number;
  upstream: number;
  p50: number;
  p99: number;
  exhausted: number;
}

const rows: Row[] = [];
let seed = 1;
for (const { p, breaker } of CASES) {
  const fakes: FakeProvider[] = [];
  for (const name of ['a', 'b', 'c']) fakes.push(await startFakeProvider({ flavor: 'openai', name, behaviour: randomFailures(p, { kind: 'status', status: 503 }, seeded(seed++)), maxRecords: 0, validate: false }));
  const targets = fakes.map((f, i) => `\n  - {name: ${f.name}, provider: openai-compatible, baseURL: "${f.url}", model: m, priority: ${i}}`).join('');
  const policy = `
  retry: {attempts: 2, backoff: {initial: 10ms, max: 100ms}}
  ${BREAKER[breaker]}`;
  // A sidecar per failure rate and budget: each run starts from an empty window.
  for (const route of Object.keys(BUDGETS) as Array<keyof typeof BUDGETS>) {
    const sidecar = await startSidecar(`routes:\n- name: ${route}\n  targets:${targets}${policy}\n  ${BUDGETS[route]}\n`);
    say(`every target failing ${p * 100} %, breaker ${breaker}, ${route}: ${rate}/s for ${seconds} s`);
    for (const f of fakes) f.reset();
    const body = JSON.stringify({ model: route, messages: [{ role: 'user', content: 'hi' }], max_tokens: 16 });
    const res = await paced({ url: `${sidecar.api}/v1/chat/completions`, headers: { 'content-type': 'application/json' }, body }, { rate, seconds, connections: 256, drainMs: 5000 });
    const lat = res.corrected ?? res.latency;
    rows.push({
      failureRate: p,
      breaker,
      route,
      requests: res.ok + res.errors,
      ok: res.statuses['200'] ?? 0,
      upstream: fakes.reduce((n, f) => n + f.counts.requests, 0),
      p50: lat.p50,
      p99: lat.p99,
      exhausted: await sidecar.metric('llmroute_retry_budget_exhausted_total', { route }),
    });
    await sidecar.stop();
  }
  await Promise.all(fakes.map((f) => f.close()));
}

const ms = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(0)} ms` : 'n/a');
const md = [
  '# Retry budget: upstream amplification with every target degraded',
  '',
  `node bench/routing-retry-budget.ts${flags.quick ? ' --quick' : ''}: ${rate} requests/s for ${seconds} s per row (open loop); ${cpus().length} cores, load average at the end ${loadavg()[0]!.toFixed(2)}.`,
  'Three targets, each failing the share shown with a 503; `retry: {attempts: 2, backoff: {initial: 10ms, max: 100ms}}`. Breaker `held`: 1000 failures in a row (it does not open: degraded, not down); `default`: 5 in a row, open 30 s.',
  '`unbudgeted`: a budget that cannot bind; `budgeted`: the default `retryBudget` (20 % of requests, 3/s reserve, 10 s window). Upstream / request: tries the three providers got per client request.',
  'Past the budget a request still gets one try per target (the issue\'s rule), so the floor is 1 + p + p² tries a request; the budget takes away the retries on top of it.',
  '',
  '| every target fails | breaker | budget | requests | answered 200 | upstream / request | p50 | p99 | retries denied |',
  '|---:|---|---|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${(r.failureRate * 100).toFixed(0)} % | ${r.breaker} | ${r.route} | ${r.requests} | ${((100 * r.ok) / Math.max(1, r.requests)).toFixed(1)} % | ${(r.upstream / Math.max(1, r.requests)).toFixed(2)} × | ${ms(r.p50)} | ${ms(r.p99)} | ${r.exhausted} |`,
  ),
  '',
].join('\n');
report('routing-retry-budget', md, { rate, seconds, rows }, flags.out);
