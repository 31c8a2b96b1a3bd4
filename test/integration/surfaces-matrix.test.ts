/**
 * Issue 11's matrix: every inbound API × every provider type, stream and
 * not, through the real sidecar with the official SDKs (openai Node for the
 * Responses API, the Anthropic Node SDK for Messages), each target alone on
 * its route so that the cell is that target's. Native cells check that the
 * provider got its own API; translated cells that it got Chat (or its own
 * format through its chat adapter). Failover between provider types is in
 * responses-api.test.ts and messages-api.test.ts; this is the breadth.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.ts';
import { startFakeBedrock, type FakeBedrock } from '../fakes/fake-bedrock.ts';
import { CredentialStore } from '../fakes/fake-aws-credentials.ts';
import { startFakeGemini, type FakeGemini } from '../fakes/fake-gemini.ts';
import { startSidecarProcess, type SidecarProcess } from '../support/sidecar-process.ts';

let gpt: FakeProvider;
let claude: FakeProvider;
let gemini: FakeGemini;
let bedrock: FakeBedrock;
let sidecar: SidecarProcess;
let openai: OpenAI;
let anthropic: Anthropic;
const store = new CredentialStore();
const key = store.add(CredentialStore.key());

beforeAll(async () => {
  gpt = await startFakeProvider({ flavor: 'openai', name: 'gpt', text: 'Hello from gpt', knownModels: ['gpt-4.1-mini', 'dep'] });
  claude = await startFakeProvider({ flavor: 'anthropic', name: 'claude', text: 'Hello from claude' });
  gemini = await startFakeGemini({ apiKey: 'AIza-fake', text: 'Hello from gemini' });
  bedrock = await startFakeBedrock({ region: 'us-east-1', store, text: 'Hello from bedrock' });
  const pair = JSON.stringify({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey });
  sidecar = await startSidecarProcess(`routes:
- {name: openai, targets: [{name: t, provider: openai, baseURL: "${gpt.url}", model: gpt-4.1-mini, apiKey: {value: sk-x}}]}
- {name: azure, targets: [{name: t, provider: azure-openai, baseURL: "${gpt.origin}", model: dep, apiVersion: "2025-04-01-preview", apiKey: {value: az-x}}]}
- {name: compat, targets: [{name: t, provider: openai-compatible, baseURL: "${gpt.url}", model: gpt-4.1-mini}]}
- {name: compat-native, targets: [{name: t, provider: openai-compatible, baseURL: "${gpt.url}", model: gpt-4.1-mini, servesResponses: true}]}
- {name: anthropic, targets: [{name: t, provider: anthropic, baseURL: "${claude.url}", model: claude-sonnet-4-5, apiKey: {value: sk-ant-x}}]}
- {name: gemini, targets: [{name: t, provider: gemini, baseURL: "${gemini.url}", model: gemini-2.5-flash, apiKey: {value: AIza-fake}}]}
- {name: bedrock, targets: [{name: t, provider: bedrock, region: us-east-1, endpoint: "${bedrock.url}", model: "anthropic.claude-sonnet-4-5-20250929-v1:0", apiKey: {value: '${pair}'}}]}
`);
  openai = new OpenAI({ baseURL: sidecar.baseURL, apiKey: 'unused', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: sidecar.baseURL.replace(/\/v1$/, ''), apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await sidecar?.stop();
  await Promise.all([gpt?.close(), claude?.close(), gemini?.close(), bedrock?.close()]);
});

/**
 * Each route: the text its target answers (which proves the request reached it), and the endpoint
 * its fake saw for each API (the OpenAI fake: `responses` natively, `chat` through Chat; the
 * Anthropic fake sees `messages` either way; Gemini's and Bedrock's fakes see their own API,
 * reached through their chat adapters).
 */
const CELLS: Array<{ route: string; text: string; responses: string; messages: string }> = [
  { route: 'openai', text: 'Hello from gpt', responses: 'responses', messages: 'chat' },
  { route: 'azure', text: 'Hello from gpt', responses: 'responses', messages: 'chat' },
  { route: 'compat', text: 'Hello from gpt', responses: 'chat', messages: 'chat' },
  { route: 'compat-native', text: 'Hello from gpt', responses: 'responses', messages: 'chat' },
  { route: 'anthropic', text: 'Hello from claude', responses: 'messages', messages: 'messages' },
  { route: 'gemini', text: 'Hello from gemini', responses: 'gemini', messages: 'gemini' },
  { route: 'bedrock', text: 'Hello from bedrock', responses: 'bedrock', messages: 'bedrock' },
];

function lastSeen(route: string): string {
  if (route === 'gemini' || route === 'bedrock') return route;
  return (route === 'anthropic' ? claude : gpt).requests.at(-1)!.endpoint;
}

describe.each(CELLS)('$route', ({ route, text, responses, messages }) => {
  it(`Responses, whole and streamed (${responses})`, async () => {
    const r = await openai.responses.create({ model: route, input: 'Say hello', max_output_tokens: 100 });
    expect(r.output_text).toBe(text);
    const viaResponses = lastSeen(route);
    const final = await openai.responses.stream({ model: route, input: 'Say hello', max_output_tokens: 100 }).finalResponse();
    expect(final.output_text).toBe(text);
    expect(viaResponses).toBe(responses);
  });

  it(`Messages, whole and streamed (${messages})`, async () => {
    const m = await anthropic.messages.create({ model: route, max_tokens: 100, messages: [{ role: 'user', content: 'Say hello' }] });
    expect(m.content).toEqual([{ type: 'text', text }]);
    const viaMessages = lastSeen(route);
    const final = await anthropic.messages.stream({ model: route, max_tokens: 100, messages: [{ role: 'user', content: 'Say hello' }] }).finalMessage();
    expect(final.content).toEqual([{ type: 'text', text }]);
    expect(viaMessages).toBe(messages);
  });
});
