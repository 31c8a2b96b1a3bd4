/**
 * openai-python on the Responses API, configured as its users configure it
 * (OPENAI_BASE_URL, OPENAI_API_KEY), against the real sidecar through a
 * failover: route `to-claude` has an OpenAI primary that answers 503 and an
 * Anthropic backup that serves, so every Responses call reaches the backup
 * translated to Messages. test/python/openai_responses.py is the app:
 * responses.create (plain, stream=True), the responses.stream() helper,
 * a tools loop, responses.parse(text_format=...), and previous_response_id
 * on route `ada`, whose OpenAI primary serves the first turn and then goes
 * down.
 */
import { startFakeProvider, type BehaviourFn, type FakeProvider, type RecordedRequest } from '../fakes/fake-provider.ts';
import { startSidecarProcess, type SidecarProcess } from '../support/sidecar-process.ts';
import { runPythonScript } from '../realserver/python-env.ts';

let gptDown: FakeProvider;
let ada: FakeProvider;
let claude: FakeProvider;
let sidecar: SidecarProcess;
let out: Record<string, any>;
let seen: { gptDown: RecordedRequest[]; ada: RecordedRequest[]; claude: RecordedRequest[] };

/** The tool_result blocks of an Anthropic request, their text joined. */
function toolResults(req: RecordedRequest): string[] {
  const blocks = (req.body?.messages ?? []).flatMap((m: any) => (Array.isArray(m.content) ? m.content : []));
  return blocks
    .filter((b: any) => b?.type === 'tool_result')
    .map((b: any) => (typeof b.content === 'string' ? b.content : (b.content ?? []).map((c: any) => c.text ?? '').join('')));
}

/** The backup as a model in a tool loop: with tools and no result it calls the tool for Oslo; given a result, it answers with it. */
const toolLoop: BehaviourFn = (req) => {
  const results = toolResults(req);
  if (results.length > 0) return { kind: 'ok', text: `The backup read the tool: ${results.at(-1)}`, chunks: 3 };
  if (Array.isArray(req.body?.tools) && req.body.tools.length > 0) return { kind: 'ok', toolCall: { arguments: { city: 'Oslo' } }, chunks: 3 };
  return undefined;
};

/** The Anthropic requests whose first user message is `text`. */
function askedWith(text: string): RecordedRequest[] {
  return seen.claude.filter((r) => JSON.stringify(r.body?.messages?.[0]?.content).includes(text));
}

beforeAll(async () => {
  gptDown = await startFakeProvider({ flavor: 'openai', name: 'gpt-down', behaviour: { kind: 'status', status: 503 } });
  ada = await startFakeProvider({ flavor: 'openai', name: 'ada', expectKey: 'sk-openai-real', text: 'Hello from gpt', behaviour: (_req, n) => (n === 0 ? undefined : { kind: 'status', status: 503 }) });
  claude = await startFakeProvider({ flavor: 'anthropic', name: 'claude', expectKey: 'sk-ant-real', text: 'Hello from the backup', chunks: 3, behaviour: toolLoop });
  const claudeTarget = `{name: claude, provider: anthropic, priority: 1, baseURL: "${claude.url}", model: claude-sonnet-4-5-20250929, apiKey: {value: sk-ant-real}}`;
  const policy = `
  retry: {attempts: 0}
  circuitBreaker: {consecutiveFailures: 1000}`;
  sidecar = await startSidecarProcess(`routes:
- name: to-claude
  targets:
  - {name: gpt-down, provider: openai, baseURL: "${gptDown.url}", model: gpt-4.1-mini, apiKey: {value: sk-openai-real}}
  - ${claudeTarget}
${policy}
- name: ada
  targets:
  - {name: ada, provider: openai, baseURL: "${ada.url}", model: gpt-4.1-mini, apiKey: {value: sk-openai-real}}
  - ${claudeTarget}
${policy}
`);
  out = (await runPythonScript('openai_responses.py', ['to-claude', 'ada'], { OPENAI_BASE_URL: sidecar.baseURL, OPENAI_API_KEY: 'the-apps-own-key' }, 120_000)) as Record<string, any>;
  seen = { gptDown: [...gptDown.requests], ada: [...ada.requests], claude: [...claude.requests] };
}, 150_000);

afterAll(async () => {
  await sidecar?.stop();
  await Promise.all([gptDown?.close(), ada?.close(), claude?.close()]);
});

describe('openai-python (Responses API) through a failover from OpenAI to Anthropic', () => {
  it('runs the pinned SDK', () => {
    expect(out.sdk).toBe('openai 3.57.0');
  });

  it('responses.create: the backup answers, translated to Messages, with usage and the failover headers', () => {
    expect(out.create).toEqual({
      object: 'response',
      status: 'completed',
      output_text: 'Hello from the backup',
      output_types: ['message'],
      usage: { input_tokens: expect.any(Number), output_tokens: expect.any(Number), total_tokens: expect.any(Number) },
      headers: expect.objectContaining({ 'x-llmroute-target': 'claude', 'x-llmroute-fallbacks': '1' }),
    });
    expect(out.create.usage.output_tokens).toBeGreaterThan(0);
    const sent = askedWith('Say hello.').find((r) => !r.stream)!;
    expect(sent.endpoint).toBe('messages');
    expect(sent.headers['x-api-key']).toBe('sk-ant-real');
    expect(sent.body).toMatchObject({ model: 'claude-sonnet-4-5-20250929', max_tokens: 300 });
    expect(JSON.stringify(sent.body.system)).toContain('Be brief.');
    // Every case met the primary's 503 first: it never reached the backup directly.
    expect(seen.gptDown.every((r) => r.outcome === 'status' && r.endpoint === 'responses')).toBe(true);
    expect(seen.gptDown.length).toBeGreaterThanOrEqual(7);
  });

  it('responses.create(stream=True): the whole event sequence in order, the text as deltas, response.completed', () => {
    const s = out.create_stream;
    expect(s.types.slice(0, 4)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
    expect(s.types.slice(-4)).toEqual(['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed']);
    expect(s.sequence_numbers).toEqual(s.sequence_numbers.map((_: unknown, i: number) => i));
    expect(s.text).toBe('Hello from the backup');
    expect(s.completed).toEqual({ status: 'completed', output_text: 'Hello from the backup', output_tokens: expect.any(Number) });
    expect(askedWith('Say hello.').filter((r) => r.stream).length).toBeGreaterThanOrEqual(2);
  });

  it('the responses.stream() helper: text deltas and get_final_response()', () => {
    expect(out.stream_helper).toEqual({ text: 'Hello from the backup', final_output_text: 'Hello from the backup', final_status: 'completed' });
  });

  it('a tools loop: function_call out, the app runs it, function_call_output back reaches the backup as a tool_result', () => {
    expect(out.tools_loop).toEqual({
      first: { output_types: ['function_call'], calls: [{ name: 'get_weather', arguments: { city: 'Oslo' } }] },
      executed: ['Oslo'],
      answer: 'The backup read the tool: Sunny in Oslo, 21 C',
    });
    const loop = askedWith('What is the weather in Oslo?').filter((r) => !r.stream);
    expect(loop[0]!.body.tools).toEqual([expect.objectContaining({ name: 'get_weather', input_schema: expect.objectContaining({ required: ['city'] }) })]);
    const second = loop.find((r) => toolResults(r).length > 0)!;
    const [assistant, results] = second.body.messages.slice(-2);
    expect(assistant).toMatchObject({ role: 'assistant', content: [expect.objectContaining({ type: 'tool_use', name: 'get_weather', input: { city: 'Oslo' } })] });
    expect(results.content).toEqual([expect.objectContaining({ type: 'tool_result', tool_use_id: assistant.content.at(-1).id })]);
    expect(toolResults(second)).toEqual(['Sunny in Oslo, 21 C']);
  });

  it('a tool call streamed through the .stream() helper: the arguments as deltas, the call in get_final_response()', () => {
    expect(out.tools_stream).toEqual({ arguments_streamed: '{"city":"Oslo"}', calls: [{ name: 'get_weather', arguments: { city: 'Oslo' }, call_id_set: true }] });
  });

  it('responses.parse(text_format=Pydantic model): the schema reaches the backup, the answer parses into the model', () => {
    // The fake answers JSON that fits the schema it was given (its string fields "Paris", numbers 1).
    expect(out.parse).toEqual({ type: 'Weather', parsed: { city: 'Paris', temperature_c: 1 } });
    const sent = askedWith('The weather in Paris, please.')[0]!;
    expect(sent.body.output_config).toMatchObject({ format: { type: 'json_schema', schema: expect.objectContaining({ required: ['city', 'temperature_c'] }) } });
  });

  it('previous_response_id across a failover: the backup gets the whole conversation from the sidecar store, stream and not', () => {
    expect(out.previous_response_id).toEqual({
      first: 'Hello from gpt',
      second: 'Hello from the backup',
      third: 'Hello from the backup',
      third_streamed: 'Hello from the backup',
      ids_distinct: true,
    });
    // The primary served the first turn, then was down: the second turn was sent to it with the id it issued.
    expect(seen.ada.map((r) => r.outcome)).toEqual(['ok', 'status', 'status']);
    expect(seen.ada[1]!.body.previous_response_id).toEqual(expect.any(String));
    const followups = askedWith('My name is Ada.');
    expect(followups.map((r) => r.stream)).toEqual([false, true]);
    const texts = (r: RecordedRequest) => JSON.stringify(r.body.messages);
    expect(texts(followups[0]!)).toContain('Hello from gpt');
    expect(JSON.stringify(followups[0]!.body.messages.at(-1))).toContain('What is my name?');
    for (const said of ['My name is Ada.', 'Hello from gpt', 'What is my name?', 'Hello from the backup', 'And once more?']) expect(texts(followups[1]!)).toContain(said);
  });
});
