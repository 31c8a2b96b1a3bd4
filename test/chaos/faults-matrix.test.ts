/**
 * The faults matrix: every fault the fake providers can play, from an
 * OpenAI and an Anthropic target, for streaming and non-streaming requests,
 * through the real sidecar process. For each case:
 *
 *   - with a healthy second target: before the commit point the fallback is
 *     invisible (a clean 200 from the other target); after it the stream
 *     ends with an explicit error event and no [DONE] (SPEC §5);
 *   - as the route's only target: the client gets an OpenAI-shaped error
 *     with the status SPEC §5 gives (429 + Retry-After, 502, 504);
 *   - the metrics count it (attempts by class, fallbacks, stream errors);
 *   - and at the end the sidecar holds no more descriptors, timers or
 *     upstream connections than before the matrix ran.
 *
 * Every case has a route of its own, so breakers and cooldowns never leak
 * from one case into the next, and each route's metrics are that case's.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Agent } from 'undici';
import { startFakeProvider, type Behaviour, type FakeProvider, type Flavor } from '../fakes/fake-provider.ts';
import { refusedURL } from '../fakes/refused-port.ts';
import { startSidecarProcess, type SidecarProcess } from '../support/sidecar-process.ts';
import {
  activeResources,
  chatBody,
  clientAgent,
  completionContent,
  errorBody,
  fdKinds,
  metricSum,
  openFds,
  processSockets,
  readStream,
  scrape,
  send,
  settle,
  until,
  type Answer,
  type Sample,
} from './harness.ts';

type Mode = 'stream' | 'json';
type Phase = 'before' | 'after' | 'ok';

interface Expect {
  phase: Phase;
  /** The error class the faulty target's attempts are counted under. */
  cls?: string;
  /** Tries on the faulty target before the request moves on (1 = no retry). */
  tries: number;
}

interface Fault {
  id: string;
  title: string;
  /** Undefined: the target's address refuses connections. */
  behaviour?: (flavor: Flavor, mode: Mode) => Behaviour;
  /** The route's policy when not the common one. */
  policy?: string;
  expect: (mode: Mode, flavor: Flavor) => Expect;
}

const before = (cls: string, tries = 2): Expect => ({ phase: 'before', cls, tries });
const after = (cls: string): Expect => ({ phase: 'after', cls, tries: 1 });
const fine: Expect = { phase: 'ok', tries: 1 };

const FAULTS: Fault[] = [
  { id: 'rl', title: '429 without Retry-After', behaviour: () => ({ kind: 'rate-limit' }), expect: () => before('rate-limit') },
  { id: 'rl-secs', title: '429 with Retry-After in seconds (over the cap)', behaviour: () => ({ kind: 'rate-limit', retryAfter: 30 }), expect: () => before('rate-limit', 1) },
  {
    id: 'rl-date',
    title: '429 with Retry-After as an HTTP-date (over the cap)',
    behaviour: () => ({ kind: 'rate-limit', retryAfter: new Date(Date.now() + 60_000) }),
    expect: () => before('rate-limit', 1),
  },
  ...[500, 502, 503, 504, 529].map(
    (status): Fault => ({ id: `s${status}`, title: `HTTP ${status}`, behaviour: () => ({ kind: 'status', status }), expect: () => before('server-error') }),
  ),
  { id: 'html502', title: "HTTP 502 with the edge's HTML page", behaviour: () => ({ kind: 'status', status: 502, html: true }), expect: () => before('server-error') },
  { id: 'refused', title: 'connection refused', expect: () => before('connection-error') },
  { id: 'reset', title: 'connection reset before the headers', behaviour: () => ({ kind: 'reset' }), expect: () => before('connection-error') },
  { id: 'fin', title: 'connection closed before the headers', behaviour: () => ({ kind: 'reset', rst: false }), expect: () => before('connection-error') },
  { id: 'garbage', title: 'garbage instead of HTTP', behaviour: () => ({ kind: 'garbage' }), expect: () => before('connection-error') },
  { id: 'hts', title: 'headers, then nothing', behaviour: () => ({ kind: 'headers-then-stall' }), expect: () => before('timeout') },
  { id: 'trunc', title: 'truncated JSON (content-length matches)', behaviour: () => ({ kind: 'truncated-json' }), expect: () => before('server-error') },
  { id: 'trunc-close', title: 'truncated JSON (connection closed early)', behaviour: () => ({ kind: 'truncated-json', earlyClose: true }), expect: () => before('connection-error') },
  { id: 'errbody', title: '200 with an error body', behaviour: () => ({ kind: 'error-body' }), expect: () => before('server-error') },
  { id: 'errbody429', title: '200 with a rate-limit error body', behaviour: () => ({ kind: 'error-body', status: 429 }), expect: () => before('rate-limit') },
  { id: 'cut0', title: 'cut before any content', behaviour: () => ({ kind: 'cut', afterChunks: 0 }), expect: () => before('connection-error') },
  { id: 'serr0', title: 'in-stream error before any content', behaviour: () => ({ kind: 'stream-error', afterChunks: 0 }), expect: () => before('server-error') },
  {
    id: 'rst-mid',
    title: 'reset in the middle of the body',
    behaviour: () => ({ kind: 'cut', afterChunks: 2, rst: true, chunkDelayMs: 20 }),
    expect: (m) => (m === 'stream' ? after('connection-error') : before('connection-error')),
  },
  {
    id: 'cut-late',
    title: 'cut after content',
    behaviour: () => ({ kind: 'cut', afterChunks: 2, chunkDelayMs: 20 }),
    expect: (m) => (m === 'stream' ? after('connection-error') : before('connection-error')),
  },
  {
    id: 'stall',
    title: 'stall between chunks (idle timeout)',
    behaviour: () => ({ kind: 'stall', afterChunks: 2, chunkDelayMs: 20 }),
    expect: (m) => (m === 'stream' ? after('timeout') : before('timeout')),
  },
  {
    id: 'serr-late',
    title: 'in-stream error after content',
    // chunks apart in time, so the commit point has passed when the error comes (an error in the same read as
    // the first content is still before the commit point: nothing was sent, so it falls back invisibly)
    behaviour: () => ({ kind: 'stream-error', afterChunks: 2, chunkDelayMs: 20 }),
    expect: (m) => (m === 'stream' ? after('server-error') : before('server-error')),
  },
  { id: 'split', title: 'SSE split across packets', behaviour: () => ({ kind: 'split-sse', splitDelayMs: 5 }), expect: () => fine },
  {
    // far longer in all than the idle timeout, but never silent for that long: it must not be cut
    id: 'dribble',
    title: 'very slow dribble (4 bytes every 2 ms)',
    behaviour: () => ({ kind: 'dribble', bytesPerWrite: 4, delayMs: 2 }),
    policy: `
  retry: {attempts: 1, backoff: {initial: 5ms, max: 20ms}}
  timeouts: {connect: 500ms, firstByte: 10s, idle: 100ms, total: 20s}`,
    expect: () => fine,
  },
];

jest.setTimeout(60_000);

const FLAVORS: Flavor[] = ['openai', 'anthropic'];
const MODES: Mode[] = ['stream', 'json'];
const POLICY = `
  retry: {attempts: 1, backoff: {initial: 5ms, max: 20ms}, retryAfterCap: 1s}
  timeouts: {connect: 500ms, firstByte: 400ms, idle: 300ms, total: 8s}
  circuitBreaker: {consecutiveFailures: 3, openFor: 30s}`;

const faulty: Record<Flavor, FakeProvider> = {} as Record<Flavor, FakeProvider>;
const backup: Record<Flavor, FakeProvider> = {} as Record<Flavor, FakeProvider>;
const other = (f: Flavor): Flavor => (f === 'openai' ? 'anthropic' : 'openai');
const text = (role: 'faulty' | 'backup', f: Flavor): string => `Hello from ${role} ${f}, one two three four`;
let refused: string;
let sidecar: SidecarProcess;
let agent: Agent;
const summary: string[] = [];

const routeName = (f: Flavor, m: Mode, fault: Fault, solo: boolean): string => `${f}-${m}-${fault.id}${solo ? '-solo' : ''}`;

function target(role: 'faulty' | 'backup', f: Flavor, url: string, priority: number): string {
  const model = f === 'anthropic' ? 'claude-sonnet-4-5' : 'gpt-4o-mini';
  return `  - {name: ${role}, provider: ${f}, baseURL: "${url}", model: ${model}, priority: ${priority}, apiKey: {value: sk-${role}-${f}-0123456789}}\n`;
}

function routes(): string {
  let y = 'routes:\n';
  for (const f of FLAVORS) {
    for (const m of MODES) {
      for (const fault of FAULTS) {
        const url = fault.behaviour ? faulty[f].url : refused;
        for (const solo of [false, true]) {
          y += `- name: ${routeName(f, m, fault, solo)}\n  targets:\n${target('faulty', f, url, 0)}`;
          if (!solo) y += target('backup', other(f), backup[other(f)].url, 1);
          y += (fault.policy ?? POLICY) + '\n';
        }
      }
      y += `- name: ${f}-${m}-deadline\n  targets:\n${target('faulty', f, faulty[f].url, 0)}  retry: {attempts: 1, backoff: {initial: 5ms, max: 5ms}}\n  timeouts: {firstByte: 500ms, idle: 500ms, total: 700ms}\n`;
      y += `- name: ${f}-${m}-warm\n  targets:\n${target('faulty', f, faulty[f].url, 0)}${target('backup', other(f), backup[other(f)].url, 1)}`;
      y += `- name: ${f}-${m}-leak\n  targets:\n${target('faulty', f, faulty[f].url, 0)}${target('backup', other(f), backup[other(f)].url, 1)}`;
      y += `  retry: {attempts: 1, backoff: {initial: 5ms, max: 20ms}, retryAfterCap: 1s}\n  timeouts: {connect: 500ms, firstByte: 400ms, idle: 300ms, total: 8s}\n  circuitBreaker: {consecutiveFailures: 1000, openFor: 1s}\n`;
    }
  }
  return y;
}

beforeAll(async () => {
  for (const f of FLAVORS) {
    faulty[f] = await startFakeProvider({ flavor: f, name: `faulty-${f}`, text: text('faulty', f), chunks: 4, maxRecords: 100 });
    backup[f] = await startFakeProvider({ flavor: f, name: `backup-${f}`, text: text('backup', f), chunks: 4, maxRecords: 100 });
  }
  refused = await refusedURL();
  sidecar = await startSidecarProcess(routes());
  agent = clientAgent(8);
});

afterAll(async () => {
  await agent?.close();
  await sidecar?.stop();
  await Promise.all([...Object.values(faulty), ...Object.values(backup)].map((f) => f.close()));
  if (summary.length) console.log(`faults matrix (${summary.length} cases):\n${summary.join('\n')}`);
});

const ask = (route: string, mode: Mode): Promise<Answer> =>
  send(`${sidecar.baseURL}/chat/completions`, chatBody(route, mode === 'stream'), { dispatcher: agent, timeoutMs: 15_000 });

/** What the client saw: status, who served, the content, and for streams whether it ended cleanly. */
function view(a: Answer, mode: Mode) {
  const s = mode === 'stream' && a.status === 200 ? readStream(a.text) : undefined;
  return {
    status: a.status,
    network: a.networkError,
    target: a.headers['x-llmroute-target'],
    attempts: Number(a.headers['x-llmroute-attempts']),
    fallbacks: Number(a.headers['x-llmroute-fallbacks']),
    content: s ? s.content : a.status === 200 ? completionContent(a.text) : undefined,
    done: s?.done,
    streamError: s?.error,
    afterError: s?.afterError,
    ms: a.ms,
  };
}

let leakBaseline: { fds: number; timers: number; kinds: Record<string, number> } | undefined;

describe('faults matrix', () => {
  it('warms up: every provider answers cleanly through the sidecar, and the leak baseline is taken', async () => {
    for (const f of FLAVORS) {
      for (const m of MODES) {
        const v = view(await ask(`${f}-${m}-warm`, m), m);
        expect(v).toMatchObject({ status: 200, target: 'faulty', content: text('faulty', f), fallbacks: 0 });
        if (m === 'stream') expect(v.done).toBe(1);
      }
    }
    const pid = sidecar.child.pid!;
    const fds = await settle(() => openFds(pid));
    const samples = await scrape(sidecar.adminURL);
    leakBaseline = { fds, timers: activeResources(samples, 'Timeout'), kinds: fdKinds(pid) };
  });

  for (const f of FLAVORS) {
    for (const m of MODES) {
      describe(`${f} target, ${m === 'stream' ? 'streaming' : 'non-streaming'}`, () => {
        for (const fault of FAULTS) {
          const e = fault.expect(m, f);
          it(`${fault.title}: ${e.phase === 'before' ? 'invisible fallback' : e.phase === 'after' ? 'explicit error event after the commit point' : 'served as it is'}`, async () => {
            const fk = faulty[f];
            const bk = backup[other(f)];
            fk.reset();
            bk.reset();
            if (fault.behaviour) fk.setBehaviour(fault.behaviour(f, m));
            const v = view(await ask(routeName(f, m, fault, false), m), m);
            fk.setBehaviour(undefined);
            summary.push(`  ${f.padEnd(9)} ${m.padEnd(6)} ${fault.title.padEnd(52)} → ${v.status} via ${v.target ?? '-'} attempts=${v.attempts}${v.streamError ? ` error-event=${String(v.streamError.code)}` : ''}`);

            expect(v.network).toBeUndefined();
            expect(v.status).toBe(200);
            if (e.phase === 'before') {
              // the client cannot tell anything went wrong, but for the headers
              expect(v).toMatchObject({ target: 'backup', content: text('backup', other(f)), fallbacks: 1, attempts: e.tries + 1 });
              if (m === 'stream') expect({ done: v.done, error: v.streamError }).toEqual({ done: 1, error: undefined });
              if (fault.behaviour) expect(fk.counts.requests).toBe(e.tries);
              expect(bk.counts.requests).toBe(1);
            } else if (e.phase === 'after') {
              expect(v.target).toBe('faulty');
              expect(v.done).toBe(0); // never a clean end
              expect(v.streamError).toBeDefined();
              expect(v.afterError).toBe(0);
              expect(typeof v.streamError!.message).toBe('string');
              expect(v.content!.length).toBeGreaterThan(0);
              expect(text('faulty', f).startsWith(v.content!)).toBe(true);
              expect(v.content).not.toBe(text('faulty', f));
              expect(bk.counts.requests).toBe(0); // no fallback once committed
            } else {
              expect(v).toMatchObject({ target: 'faulty', content: text('faulty', f), fallbacks: 0, attempts: 1 });
              if (m === 'stream') expect(v.done).toBe(1);
              // the dribble took longer in all than the idle timeout (100 ms) and was not cut
              if (fault.id === 'dribble') expect(v.ms).toBeGreaterThan(120);
            }

            if (e.phase === 'after' || e.phase === 'ok') return;
            // the same fault on the route's only target: an OpenAI-shaped error with SPEC's status
            fk.reset();
            if (fault.behaviour) fk.setBehaviour(fault.behaviour(f, m));
            const solo = await ask(routeName(f, m, fault, true), m);
            fk.setBehaviour(undefined);
            const want = e.cls === 'rate-limit' ? 429 : 502;
            expect(solo.networkError).toBeUndefined();
            expect(solo.status).toBe(want);
            expect(solo.headers['content-type']).toContain('application/json');
            const err = errorBody(solo.text);
            expect(err).toMatchObject({ type: 'llmroute_all_targets_failed' });
            expect(err!.attempts).toEqual(Array.from({ length: e.tries }, () => expect.objectContaining({ target: 'faulty', class: e.cls })));
            if (want === 429) expect(Number(solo.headers['retry-after'])).toBeGreaterThanOrEqual(1);
            summary.push(`  ${''.padEnd(9)} ${''.padEnd(6)} ${'  … as the only target'.padEnd(52)} → ${solo.status} ${String(err!.code)}`);
          });
        }

        it('a provider that never answers: 504 when the total deadline runs out, on time', async () => {
          const fk = faulty[f];
          fk.setBehaviour({ kind: 'hang' });
          const a = await ask(`${f}-${m}-deadline`, m);
          fk.setBehaviour(undefined);
          expect(a.status).toBe(504);
          expect(errorBody(a.text)).toMatchObject({ type: 'llmroute_all_targets_failed', code: 'deadline_exceeded' });
          expect(a.ms).toBeGreaterThanOrEqual(650);
          expect(a.ms).toBeLessThan(1_500);
          summary.push(`  ${f.padEnd(9)} ${m.padEnd(6)} ${'hang past the total deadline (700ms)'.padEnd(52)} → ${a.status} in ${Math.round(a.ms)} ms`);
        });
      });
    }
  }

  it('the metrics count every case: attempts by class, fallbacks, stream errors, statuses', async () => {
    const s: Sample[] = await scrape(sidecar.adminURL);
    for (const f of FLAVORS) {
      for (const m of MODES) {
        for (const fault of FAULTS) {
          const e = fault.expect(m, f);
          const r = routeName(f, m, fault, false);
          const at = (labels: Record<string, string>) => metricSum(s, 'llmroute_upstream_attempts_total', { route: r, ...labels });
          const ctx = `${r} (${fault.title})`;
          if (e.phase === 'before') {
            expect([ctx, at({ target: 'faulty', outcome: e.cls! })]).toEqual([ctx, e.tries]);
            expect([ctx, at({ target: 'backup', outcome: 'ok' })]).toEqual([ctx, 1]);
            expect([ctx, metricSum(s, 'llmroute_fallbacks_total', { route: r, from: 'faulty', to: 'backup', reason: e.cls! })]).toEqual([ctx, 1]);
            expect([ctx, metricSum(s, 'llmroute_requests_total', { route: r, target: 'backup', status: '200' })]).toEqual([ctx, 1]);
            const solo = routeName(f, m, fault, true);
            const want = e.cls === 'rate-limit' ? '429' : '502';
            expect([ctx, metricSum(s, 'llmroute_requests_total', { route: solo, status: want })]).toEqual([ctx, 1]);
            expect([ctx, metricSum(s, 'llmroute_upstream_attempts_total', { route: solo, target: 'faulty', outcome: e.cls! })]).toEqual([ctx, e.tries]);
          } else if (e.phase === 'after') {
            expect([ctx, at({ target: 'faulty', outcome: 'ok' })]).toEqual([ctx, 1]);
            expect([ctx, metricSum(s, 'llmroute_stream_errors_total', { route: r, target: 'faulty', class: e.cls! })]).toEqual([ctx, 1]);
            expect([ctx, metricSum(s, 'llmroute_fallbacks_total', { route: r })]).toEqual([ctx, 0]);
          } else {
            expect([ctx, at({ target: 'faulty', outcome: 'ok' })]).toEqual([ctx, 1]);
            expect([ctx, metricSum(s, 'llmroute_requests_total', { route: r, target: 'faulty', status: '200' })]).toEqual([ctx, 1]);
          }
        }
        expect(metricSum(s, 'llmroute_requests_total', { route: `${f}-${m}-deadline`, status: '504' })).toBe(1);
      }
    }
    // cooldowns were counted for the rate limits that carried a Retry-After
    expect(metricSum(s, 'llmroute_cooldowns_total', { route: 'openai-json-rl-secs', target: 'faulty' })).toBe(1);
    expect(metricSum(s, 'llmroute_cooldowns_total', { route: 'anthropic-stream-rl-date', target: 'faulty' })).toBe(1);
  });

  it('leaks nothing: after more rounds of every fault at once, descriptors, timers and upstream connections do not grow', async () => {
    // Every fault at once, on routes whose breakers never open; the faulty fakes pick the fault by the message.
    const byId = new Map(FAULTS.filter((x) => x.behaviour && !x.id.startsWith('rl-')).map((x) => [x.id, x]));
    for (const f of FLAVORS) {
      faulty[f].reset();
      faulty[f].setBehaviour((rec, _n) => {
        const id = /^fault:(.+)$/.exec(String(rec.body?.messages?.[0]?.content ?? ''))?.[1];
        const fault = id === 'hang' ? undefined : id ? byId.get(id) : undefined;
        if (id === 'hang') return { kind: 'hang' };
        return fault?.behaviour!(f, rec.stream ? 'stream' : 'json');
      });
    }
    const fakePorts = new Set(FLAVORS.flatMap((f) => [faulty[f].port, backup[f].port]));
    const round = async (): Promise<void> => {
      const client = clientAgent(128);
      const asks: Promise<Answer>[] = [];
      for (const f of FLAVORS) {
        for (const m of MODES) {
          for (const id of [...byId.keys(), 'hang']) {
            const route = id === 'hang' ? `${f}-${m}-deadline` : `${f}-${m}-leak`;
            asks.push(send(`${sidecar.baseURL}/chat/completions`, chatBody(route, m === 'stream', `fault:${id}`), { timeoutMs: 15_000, dispatcher: client }));
          }
        }
      }
      const answers = await Promise.all(asks);
      await client.close(); // so the sidecar's side of the client connections closes too
      for (const a of answers) expect(a.networkError).toBeUndefined();
    };
    const pid = sidecar.child.pid!;
    /** Descriptors once everything is quiet, with the keep-alive connections pooled to the fakes counted apart. */
    const quiet = async () => {
      const idle = await until(() => FLAVORS.every((f) => faulty[f].counts.inFlight === 0 && backup[f].counts.inFlight === 0), 5_000);
      expect([idle, FLAVORS.map((f) => [faulty[f].counts.inFlight, backup[f].counts.inFlight])]).toEqual([true, expect.anything()]);
      const drained = await until(async () => metricSum(await scrape(sidecar.adminURL), 'llmroute_inflight_requests') === 0, 5_000);
      expect(drained).toBe(true);
      const pooled = (): number => processSockets(pid).tcp.filter((x) => x.state === 'ESTABLISHED' && fakePorts.has(x.remotePort)).length;
      const rest = await settle(() => openFds(pid) - pooled(), 800, 6_000);
      const sockets = processSockets(pid);
      const states: Record<string, number> = {};
      for (const x of sockets.tcp) states[x.state] = (states[x.state] ?? 0) + 1;
      return { rest, pooled: pooled(), states, timers: activeResources(await scrape(sidecar.adminURL), 'Timeout') };
    };
    await round();
    const first = await quiet();
    for (let i = 0; i < 3; i++) await round();
    const last = await quiet();
    for (const f of FLAVORS) faulty[f].setBehaviour(undefined);
    const requestsPerRound = FLAVORS.length * MODES.length * (byId.size + 1);
    console.log(
      `faults matrix leak check (${requestsPerRound} faulty requests at once per round): sidecar fds at the start ${leakBaseline?.fds}; ` +
        `after round 1: ${first.rest} + ${first.pooled} pooled upstream connections, TCP states ${JSON.stringify(first.states)}, timers ${first.timers}; ` +
        `after round 4: ${last.rest} + ${last.pooled} pooled, ${JSON.stringify(last.states)}, timers ${last.timers}`,
    );
    // one leaked socket or timer per faulty request would add hundreds
    expect(last.rest).toBeLessThanOrEqual(first.rest + 2);
    expect(last.timers).toBeLessThanOrEqual(first.timers + 2);
    // no socket the peer has closed is left open on our side
    expect(last.states.CLOSE_WAIT ?? 0).toBe(0);
    // pooled keep-alive connections are reused, not piled up: at most one per try one round had in flight
    // (a request makes up to three: a try, its retry, the fallback)
    expect(last.pooled).toBeLessThanOrEqual(3 * requestsPerRound);
  });
});
