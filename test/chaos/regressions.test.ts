/**
 * Regression tests, one per bug the chaos, fuzz and soak suites found in
 * the sidecar. Each is the smallest reproduction, without processes or
 * timers, so it runs in milliseconds; the suite that found it exercises the
 * same path end to end.
 */
import { describe, expect, it } from '@jest/globals';
import { request } from 'undici';
import { startFakeProvider } from '../fakes/fake-provider.ts';
import { createLogger } from '../../common/log.ts';
import { startSidecar } from '../../sidecar/src/sidecar.ts';
import type { AttemptInput, AttemptResult } from '../../sidecar/src/attempt.ts';
import { parseConfig } from '../../sidecar/src/config/load-config.ts';
import { AllTargetsFailedError, BadRequestError, ConfigError } from '../../sidecar/src/errors.ts';
import { runFailover, type FailoverRequest } from '../../sidecar/src/failover.ts';
import { errorResponse } from '../../sidecar/src/http-errors.ts';
import { adapterFor } from '../../sidecar/src/providers/index.ts';
import { checkRequest, parseJsonBody } from '../../sidecar/src/request-checks.ts';
import { HealthRegistry } from '../../sidecar/src/target-health.ts';

const target = (extra = '') => `  - {name: t, provider: openai, model: m${extra}}\n`;
const config = (route: string) => `routes:\n- name: r\n${route}`;

function configError(text: string): ConfigError {
  try {
    parseConfig(text, '/nonexistent', {});
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('the config was accepted');
}

describe('the total deadline', () => {
  // Found by the faults matrix: a stream whose second try's firstByte timer had been cut to the time left
  // fired a hair before the deadline timer, and the client got 502 "every target failed" instead of 504.
  it('is a 504 when the last try timed out because the time had run out', async () => {
    const route = parseConfig(config(`  retry: {attempts: 1, backoff: {initial: 1ms, max: 1ms}}\n  timeouts: {firstByte: 500ms, total: 700ms}\n  targets:\n${target()}`), '/x', {}).config.routes[0]!;
    let clock = 1_000;
    const health = new HealthRegistry();
    health.adopt({ listen: { host: '', port: 0 }, admin: { host: '', port: 0 }, routes: [route], models: new Map() });
    const req: FailoverRequest = {
      route, kind: 'chat', body: {}, stream: true, signal: new AbortController().signal, deadlineAt: clock + 700, attempts: [], fallbacks: 0,
    };
    const attempt = async (input: AttemptInput): Promise<AttemptResult> => {
      clock += Math.min(500, input.remainingMs); // each try runs into its (cut) firstByte timeout
      return { ok: false, failure: { errorClass: 'timeout', status: null, message: 'no content before the firstByte timeout' } };
    };
    const err = await runFailover(req, { health, adapterFor, attempt, now: () => clock, random: () => 0 }).catch((e) => e);
    expect(err).toBeInstanceOf(AllTargetsFailedError);
    expect(errorResponse(err).status).toBe(504);
    expect(req.attempts).toHaveLength(2);
  });
});

describe('the config loader', () => {
  // Found by the config fuzzer: problems quote the refused value, and an apiKey written as a bare string
  // (a natural slip) or a number put the key in the error, hence in the log and on stderr.
  it.each([
    ['a bare string', target(', apiKey: sk-live-0123456789abcdef')],
    ['a number', target(', apiKey: {value: 98765432109876}')],
    ['a list', target(', apiKey: [sk-live-0123456789abcdef]')],
    ['a key with quotes', target(`, apiKey: 'sk-"quoted"-0123456789'`)],
  ])('keeps an apiKey given as %s out of its problems', (_what, t) => {
    const err = configError(config(`  targets:\n${t}`));
    expect(err.problems.join('\n')).toMatch(/apiKey/);
    for (const secret of ['sk-live-0123456789abcdef', '98765432109876', 'sk-"quoted"-0123456789', 'sk-\\"quoted\\"-0123456789']) {
      expect(err.message).not.toContain(secret);
      expect(err.problems.join('\n')).not.toContain(secret);
    }
  });

  // Found by the config fuzzer: `key in props` also finds Object.prototype's members, so a field named
  // constructor, toString or __proto__ was accepted without a word.
  it.each(['constructor', 'toString', 'hasOwnProperty', '__proto__'])('reports an unknown field named %s', (name) => {
    const err = configError(config(`  targets:\n${target(`, ${name}: 1`)}`));
    expect(err.problems).toEqual([expect.stringContaining(`routes[0].targets[0].${name}: unknown field`)]);
  });

  // Found by the config fuzzer: `apiKey: {env: toString}` looked the name up through the env object's
  // prototype, found a function, and crashed the loader with a TypeError (exit 1 and a stack trace at start-up).
  it.each(['toString', 'constructor', 'hasOwnProperty', '__proto__'])('refuses apiKey.env naming %s (not an own variable) as unset', (name) => {
    const err = configError(config(`  targets:\n${target(`, apiKey: {env: ${name}}`)}`));
    expect(err.problems).toEqual([`route 'r' target 't': environment variable ${name} is not set`]);
    // and with the real process.env too
    expect(() => parseConfig(config(`  targets:\n${target(`, apiKey: {env: ${name}}`)}`), '/x', process.env)).toThrow(ConfigError);
  });

  // Found by the config fuzzer: a key pasted into apiKey.env or apiKey.file, or written as a field name,
  // was quoted back by the pattern check or the unset-variable message.
  it.each([
    ['env', target(', apiKey: {env: sk-proj-AbC123dEf456gHi789}'), 'sk-proj-AbC123dEf456gHi789'],
    ['env (hex)', target(', apiKey: {env: a1b2c3d4e5f60718293a4b5c6d7e8f90}'), 'a1b2c3d4e5f60718293a4b5c6d7e8f90'],
    ['file', target(', apiKey: {file: sk-ant-api03-XyZ987wVu654}'), 'sk-ant-api03-XyZ987wVu654'],
    ['a field name', target(', apiKey: {sk-live-0123456789abcdef: null}'), 'sk-live-0123456789abcdef'],
  ])('keeps a key pasted into %s out of its problems', (_where, t, secret) => {
    const err = configError(config(`  targets:\n${t}`));
    expect(err.message).not.toContain(secret);
  });

  it('still names ordinary variables and key files', () => {
    expect(configError(config(`  targets:\n${target(', apiKey: {env: OPENAI_API_KEY}')}`)).problems).toEqual([`route 'r' target 't': environment variable OPENAI_API_KEY is not set`]);
    expect(configError(config(`  targets:\n${target(', apiKey: {file: credentials/shop.chat.openai}')}`)).problems[0]).toContain('credentials/shop.chat.openai');
  });

  // Found by the config fuzzer: a duration past setTimeout's limit (about 24.8 days) fires after 1 ms,
  // so `total: 600h` made every request a 504 at once.
  it('keeps durations past the timer limit from firing at once', () => {
    const r = parseConfig(config(`  timeouts: {connect: 9999h, firstByte: 9999h, idle: 9999h, total: 600h}\n  retry: {backoff: {initial: 1000h, max: 9999h}}\n  targets:\n${target()}`), '/x', {}).config.routes[0]!;
    for (const ms of [r.timeouts.connectMs, r.timeouts.firstByteMs, r.timeouts.idleMs, r.timeouts.totalMs, r.retry.backoffInitialMs, r.retry.backoffMaxMs]) {
      expect(ms).toBeGreaterThan(24 * 86_400_000);
      expect(ms).toBeLessThanOrEqual(2_147_483_647);
    }
  });
});

describe('request checks', () => {
  const bad = (f: () => unknown): BadRequestError => {
    try {
      f();
    } catch (err) {
      if (err instanceof BadRequestError) return err;
      throw err;
    }
    throw new Error('accepted');
  };

  // Found by the bad-input fuzzer: invalid UTF-8 was decoded to U+FFFD and forwarded upstream.
  it('refuses a body that is not valid UTF-8', () => {
    const raw = Buffer.concat([Buffer.from('{"model":"r","messages":[{"role":"user","content":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}]}')]);
    expect(bad(() => parseJsonBody(raw))).toMatchObject({ code: 'invalid_json', message: expect.stringContaining('UTF-8') });
    // and valid multi-byte text still passes
    expect(parseJsonBody(Buffer.from('{"model":"r","x":"héllo ✓ 🎉"}')).x).toBe('héllo ✓ 🎉');
  });

  // Found by the bad-input fuzzer: deep nesting reached the adapter, whose JSON.stringify overflowed the
  // stack; the client got 400 "Maximum call stack size exceeded", counted as an upstream attempt.
  it('refuses deep nesting up front with a clear message, and ignores brackets inside strings', () => {
    const deep = `{"model":"r","x":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    expect(bad(() => parseJsonBody(Buffer.from(deep)))).toMatchObject({ code: 'invalid_json', message: expect.stringContaining('levels deep') });
    const brackets = JSON.stringify({ model: 'r', x: '[{'.repeat(5000), y: '\\"[' });
    expect(parseJsonBody(Buffer.from(brackets)).model).toBe('r');
    const fine = `{"model":"r","x":${'['.repeat(200)}${']'.repeat(200)}}`;
    expect(parseJsonBody(Buffer.from(fine)).model).toBe('r');
  });

  // Found by the bad-input fuzzer: content parts and tools that are not objects cannot be valid for any
  // provider, but went upstream to OpenAI targets (Anthropic targets refused them in the adapter).
  it('refuses content parts and tools that are not objects', () => {
    expect(bad(() => checkRequest('chat', { model: 'r', messages: [{ role: 'user', content: [1, null] }] }))).toMatchObject({ param: 'messages[0].content[0]' });
    expect(bad(() => checkRequest('chat', { model: 'r', messages: [{ role: 'user', content: 'hi' }], tools: ['x'] }))).toMatchObject({ param: 'tools[0]' });
    expect(checkRequest('chat', { model: 'r', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], tools: [{ type: 'function', function: { name: 'f' } }] })).toBe('r');
  });
});

describe('the SIGTERM drain', () => {
  // Found by the soak's SIGTERM phase: answers finished during the drain still said keep-alive, so clients
  // sent their next request down a socket the drain was about to close, and got "other side closed" for a
  // request the sidecar never saw (ambiguous for a POST). Now they go out with connection: close.
  it('sends the answers of requests in flight with connection: close', async () => {
    const fake = await startFakeProvider({ flavor: 'openai', thinkMs: 300 });
    const text = `routes:\n- name: r\n  targets:\n  - {name: t, provider: openai-compatible, baseURL: "${fake.url}", model: m}\n`;
    const sidecar = await startSidecar({
      configPath: '/nonexistent/config.yaml',
      initial: parseConfig(text, '/nonexistent', {}),
      log: createLogger('error', () => undefined),
      port: 0,
      adminPort: 0,
      host: '127.0.0.1',
      adminHost: '127.0.0.1',
    });
    try {
      const url = `http://127.0.0.1:${sidecar.apiAddress.port}/v1/chat/completions`;
      const answer = request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'r', messages: [{ role: 'user', content: 'hi' }] }) });
      await fake.waitForRequests(1);
      const drained = sidecar.drain();
      const res = await answer;
      await res.body.text();
      expect(res.statusCode).toBe(200);
      expect(res.headers.connection).toBe('close');
      expect(await drained).toBe(true);
    } finally {
      await sidecar.close();
      await fake.close();
    }
  });
});
