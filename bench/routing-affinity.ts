/**
 * The cached-token share with prompt-cache affinity (issue 13). Three OpenAI
 * targets of one priority, weight 1 each; each fake caches prompts as
 * OpenAI does (automatic, from 1024 tokens, by prefix) and reports the
 * cached part in `usage.prompt_tokens_details.cached_tokens`. Sessions each
 * have their own long system prompt (a document of ~1,500 words) and a
 * conversation that grows turn by turn; the sessions' turns are interleaved,
 * a few at a time. Run without affinity (weighted round robin) and with each
 * affinity key: header, user (prompt_cache_key), promptPrefix.
 *
 *   node bench/routing-affinity.ts [--quick] [--sessions N] [--turns T]
 *
 * Figures are reported, never enforced: exit 0 unless the benchmark itself
 * could not run. Writes bench/results/routing-affinity.md and .json.
 */
import { parseArgs } from 'node:util';
import { startFakeProvider, type FakeProvider } from '../test/fakes/fake-provider.ts';
import { inOrder, ms, pct, report, startSidecar, tally, type Request } from './lib/routing.ts';

const { values: flags } = parseArgs({ options: { quick: { type: 'boolean', default: false }, sessions: { type: 'string' }, turns: { type: 'string' } } });
const SESSIONS = Number(flags.sessions ?? (flags.quick ? 6 : 60));
const TURNS = Number(flags.turns ?? (flags.quick ? 3 : 8));
const CONCURRENCY = 6;
/** OpenAI's discount on cached input tokens for gpt-4o-class models (newer ones: 75% to 90%). */
const CACHED_PRICE = 0.5;
const say = (m: string): void => void process.stderr.write(`bench/routing-affinity: ${m}\n`);

const WORDS = 'the report covers revenue churn onboarding latency regions pricing support tickets renewals forecasts risks hiring budget roadmap'.split(' ');
function documentFor(session: number): string {
  let s = session * 2654435761;
  const words: string[] = [`Session ${session}: you answer questions about customer account ${session} and its attached quarterly report.`];
  for (let i = 0; i < 1500; i++) words.push(WORDS[(s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % WORDS.length]!);
  return words.join(' ');
}

type Mode = 'none (weighted)' | 'header' | 'user' | 'promptPrefix';

/** The requests in the order they go out: turn 1 of every session (in a shuffled order), then turn 2, ... The same order for every mode. */
function requests(mode: Mode): Request[] {
  const out: Request[] = [];
  let seed = 42;
  const rnd = (): number => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296;
  const history: Array<Array<{ role: string; content: string }>> = Array.from({ length: SESSIONS }, (_, s) => [{ role: 'system', content: documentFor(s) }]);
  for (let turn = 0; turn < TURNS; turn++) {
    const order = Array.from({ length: SESSIONS }, (_, s) => s);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const s of order) {
      const h = history[s]!;
      h.push({ role: 'user', content: `Question ${turn} about account ${s}: what changed since last quarter?` });
      const body: Record<string, unknown> = { model: 'chat', max_tokens: 64, messages: [...h] };
      if (mode === 'user') body.prompt_cache_key = `account-${s}`;
      out.push({ path: '/v1/chat/completions', body: JSON.stringify(body), headers: mode === 'header' ? { 'x-llmroute-session': `account-${s}` } : {} });
      h.push({ role: 'assistant', content: `Answer ${turn}: revenue grew, churn fell, latency held steady in every region.` });
    }
  }
  return out;
}

interface Row {
  mode: Mode;
  requests: number;
  errors: number;
  cachedShare: number;
  billedShare: number;
  hit: number;
  spread: string;
  p50: number;
}

async function run(mode: Mode): Promise<Row> {
  const fakes: FakeProvider[] = [];
  for (const name of ['t1', 't2', 't3']) fakes.push(await startFakeProvider({ flavor: 'openai', name, maxRecords: 0, promptCache: true }));
  const affinity = mode === 'none (weighted)' ? '' : `  affinity: {key: ${mode}}\n`;
  const sidecar = await startSidecar(`routes:
- name: chat
${affinity}  targets:
${fakes.map((f) => `  - {name: ${f.name}, provider: openai, baseURL: "${f.url}", model: gpt-4o-mini, apiKey: {value: sk-bench}}`).join('\n')}
`);
  try {
    const t = tally(await inOrder(sidecar.api, requests(mode), CONCURRENCY));
    const cachedShare = t.cachedTokens / Math.max(1, t.promptTokens);
    return {
      mode,
      requests: t.requests,
      errors: t.requests - (t.statuses['200'] ?? 0),
      cachedShare,
      billedShare: 1 - cachedShare * (1 - CACHED_PRICE),
      hit: await sidecar.metric('llmroute_affinity_requests_total', { route: 'chat', outcome: 'hit' }),
      spread: fakes.map((f) => t.byTarget[f.name] ?? 0).join(' / '),
      p50: t.latency.p50,
    };
  } finally {
    await sidecar.stop();
    await Promise.all(fakes.map((f) => f.close()));
  }
}

const rows: Row[] = [];
try {
  for (const mode of ['none (weighted)', 'header', 'user', 'promptPrefix'] as const) {
    say(`affinity ${mode}: ${SESSIONS} sessions × ${TURNS} turns`);
    rows.push(await run(mode));
  }
} catch (err) {
  say(`could not run: ${(err as Error).message}`);
  process.exit(1);
}

const md = [
  '## Prompt-cache affinity: cached-token share',
  '',
  `Three targets of one priority, weight 1 each, each caching prompts as OpenAI does (from 1024 tokens, by prefix; \`usage.prompt_tokens_details.cached_tokens\`). ${SESSIONS} sessions, each with its own ~1,500-word system prompt, ${TURNS} turns each with a growing conversation; every session's turn 1 (in a shuffled order), then every session's turn 2, ..., ${CONCURRENCY} requests at a time. "Input billed" prices cached tokens at ${CACHED_PRICE * 100}% (OpenAI's gpt-4o discount), against 100% for an uncached prompt.`,
  '',
  '| affinity | requests | errors | cached share of prompt tokens | input billed | `outcome="hit"` | requests per target | p50 |',
  '|---|---:|---:|---:|---:|---:|---|---:|',
  ...rows.map((r) => `| ${r.mode} | ${r.requests} | ${r.errors} | ${pct(r.cachedShare)} | ${pct(r.billedShare)} | ${r.hit} | ${r.spread} | ${ms(r.p50)} |`),
  '',
].join('\n');
report('routing-affinity', md, { sessions: SESSIONS, turns: TURNS, concurrency: CONCURRENCY, cachedPrice: CACHED_PRICE, rows });
