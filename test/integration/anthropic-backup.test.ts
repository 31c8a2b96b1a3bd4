/**
 * Issue 10, found by real clients during an outage of the primary: the
 * OpenAI primary answers 503 and the fake Anthropic backup, which refuses
 * what the real Messages API refuses, serves the requests. Driven by the
 * official openai Python SDK (test/python/openai_anthropic_backup.py) and
 * the openai Node SDK.
 */
import OpenAI from 'openai';
import { startFakeProvider, type BehaviourFn, type FakeProvider, type RecordedRequest } from '../fakes/fake-provider.ts';
import { startSidecarProcess, type SidecarProcess } from '../support/sidecar-process.ts';
import { runPythonScript } from '../realserver/python-env.ts';

let primary: FakeProvider;
let claude: FakeProvider;
let negotiating: FakeProvider;
let sidecar: SidecarProcess;
let client: OpenAI;

/** The backup's reply, chosen by the request's `user` (Anthropic's metadata.user_id). */
const byUser: BehaviourFn = (req) => {
  switch (req.body?.metadata?.user_id) {
    case 'lines':
      return { kind: 'ok', text: 'first line\nsecond line' };
    case 'paragraphs':
      // One character per delta: the stop sequence spans two of them.
      return { kind: 'ok', text: 'Hello there\n\nSecond paragraph', chunks: 29 };
    case 'tool':
      return { kind: 'ok', toolCall: true };
    default:
      return undefined;
  }
};

const policy = `
  retry: {attempts: 0}
  timeouts: {connect: 500ms, firstByte: 5s, total: 20s}`;

function route(name: string, backup: string): string {
  return `
- name: ${name}
  targets:
  - {name: primary, provider: openai, baseURL: "${primary.url}", model: gpt-4o-mini, apiKey: {value: sk-primary}}
  - {name: claude, provider: anthropic, priority: 1, apiKey: {value: sk-ant-backup}, ${backup}}
${policy}`;
}

beforeAll(async () => {
  primary = await startFakeProvider({ flavor: 'openai', name: 'primary', behaviour: { kind: 'status', status: 503 } });
  claude = await startFakeProvider({ flavor: 'anthropic', name: 'claude', expectKey: 'sk-ant-backup', text: 'Hello from claude', behaviour: byUser });
  negotiating = await startFakeProvider({ flavor: 'openai', name: 'negotiating', negotiateAccept: true, text: 'Hello from vllm' });
  sidecar = await startSidecarProcess(`routes:${[
    route('chat', `baseURL: "${claude.url}", model: claude-sonnet-4-5-20250929`),
    route('opus', `baseURL: "${claude.url}", model: claude-opus-4-7`),
    route('old', `baseURL: "${claude.url}", model: claude-3-5-sonnet-20241022`),
    route('capped', `baseURL: "${claude.url}", model: claude-sonnet-4-5, maxTokens: 1234`),
    route('bare', `baseURL: "${claude.origin}", model: claude-sonnet-4-5`),
    route('slash', `baseURL: "${claude.origin}/", model: claude-sonnet-4-5`),
  ].join('')}
- name: negotiate
  targets:
  - {name: primary, provider: openai, baseURL: "${primary.url}", model: gpt-4o-mini, apiKey: {value: sk-primary}}
  - {name: vllm, provider: openai-compatible, baseURL: "${negotiating.url}", model: llama, priority: 1}
${policy}
`);
  client = new OpenAI({ baseURL: sidecar.baseURL, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await sidecar?.stop();
  await Promise.all([primary?.close(), claude?.close(), negotiating?.close()]);
});

/** The backup's recorded request for a case: the nth /v1/messages request whose body matches. */
function sentTo(pred: (r: RecordedRequest) => boolean): RecordedRequest {
  const r = claude.requests.find((x) => x.endpoint === 'messages' && pred(x));
  if (!r) throw new Error('no such request reached the backup');
  return r;
}

const text = (t: string) => ({ type: 'text', text: t });

describe('openai (Python) with the primary down and Anthropic serving', () => {
  let out: Record<string, any>;
  beforeAll(async () => {
    claude.reset();
    out = (await runPythonScript('openai_anthropic_backup.py', [], { OPENAI_BASE_URL: sidecar.baseURL, OPENAI_API_KEY: 'app-key' }, 120_000)) as Record<string, any>;
  }, 150_000);

  it('every case is served, none refused by the backup', () => {
    const failed = Object.entries(out).filter(([, v]) => v && typeof v === 'object' && 'error' in v);
    expect(failed).toEqual([]);
    expect(claude.counts.byOutcome.invalid ?? 0).toBe(0);
  });

  it('histories OpenAI accepts (leading assistant turn, runs of one role, empty content, system only, whitespace prefill) are normalised', () => {
    for (const c of ['leading_assistant', 'same_role_runs', 'system_only', 'empty_content', 'whitespace_prefill']) {
      expect([c, out[c]]).toEqual([c, expect.objectContaining({ content: 'Hello from claude', finish_reason: 'stop' })]);
    }
    expect(sentTo((r) => r.rawBody.includes('travel assistant')).body.messages).toEqual([
      { role: 'user', content: [text('(conversation start)')] },
      { role: 'assistant', content: [text("Hi! I'm your travel assistant. How can I help?")] },
      { role: 'user', content: [text('Plan a day in Oslo.')] },
    ]);
    expect(sentTo((r) => r.rawBody.includes('First question')).body.messages).toEqual([
      { role: 'user', content: [text('First question.'), text('Second question.'), text('Third question.')] },
    ]);
    const haiku = sentTo((r) => r.rawBody.includes('haiku about failover')).body;
    expect([haiku.system, haiku.messages]).toEqual([undefined, [{ role: 'user', content: [text('Write a haiku about failover.')] }]]);
  });

  it('stop: ["\\n"] cuts the answer at the newline (finish_reason stop), streams too across chunks, with usage', () => {
    expect(out.stop_newline).toMatchObject({ content: 'first line', finish_reason: 'stop' });
    expect(out.stop_stream).toMatchObject({ text: 'Hello there', finish_reasons: ['stop'], usage: { prompt_tokens: expect.any(Number) } });
    expect(sentTo((r) => r.body.metadata?.user_id === 'lines').body.stop_sequences).toBeUndefined();
  });

  it('legacy functions come back as function_call, streams too', () => {
    expect(out.functions).toMatchObject({ finish_reason: 'function_call', tool_calls: 0, function_call: { name: 'get_weather', arguments: '{"city":"Paris"}' } });
    expect(out.functions_stream).toMatchObject({ finish_reasons: ['function_call'], function_call: { name: 'get_weather', arguments: '{"city":"Paris"}' } });
  });

  it('reasoning_effort turns on extended thinking; the thought is reasoning_content, never content', () => {
    expect(out.reasoning).toMatchObject({ content: 'Hello from claude', reasoning_content: expect.stringContaining('think it through') });
    expect(out.reasoning_stream).toMatchObject({ text: 'Hello from claude', reasoning_content: expect.stringContaining('think it through') });
    expect(out.reasoning_adaptive).toMatchObject({ content: 'Hello from claude', reasoning_content: expect.stringContaining('think it through') });
    const low = sentTo((r) => r.body.thinking?.budget_tokens === 1024).body;
    expect([low.max_tokens, low.temperature]).toEqual([1324, undefined]);
    expect(sentTo((r) => r.body.model === 'claude-opus-4-7').body).toMatchObject({ thinking: { type: 'adaptive' }, output_config: { effort: 'medium' } });
  });

  it('response_format json_schema uses structured outputs where the model has them (client.chat.completions.parse), the prompt elsewhere', () => {
    expect(out.parse.parsed).toEqual({ city: 'Paris', temperature_c: 1 });
    expect(sentTo((r) => r.body.output_config?.format !== undefined).body.system).toBeUndefined();
    const old = sentTo((r) => r.body.model === 'claude-3-5-sonnet-20241022').body;
    expect([old.output_config, old.system]).toEqual([undefined, expect.stringContaining('conforms to this JSON schema')]);
  });

  it("without max_tokens: the model's documented output limit, or the target's maxTokens", () => {
    expect(sentTo((r) => r.body.metadata?.user_id === 'long').body.max_tokens).toBe(64000);
    expect(sentTo((r) => r.body.max_tokens === 1234).body.model).toBe('claude-sonnet-4-5');
  });
});

describe('openai (Node) with the primary down', () => {
  it.each(['bare', 'slash'])('an anthropic baseURL in the Anthropic SDK convention (%s: no /v1) reaches /v1/messages', async (model) => {
    const { data, response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(data.choices[0]?.message.content).toBe('Hello from claude');
    expect(response.headers.get('x-llmroute-target')).toBe('claude');
  });

  it('a stream to a server that negotiates on Accept is a stream (Accept: text/event-stream is sent)', async () => {
    negotiating.reset();
    const stream = await client.chat.completions.create({ model: 'negotiate', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let got = '';
    for await (const chunk of stream) got += chunk.choices[0]?.delta?.content ?? '';
    expect(got).toBe('Hello from vllm');
    const json = await client.chat.completions.create({ model: 'negotiate', messages: [{ role: 'user', content: 'hi' }] });
    expect(json.choices[0]?.message.content).toBe('Hello from vllm');
    expect(negotiating.requests.map((r) => [r.stream, r.headers.accept])).toEqual([
      [true, 'text/event-stream'],
      [false, 'application/json'],
    ]);
  });

  it('the Anthropic backup gets Accept: text/event-stream on streams', async () => {
    claude.reset();
    const stream = await client.chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    for await (const _ of stream) void _;
    expect(claude.requests.map((r) => r.headers.accept)).toEqual(['text/event-stream']);
  });
});
