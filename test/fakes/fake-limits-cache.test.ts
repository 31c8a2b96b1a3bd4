/**
 * The fakes' rate limit (a real request/token budget per window, with the
 * headers OpenAI and Anthropic document) and OpenAI-style automatic prompt
 * caching (usage.prompt_tokens_details.cached_tokens).
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import { goDuration, startFakeProvider, type FakeProvider } from './fake-provider.ts';

const open: FakeProvider[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((f) => f.close()));
});

async function post(fake: FakeProvider, path: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await fetch(`${fake.origin}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, headers: Object.fromEntries(res.headers), json: (await res.json()) as any };
}

describe('rateLimit', () => {
  test('OpenAI: counts requests and prompt tokens per window, says so in x-ratelimit-*, then answers 429 with retry-after', async () => {
    const fake = await startFakeProvider({ flavor: 'openai', rateLimit: { requests: 3, tokens: 1000, windowMs: 60_000 } });
    open.push(fake);
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }] };
    const first = await post(fake, '/v1/chat/completions', body);
    expect(first.status).toBe(200);
    expect(first.headers['x-ratelimit-limit-requests']).toBe('3');
    expect(first.headers['x-ratelimit-remaining-requests']).toBe('2');
    expect(first.headers['x-ratelimit-limit-tokens']).toBe('1000');
    expect(Number(first.headers['x-ratelimit-remaining-tokens'])).toBeLessThan(1000);
    expect(first.headers['x-ratelimit-reset-requests']).toMatch(/^\d+m[\d.]+s$|^[\d.]+s$/);
    await post(fake, '/v1/chat/completions', body);
    expect((await post(fake, '/v1/chat/completions', body)).headers['x-ratelimit-remaining-requests']).toBe('0');
    const refused = await post(fake, '/v1/chat/completions', body);
    expect(refused.status).toBe(429);
    expect(refused.json.error.type).toBe('requests');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(59);
    expect(fake.counts.byOutcome).toEqual({ ok: 3, 'rate-limited': 1 });
  });

  test('Anthropic: anthropic-ratelimit-* with RFC 3339 resets', async () => {
    const fake = await startFakeProvider({ flavor: 'anthropic', rateLimit: { requests: 1, tokens: 5000, windowMs: 30_000 } });
    open.push(fake);
    const body = { model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hello' }] };
    const ok = await post(fake, '/v1/messages', body, { 'anthropic-version': '2023-06-01' });
    expect(ok.headers['anthropic-ratelimit-requests-remaining']).toBe('0');
    expect(ok.headers['anthropic-ratelimit-requests-reset']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(ok.headers['anthropic-ratelimit-input-tokens-limit']).toBe('5000');
    const reset = Date.parse(ok.headers['anthropic-ratelimit-requests-reset']!);
    expect(reset - Date.now()).toBeGreaterThan(28_000);
    const refused = await post(fake, '/v1/messages', body, { 'anthropic-version': '2023-06-01' });
    expect(refused.status).toBe(429);
    expect(refused.json.error.type).toBe('rate_limit_error');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(29);
  });

  test('goDuration writes Go notation', () => {
    expect(goDuration(20)).toBe('20ms');
    expect(goDuration(1500)).toBe('1.5s');
    expect(goDuration(360_000)).toBe('6m0s');
    expect(goDuration(61_250)).toBe('1m1.25s');
  });
});

describe('promptCache', () => {
  test('reports the longest prompt prefix seen before as cached_tokens, above the minimum', async () => {
    const fake = await startFakeProvider({ flavor: 'openai', promptCache: { minTokens: 50 } });
    open.push(fake);
    const system = { role: 'system', content: 'You answer questions about the attached manual. '.repeat(10) };
    const ask = async (q: string, extra: unknown[] = []) => (await post(fake, '/v1/chat/completions', { model: 'gpt-4o-mini', messages: [system, ...extra, { role: 'user', content: q }] })).json.usage;
    expect((await ask('first')).prompt_tokens_details.cached_tokens).toBe(0);
    const second = await ask('second');
    expect(second.prompt_tokens_details.cached_tokens).toBeGreaterThan(50);
    expect(second.prompt_tokens_details.cached_tokens).toBeLessThan(second.prompt_tokens);
    // a short prompt is never cached
    const short = async () => (await post(fake, '/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })).json.usage.prompt_tokens_details.cached_tokens;
    await short();
    expect(await short()).toBe(0);
  });
});
