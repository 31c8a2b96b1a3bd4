/**
 * Official client SDKs, configured as their users configure them, against
 * the real sidecar during an outage: the primary (a fake OpenAI) answers 503
 * and the backup (a fake Anthropic) serves. The Vercel AI SDK (ai 6 with
 * @ai-sdk/openai 3) runs here; the OpenAI Agents SDK (test/python/agents_sdk.py)
 * and litellm (test/python/litellm_chat.py) run in the venv of
 * `bash hack/python-env.sh`.
 *
 * These are the SDKs in Chat Completions mode (the AI SDK's `.chat(model)`,
 * the Agents SDK's set_default_openai_api("chat_completions")); their
 * defaults, the Responses API, are driven in clients-new-apis.test.ts.
 */
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, stepCountIs, streamText, tool } from 'ai';
import { z } from 'zod';
import { startFakeProvider, type BehaviourFn, type FakeProvider, type RecordedRequest } from '../fakes/fake-provider.ts';
import { startSidecarProcess, type SidecarProcess } from '../support/sidecar-process.ts';
import { runPythonScript } from '../realserver/python-env.ts';

let primary: FakeProvider;
let claude: FakeProvider;
let sidecar: SidecarProcess;

/** The tool_result blocks of an Anthropic request, their text joined. */
function toolResults(req: RecordedRequest): string[] {
  const blocks = (req.body?.messages ?? []).flatMap((m: any) => (Array.isArray(m.content) ? m.content : []));
  return blocks
    .filter((b: any) => b?.type === 'tool_result')
    .map((b: any) => (typeof b.content === 'string' ? b.content : (b.content ?? []).map((c: any) => c.text ?? '').join('')));
}

/**
 * The backup as a model in a tool loop: asked with tools and no result yet,
 * it calls the first tool with {city: Oslo}; given a tool's result, it
 * answers with it (so the answer proves the result reached it); without
 * tools, the fake's text.
 */
const toolLoop: BehaviourFn = (req) => {
  const results = toolResults(req);
  if (results.length > 0) return { kind: 'ok', text: `The backup read the tool: ${results.at(-1)}`, chunks: 3 };
  if (Array.isArray(req.body?.tools) && req.body.tools.length > 0) return { kind: 'ok', toolCall: { arguments: { city: 'Oslo' } }, chunks: 3 };
  return undefined;
};

beforeAll(async () => {
  primary = await startFakeProvider({ flavor: 'openai', name: 'primary', behaviour: { kind: 'status', status: 503 } });
  claude = await startFakeProvider({ flavor: 'anthropic', name: 'claude', expectKey: 'sk-ant-backup', text: 'Hello from the backup', chunks: 3, behaviour: toolLoop });
  sidecar = await startSidecarProcess(`
routes:
- name: chat
  targets:
  - {name: primary, provider: openai, baseURL: "${primary.url}", model: gpt-4o-mini, apiKey: {value: sk-primary}}
  - {name: claude, provider: anthropic, baseURL: "${claude.url}", model: claude-sonnet-4-5, priority: 1, apiKey: {value: sk-ant-backup}}
  retry: {attempts: 0}
  # Every request meets the outage: the breaker would otherwise skip the primary after 5 failures.
  circuitBreaker: {consecutiveFailures: 1000}
`);
});

afterAll(async () => {
  await sidecar?.stop();
  await Promise.all([primary?.close(), claude?.close()]);
});

beforeEach(() => {
  primary.reset();
  claude.reset();
});

/** Each of `requests` requests met the primary's 503 and was served by the backup, none refused. */
function expectFailedOver(requests: number, seen = { primary: primary.requests, claude: claude.requests }): void {
  expect(seen.primary.map((r) => r.outcome)).toEqual(Array(requests).fill('status'));
  expect(seen.claude.map((r) => r.outcome)).toEqual(Array(requests).fill('ok'));
}

describe('Vercel AI SDK (ai 6, @ai-sdk/openai 3): createOpenAI({baseURL, apiKey}).chat(route)', () => {
  // `.chat()`: the provider's default model, openai(route), speaks the Responses API.
  const model = () => createOpenAI({ baseURL: sidecar.baseURL, apiKey: 'unused' }).chat('chat');

  it('generateText: the backup answers, with usage', async () => {
    const out = await generateText({ model: model(), prompt: 'Say hello.', maxRetries: 0 });
    expect([out.text, out.finishReason]).toEqual(['Hello from the backup', 'stop']);
    expect(out.usage).toMatchObject({ inputTokens: expect.any(Number), outputTokens: expect.any(Number), totalTokens: expect.any(Number) });
    expect(out.usage.outputTokens).toBeGreaterThan(0);
    expect(out.response.headers?.['x-llmroute-target']).toBe('claude');
    expectFailedOver(1);
  });

  it('streamText: the whole text through textStream, with usage', async () => {
    const result = streamText({ model: model(), prompt: 'Say hello.', maxRetries: 0 });
    let text = '';
    for await (const delta of result.textStream) text += delta;
    expect(text).toBe('Hello from the backup');
    expect(await result.finishReason).toBe('stop');
    const usage = await result.usage;
    expect(usage).toMatchObject({ inputTokens: expect.any(Number), outputTokens: expect.any(Number), totalTokens: expect.any(Number) });
    expect(usage.outputTokens).toBeGreaterThan(0);
    expect(claude.requests[0]!.stream).toBe(true);
    expectFailedOver(1);
  });

  it('a tool (tool() with a zod schema): the backup calls it, gets its result, answers with it', async () => {
    const calls: string[] = [];
    const out = await generateText({
      model: model(),
      prompt: 'What is the weather in Oslo?',
      maxRetries: 0,
      tools: {
        get_weather: tool({
          description: 'The weather in a city.',
          inputSchema: z.object({ city: z.string() }),
          execute: async ({ city }) => {
            calls.push(city);
            return `Sunny in ${city}, 21 C`;
          },
        }),
      },
      stopWhen: stepCountIs(2),
    });
    expect(calls).toEqual(['Oslo']);
    expect(out.steps.map((s) => s.finishReason)).toEqual(['tool-calls', 'stop']);
    expect(out.text).toBe('The backup read the tool: Sunny in Oslo, 21 C');
    expect(claude.requests[0]!.body.tools).toEqual([expect.objectContaining({ name: 'get_weather', input_schema: expect.objectContaining({ required: ['city'] }) })]);
    expectFailedOver(2);
  });
});

describe('OpenAI Agents SDK (Python): AsyncOpenAI client, chat_completions API, tracing off', () => {
  let out: Record<string, any>;
  let seen: { primary: RecordedRequest[]; claude: RecordedRequest[] };
  beforeAll(async () => {
    primary.reset();
    claude.reset();
    out = (await runPythonScript('agents_sdk.py', ['chat'], { LLMROUTE_BASE_URL: sidecar.baseURL }, 90_000)) as Record<string, any>;
    seen = { primary: [...primary.requests], claude: [...claude.requests] };
  }, 120_000);

  it('Runner.run_sync: the backup calls the function tool, gets its result, and the final output is its answer', () => {
    expect(out.sdk).toBe('openai-agents 0.24.0');
    expect(out.run_sync).toEqual({
      final_output: 'The backup read the tool: Sunny in Oslo, 21 C',
      items: ['tool_call_item', 'tool_call_output_item', 'message_output_item'],
      calls: ['Oslo'],
    });
  });

  it('Runner.run_streamed: the same run, the answer streamed as text deltas', () => {
    expect(out.run_streamed).toMatchObject({
      final_output: 'The backup read the tool: Sunny in Oslo, 21 C',
      text: 'The backup read the tool: Sunny in Oslo, 21 C',
      calls: ['Oslo'],
    });
    expect(out.run_streamed.items).toEqual(['tool_call_item', 'tool_call_output_item', 'message_output_item']);
  });

  it('every model call (two per run) failed over; the instructions are the system prompt', () => {
    expectFailedOver(4, seen);
    expect(seen.claude.map((r) => r.stream)).toEqual([false, false, true, true]);
    expect(seen.claude[0]!.body).toMatchObject({ system: expect.stringContaining('Use the get_weather tool.'), tools: [expect.objectContaining({ name: 'get_weather' })] });
  });
});

describe('litellm (Python): completion(model="openai/<route>", api_base, api_key)', () => {
  it('completion and stream=True: the backup answers', async () => {
    const out = (await runPythonScript('litellm_chat.py', ['chat'], { LLMROUTE_BASE_URL: sidecar.baseURL, LITELLM_LOCAL_MODEL_COST_MAP: 'True' }, 90_000)) as Record<string, any>;
    expect(out).toMatchObject({
      sdk: 'litellm 1.110.2',
      completion: { content: 'Hello from the backup', finish_reason: 'stop', usage: { prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) } },
      stream: { text: 'Hello from the backup', finish_reasons: ['stop'] },
    });
    expectFailedOver(2);
    expect(claude.requests.map((r) => r.stream)).toEqual([false, true]);
  }, 120_000);
});
