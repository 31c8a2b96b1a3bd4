/**
 * The benchmark's upstream: several fake OpenAI providers (test/fakes) in
 * one process, each on its own ephemeral port of 127.0.0.1.
 *
 *   a, b, c    healthy; the three targets of the "chat" route (a is also the direct target)
 *   flaky      the failover scenario's primary: 503 on a share of calls (seeded, so every
 *              run sees the same sequence), after the same think time as its successes
 *   secondary  the failover scenario's fallback
 *   slow       streams 20 chunks with a gap between them (the no-buffering check)
 *
 *   node bench/servers/upstream.ts --think-ms 0 --chunks 20 --fail-rate 0.3 \
 *     --failover-think-ms 5 --slow-gap-ms 25
 *
 * Prints one JSON line with every fake's base URL, then serves until SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startFakeProvider, type Behaviour, type FakeProvider } from '../../test/fakes/fake-provider.ts';

const { values } = parseArgs({
  options: {
    'think-ms': { type: 'string', default: '0' },
    chunks: { type: 'string', default: '20' },
    'fail-rate': { type: 'string', default: '0.3' },
    'failover-think-ms': { type: 'string', default: '5' },
    'slow-gap-ms': { type: 'string', default: '25' },
    seed: { type: 'string', default: '42' },
  },
});

const thinkMs = Number(values['think-ms']);
const chunks = Number(values.chunks);
const failRate = Number(values['fail-rate']);
const failoverThinkMs = Number(values['failover-think-ms']);
const slowGapMs = Number(values['slow-gap-ms']);

/** A small seeded generator (mulberry32), so that the flaky target fails the same calls in every run. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rng = seeded(Number(values.seed));
const failure: Behaviour = { kind: 'status', status: 503, thinkMs: failoverThinkMs };

const common = { flavor: 'openai' as const, maxRecords: 0, chunks };
const fakes: Record<string, FakeProvider> = {
  a: await startFakeProvider({ ...common, name: 'a', thinkMs }),
  b: await startFakeProvider({ ...common, name: 'b', thinkMs }),
  c: await startFakeProvider({ ...common, name: 'c', thinkMs }),
  flaky: await startFakeProvider({
    ...common,
    name: 'primary',
    thinkMs: failoverThinkMs,
    behaviour: () => (rng() < failRate ? failure : undefined),
  }),
  secondary: await startFakeProvider({ ...common, name: 'secondary', thinkMs: failoverThinkMs }),
  slow: await startFakeProvider({ ...common, name: 'slow', thinkMs, chunkDelayMs: slowGapMs }),
};

const urls: Record<string, string> = {};
for (const [k, f] of Object.entries(fakes)) urls[k] = f.url;
process.stdout.write(JSON.stringify({ upstream: urls }) + '\n');

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  Promise.all(Object.values(fakes).map((f) => f.close())).then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
