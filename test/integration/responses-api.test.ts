/**
 * Issue 11: the OpenAI Responses API inbound (POST /v1/responses and the
 * stored-response endpoints), driven by the official openai Node SDK pointed
 * at the sidecar. Native to openai targets; through Chat Completions to
 * anthropic and openai-compatible ones; failover between provider types,
 * stream and non-stream; previous_response_id carried across a failover by
 * the sidecar's response store; errors in OpenAI's shape.
 */
import OpenAI from 'openai';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.ts';
import { startSidecarProcess, type SidecarProcess } from '../support/sidecar-process.ts';

let gpt: FakeProvider;
let claude: FakeProvider;
let vllm: FakeProvider;
let sidecar: SidecarProcess;
let client: OpenAI;

const policy = `
  retry: {attempts: 0}
  timeouts: {connect: 500ms, firstByte: 5s, total: 20s}`;

beforeAll(async () => {
  gpt = await startFakeProvider({ flavor: 'openai', name: 'gpt', expectKey: 'sk-openai-real', text: 'Hello from gpt' });
  claude = await startFakeProvider({ flavor: 'anthropic', name: 'claude', expectKey: 'sk-ant-real', text: 'Hello from claude' });
  vllm = await startFakeProvider({ flavor: 'openai', name: 'vllm', text: 'Hello from vllm' });
  sidecar = await startSidecarProcess(`routes:
- name: gpt-first
  targets:
  - {name: gpt, provider: openai, baseURL: "${gpt.url}", model: gpt-4.1-mini, apiKey: {value: sk-openai-real}}
  - {name: claude, provider: anthropic, priority: 1, baseURL: "${claude.url}", model: claude-sonnet-4-5-20250929, apiKey: {value: sk-ant-real}}
${policy}
- name: claude-only
  targets:
  - {name: claude, provider: anthropic, baseURL: "${claude.url}", model: claude-sonnet-4-5-20250929, apiKey: {value: sk-ant-real}}
${policy}
- name: compat
  targets:
  - {name: vllm, provider: openai-compatible, baseURL: "${vllm.url}", model: llama, servesResponses: true}
  - {name: claude, provider: anthropic, priority: 1, baseURL: "${claude.url}", model: claude-sonnet-4-5-20250929, apiKey: {value: sk-ant-real}}
${policy}
- name: chat-only
  targets:
  - {name: vllm, provider: openai-compatible, baseURL: "${vllm.url}", model: llama}
${policy}
`);
  client = new OpenAI({ baseURL: sidecar.baseURL, apiKey: 'the-clients-own-key', maxRetries: 0 });
});

afterEach(() => {
  gpt.reset();
  claude.reset();
  vllm.reset();
});

afterAll(async () => {
  await sidecar?.stop();
  await Promise.all([gpt?.close(), claude?.close(), vllm?.close()]);
});

const WEATHER = { type: 'function' as const, name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false }, strict: true };

describe('POST /v1/responses through the openai SDK', () => {
  it('native to an openai target: the model rewritten, the target key sent, the response as OpenAI sent it', async () => {
    const { data, response } = await client.responses.create({ model: 'gpt-first', input: 'Say hello' }).withResponse();
    expect(data.object).toBe('response');
    expect(data.output_text).toBe('Hello from gpt');
    expect(response.headers.get('x-llmroute-target')).toBe('gpt');
    const sent = gpt.requests.at(-1)!;
    expect(sent.endpoint).toBe('responses');
    expect(sent.body.model).toBe('gpt-4.1-mini');
    expect(sent.headers.authorization).toBe('Bearer sk-openai-real');
  });

  it('translated to an anthropic target, whole and streamed with the .stream() helper', async () => {
    const r = await client.responses.create({ model: 'claude-only', input: 'Say hello', instructions: 'Be brief', max_output_tokens: 200 });
    expect(r.output_text).toBe('Hello from claude');
    expect(r.status).toBe('completed');
    expect(r.usage?.output_tokens).toBeGreaterThan(0);
    const sent = claude.requests.at(-1)!;
    expect(sent.endpoint).toBe('messages');
    expect(JSON.stringify(sent.body.system)).toContain('Be brief');
    expect(sent.body.max_tokens).toBe(200);

    const stream = client.responses.stream({ model: 'claude-only', input: 'Say hello' });
    const deltas: string[] = [];
    stream.on('response.output_text.delta', (e) => deltas.push(e.delta));
    const final = await stream.finalResponse();
    expect(deltas.join('')).toBe('Hello from claude');
    expect(final.output_text).toBe('Hello from claude');
  });

  it('the whole event sequence in order with sequence numbers, on a translated stream', async () => {
    const stream = await client.responses.create({ model: 'claude-only', input: 'Say hello', stream: true });
    const types: string[] = [];
    const seqs: number[] = [];
    for await (const e of stream) {
      types.push(e.type);
      seqs.push(e.sequence_number);
    }
    expect(types.slice(0, 4)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
    expect(types.slice(-4)).toEqual(['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed']);
    expect(seqs).toEqual(seqs.map((_, i) => i));
  });

  it('fails over from openai to anthropic invisibly, stream and not', async () => {
    gpt.script({ kind: 'status', status: 503 }, { kind: 'status', status: 503 });
    const { data, response } = await client.responses.create({ model: 'gpt-first', input: 'Say hello' }).withResponse();
    expect(data.output_text).toBe('Hello from claude');
    expect(response.headers.get('x-llmroute-fallbacks')).toBe('1');
    const final = await client.responses.stream({ model: 'gpt-first', input: 'Say hello' }).finalResponse();
    expect(final.output_text).toBe('Hello from claude');
  });

  it('an openai-compatible target that serves Responses gets it natively; one that does not, through Chat', async () => {
    await client.responses.create({ model: 'compat', input: 'hi' });
    expect(vllm.requests.at(-1)!.endpoint).toBe('responses');
    const r = await client.responses.create({ model: 'chat-only', input: 'hi' });
    expect(r.output_text).toBe('Hello from vllm');
    expect(vllm.requests.at(-1)!.endpoint).toBe('chat');
  });

  it('a tools loop: function_call out, function_call_output back, across a translated target', async () => {
    claude.script({ kind: 'ok', toolCall: { name: 'get_weather', arguments: { city: 'Paris' } } });
    const first = await client.responses.create({ model: 'claude-only', input: 'Weather in Paris?', tools: [WEATHER] });
    const call = first.output.find((i) => i.type === 'function_call');
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather' });
    expect(JSON.parse((call as { arguments: string }).arguments)).toEqual({ city: 'Paris' });
    const second = await client.responses.create({
      model: 'claude-only',
      tools: [WEATHER],
      input: [
        { role: 'user', content: 'Weather in Paris?' },
        call as never,
        { type: 'function_call_output', call_id: (call as { call_id: string }).call_id, output: '18 C and sunny' },
      ],
    });
    expect(second.output_text).toBe('Hello from claude');
    const msgs = claude.requests.at(-1)!.body.messages as Array<{ role: string; content: Array<{ type: string; tool_use_id?: string }> }>;
    expect(msgs.at(-1)!.content[0]).toMatchObject({ type: 'tool_result', tool_use_id: (call as { call_id: string }).call_id });
  });

  it('structured outputs (text.format json_schema) through a translated target', async () => {
    claude.script({ kind: 'ok', text: '{"city":"Paris"}' });
    const r = await client.responses.parse({
      model: 'claude-only',
      input: 'Where?',
      text: { format: { type: 'json_schema', name: 'place', strict: true, schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } } },
    });
    expect(r.output_parsed).toEqual({ city: 'Paris' });
  });

  it('previous_response_id across a failover between provider types: the sidecar expands the conversation for the backup', async () => {
    const first = await client.responses.create({ model: 'gpt-first', input: 'My name is Ada.' });
    expect(first.output_text).toBe('Hello from gpt');
    gpt.script({ kind: 'status', status: 503 });
    const second = await client.responses.create({ model: 'gpt-first', input: 'What is my name?', previous_response_id: first.id });
    expect(second.output_text).toBe('Hello from claude');
    const msgs = claude.requests.at(-1)!.body.messages as Array<{ role: string; content: unknown }>;
    expect(JSON.stringify(msgs)).toContain('My name is Ada.');
    expect(JSON.stringify(msgs)).toContain('Hello from gpt');
    expect(JSON.stringify(msgs.at(-1))).toContain('What is my name?');
    // And on from the backup's answer, back on the primary: it never saw that id, so it gets the whole conversation too.
    const third = await client.responses.create({ model: 'gpt-first', input: 'And again?', previous_response_id: second.id });
    expect(third.output_text).toBe('Hello from gpt');
    const sent = gpt.requests.at(-1)!.body;
    expect(sent.previous_response_id).toBeUndefined();
    expect(JSON.stringify(sent.input)).toContain('My name is Ada.');
    expect(JSON.stringify(sent.input)).toContain('Hello from claude');
  });

  it('the target that served an id resolves it itself: previous_response_id passes through to it', async () => {
    const first = await client.responses.create({ model: 'gpt-first', input: 'one' });
    await client.responses.create({ model: 'gpt-first', input: 'two', previous_response_id: first.id });
    expect(gpt.requests.at(-1)!.body.previous_response_id).toBe(first.id);
  });

  it('an id the store does not hold, on a route of translated targets only: a clear 400', async () => {
    const err = (await client.responses.create({ model: 'claude-only', input: 'x', previous_response_id: 'resp_unknown' }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/resp_unknown.*not in this sidecar's response store/);
  });

  it('retrieve, input_items and delete answer from the store; an unknown id is a 404', async () => {
    const r = await client.responses.create({ model: 'claude-only', input: 'remember me' });
    const got = await client.responses.retrieve(r.id);
    expect(got.output_text).toBe('Hello from claude');
    const items = await client.responses.inputItems.list(r.id);
    expect(items.data).toEqual([expect.objectContaining({ type: 'message', role: 'user' })]);
    await client.responses.delete(r.id);
    await expect(client.responses.retrieve(r.id)).rejects.toMatchObject({ status: 404 });
  });

  it('store: false is not kept', async () => {
    const r = await client.responses.create({ model: 'claude-only', input: 'forget me', store: false });
    await expect(client.responses.retrieve(r.id)).rejects.toMatchObject({ status: 404 });
  });

  it('a built-in tool on a route of translated targets: a 400 naming it; with a native primary down, the backup is skipped, not a 400', async () => {
    const err = (await client.responses.create({ model: 'claude-only', input: 'x', tools: [{ type: 'web_search_preview' }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/web_search/);
    expect(claude.requests).toHaveLength(0);
    gpt.script({ kind: 'status', status: 503 });
    const down = (await client.responses.create({ model: 'gpt-first', input: 'x', tools: [{ type: 'web_search_preview' }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(down.status).toBe(502);
    expect((down.error as { attempts: Array<{ class: string }> }).attempts.map((a) => a.class)).toEqual(['server-error', 'unsupported']);
  });

  it('a stream cut after its commit point ends with an error event, never a clean end: the SDK rejects with it, native and translated', async () => {
    // openai-node's ResponseStream rejects with the `error` event itself (as it does for the real API's).
    gpt.script({ kind: 'cut', afterChunks: 2 });
    await expect(client.responses.stream({ model: 'gpt-first', input: 'x' }).finalResponse()).rejects.toMatchObject({ type: 'error', code: 'connection-error', message: expect.stringMatching(/after the stream started/) });
    expect(claude.requests).toHaveLength(0);
    claude.script({ kind: 'cut', afterChunks: 2 });
    await expect(client.responses.stream({ model: 'claude-only', input: 'x' }).finalResponse()).rejects.toMatchObject({ type: 'error', message: expect.stringMatching(/after the stream started/) });
  });
});
