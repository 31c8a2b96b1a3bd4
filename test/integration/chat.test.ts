/**
 * The sidecar as apps see it: the official openai SDK against a real sidecar
 * process, with fake OpenAI, Anthropic and Azure providers behind it.
 */
import OpenAI from 'openai';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.ts';
import { startSidecarProcess, type SidecarProcess } from '../support/sidecar-process.ts';

let openai: FakeProvider;
let anthropic: FakeProvider;
let azure: FakeProvider;
let sidecar: SidecarProcess;
let client: OpenAI;

beforeAll(async () => {
  openai = await startFakeProvider({ flavor: 'openai', name: 'openai', expectKey: 'sk-openai-test', text: 'Hello from openai', chunks: 4 });
  anthropic = await startFakeProvider({ flavor: 'anthropic', name: 'anthropic', expectKey: 'sk-ant-test', text: 'Hello from claude', chunks: 4 });
  azure = await startFakeProvider({ flavor: 'openai', name: 'azure', expectKey: 'azure-key-test' });
  sidecar = await startSidecarProcess(
    `
routes:
- name: chat
  aliases: [gpt-4o]
  targets:
  - {name: openai, provider: openai, baseURL: "${openai.url}", model: gpt-4o-mini, apiKey: {value: sk-openai-test}}
- name: claude
  targets:
  - {name: claude, provider: anthropic, baseURL: "${anthropic.url}", model: claude-sonnet-4-5, apiKey: {env: ANTHROPIC_KEY}}
- name: azure
  targets:
  - {name: az, provider: azure-openai, baseURL: "${azure.origin}", apiVersion: "2024-10-21", model: my-deployment, apiKey: {value: azure-key-test}}
- name: embed
  targets:
  - {name: openai, provider: openai, baseURL: "${openai.url}", model: text-embedding-3-small, apiKey: {value: sk-openai-test}}
`,
    { env: { ANTHROPIC_KEY: 'sk-ant-test' }, args: ['--log-level', 'debug'] },
  );
  client = new OpenAI({ baseURL: sidecar.baseURL, apiKey: 'client-key-that-must-not-travel', maxRetries: 0 });
});

afterAll(async () => {
  await sidecar?.stop();
  await Promise.all([openai?.close(), anthropic?.close(), azure?.close()]);
});

beforeEach(() => {
  openai.reset();
  anthropic.reset();
  azure.reset();
});

describe('chat completions through the sidecar', () => {
  it('serves a non-stream completion with the x-llmroute headers', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(data.choices[0]!.message.content).toBe('Hello from openai');
    expect(data.usage?.completion_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-llmroute-route')).toBe('chat');
    expect(response.headers.get('x-llmroute-target')).toBe('openai');
    expect(response.headers.get('x-llmroute-provider')).toBe('openai');
    expect(response.headers.get('x-llmroute-model')).toBe('gpt-4o-mini');
    expect(response.headers.get('x-llmroute-attempts')).toBe('1');
    expect(response.headers.get('x-llmroute-fallbacks')).toBe('0');
    expect(openai.requests[0]!.body.model).toBe('gpt-4o-mini');
  });

  it('selects the route by alias', async () => {
    const r = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(r.choices[0]!.message.content).toBe('Hello from openai');
  });

  it('streams, and the SDK sees a normal OpenAI stream', async () => {
    const stream = await client.chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe('Hello from openai');
    expect(finish).toBe('stop');
  });

  it('hides the usage chunk it asked for unless the client asked too, and counts tokens either way', async () => {
    const before = await sidecar.metric('llmroute_tokens_total', { route: 'chat', kind: 'completion' });
    const plain = await client.chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const chunks = [];
    for await (const c of plain) chunks.push(c);
    expect(chunks.some((c) => c.usage)).toBe(false);
    expect(openai.requests[0]!.body.stream_options).toEqual({ include_usage: true });
    const withUsage = await client.chat.completions.create({ model: 'chat', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] });
    let usage;
    for await (const c of withUsage) usage = c.usage ?? usage;
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    const after = await sidecar.metric('llmroute_tokens_total', { route: 'chat', kind: 'completion' });
    expect(after - before).toBeGreaterThanOrEqual(2 * (usage?.completion_tokens ?? 1));
  });

  it('translates to and from Anthropic, non-stream', async () => {
    const r = await client.chat.completions.create({
      model: 'claude',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hi' },
      ],
    });
    expect(r.object).toBe('chat.completion');
    expect(r.choices[0]!.message.content).toBe('Hello from claude');
    expect(r.choices[0]!.finish_reason).toBe('stop');
    const sent = anthropic.requests[0]!;
    expect(sent.pathname).toBe('/v1/messages');
    expect(sent.body.system).toBe('be brief');
    expect(sent.body.max_tokens).toBeGreaterThan(0);
    expect(sent.headers['anthropic-version']).toBe('2023-06-01');
  });

  it('translates an Anthropic stream into OpenAI chunks', async () => {
    const stream = await client.chat.completions.create({ model: 'claude', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    const finishes: string[] = [];
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
    }
    expect(text).toBe('Hello from claude');
    expect(finishes).toEqual(['stop']);
  });

  it('round-trips tool calls through Anthropic', async () => {
    anthropic.script({ kind: 'ok', toolCall: { name: 'get_weather', arguments: { city: 'Paris' } }, text: '' });
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', description: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const r = await client.chat.completions.create({ model: 'claude', tools, messages: [{ role: 'user', content: 'weather in Paris?' }] });
    const call = r.choices[0]!.message.tool_calls![0]!;
    expect(r.choices[0]!.finish_reason).toBe('tool_calls');
    expect(call.type === 'function' && call.function.name).toBe('get_weather');
    expect(call.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ city: 'Paris' });
    expect(anthropic.requests[0]!.body.tools[0]).toMatchObject({ name: 'get_weather', input_schema: { type: 'object' } });

    // the tool result goes back as a tool_result block
    await client.chat.completions.create({
      model: 'claude',
      tools,
      messages: [
        { role: 'user', content: 'weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: call.id, content: '18C and sunny' },
      ],
    });
    const turn = anthropic.requests[1]!.body.messages;
    expect(turn[1].content[0]).toMatchObject({ type: 'tool_use', name: 'get_weather' });
    expect(turn[2].content[0]).toMatchObject({ type: 'tool_result', content: '18C and sunny' });
  });

  it('speaks Azure: deployment URL, api-key header, api-version', async () => {
    const r = await client.chat.completions.create({ model: 'azure', messages: [{ role: 'user', content: 'hi' }] });
    expect(r.choices[0]!.message.content).toBe('Hello from azure');
    const sent = azure.requests[0]!;
    expect(sent.pathname).toBe('/openai/deployments/my-deployment/chat/completions');
    expect(sent.query['api-version']).toBe('2024-10-21');
    expect(sent.headers['api-key']).toBe('azure-key-test');
    expect(sent.headers.authorization).toBeUndefined();
  });

  it('serves embeddings', async () => {
    const r = await client.embeddings.create({ model: 'embed', input: ['a', 'b'] });
    expect(r.data).toHaveLength(2);
    expect(r.data[0]!.embedding.length).toBeGreaterThan(0);
    expect(openai.requests[0]!.body.model).toBe('text-embedding-3-small');
  });

  it('lists routes and aliases as models', async () => {
    const list = await client.models.list();
    const ids = [];
    for await (const m of list) ids.push(m.id);
    expect(ids).toEqual(['chat', 'gpt-4o', 'claude', 'azure', 'embed']);
  });

  it("never forwards the client's Authorization; sends the target's key instead", async () => {
    await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] });
    await client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'hi' }] });
    expect(openai.requests[0]!.headers.authorization).toBe('Bearer sk-openai-test');
    expect(anthropic.requests[0]!.headers['x-api-key']).toBe('sk-ant-test');
    for (const r of [...openai.requests, ...anthropic.requests]) expect(JSON.stringify(r.headers)).not.toContain('client-key-that-must-not-travel');
  });

  it('keeps keys out of every log line, even at debug level, and out of /metrics', async () => {
    await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] });
    const metrics = await (await fetch(`${sidecar.adminURL}/metrics`)).text();
    for (const key of ['sk-openai-test', 'sk-ant-test', 'azure-key-test', 'client-key-that-must-not-travel']) {
      expect(sidecar.stdout()).not.toContain(key);
      expect(sidecar.stderr()).not.toContain(key);
      expect(metrics).not.toContain(key);
    }
  });

  it('binds the API to 127.0.0.1 by default', async () => {
    const line = sidecar.logs.find((l) => l.msg === 'llmroute sidecar listening')!;
    expect(String(line.api)).toMatch(/^127\.0\.0\.1:/);
  });
});

describe('bad input gets a clear 4xx in OpenAI shape, and no upstream call', () => {
  const post = (body: string | Buffer, path = '/chat/completions', headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    fetch(`${sidecar.baseURL}${path}`, { method: 'POST', headers, body });

  it.each([
    ['malformed JSON', '{"model": "chat", ', 400, 'invalid_json'],
    ['a missing model', '{"messages": [{"role": "user", "content": "hi"}]}', 400, 'missing_model'],
    ['no messages', '{"model": "chat"}', 400, 'invalid_request'],
    ['an unknown model', '{"model": "gpt-9", "messages": [{"role": "user", "content": "hi"}]}', 404, 'model_not_found'],
  ])('%s → %i %s', async (_name, body, status, code) => {
    const res = await post(body);
    expect(res.status).toBe(status);
    const json = (await res.json()) as { error: { message: string; type: string; code: string } };
    expect(json.error.code).toBe(code);
    expect(json.error.message.length).toBeGreaterThan(5);
    expect(res.headers.get('x-llmroute-attempts')).toBe('0');
    expect(openai.counts.requests + anthropic.counts.requests).toBe(0);
  });

  it('a body over 32 MiB (the default maxRequestBody) → 413', async () => {
    const res = await post(Buffer.alloc(32 * 1024 * 1024 + 10, 'a'));
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('request_too_large');
  });

  it('a wrong method → 405, an unknown path → 404', async () => {
    const res = await fetch(`${sidecar.baseURL}/chat/completions`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect((await fetch(`${sidecar.baseURL}/nope`)).status).toBe(404);
  });

  it('is still serving after all of that', async () => {
    const r = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] });
    expect(r.choices[0]!.message.content).toBe('Hello from openai');
  });
});
