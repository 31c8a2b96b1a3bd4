/**
 * Bad input against the running sidecar, property-based with fast-check:
 * malformed JSON, wrong types, huge and deeply nested bodies, invalid
 * UTF-8, header injection, unknown fields, absurd n and max_tokens. Each
 * must get a clear 4xx with an OpenAI-shaped error body; never a crash (the
 * process still answers, no uncaught exception was logged); and input that
 * cannot be valid never reaches a provider (the fakes count requests).
 *
 * Slowloris clients (headers or a body dribbled a byte at a time) hold
 * connections open while the fuzzing runs: other clients still get their
 * answers (how fast is reported: test/chaos/results/bad-input.txt), and the
 * process stays up and clean. That the header timeout cuts the header
 * dribblers off is slowloris.test.ts's (in seconds, with small timeouts);
 * the long form waits here for the request timeout to cut the body ones.
 *
 * FUZZ_RUNS scales the number of runs (default: a CI-sized few dozen each).
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import fc from 'fast-check';
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.ts';
import { Report } from '../support/report.ts';
import { startSidecarProcess, type SidecarProcess } from '../support/sidecar-process.ts';
import { clientAgent, errorBody, percentile, round, send, until, type Answer } from '../chaos/harness.ts';
import { closeLorises, loris, replies, type Loris } from './loris.ts';
import type { Agent } from 'undici';

const RUNS = Number(process.env.FUZZ_RUNS ?? 40);
// Node checks requestTimeout (120 s), for a body that never ends, on its connections-checking interval (30 s)
const BODY_CUTOFF_MS = 120_000 + 30_000 + 5_000;
/** The long form (npm run test:soak) also waits for the body dribblers to be cut. */
const LONG = Number(process.env.LLMROUTE_SOAK_SECONDS ?? 0) >= 300;
const RESULTS = fileURLToPath(new URL('../chaos/results/', import.meta.url));
const report = new Report();

jest.setTimeout((LONG ? BODY_CUTOFF_MS : 0) + 60_000);

let openai: FakeProvider;
let anthropic: FakeProvider;
let sidecar: SidecarProcess;
let agent: Agent;
let chatURL: string;

const upstreamCount = (): number => openai.counts.requests + anthropic.counts.requests;

const headerLoris: Loris[] = [];
const bodyLoris: Loris[] = [];

// ---------------------------------------------------------------- setup

beforeAll(async () => {
  openai = await startFakeProvider({ flavor: 'openai', name: 'openai', maxRecords: 50 });
  anthropic = await startFakeProvider({ flavor: 'anthropic', name: 'anthropic', maxRecords: 50 });
  sidecar = await startSidecarProcess(`
routes:
- name: fuzz
  aliases: [gpt-4o]
  maxRequestBody: 10Mi
  targets:
  - {name: openai, provider: openai, baseURL: "${openai.url}", model: gpt-4o-mini, apiKey: {value: sk-fuzz-openai-0123456789}}
- name: fuzz-claude
  maxRequestBody: 10Mi
  targets:
  - {name: claude, provider: anthropic, baseURL: "${anthropic.url}", model: claude-sonnet-4-5, apiKey: {value: sk-fuzz-anthropic-0123456789}}
`);
  chatURL = `${sidecar.baseURL}/chat/completions`;
  agent = clientAgent(16);
  for (let i = 0; i < 30; i++) headerLoris.push(loris(sidecar.apiPort, 'headers'));
  for (let i = 0; i < 30; i++) bodyLoris.push(loris(sidecar.apiPort, 'body'));
});

afterAll(async () => {
  closeLorises([...headerLoris, ...bodyLoris]);
  if (report.checks.length > 0) report.write(RESULTS, 'bad-input');
  await agent?.close();
  await sidecar?.stop();
  await Promise.all([openai?.close(), anthropic?.close()]);
});

// ---------------------------------------------------------------- helpers

const post = (body: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> => send(chatURL, body, { dispatcher: agent, headers, timeoutMs: 20_000 });

/** A clear 4xx: the status, an OpenAI-shaped body, JSON, and nothing sent upstream. */
async function expectRefused(body: string | Buffer, opts: { status?: number[]; headers?: Record<string, string> } = {}): Promise<Answer> {
  const before = upstreamCount();
  const a = await post(body, opts.headers);
  const shaped = errorBody(a.text);
  const ok = a.networkError === undefined && a.status >= 400 && a.status < 500 && (!opts.status || opts.status.includes(a.status)) && shaped !== undefined && shaped.message.length > 0;
  if (!ok || upstreamCount() !== before) {
    throw new Error(`not a clear 4xx (or it went upstream): status ${a.status} ${a.networkError ?? ''} upstream +${upstreamCount() - before}; body ${a.text.slice(0, 300)}; sent ${String(body).slice(0, 200)}`);
  }
  expect(a.headers['content-type']).toContain('application/json');
  return a;
}

const valid = (extra: Record<string, unknown> = {}, model = 'fuzz') => ({ model, messages: [{ role: 'user', content: 'hi' }], ...extra });

// Values that are not what a field needs.
// (no NaN or Infinity: JSON.stringify makes them null, which is a valid value for most fields)
const finite = () => fc.double({ noNaN: true, noDefaultInfinity: true });
const notString = fc.oneof(fc.integer(), finite(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 4 }), fc.string(), { maxKeys: 2 }));
const notBoolean = fc.oneof(fc.integer(), fc.string({ minLength: 1 }), fc.array(fc.boolean(), { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 3 }), fc.boolean(), { minKeys: 1, maxKeys: 2 }));
const notArray = fc.oneof(fc.integer(), fc.string(), fc.boolean(), fc.dictionary(fc.string({ maxLength: 4 }), fc.string(), { maxKeys: 2 }));

const WRONG_TYPES: Array<[string, fc.Arbitrary<Record<string, unknown>>]> = [
  ['model', notString.map((v) => ({ ...valid(), model: v }))],
  ['messages', notArray.map((v) => ({ ...valid(), messages: v }))],
  ['messages[0]', fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 })).map((v) => ({ ...valid(), messages: [v] }))],
  ['messages[0].role', fc.oneof(notString, fc.string().filter((s) => !['system', 'developer', 'user', 'assistant', 'tool', 'function'].includes(s))).map((v) => ({ ...valid(), messages: [{ role: v, content: 'hi' }] }))],
  ['messages[0].content', fc.oneof(fc.integer(), finite(), fc.boolean(), fc.dictionary(fc.string({ maxLength: 3 }), fc.string(), { maxKeys: 2 })).map((v) => ({ ...valid(), messages: [{ role: 'user', content: v }] }))],
  ['messages[0].content[0]', fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 })).map((v) => ({ ...valid(), messages: [{ role: 'user', content: [v] }] }))],
  ['stream', notBoolean.map((v) => ({ ...valid(), stream: v }))],
  ['tools', notArray.map((v) => ({ ...valid(), tools: v }))],
  ['tools[0]', fc.oneof(fc.integer(), fc.string(), fc.constant(null)).map((v) => ({ ...valid(), tools: [v] }))],
  ['stop', fc.oneof(fc.integer(), fc.boolean(), fc.array(fc.integer(), { minLength: 1, maxLength: 3 })).map((v) => ({ ...valid(), stop: v }))],
  ['temperature', fc.oneof(fc.string(), fc.boolean(), fc.double({ min: 2.0001, max: 1e9, noNaN: true }), fc.double({ max: -0.0001, min: -1e9, noNaN: true })).map((v) => ({ ...valid(), temperature: v }))],
  ['top_p', fc.oneof(fc.string(), fc.double({ min: 1.0001, max: 1e6, noNaN: true }), fc.double({ max: -0.0001, min: -1e6, noNaN: true })).map((v) => ({ ...valid(), top_p: v }))],
];

const ABSURD_INTEGERS = fc.oneof(
  fc.integer({ max: 0 }),
  fc.double({ noInteger: true, noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(1e9, 2 ** 53, 2 ** 53 + 2, 1e300, -1e300),
  fc.string(),
  fc.boolean(),
);

// ---------------------------------------------------------------- the properties

describe('bad input: always a clear 4xx, never a crash, never an upstream call', () => {
  it('a valid request gets through (the baseline)', async () => {
    const a = await post(JSON.stringify(valid()));
    expect(a.status).toBe(200);
    expect(upstreamCount()).toBe(1);
  });

  it('malformed JSON: random text and bytes, and valid bodies cut short', async () => {
    const isObjectJson = (s: string): boolean => {
      try {
        const v = JSON.parse(s);
        return typeof v === 'object' && v !== null && !Array.isArray(v);
      } catch {
        return false;
      }
    };
    const full = JSON.stringify(valid({ temperature: 0.5, stream: false }));
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 200 }).filter((s) => !isObjectJson(s)),
          fc.jsonValue().map((v) => JSON.stringify(v)).filter((s) => !isObjectJson(s)),
          fc.nat({ max: full.length - 1 }).map((n) => full.slice(0, n)),
          fc.constantFrom('', ' ', '\ufeff{}', 'null', '[]', '{"model":"fuzz",}', "{'model':'fuzz'}", '{"model":"fuzz","messages":[{"role":"user","content":"hi"}]}garbage', 'NaN', '{"model":"fuzz","messages":[{"role":"user","content":"\\ud800"}]'),
        ),
        async (body) => {
          await expectRefused(body, { status: [400, 404] });
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });

  it.each(WRONG_TYPES)('wrong types: %s', async (field, arb) => {
    await fc.assert(
      fc.asyncProperty(arb, async (body) => {
        const a = await expectRefused(JSON.stringify(body), { status: [400, 404] });
        const e = errorBody(a.text)!;
        // the error names the field (or the model is simply unknown)
        if (a.status === 400) expect(String(e.param ?? e.message)).toContain(field.replace(/\[0\].*$/, ''));
      }),
      { numRuns: RUNS },
    );
  });

  it('absurd n and max_tokens (and max_completion_tokens)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('n', 'max_tokens', 'max_completion_tokens'), ABSURD_INTEGERS, fc.constantFrom('fuzz', 'fuzz-claude'), async (key, value, model) => {
        const a = await expectRefused(JSON.stringify(valid({ [key]: value }, model)), { status: [400] });
        expect(errorBody(a.text)!.param).toBe(key);
      }),
      { numRuns: RUNS * 2 },
    );
    // and a large but legal n goes through to an OpenAI target (the provider decides)
    expect((await post(JSON.stringify(valid({ n: 128 })))).status).toBe(200);
  });

  it('deeply nested bodies, anywhere in the body', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 300, max: 20_000 }), fc.constantFrom('[', '{"a":'), fc.constantFrom('extra', 'content', 'tools', 'model'), async (depth, open, where) => {
        const close = open === '[' ? ']' : '}';
        const deep = `${open.repeat(depth)}1${close.repeat(depth)}`;
        const body =
          where === 'content' ? `{"model":"fuzz","messages":[{"role":"user","content":[${deep}]}]}`
          : where === 'tools' ? `{"model":"fuzz","messages":[{"role":"user","content":"hi"}],"tools":[${deep}]}`
          : where === 'model' ? `{"model":${deep},"messages":[]}`
          : `{"model":"fuzz-claude","messages":[{"role":"user","content":"hi"}],"extra":${deep}}`;
        const a = await expectRefused(body, { status: [400] });
        expect(errorBody(a.text)!.message).toMatch(/levels deep/);
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  });

  it('huge bodies: over the routes\' maxRequestBody (10Mi here) is 413, whether declared up front or streamed', async () => {
    const before = upstreamCount();
    const big = Buffer.alloc(10 * 1024 * 1024 + 10, 0x20);
    big.write('{"model":"fuzz","messages":[{"role":"user","content":"', 0);
    const a = await send(chatURL, big, { timeoutMs: 30_000 });
    expect(a.status).toBe(413);
    expect(errorBody(a.text)?.type).toBe('invalid_request_error');
    // chunked, no content-length: the limit is counted as it arrives
    const { Readable } = await import('node:stream');
    const chunks = Readable.from((function* () {
      for (let i = 0; i < 11; i++) yield Buffer.alloc(1024 * 1024, 0x20);
    })());
    const { request } = await import('undici');
    const res = await request(chatURL, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chunks }).catch((e) => e);
    if (!(res instanceof Error)) {
      expect(res.statusCode).toBe(413);
      await res.body.text();
    }
    // just under the limit is read in full (and refused for what it is, not for its size)
    const under = Buffer.alloc(10 * 1024 * 1024 - 100, 0x20);
    under.write('{"model":"nope","messages":[{"role":"user","content":"hi"}]}', 0);
    expect((await send(chatURL, under, { timeoutMs: 30_000 })).status).toBe(404);
    expect(upstreamCount()).toBe(before);
  });

  it('invalid UTF-8 anywhere in a string', async () => {
    const invalid = fc.constantFrom([0xff], [0xfe], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc3], [0xe2, 0x82], [0x80], [0xf4, 0x90, 0x80, 0x80]);
    await fc.assert(
      fc.asyncProperty(invalid, fc.string({ maxLength: 20 }), fc.constantFrom('content', 'model', 'key'), async (bytes, text, where) => {
        const [pre, post] =
          where === 'content' ? [`{"model":"fuzz","messages":[{"role":"user","content":"${text.replace(/["\\]/g, '')}`, '"}]}']
          : where === 'model' ? ['{"model":"fu', 'zz","messages":[{"role":"user","content":"hi"}]}']
          : ['{"model":"fuzz","messages":[{"role":"user","content":"hi"}],"x', '":1}'];
        const a = await expectRefused(Buffer.concat([Buffer.from(pre), Buffer.from(bytes), Buffer.from(post)]), { status: [400] });
        expect(errorBody(a.text)!.message).toMatch(/UTF-8/);
      }),
      { numRuns: RUNS },
    );
  });

  it('unknown fields: passed through or refused, never a crash or a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'x-llmroute-target', 'authorization')), fc.jsonValue({ maxDepth: 3 }), { minKeys: 1, maxKeys: 4 }),
        fc.constantFrom('fuzz', 'fuzz-claude'),
        fc.boolean(),
        async (extra, model, stream) => {
          const known = new Set(['model', 'messages', 'stream', 'n', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'tools', 'stop', 'tool_choice', 'stream_options', 'response_format', 'seed', 'user', 'metadata', 'logprobs', 'top_logprobs', 'logit_bias', 'presence_penalty', 'frequency_penalty', 'parallel_tool_calls', 'functions', 'function_call', 'modalities', 'audio', 'prediction', 'reasoning_effort', 'service_tier', 'store', 'web_search_options']);
          const body: Record<string, unknown> = valid({ stream }, model);
          for (const [k, v] of Object.entries(extra)) if (!known.has(k)) Object.defineProperty(body, k, { value: v, enumerable: true });
          const a = await post(JSON.stringify(body));
          expect(a.networkError).toBeUndefined();
          if (a.status !== 200) {
            expect([a.status, a.status >= 400 && a.status < 500]).toEqual([a.status, true]);
            expect(errorBody(a.text)).toBeDefined();
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('header injection: CR/LF and NUL in header values, bad names, smuggling framings: 400 from the parser, nothing upstream', async () => {
    const raw = (text: string): Promise<string> =>
      new Promise((resolve) => {
        const s = net.connect(sidecar.apiPort, '127.0.0.1');
        let got = '';
        s.setEncoding('latin1');
        s.on('data', (d: string) => (got += d));
        s.on('error', () => resolve(got));
        s.on('close', () => resolve(got));
        s.on('connect', () => s.write(text, 'latin1'));
        setTimeout(() => s.destroy(), 3_000);
      });
    const body = JSON.stringify(valid());
    const frame = (headers: string) => `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n${headers}content-length: ${body.length}\r\n\r\n${body}`;
    const before = upstreamCount();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('\r', '\n', '\0', '\r\n ', '\x7f', '\x01'),
        fc.string({ maxLength: 8, unit: fc.constantFrom('a', 'b', ':', ' ', '-') }),
        fc.boolean(),
        async (bad, filler, inName) => {
          const header = inName ? `x-bad${bad}${filler}: v\r\n` : `x-bad: v${bad}${filler}injected: 1\r\n`;
          const answer = await raw(frame(header));
          // Node's parser refuses the message: 400 and the connection closed, or the bytes dropped
          if (answer) expect(answer).toMatch(/^HTTP\/1\.1 (400|413|431) /);
          expect(answer).not.toMatch(/^injected/m);
        },
      ),
      { numRuns: RUNS },
    );
    // request smuggling framings
    for (const framing of [
      `transfer-encoding: chunked\r\ncontent-length: ${body.length}\r\n`,
      'content-length: 5\r\ncontent-length: 6\r\n',
      'transfer-encoding: chunked, identity\r\n',
      'transfer-encoding:\x0bchunked\r\n',
      'content-length: -1\r\n',
      'content-length: 1e3\r\n',
    ]) {
      const answer = await raw(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n${framing}\r\n${body}`);
      expect([framing, answer.slice(0, 12)]).toEqual([framing, 'HTTP/1.1 400']);
    }
    // values a client controls never become response headers
    const a = await post(JSON.stringify(valid({}, 'fuzz\r\nx-injected: 1')));
    expect(a.status).toBe(404);
    expect(a.headers['x-injected']).toBeUndefined();
    expect(upstreamCount()).toBe(before);
  });
});

describe('slowloris', () => {
  it('other clients get their answers while 60 connections dribble headers and bodies', async () => {
    // the fuzzing may have outlasted the header timeout (20 s; FUZZ_RUNS=1000 does): new dribblers for those it cut
    const fresh = headerLoris.filter((l) => l.closedAt !== undefined).map(() => loris(sidecar.apiPort, 'headers'));
    await Promise.all(fresh.map((l) => once(l.socket, 'connect')));
    headerLoris.push(...fresh);
    expect(headerLoris.filter((l) => l.closedAt === undefined).length).toBeGreaterThan(20);
    const lat: number[] = [];
    for (let i = 0; i < 100; i++) {
      const a = await post(JSON.stringify(valid({ stream: i % 2 === 0 })));
      expect(a.status).toBe(200);
      lat.push(a.ms);
    }
    console.log(`with 60 slowloris connections open: p50 ${round(percentile(lat, 50))} ms, p99 ${round(percentile(lat, 99))} ms`);
    // not slowed: reported, not asserted (it depends on the machine)
    report.atMost('bad input: p99 of 100 requests with 60 slowloris connections open', round(percentile(lat, 99)), 250, ' ms');
  });

  it('the process stays up and clean with the dribblers open, after all the fuzzing', async () => {
    // (the header timeout cutting them off: slowloris.test.ts; the body dribblers are bounded by
    // requestTimeout, 120 s: the long form checks that below; here they hurt no one)
    expect(upstreamCount()).toBeGreaterThan(0);
    // still alive, still answering, nothing uncaught
    expect((await send(`${sidecar.adminURL}/healthz`, undefined)).status).toBe(200);
    expect((await post(JSON.stringify(valid()))).status).toBe(200);
    expect(sidecar.child.exitCode).toBeNull();
    expect(sidecar.logs.filter((l) => l.msg === 'uncaught exception' || l.msg === 'unexpected error while serving a request')).toEqual([]);
    expect(sidecar.stderr()).toBe('');
  });

  if (LONG) {
    it('cuts the body dribblers off with the server request timeout (long form only: 120 s and more)', async () => {
      const cut = await until(() => bodyLoris.every((l) => l.closedAt !== undefined), BODY_CUTOFF_MS);
      const times = bodyLoris.map((l) => (l.closedAt ?? Date.now()) - l.openedAt);
      console.log(`body slowloris cut after ${round(Math.min(...times) / 1000)}–${round(Math.max(...times) / 1000)} s; replies: ${replies(bodyLoris)}`);
      expect(cut).toBe(true);
      expect(Math.min(...times)).toBeGreaterThanOrEqual(119_000);
      expect((await post(JSON.stringify(valid()))).status).toBe(200);
    });
  }
});

