/**
 * anthropic-python on the Messages API, configured as the sidecar's
 * injection configures it (ANTHROPIC_BASE_URL=http://127.0.0.1:PORT, any
 * ANTHROPIC_API_KEY), against the real sidecar through failovers both ways:
 * route `to-gpt` has an Anthropic primary that answers 529 and an OpenAI
 * backup (reached translated to Chat Completions); route `to-claude` an
 * OpenAI primary that answers 503 and an Anthropic backup (reached natively);
 * route `gpt-only` has no anthropic target, so count_tokens is estimated.
 * (The fake counts tokens even when scripted down, so the to-gpt primary
 * cannot show count_tokens failing over.)
 * test/python/anthropic_messages.py is the app: messages.create, stream=True,
 * the messages.stream() helper, a tools loop, extended thinking, count_tokens.
 */
import { startFakeProvider, type BehaviourFn, type FakeProvider, type RecordedRequest } from '../fakes/fake-provider.ts';
import { startSidecarProcess, type SidecarProcess } from '../support/sidecar-process.ts';
import { runPythonScript } from '../realserver/python-env.ts';

let claudeDown: FakeProvider;
let gpt: FakeProvider;
let gptDown: FakeProvider;
let claude: FakeProvider;
let sidecar: SidecarProcess;
let out: Record<string, any>;
let seen: Record<'claudeDown' | 'gpt' | 'gptDown' | 'claude', RecordedRequest[]>;

/** The tool results a request carries: Anthropic tool_result blocks, or Chat tool messages. */
function toolResults(req: RecordedRequest): string[] {
  const messages: any[] = req.body?.messages ?? [];
  if (req.endpoint === 'chat') return messages.filter((m) => m.role === 'tool').map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content)));
  return messages
    .flatMap((m) => (Array.isArray(m.content) ? m.content : []))
    .filter((b: any) => b?.type === 'tool_result')
    .map((b: any) => (typeof b.content === 'string' ? b.content : (b.content ?? []).map((c: any) => c.text ?? '').join('')));
}

/** A backup as a model in a tool loop: with tools and no result it calls the tool for Oslo; given a result, it answers with it. */
const toolLoop: BehaviourFn = (req) => {
  const results = toolResults(req);
  if (results.length > 0) return { kind: 'ok', text: `The backup read the tool: ${results.at(-1)}`, chunks: 3 };
  if (Array.isArray(req.body?.tools) && req.body.tools.length > 0) return { kind: 'ok', toolCall: { arguments: { city: 'Oslo' } }, chunks: 3 };
  return undefined;
};

/** The first user message of a request, as JSON (Chat requests start with the system message). */
const user = (req: RecordedRequest) => JSON.stringify((req.body?.messages ?? []).find((m: any) => m.role === 'user')?.content);

beforeAll(async () => {
  claudeDown = await startFakeProvider({ flavor: 'anthropic', name: 'claude-down', behaviour: { kind: 'status', status: 529 } });
  gpt = await startFakeProvider({ flavor: 'openai', name: 'gpt', expectKey: 'sk-openai-real', text: 'Hello from gpt', chunks: 3, behaviour: toolLoop });
  gptDown = await startFakeProvider({ flavor: 'openai', name: 'gpt-down', behaviour: { kind: 'status', status: 503 } });
  claude = await startFakeProvider({ flavor: 'anthropic', name: 'claude', expectKey: 'sk-ant-real', text: 'Hello from claude', chunks: 3, behaviour: toolLoop });
  const policy = `
  retry: {attempts: 0}
  circuitBreaker: {consecutiveFailures: 1000}`;
  sidecar = await startSidecarProcess(`routes:
- name: to-gpt
  targets:
  - {name: claude-down, provider: anthropic, baseURL: "${claudeDown.url}", model: claude-sonnet-4-5-20250929, apiKey: {value: sk-ant-real}}
  - {name: gpt, provider: openai, priority: 1, baseURL: "${gpt.url}", model: gpt-4o-mini, apiKey: {value: sk-openai-real}}
${policy}
- name: to-claude
  targets:
  - {name: gpt-down, provider: openai, baseURL: "${gptDown.url}", model: gpt-4o-mini, apiKey: {value: sk-openai-real}}
  - {name: claude, provider: anthropic, priority: 1, baseURL: "${claude.url}", model: claude-sonnet-4-5-20250929, apiKey: {value: sk-ant-real}}
${policy}
- name: gpt-only
  targets:
  - {name: gpt, provider: openai, baseURL: "${gpt.url}", model: gpt-4o-mini, apiKey: {value: sk-openai-real}}
${policy}
`);
  out = (await runPythonScript('anthropic_messages.py', ['to-gpt', 'to-claude', 'gpt-only'], { ANTHROPIC_BASE_URL: sidecar.baseURL.replace(/\/v1$/, ''), ANTHROPIC_API_KEY: 'the-apps-own-key' }, 120_000)) as Record<string, any>;
  seen = { claudeDown: [...claudeDown.requests], gpt: [...gpt.requests], gptDown: [...gptDown.requests], claude: [...claude.requests] };
}, 150_000);

afterAll(async () => {
  await sidecar?.stop();
  await Promise.all([claudeDown?.close(), gpt?.close(), gptDown?.close(), claude?.close()]);
});

it('runs the pinned anthropic SDK', () => {
  expect(out.sdk).toBe('anthropic 2.15.0');
});

describe('anthropic-python through a failover from Anthropic to OpenAI (translated to Chat Completions)', () => {
  it('messages.create: a Message with the backup text, end_turn, usage and the failover headers', () => {
    expect(out.create).toEqual({
      type: 'message',
      role: 'assistant',
      content: [{ type: 'text', text: 'Hello from gpt' }],
      stop_reason: 'end_turn',
      usage: { input_tokens: expect.any(Number), output_tokens: expect.any(Number) },
      headers: expect.objectContaining({ 'x-llmroute-target': 'gpt', 'x-llmroute-fallbacks': '1' }),
    });
    const sent = seen.gpt.find((r) => !r.stream && user(r).includes('Say hello.') && !r.body.reasoning_effort)!;
    expect(sent.endpoint).toBe('chat');
    expect(sent.headers.authorization).toBe('Bearer sk-openai-real');
    expect(sent.body).toMatchObject({ model: 'gpt-4o-mini', max_completion_tokens: 300, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hello.' }] });
    // The primary was tried for every call, natively, and the client's key never travelled.
    expect(seen.claudeDown.length).toBeGreaterThanOrEqual(7);
    expect(seen.claudeDown.every((r) => r.outcome === 'status' && r.headers['x-api-key'] === 'sk-ant-real')).toBe(true);
  });

  it('stream=True: the Messages event sequence, the text as text_delta, stop_reason on message_delta', () => {
    const s = out.create_stream;
    expect(s.types[0]).toBe('message_start');
    expect(s.types.slice(1, 2)).toEqual(['content_block_start']);
    expect(s.types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    expect(s).toMatchObject({ text: 'Hello from gpt', stop_reason: 'end_turn' });
  });

  it('the messages.stream() helper: text_stream and get_final_message()', () => {
    expect(out.stream_helper).toEqual({ text: 'Hello from gpt', final_content: [{ type: 'text', text: 'Hello from gpt' }], stop_reason: 'end_turn' });
  });

  it('a tools loop: tool_use out, the app runs it, its tool_result reaches the OpenAI backup as a tool message', () => {
    expect(out.tools_loop).toEqual({
      first: { stop_reason: 'tool_use', blocks: ['tool_use'], uses: [{ name: 'get_weather', input: { city: 'Oslo' } }] },
      executed: ['Oslo'],
      answer: [{ type: 'text', text: 'The backup read the tool: Sunny in Oslo, 21 C' }],
      stop_reason: 'end_turn',
    });
    const loop = seen.gpt.filter((r) => !r.stream && user(r).includes('What is the weather in Oslo?') && !r.body.reasoning_effort);
    expect(loop[0]!.body.tools).toEqual([{ type: 'function', function: expect.objectContaining({ name: 'get_weather', parameters: expect.objectContaining({ required: ['city'] }) }) }]);
    const second = loop.find((r) => toolResults(r).length > 0)!;
    const [assistant, tool] = second.body.messages.slice(-2);
    expect(assistant).toMatchObject({ role: 'assistant', tool_calls: [{ type: 'function', function: { name: 'get_weather' } }] });
    expect(JSON.parse(assistant.tool_calls[0].function.arguments)).toEqual({ city: 'Oslo' });
    expect(tool).toEqual({ role: 'tool', tool_call_id: assistant.tool_calls[0].id, content: 'Sunny in Oslo, 21 C' });
  });

  it('a tool call through the stream helper: input_json_delta, the parsed input in get_final_message()', () => {
    expect(out.tools_stream).toEqual({ json_streamed: '{"city":"Oslo"}', stop_reason: 'tool_use', uses: [{ name: 'get_weather', input: { city: 'Oslo' } }] });
  });

  it('thinking (enabled, budget_tokens 2048) on the OpenAI backup: reasoning_effort low, the answer as text, stream and not', () => {
    expect(out.thinking_translated).toEqual({ blocks: ['text'], text: 'Hello from gpt', stop_reason: 'end_turn', streamed: 'Hello from gpt' });
    const sent = seen.gpt.filter((r) => r.body.reasoning_effort !== undefined);
    expect(sent.map((r) => [r.body.reasoning_effort, r.stream])).toEqual([
      ['low', false],
      ['low', true],
    ]);
    expect(sent.every((r) => r.body.thinking === undefined)).toBe(true);
  });

  it('count_tokens on a route of OpenAI targets only: the documented estimate, marked as one, no upstream call', () => {
    expect(out.count_tokens_estimate).toEqual({ input_tokens: expect.any(Number), estimated: 'true' });
    expect(out.count_tokens_estimate.input_tokens).toBeGreaterThan(0);
    expect(seen.gpt.filter((r) => r.endpoint !== 'chat')).toEqual([]);
  });
});

describe('anthropic-python through a failover from OpenAI to Anthropic (native)', () => {
  it('messages.create and the stream helper: the backup answers as Anthropic sent it', () => {
    expect(out.native_create).toMatchObject({ content: [{ type: 'text', text: 'Hello from claude' }], stop_reason: 'end_turn', headers: expect.objectContaining({ 'x-llmroute-target': 'claude', 'x-llmroute-fallbacks': '1' }) });
    expect(out.native_stream_helper).toEqual({ text: 'Hello from claude', final_content: [{ type: 'text', text: 'Hello from claude' }], stop_reason: 'end_turn' });
    const sent = seen.claude.find((r) => user(r).includes('Say hello.'))!;
    expect(sent.endpoint).toBe('messages');
    expect(sent.headers['x-api-key']).toBe('sk-ant-real');
    expect(sent.body.model).toBe('claude-sonnet-4-5-20250929');
    // The primary met every call translated to Chat first.
    expect(seen.gptDown.length).toBeGreaterThanOrEqual(6);
    expect(seen.gptDown.every((r) => r.outcome === 'status' && r.endpoint === 'chat')).toBe(true);
  });

  it('a tools loop natively: the tool_result reaches the backup as sent', () => {
    expect(out.native_tools_loop).toMatchObject({ first: { stop_reason: 'tool_use', uses: [{ name: 'get_weather', input: { city: 'Oslo' } }] }, executed: ['Oslo'], answer: [{ type: 'text', text: 'The backup read the tool: Sunny in Oslo, 21 C' }] });
  });

  it('thinking in a tool loop: the thinking block with its signature goes back and the backup takes it', () => {
    const t = out.thinking_native;
    expect(t).toEqual({
      first_blocks: ['thinking', 'tool_use'],
      signature: expect.any(String),
      thinking: expect.any(String),
      executed: ['Oslo'],
      second_blocks: ['thinking', 'text'],
      answer: 'The backup read the tool: Sunny in Oslo, 21 C',
    });
    const thinkingAsks = seen.claude.filter((r) => r.body.thinking !== undefined && Array.isArray(r.body.tools));
    expect(thinkingAsks.map((r) => r.outcome)).toEqual(['ok', 'ok']);
    expect(thinkingAsks[0]!.body.thinking).toEqual({ type: 'enabled', budget_tokens: 2048 });
    // The fake refuses a thinking block whose signature it did not issue; this one went back byte for byte.
    expect(thinkingAsks[1]!.body.messages[1].content[0]).toEqual({ type: 'thinking', thinking: t.thinking, signature: t.signature });
  });

  it('thinking streamed: thinking and signature events, the block with its signature in get_final_message()', () => {
    const t = out.thinking_native_stream;
    expect(t).toEqual({ thinking_streamed: expect.any(String), signature_events: 1, final_blocks: ['thinking', 'text'], final_signature: expect.any(String), text: 'Hello from claude' });
    expect(t.thinking_streamed.length).toBeGreaterThan(0);
  });

  it('count_tokens on a route whose anthropic target is the backup: the OpenAI primary is passed over, the backup counts', () => {
    expect(out.count_tokens_native_backup).toEqual({ input_tokens: expect.any(Number), estimated: null });
    const counted = seen.claude.filter((r) => r.endpoint === 'count_tokens');
    expect(counted).toHaveLength(1);
    expect(counted[0]!.body).toMatchObject({ model: 'claude-sonnet-4-5-20250929', system: 'Be brief.', tools: [expect.objectContaining({ name: 'get_weather' })] });
    expect(seen.gptDown.filter((r) => r.endpoint !== 'chat')).toEqual([]);
  });
});
