/**
 * 429s avoided by rate-limit-aware picking (issue 13). Two OpenAI targets of
 * one priority, weight 1:1; the first enforces a real limit (requests and
 * tokens per window, the x-ratelimit-* headers OpenAI documents, a 429 with
 * retry-after past it), the second has room. An open loop offers more than
 * the first's share of its limit, with each answer taking `thinkMs`, so
 * several requests are in flight to it when its limit runs out. Run with
 * `rateLimitAware` on (the default) and off; the same for Anthropic's
 * anthropic-ratelimit-* headers, and for a server whose 429 carries no
 * retry-after (many OpenAI-compatible servers), where the sidecar's own
 * cooldown cannot step in.
 *
 *   node bench/routing-ratelimit.ts [--quick] [--seconds S] [--rate R]
 *
 * Figures are reported, never enforced: exit 0 unless the benchmark itself
 * could not run. Writes bench/results/routing-ratelimit.md and .json.
 */
import { parseArgs } from 'node:util';
import { startFakeProvider, type FakeProvider } from '../test/fakes/fake-provider.ts';
import { ms, pacedLoad, report, startSidecar, tally } from './lib/routing.ts';

const { values: flags } = parseArgs({ options: { quick: { type: 'boolean', default: false }, seconds: { type: 'string' }, rate: { type: 'string' } } });
const seconds = Number(flags.seconds ?? (flags.quick ? 2 : 6));
const rate = Number(flags.rate ?? 80);
const WINDOW_MS = 2000;
const LIMIT = { requests: 40, tokens: 4000, windowMs: WINDOW_MS };
const THINK_MS = 150;
const say = (m: string): void => void process.stderr.write(`bench/routing-ratelimit: ${m}\n`);

interface Row {
  flavor: string;
  mode: string;
  requests: number;
  upstream429: number;
  clientErrors: number;
  retried: number;
  limitedServed: number;
  p50: number;
  p99: number;
  shifts: number;
}

async function run(flavor: 'openai' | 'anthropic', aware: boolean, retryAfter: boolean): Promise<Row> {
  const limited: FakeProvider = await startFakeProvider({ flavor, name: 'limited', rateLimit: { ...LIMIT, retryAfter }, thinkMs: THINK_MS, maxRecords: 0 });
  const roomy: FakeProvider = await startFakeProvider({ flavor, name: 'roomy', thinkMs: THINK_MS, maxRecords: 0 });
  const provider = flavor === 'openai' ? 'openai' : 'anthropic';
  const model = flavor === 'openai' ? 'gpt-4o-mini' : 'claude-sonnet-4-5';
  const sidecar = await startSidecar(`routes:
- name: chat
  ${aware ? '' : 'rateLimitAware: {enabled: false}'}
  targets:
  - {name: limited, provider: ${provider}, baseURL: "${limited.url}", model: ${model}, apiKey: {value: sk-bench}}
  - {name: roomy, provider: ${provider}, baseURL: "${roomy.url}", model: ${model}, apiKey: {value: sk-bench}}
`);
  try {
    const body = JSON.stringify({ model: 'chat', max_tokens: 32, messages: [{ role: 'user', content: 'Say hello in one short sentence, please.' }] });
    const answers = await pacedLoad(sidecar.api, rate, seconds, () => ({ path: '/v1/chat/completions', body }));
    const t = tally(answers);
    return {
      flavor: retryAfter ? flavor : `${flavor}, 429 without retry-after`,
      mode: aware ? 'rateLimitAware (default)' : 'rateLimitAware: {enabled: false}',
      requests: t.requests,
      upstream429: limited.counts.byOutcome['rate-limited'] ?? 0,
      clientErrors: t.requests - (t.statuses['200'] ?? 0),
      retried: t.retried,
      limitedServed: t.byTarget['limited'] ?? 0,
      p50: t.latency.p50,
      p99: t.latency.p99,
      shifts: await sidecar.metric('llmroute_ratelimit_shifts_total', { route: 'chat' }),
    };
  } finally {
    await sidecar.stop();
    await Promise.all([limited.close(), roomy.close()]);
  }
}

const rows: Row[] = [];
try {
  for (const [flavor, retryAfter] of [['openai', true], ['anthropic', true], ['openai', false]] as const) {
    for (const aware of [false, true]) {
      say(`${flavor}${retryAfter ? '' : ' (no retry-after)'}, rateLimitAware ${aware ? 'on' : 'off'}: ${rate} req/s for ${seconds}s`);
      rows.push(await run(flavor, aware, retryAfter));
    }
  }
} catch (err) {
  say(`could not run: ${(err as Error).message}`);
  process.exit(1);
}

const md = [
  '## Rate-limit-aware picking: 429s avoided',
  '',
  `Two targets of one priority (weight 1:1). \`limited\` enforces ${LIMIT.requests} requests and ${LIMIT.tokens} prompt tokens per ${WINDOW_MS / 1000} s window and sends the provider's rate-limit headers; \`roomy\` has no limit. Both answer after ${THINK_MS} ms. Open loop, ${rate} req/s for ${seconds} s; latency from the intended send.`,
  '',
  '| provider headers | mode | requests | 429s from `limited` | client errors | answers that needed a 2nd try | served by `limited` | p50 | p99 | `llmroute_ratelimit_shifts_total` |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.flavor} | ${r.mode} | ${r.requests} | ${r.upstream429} | ${r.clientErrors} | ${r.retried} | ${r.limitedServed} | ${ms(r.p50)} | ${ms(r.p99)} | ${r.shifts} |`),
  '',
].join('\n');
report('routing-ratelimit', md, { rate, seconds, limit: LIMIT, thinkMs: THINK_MS, rows });
