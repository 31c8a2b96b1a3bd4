/**
 * The Vercel AI SDK's default OpenAI model (the Responses API) carrying a
 * conversation on with `result.response.messages`, through a failover to an
 * Anthropic backup. With `store` on (the SDK's default), the SDK sends an
 * earlier assistant answer not as a message but as
 * `{type: "item_reference", id: "<the answer's output item id>"}`, which the
 * real OpenAI API resolves from its stored responses. The sidecar keeps every
 * response it served in its own store (as for previous_response_id across a
 * failover) and resolves the reference from it for a target that cannot
 * (bace5e7, 1202eab; this test failed before them, with a 502 whose attempts
 * said the translated backup refused "an input item of type
 * 'item_reference'"). What it pins down:
 *
 * - the referenced answer was the translated backup's own (route to-claude):
 *   the Anthropic backup gets it as the assistant turn, and the OpenAI
 *   primary, which never issued that id, gets the item itself in place of
 *   the reference (it would refuse an id it does not know);
 * - the referenced answer was the OpenAI primary's, before it went down
 *   (route ada): the primary, which issued the id, gets the reference as
 *   sent, and the Anthropic backup gets the answer as the assistant turn.
 */
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, type ModelMessage } from 'ai';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.ts';
import { startSidecarProcess, type SidecarProcess } from '../support/sidecar-process.ts';

let gptDown: FakeProvider;
let ada: FakeProvider;
let claude: FakeProvider;
let sidecar: SidecarProcess;

beforeAll(async () => {
  gptDown = await startFakeProvider({ flavor: 'openai', name: 'gpt-down', behaviour: { kind: 'status', status: 503 } });
  // Serves the first request, then is down.
  ada = await startFakeProvider({ flavor: 'openai', name: 'ada', text: 'Hello from gpt', behaviour: (_req, n) => (n === 0 ? undefined : { kind: 'status', status: 503 }) });
  claude = await startFakeProvider({ flavor: 'anthropic', name: 'claude', expectKey: 'sk-ant-real', text: 'Hello from claude' });
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
});

afterAll(async () => {
  await sidecar?.stop();
  await Promise.all([gptDown?.close(), ada?.close(), claude?.close()]);
});

/** Two turns with the AI SDK's default (Responses) model, the second carrying the first's response.messages. */
async function twoTurns(route: string): Promise<{ first: string; second: string; reference: unknown }> {
  const model = createOpenAI({ baseURL: sidecar.baseURL, apiKey: 'unused' })(route);
  const question: ModelMessage[] = [{ role: 'user', content: 'My name is Ada.' }];
  const first = await generateText({ model, messages: question, maxRetries: 0 });
  const second = await generateText({ model, messages: [...question, ...first.response.messages, { role: 'user', content: 'What is my name?' }], maxRetries: 0 });
  return { first: first.text, second: second.text, reference: (route === 'ada' ? ada : gptDown).requests[1]!.body.input[1] };
}

describe('Vercel AI SDK (default OpenAI model): a conversation carried on with response.messages, through a failover to Anthropic', () => {
  it("the earlier answer was the translated backup's: its item_reference reaches the backup as the assistant turn", async () => {
    const out = await twoTurns('to-claude');
    // The primary never issued that id (the backup's answer did): it too gets the item itself, not a reference it would refuse.
    expect(out).toEqual({
      first: 'Hello from claude',
      second: 'Hello from claude',
      reference: { type: 'message', role: 'assistant', content: [expect.objectContaining({ type: 'output_text', text: 'Hello from claude' })] },
    });
    const sent = claude.requests.at(-1)!.body.messages;
    expect(sent.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(JSON.stringify(sent[1].content)).toContain('Hello from claude');
  });

  it("the earlier answer was the OpenAI primary's, before it went down: its item_reference reaches the backup as the assistant turn", async () => {
    const out = await twoTurns('ada');
    expect(out).toEqual({ first: 'Hello from gpt', second: 'Hello from claude', reference: { type: 'item_reference', id: expect.stringMatching(/^msg_/) } });
    const sent = claude.requests.at(-1)!.body.messages;
    expect(sent.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(JSON.stringify(sent[1].content)).toContain('Hello from gpt');
  });
});
