/**
 * Issue 11: the Anthropic Messages API inbound (POST /v1/messages and
 * /v1/messages/count_tokens), driven by the official Anthropic Node SDK
 * pointed at the sidecar as Claude Code and the SDK docs do (base URL
 * http://127.0.0.1:4000, any key). Native to anthropic targets; through
 * Chat Completions to OpenAI-shaped ones; failover between provider types
 * both ways, stream and non-stream; errors in Anthropic's shape.
 */
import Anthropic from '@anthropic-ai/sdk';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.ts';
import { startSidecarProcess, type SidecarProcess } from '../support/sidecar-process.ts';

let claude: FakeProvider;
let gpt: FakeProvider;
let sidecar: SidecarProcess;
let client: Anthropic;

const policy = `
  retry: {attempts: 0}
  timeouts: {connect: 500ms, firstByte: 5s, total: 20s}`;

beforeAll(async () => {
  claude = await startFakeProvider({ flavor: 'anthropic', name: 'claude', expectKey: 'sk-ant-real', text: 'Hello from claude' });
  gpt = await startFakeProvider({ flavor: 'openai', name: 'gpt', expectKey: 'sk-openai-real', text: 'Hello from gpt' });
  sidecar = await startSidecarProcess(`routes:
- name: claude-first
  aliases: [claude-sonnet-4-5]
  targets:
  - {name: claude, provider: anthropic, baseURL: "${claude.url}", model: claude-sonnet-4-5-20250929, apiKey: {value: sk-ant-real}}
  - {name: gpt, provider: openai, priority: 1, baseURL: "${gpt.url}", model: gpt-4o-mini, apiKey: {value: sk-openai-real}}
${policy}
- name: gpt-first
  targets:
  - {name: gpt, provider: openai, baseURL: "${gpt.url}", model: gpt-4o-mini, apiKey: {value: sk-openai-real}}
  - {name: claude, provider: anthropic, priority: 1, baseURL: "${claude.url}", model: claude-sonnet-4-5-20250929, apiKey: {value: sk-ant-real}}
${policy}
- name: gpt-only
  targets:
  - {name: gpt, provider: openai, baseURL: "${gpt.url}", model: gpt-4o-mini, apiKey: {value: sk-openai-real}}
${policy}
`);
  client = new Anthropic({ baseURL: sidecar.baseURL.replace(/\/v1$/, ''), apiKey: 'the-clients-own-key', maxRetries: 0 });
});

afterEach(() => {
  claude.reset();
  gpt.reset();
});

afterAll(async () => {
  await sidecar?.stop();
  await Promise.all([claude?.close(), gpt?.close()]);
});

const ask = { max_tokens: 256, messages: [{ role: 'user' as const, content: 'Say hello' }] };

describe('POST /v1/messages through the Anthropic SDK', () => {
  it('native to an anthropic target: the model rewritten, the target key sent (never the client one), the answer as Anthropic sent it', async () => {
    const { data, response } = await client.messages.create({ model: 'claude-first', ...ask }).withResponse();
    expect(data.type).toBe('message');
    expect(data.content).toEqual([{ type: 'text', text: 'Hello from claude' }]);
    expect(data.stop_reason).toBe('end_turn');
    expect(response.headers.get('x-llmroute-target')).toBe('claude');
    const sent = claude.requests.at(-1)!;
    expect(sent.endpoint).toBe('messages');
    expect(sent.body.model).toBe('claude-sonnet-4-5-20250929');
    expect(sent.headers['x-api-key']).toBe('sk-ant-real');
  });

  it('an alias picks the route, and anthropic-beta goes through to the native target', async () => {
    await client.beta.messages.create({ model: 'claude-sonnet-4-5', ...ask, betas: ['context-1m-2025-08-07'] });
    expect(claude.requests.at(-1)!.headers['anthropic-beta']).toBe('context-1m-2025-08-07');
  });

  it('translated to an OpenAI target: a Message with usage, and the stream helper with its final message', async () => {
    const m = await client.messages.create({ model: 'gpt-only', ...ask });
    expect(m.content).toEqual([{ type: 'text', text: 'Hello from gpt' }]);
    expect(m.usage.output_tokens).toBeGreaterThan(0);
    expect(gpt.requests.at(-1)!.endpoint).toBe('chat');

    const stream = client.messages.stream({ model: 'gpt-only', ...ask });
    const deltas: string[] = [];
    stream.on('text', (t) => deltas.push(t));
    const final = await stream.finalMessage();
    expect(deltas.join('')).toBe('Hello from gpt');
    expect(final.content).toEqual([{ type: 'text', text: 'Hello from gpt' }]);
    expect(final.stop_reason).toBe('end_turn');
  });

  it('fails over from anthropic to openai invisibly, stream and not', async () => {
    claude.script({ kind: 'status', status: 529 }, { kind: 'status', status: 500 });
    const { data, response } = await client.messages.create({ model: 'claude-first', ...ask }).withResponse();
    expect(data.content).toEqual([{ type: 'text', text: 'Hello from gpt' }]);
    expect(response.headers.get('x-llmroute-fallbacks')).toBe('1');
    const s = await client.messages.stream({ model: 'claude-first', ...ask }).finalMessage();
    expect(s.content).toEqual([{ type: 'text', text: 'Hello from gpt' }]);
  });

  it('fails over from openai to anthropic natively, stream and not', async () => {
    gpt.script({ kind: 'status', status: 503 }, { kind: 'status', status: 503 });
    const m = await client.messages.create({ model: 'gpt-first', ...ask });
    expect(m.content).toEqual([{ type: 'text', text: 'Hello from claude' }]);
    const events: string[] = [];
    const stream = client.messages.stream({ model: 'gpt-first', ...ask });
    stream.on('streamEvent', (e) => events.push(e.type));
    const final = await stream.finalMessage();
    expect(final.content).toEqual([{ type: 'text', text: 'Hello from claude' }]);
    expect(events[0]).toBe('message_start');
    expect(events.at(-1)).toBe('message_stop');
  });

  it('a stream cut after its commit point ends with an error event: the SDK throws, native and translated alike', async () => {
    claude.script({ kind: 'cut', afterChunks: 2 });
    const native = client.messages.stream({ model: 'claude-first', ...ask });
    await expect(native.finalMessage()).rejects.toThrow(/stream/i);
    gpt.script({ kind: 'cut', afterChunks: 2 });
    const translated = client.messages.stream({ model: 'gpt-only', ...ask });
    await expect(translated.finalMessage()).rejects.toThrow(/stream/i);
  });

  it('a tools loop through a translated target: tool_use, then tool_result back', async () => {
    const tools = [{ name: 'get_weather', description: 'Weather in a city', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] } }];
    gpt.script({ kind: 'ok', toolCall: { name: 'get_weather', arguments: { city: 'Paris' } } });
    const first = await client.messages.create({ model: 'gpt-only', ...ask, tools });
    expect(first.stop_reason).toBe('tool_use');
    const use = first.content.find((b) => b.type === 'tool_use')!;
    expect(use).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: 'Paris' } });
    const second = await client.messages.create({
      model: 'gpt-only',
      max_tokens: 256,
      tools,
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: (use as { id: string }).id, content: '18 C and sunny' }] },
      ],
    });
    expect(second.content[0]).toMatchObject({ type: 'text' });
    const chat = gpt.requests.at(-1)!.body;
    expect(chat.messages.at(-1)).toMatchObject({ role: 'tool', tool_call_id: (use as { id: string }).id, content: '18 C and sunny' });
  });

  it("errors come in Anthropic's shape: an unknown model is the SDK's NotFoundError, a missing max_tokens its BadRequestError", async () => {
    await expect(client.messages.create({ model: 'no-such-route', ...ask })).rejects.toMatchObject({ status: 404, error: { type: 'error', error: { type: 'not_found_error' } } });
    const res = await fetch(`${sidecar.baseURL}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-only', messages: ask.messages }) });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' } });
  });

  it('every target failing: the SDK gets an Anthropic-shaped error with the attempts', async () => {
    claude.script({ kind: 'status', status: 529 });
    gpt.script({ kind: 'status', status: 500 });
    const err = await client.messages.create({ model: 'claude-first', ...ask }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    const e = err as InstanceType<typeof Anthropic.APIError>;
    expect(e.status).toBe(502);
    expect(e.error).toMatchObject({ type: 'error', error: { type: 'api_error', code: 'all_targets_failed', attempts: [{ target: 'claude' }, { target: 'gpt' }] } });
  });

  it('a server tool on a route of OpenAI targets only: a 400 naming the feature and the target, no upstream call', async () => {
    const before = gpt.requests.length;
    const err = (await client.messages
      .create({ model: 'gpt-only', ...ask, tools: [{ type: 'web_search_20250305', name: 'web_search' }] as never })
      .catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/web_search/);
    expect((err.error as { error: { attempts: unknown } }).error.attempts).toEqual([expect.objectContaining({ target: 'gpt', class: 'unsupported' })]);
    expect(gpt.requests.length).toBe(before);
  });

  it('a server tool with an anthropic primary down: the OpenAI backup is skipped, not turned into a 400', async () => {
    claude.script({ kind: 'status', status: 503 });
    const err = (await client.messages
      .create({ model: 'claude-first', ...ask, tools: [{ type: 'web_search_20250305', name: 'web_search' }] as never })
      .catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(err.status).toBe(502);
    expect((err.error as { error: { attempts: Array<{ class: string }> } }).error.attempts.map((a) => a.class)).toEqual(['server-error', 'unsupported']);
  });

  it('count_tokens: native on an anthropic route, the documented estimate elsewhere', async () => {
    const native = await client.messages.countTokens({ model: 'claude-first', messages: ask.messages });
    expect(native.input_tokens).toBeGreaterThan(0);
    expect(claude.requests.at(-1)!.endpoint).toBe('count_tokens');
    const { data, response } = await client.messages.countTokens({ model: 'gpt-only', messages: ask.messages }).withResponse();
    expect(data.input_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-llmroute-estimated')).toBe('true');
  });
});
