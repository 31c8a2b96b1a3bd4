/**
 * Official client SDKs on the sidecar's Responses and Messages APIs,
 * configured as their users configure them, each through a failover between
 * provider types:
 *   - route `to-claude`: an OpenAI primary answering 503, an Anthropic backup
 *     (a Responses request reaches it translated to Messages);
 *   - route `to-gpt`: an Anthropic primary answering 529, an OpenAI backup
 *     (a Messages request reaches it translated to Chat Completions).
 * In Node: the Vercel AI SDK's default OpenAI model (openai(route) is the
 * Responses API) and @ai-sdk/anthropic. In the venv of
 * `bash hack/python-env.sh`: the OpenAI Agents SDK with its default model
 * (test/python/agents_sdk_responses.py), LangChain's
 * ChatOpenAI(use_responses_api=True) (langchain_responses.py), litellm's
 * responses() and anthropic.messages (litellm_new_apis.py).
 */
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, stepCountIs, streamText, tool } from 'ai';
import { z } from 'zod';
import { startFakeProvider, type BehaviourFn, type FakeProvider, type RecordedRequest } from '../fakes/fake-provider.ts';
import { startSidecarProcess, type SidecarProcess } from '../support/sidecar-process.ts';
import { runPythonScript } from '../realserver/python-env.ts';

let gptDown: FakeProvider;
let claude: FakeProvider;
let claudeDown: FakeProvider;
let gpt: FakeProvider;
let sidecar: SidecarProcess;

/** The tool results a request carries: Anthropic tool_result blocks, or Chat tool messages. */
function toolResults(req: RecordedRequest): string[] {
  const messages: any[] = req.body?.messages ?? [];
  if (req.endpoint === 'chat') return messages.filter((m) => m.role === 'tool').map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content)));
  return messages
    .flatMap((m) => (Array.isArray(m.content) ? m.content : []))
    .filter((b: any) => b?.type === 'tool_result')
    .map((b: any) => (typeof b.content === 'string' ? b.content : (b.content ?? []).map((c: any) => c.text ?? '').join('')));
}

/**
 * A backup as a model in a tool loop: asked with tools and no result yet, it
 * calls the first tool with {city: Oslo}; given a tool's result, it answers
 * with it (so the answer proves the result reached it); otherwise the fake's text.
 */
const toolLoop: BehaviourFn = (req) => {
  const results = toolResults(req);
  if (results.length > 0) return { kind: 'ok', text: `The backup read the tool: ${results.at(-1)}`, chunks: 3 };
  if (Array.isArray(req.body?.tools) && req.body.tools.length > 0) return { kind: 'ok', toolCall: { arguments: { city: 'Oslo' } }, chunks: 3 };
  return undefined;
};

beforeAll(async () => {
  gptDown = await startFakeProvider({ flavor: 'openai', name: 'gpt-down', behaviour: { kind: 'status', status: 503 } });
  claude = await startFakeProvider({ flavor: 'anthropic', name: 'claude', expectKey: 'sk-ant-real', text: 'Hello from claude', chunks: 3, behaviour: toolLoop });
  claudeDown = await startFakeProvider({ flavor: 'anthropic', name: 'claude-down', behaviour: { kind: 'status', status: 529 } });
  gpt = await startFakeProvider({ flavor: 'openai', name: 'gpt', expectKey: 'sk-openai-real', text: 'Hello from gpt', chunks: 3, behaviour: toolLoop });
  const policy = `
  retry: {attempts: 0}
  # Every request meets the outage: the breaker would otherwise skip the primary after 5 failures.
  circuitBreaker: {consecutiveFailures: 1000}`;
  sidecar = await startSidecarProcess(`routes:
- name: to-claude
  # A model name litellm knows: it fakes the Responses stream (stream: false upstream) for names outside its price list.
  aliases: [gpt-4.1-mini]
  targets:
  - {name: gpt-down, provider: openai, baseURL: "${gptDown.url}", model: gpt-4.1-mini, apiKey: {value: sk-openai-real}}
  - {name: claude, provider: anthropic, priority: 1, baseURL: "${claude.url}", model: claude-sonnet-4-5-20250929, apiKey: {value: sk-ant-real}}
${policy}
- name: to-gpt
  targets:
  - {name: claude-down, provider: anthropic, baseURL: "${claudeDown.url}", model: claude-sonnet-4-5-20250929, apiKey: {value: sk-ant-real}}
  - {name: gpt, provider: openai, priority: 1, baseURL: "${gpt.url}", model: gpt-4o-mini, apiKey: {value: sk-openai-real}}
${policy}
`);
});

afterAll(async () => {
  await sidecar?.stop();
  await Promise.all([gptDown?.close(), claude?.close(), claudeDown?.close(), gpt?.close()]);
});

beforeEach(() => {
  for (const f of [gptDown, claude, claudeDown, gpt]) f.reset();
});

/** Each of `requests` requests met the primary's failure and was served by the backup. */
function expectFailedOver(primary: RecordedRequest[], backup: RecordedRequest[], requests: number): void {
  expect(primary.map((r) => r.outcome)).toEqual(Array(requests).fill('status'));
  expect(backup.map((r) => r.outcome)).toEqual(Array(requests).fill('ok'));
}

const weatherTool = (calls: string[]) =>
  tool({
    description: 'The weather in a city.',
    inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => {
      calls.push(city);
      return `Sunny in ${city}, 21 C`;
    },
  });

describe('Vercel AI SDK: createOpenAI({baseURL, apiKey})(route), the Responses API, failing over to Anthropic', () => {
  const model = () => createOpenAI({ baseURL: sidecar.baseURL, apiKey: 'unused' })('to-claude');

  it('generateText: the backup answers, with usage; the primary and the backup got the request in their own API', async () => {
    const out = await generateText({ model: model(), system: 'Be brief.', prompt: 'Say hello.', maxRetries: 0 });
    expect([out.text, out.finishReason]).toEqual(['Hello from claude', 'stop']);
    expect(out.usage.outputTokens).toBeGreaterThan(0);
    expect(out.response.headers?.['x-llmroute-target']).toBe('claude');
    expectFailedOver(gptDown.requests, claude.requests, 1);
    expect(gptDown.requests[0]!.endpoint).toBe('responses');
    expect(claude.requests[0]!.endpoint).toBe('messages');
    expect(JSON.stringify(claude.requests[0]!.body.system)).toContain('Be brief.');
  });

  it('streamText: the whole text through textStream, finish reason and usage', async () => {
    const result = streamText({ model: model(), prompt: 'Say hello.', maxRetries: 0 });
    let text = '';
    for await (const delta of result.textStream) text += delta;
    expect(text).toBe('Hello from claude');
    expect(await result.finishReason).toBe('stop');
    expect((await result.usage).outputTokens).toBeGreaterThan(0);
    expect(claude.requests[0]!.stream).toBe(true);
    expectFailedOver(gptDown.requests, claude.requests, 1);
  });

  it('a tool (tool() with a zod schema), generateText and streamText: the backup calls it, its result reaches the backup as a tool_result', async () => {
    const calls: string[] = [];
    const out = await generateText({ model: model(), prompt: 'What is the weather in Oslo?', maxRetries: 0, tools: { get_weather: weatherTool(calls) }, stopWhen: stepCountIs(2) });
    expect(calls).toEqual(['Oslo']);
    expect(out.steps.map((s) => s.finishReason)).toEqual(['tool-calls', 'stop']);
    expect(out.text).toBe('The backup read the tool: Sunny in Oslo, 21 C');
    expect(claude.requests[0]!.body.tools).toEqual([expect.objectContaining({ name: 'get_weather', input_schema: expect.objectContaining({ required: ['city'] }) })]);
    expect(claude.requests[1]!.body.messages.at(-1).content).toEqual([expect.objectContaining({ type: 'tool_result', tool_use_id: claude.requests[1]!.body.messages.at(-2).content.at(-1).id })]);
    expect(toolResults(claude.requests[1]!)).toEqual(['Sunny in Oslo, 21 C']);
    expectFailedOver(gptDown.requests, claude.requests, 2);

    for (const f of [gptDown, claude]) f.reset();
    const streamed = streamText({ model: model(), prompt: 'What is the weather in Oslo?', maxRetries: 0, tools: { get_weather: weatherTool(calls) }, stopWhen: stepCountIs(2) });
    let text = '';
    for await (const delta of streamed.textStream) text += delta;
    expect(text).toBe('The backup read the tool: Sunny in Oslo, 21 C');
    expect(calls).toEqual(['Oslo', 'Oslo']);
    expect(claude.requests.map((r) => r.stream)).toEqual([true, true]);
    expectFailedOver(gptDown.requests, claude.requests, 2);
  });
});

describe('Vercel AI SDK: createAnthropic({baseURL: http://127.0.0.1:<port>/v1, apiKey})(route), failing over to OpenAI', () => {
  const model = () => createAnthropic({ baseURL: sidecar.baseURL, apiKey: 'unused' })('to-gpt');
  // maxOutputTokens set: for a model name it does not know, the SDK would send max_tokens 4096 and warn.

  it('generateText: the backup answers through Chat Completions, with usage', async () => {
    const out = await generateText({ model: model(), system: 'Be brief.', prompt: 'Say hello.', maxRetries: 0, maxOutputTokens: 300 });
    expect([out.text, out.finishReason]).toEqual(['Hello from gpt', 'stop']);
    expect(out.usage.outputTokens).toBeGreaterThan(0);
    expect(out.response.headers?.['x-llmroute-target']).toBe('gpt');
    expectFailedOver(claudeDown.requests, gpt.requests, 1);
    expect(claudeDown.requests[0]!.endpoint).toBe('messages');
    expect(gpt.requests[0]!.endpoint).toBe('chat');
    expect(gpt.requests[0]!.body.messages).toEqual([{ role: 'system', content: 'Be brief.' }, expect.objectContaining({ role: 'user' })]);
    expect(gpt.requests[0]!.body.max_completion_tokens).toBe(300);
  });

  it('streamText: the whole text through textStream, finish reason and usage', async () => {
    const result = streamText({ model: model(), prompt: 'Say hello.', maxRetries: 0, maxOutputTokens: 300 });
    let text = '';
    for await (const delta of result.textStream) text += delta;
    expect(text).toBe('Hello from gpt');
    expect(await result.finishReason).toBe('stop');
    expect((await result.usage).outputTokens).toBeGreaterThan(0);
    expect(gpt.requests[0]!.stream).toBe(true);
    expectFailedOver(claudeDown.requests, gpt.requests, 1);
  });

  it('a tool, generateText and streamText: the backup calls it, its result reaches the backup as a tool message', async () => {
    const calls: string[] = [];
    const out = await generateText({ model: model(), prompt: 'What is the weather in Oslo?', maxRetries: 0, maxOutputTokens: 300, tools: { get_weather: weatherTool(calls) }, stopWhen: stepCountIs(2) });
    expect(calls).toEqual(['Oslo']);
    expect(out.steps.map((s) => s.finishReason)).toEqual(['tool-calls', 'stop']);
    expect(out.text).toBe('The backup read the tool: Sunny in Oslo, 21 C');
    expect(gpt.requests[0]!.body.tools).toEqual([{ type: 'function', function: expect.objectContaining({ name: 'get_weather' }) }]);
    const [assistant, result] = gpt.requests[1]!.body.messages.slice(-2);
    expect(result).toEqual({ role: 'tool', tool_call_id: assistant.tool_calls[0].id, content: expect.stringContaining('Sunny in Oslo, 21 C') });
    expectFailedOver(claudeDown.requests, gpt.requests, 2);

    for (const f of [claudeDown, gpt]) f.reset();
    const streamed = streamText({ model: model(), prompt: 'What is the weather in Oslo?', maxRetries: 0, maxOutputTokens: 300, tools: { get_weather: weatherTool(calls) }, stopWhen: stepCountIs(2) });
    let text = '';
    for await (const delta of streamed.textStream) text += delta;
    expect(text).toBe('The backup read the tool: Sunny in Oslo, 21 C');
    expect(calls).toEqual(['Oslo', 'Oslo']);
    expect(gpt.requests.map((r) => r.stream)).toEqual([true, true]);
    expectFailedOver(claudeDown.requests, gpt.requests, 2);
  });
});

describe('OpenAI Agents SDK (Python) with its default model (the Responses API), failing over to Anthropic', () => {
  let out: Record<string, any>;
  let seen: { gptDown: RecordedRequest[]; claude: RecordedRequest[] };
  beforeAll(async () => {
    for (const f of [gptDown, claude]) f.reset();
    out = (await runPythonScript('agents_sdk_responses.py', ['to-claude'], { LLMROUTE_BASE_URL: sidecar.baseURL }, 90_000)) as Record<string, any>;
    seen = { gptDown: [...gptDown.requests], claude: [...claude.requests] };
  }, 120_000);

  it('Runner.run_sync: the backup calls the function tool, gets its result, the final output is its answer', () => {
    expect(out.sdk).toBe('openai-agents 0.24.0');
    expect(out.run_sync).toEqual({
      final_output: 'The backup read the tool: Sunny in Oslo, 21 C',
      items: ['tool_call_item', 'tool_call_output_item', 'message_output_item'],
      calls: ['Oslo'],
    });
  });

  it('Runner.run_streamed: the same run, the answer streamed as Responses text deltas', () => {
    expect(out.run_streamed).toEqual({
      final_output: 'The backup read the tool: Sunny in Oslo, 21 C',
      text: 'The backup read the tool: Sunny in Oslo, 21 C',
      items: ['tool_call_item', 'tool_call_output_item', 'message_output_item'],
      calls: ['Oslo'],
    });
  });

  it('every model call (two per run) went to the Responses endpoint and failed over; instructions and the tool result reached the backup', () => {
    expectFailedOver(seen.gptDown, seen.claude, 4);
    expect(seen.gptDown.map((r) => r.endpoint)).toEqual(Array(4).fill('responses'));
    expect(seen.claude.map((r) => r.stream)).toEqual([false, false, true, true]);
    expect(seen.claude[0]!.body).toMatchObject({ tools: [expect.objectContaining({ name: 'get_weather' })] });
    expect(JSON.stringify(seen.claude[0]!.body.system)).toContain('Use the get_weather tool.');
    expect(toolResults(seen.claude[1]!)).toEqual(['Sunny in Oslo, 21 C']);
    expect(toolResults(seen.claude[3]!)).toEqual(['Sunny in Oslo, 21 C']);
  });
});

describe('LangChain (Python): ChatOpenAI(use_responses_api=True, base_url), failing over to Anthropic', () => {
  it('invoke, stream and a bind_tools loop: the backup answers, runs the tool loop, the ToolMessage reaches it as a tool_result', async () => {
    const out = (await runPythonScript('langchain_responses.py', ['to-claude'], { LLMROUTE_BASE_URL: sidecar.baseURL }, 90_000)) as Record<string, any>;
    expect(out).toEqual({
      sdk: 'langchain-openai 1.7.4',
      invoke: { text: 'Hello from claude', status: 'completed' },
      stream: { text: 'Hello from claude' },
      tools: { calls: [{ name: 'get_weather', args: { city: 'Oslo' } }], executed: ['Oslo'], answer: 'The backup read the tool: Sunny in Oslo, 21 C' },
    });
    expectFailedOver(gptDown.requests, claude.requests, 4);
    expect(gptDown.requests.map((r) => r.endpoint)).toEqual(Array(4).fill('responses'));
    expect(claude.requests.map((r) => r.stream)).toEqual([false, true, false, false]);
    expect(gptDown.requests.every((r) => r.headers.authorization === 'Bearer sk-openai-real')).toBe(true);
    expect(toolResults(claude.requests[3]!)).toEqual(['Sunny in Oslo, 21 C']);
  }, 120_000);
});

describe('litellm (Python): responses(model="openai/<route>") and anthropic.messages.acreate(model="anthropic/<route>")', () => {
  // The Responses calls name the route by its alias gpt-4.1-mini: for a model outside its price list
  // litellm fakes the stream (asks stream: false and replays the whole response as events).
  let out: Record<string, any>;
  let seen: Record<'gptDown' | 'claude' | 'claudeDown' | 'gpt', RecordedRequest[]>;
  beforeAll(async () => {
    for (const f of [gptDown, claude, claudeDown, gpt]) f.reset();
    out = (await runPythonScript('litellm_new_apis.py', ['gpt-4.1-mini', 'to-gpt'], { LLMROUTE_BASE_URL: sidecar.baseURL, LITELLM_LOCAL_MODEL_COST_MAP: 'True' }, 90_000)) as Record<string, any>;
    seen = { gptDown: [...gptDown.requests], claude: [...claude.requests], claudeDown: [...claudeDown.requests], gpt: [...gpt.requests] };
  }, 120_000);

  it('responses() and stream=True on the Responses API: the Anthropic backup answers', () => {
    expect(out.sdk).toBe('litellm 1.110.2');
    expect(out.responses).toEqual({ status: 'completed', text: 'Hello from claude', output_tokens: expect.any(Number) });
    expect(out.responses_stream).toEqual({ text: 'Hello from claude', first: ['response.created'], last: ['response.completed'], completed: 'completed' });
    expectFailedOver(seen.gptDown, seen.claude, 2);
    expect(seen.gptDown.map((r) => [r.endpoint, r.stream])).toEqual([
      ['responses', false],
      ['responses', true],
    ]);
    expect(seen.gptDown.map((r) => r.body.model)).toEqual(['gpt-4.1-mini', 'gpt-4.1-mini']);
    expect(seen.claude.map((r) => [r.endpoint, r.stream])).toEqual([
      ['messages', false],
      ['messages', true],
    ]);
  });

  // Not streamed: litellm 1.110.2's Messages stream imports its proxy (fastapi), which the pinned venv does not have.
  it('anthropic.messages.acreate on the Messages API: the OpenAI backup answers through Chat Completions', () => {
    expect(out.messages).toEqual({ type: 'message', content: [{ type: 'text', text: 'Hello from gpt' }], stop_reason: 'end_turn' });
    expectFailedOver(seen.claudeDown, seen.gpt, 1);
    expect(seen.claudeDown.map((r) => [r.endpoint, r.headers['x-api-key']])).toEqual([['messages', 'sk-ant-real']]);
    expect(seen.gpt.map((r) => [r.endpoint, r.stream, r.body.max_completion_tokens])).toEqual([['chat', false, 300]]);
  });
});
