/**
 * Runs a fake provider from the command line, for demos and benchmarks:
 *
 *   node test/fakes/cli.ts --flavor openai --port 0 --name primary \
 *     --fail-rate 0.3 --fail-status 503 --chunks 20 --think-ms 0
 *
 * Prints one JSON line on start: {"url","origin","port","name","flavor"}.
 * Exits 0 on SIGTERM or SIGINT after closing every connection.
 *
 * Options:
 *   --flavor openai|anthropic   (required)
 *   --host H                    default 127.0.0.1
 *   --port N                    default 0 (ephemeral)
 *   --name S                    default the flavor
 *   --text S                    reply text (default "Hello from <name>")
 *   --chunks N                  content chunks per stream, default 20
 *   --think-ms N                delay before the headers, default 0
 *   --chunk-delay-ms N          delay between chunks, default 0
 *   --model S                   model in replies (default: the request's)
 *   --expect-key S              require this API key
 *   --fail-rate R               share of requests that fail, 0..1, default 0
 *   --fail-kind K               how they fail: a behaviour kind, default "status"
 *                               (status, rate-limit, context-window, quota, hang, reset,
 *                               headers-then-stall, cut, stall, truncated-json,
 *                               error-body, garbage, stream-error)
 *   --fail-status N             status for --fail-kind status/error-body, default 503
 *   --retry-after S             Retry-After seconds for status 429 / rate-limit
 *   --after-chunks N            K for cut / stall / stream-error, default 0
 *   --record                    keep request records (off by default: long runs)
 */
import { parseArgs } from 'node:util';
import { BEHAVIOUR_KINDS, randomFailures, startFakeProvider, type Behaviour, type BehaviourKind, type Flavor } from './fake-provider.ts';

function fail(message: string): never {
  process.stderr.write(`fake provider: ${message}\n`);
  process.exit(2);
}

function num(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) fail(`--${name} must be a non-negative number, got ${JSON.stringify(v)}`);
  return n;
}

function failure(kind: BehaviourKind, status: number, retryAfter: number | undefined, afterChunks: number): Behaviour {
  switch (kind) {
    case 'status':
      return { kind, status, ...(retryAfter !== undefined ? { retryAfter } : {}) };
    case 'rate-limit':
      return { kind, ...(retryAfter !== undefined ? { retryAfter } : {}) };
    case 'error-body':
      return { kind, status };
    case 'cut':
    case 'stall':
    case 'stream-error':
      return { kind, afterChunks };
    case 'pings':
      return { kind, everyMs: 1000, replyAfterMs: 30_000 };
    case 'ok':
    case 'context-window':
    case 'quota':
    case 'hang':
    case 'reset':
    case 'headers-then-stall':
    case 'dribble':
    case 'truncated-json':
    case 'garbage':
    case 'split-sse':
      return { kind };
  }
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        flavor: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        name: { type: 'string' },
        text: { type: 'string' },
        chunks: { type: 'string' },
        'think-ms': { type: 'string' },
        'chunk-delay-ms': { type: 'string' },
        model: { type: 'string' },
        'expect-key': { type: 'string' },
        'fail-rate': { type: 'string' },
        'fail-kind': { type: 'string' },
        'fail-status': { type: 'string' },
        'retry-after': { type: 'string' },
        'after-chunks': { type: 'string' },
        record: { type: 'boolean' },
      },
      strict: true,
    });
  } catch (err) {
    fail((err as Error).message);
  }
})();

const flavor = values.flavor;
if (flavor !== 'openai' && flavor !== 'anthropic') fail('--flavor must be openai or anthropic');
const failRate = num(values['fail-rate'], 'fail-rate', 0);
if (failRate > 1) fail('--fail-rate must be between 0 and 1');
const failKind = (values['fail-kind'] ?? 'status') as BehaviourKind;
if (!BEHAVIOUR_KINDS.includes(failKind)) fail(`--fail-kind must be one of ${BEHAVIOUR_KINDS.join(', ')}`);
const retryAfter = values['retry-after'] === undefined ? undefined : num(values['retry-after'], 'retry-after', 0);

const fake = await startFakeProvider({
  flavor: flavor as Flavor,
  host: values.host ?? '127.0.0.1',
  port: num(values.port, 'port', 0),
  chunks: num(values.chunks, 'chunks', 20),
  thinkMs: num(values['think-ms'], 'think-ms', 0),
  chunkDelayMs: num(values['chunk-delay-ms'], 'chunk-delay-ms', 0),
  maxRecords: values.record ? 10000 : 0,
  ...(values.name !== undefined ? { name: values.name } : {}),
  ...(values.text !== undefined ? { text: values.text } : {}),
  ...(values.model !== undefined ? { model: values.model } : {}),
  ...(values['expect-key'] !== undefined ? { expectKey: values['expect-key'] } : {}),
  ...(failRate > 0
    ? {
        behaviour: randomFailures(
          failRate,
          failure(failKind, num(values['fail-status'], 'fail-status', 503), retryAfter, num(values['after-chunks'], 'after-chunks', 0)),
        ),
      }
    : {}),
}).catch((err: Error) => fail(err.message));

process.stdout.write(JSON.stringify({ url: fake.url, origin: fake.origin, port: fake.port, name: fake.name, flavor: fake.flavor }) + '\n');

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  fake.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
