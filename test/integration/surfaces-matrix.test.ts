/**
 * Issue 11's matrix: every inbound API (Responses, Messages, count_tokens)
 * × every provider type (openai, azure-openai, openai-compatible with and
 * without servesResponses, anthropic, gemini, bedrock, Gemini on vertex,
 * Claude on vertex), through the real sidecar with the official SDKs (openai
 * Node for the Responses API, the Anthropic Node SDK for Messages), stream
 * and not. Each cell is a failover from one provider type to another: its
 * route's primary is a target of another type that fails (503, 429,
 * Bedrock's ThrottlingException, Vertex's 503), so the cell's target answers
 * as the backup. Each call checks the text (the cell's fake says its own),
 * the failover headers, the primary's one failed try, and the very path
 * (and stream flag) the cell's fake received: native `/v1/responses` or
 * `/v1/messages`, or translated (Chat Completions, Converse, generateContent,
 * rawPredict and their stream forms). Then: count_tokens on every route
 * (native on anthropic, the documented estimate elsewhere, and when the
 * anthropic target is down); Responses failing over anthropic → openai;
 * extended thinking through the Anthropic SDK, natively (signatures
 * round-tripped, thinking_delta / signature_delta streamed) and translated
 * (reasoning_content as a thinking block). Every fake starts once for the file.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.ts';
import { startFakeBedrock, type FakeBedrock } from '../fakes/fake-bedrock.ts';
import { CredentialStore } from '../fakes/fake-aws-credentials.ts';
import { startFakeGemini, type FakeGemini } from '../fakes/fake-gemini.ts';
import { startFakeVertex, type FakeVertex } from '../fakes/fake-vertex.ts';
import { startFakeMetadataServer, TokenStore, type FakeMetadataServer } from '../fakes/fake-google-auth.ts';
import { refusedURL } from '../fakes/refused-port.ts';
import { estimateTokens } from '../fakes/wire-common.ts';
import { estimateInputTokens } from '../../sidecar/src/surfaces/messages/count-tokens-estimate.ts';
import { startSidecarProcess, type SidecarProcess } from '../support/sidecar-process.ts';

const PROJECT = 'my-project-1';
const LOCATION = 'us-east5';
const VERTEX = `/v1/projects/${PROJECT}/locations/${LOCATION}/publishers`;
const VERTEX_CLAUDE = 'claude-sonnet-4-5@20250929';
const BEDROCK_MODEL = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
const CONVERSE = `/model/${encodeURIComponent(BEDROCK_MODEL)}`;

/** What a fake recorded of a request, the OpenAI/Anthropic fake's and the cloud fakes' alike. */
interface Seen {
  pathname: string;
  query: Record<string, string>;
  body: any;
  outcome?: string | undefined;
}
interface Fake {
  readonly requests: Seen[];
}

/** Where a request went: its path (with Gemini's `?alt=sse`), and ` stream` when its body asked to stream. */
const where = (q: Seen): string => `${q.pathname}${q.query.alt ? `?alt=${q.query.alt}` : ''}${q.body?.stream === true ? ' stream' : ''}`;

const store = new CredentialStore();
const awsKey = store.add(CredentialStore.key());
const tokens = new TokenStore();
let metadata: FakeMetadataServer;
let sidecar: SidecarProcess;
let openai: OpenAI;
let anthropic: Anthropic;

// The cells' targets, each its own fake saying its own text.
let oa: FakeProvider;
let az: FakeProvider;
let compat: FakeProvider;
let compatNative: FakeProvider;
let claude: FakeProvider;
let gemini: FakeGemini;
let bedrock: FakeBedrock;
let vertexGemini: FakeVertex;
let vertexClaude: FakeVertex;
// The failing primaries.
let openaiDown: FakeProvider;
let azureDown: FakeProvider;
let anthropicDown: FakeProvider;
let geminiDown: FakeGemini;
let bedrockDown: FakeBedrock;
let vertexDown: FakeVertex;

const awsPair = JSON.stringify({ accessKeyId: awsKey.accessKeyId, secretAccessKey: awsKey.secretAccessKey });

/** A target of each type, as a YAML flow map: name, the fake it points at, and its priority. */
const TARGET = {
  openai: (name: string, f: FakeProvider, p = 0) => `{name: ${name}, provider: openai, priority: ${p}, baseURL: "${f.url}", model: gpt-4.1-mini, apiKey: {value: sk-x}}`,
  'azure-openai': (name: string, f: FakeProvider, p = 0) =>
    `{name: ${name}, provider: azure-openai, priority: ${p}, baseURL: "${f.origin}", model: dep, apiVersion: "2025-04-01-preview", apiKey: {value: az-x}}`,
  'openai-compatible': (name: string, f: FakeProvider, p = 0) => `{name: ${name}, provider: openai-compatible, priority: ${p}, baseURL: "${f.url}", model: gpt-4.1-mini}`,
  'openai-compatible+servesResponses': (name: string, f: FakeProvider, p = 0) =>
    `{name: ${name}, provider: openai-compatible, priority: ${p}, baseURL: "${f.url}", model: gpt-4.1-mini, servesResponses: true}`,
  anthropic: (name: string, f: FakeProvider, p = 0) => `{name: ${name}, provider: anthropic, priority: ${p}, baseURL: "${f.url}", model: claude-sonnet-4-5, apiKey: {value: sk-ant-x}}`,
  gemini: (name: string, f: FakeGemini, p = 0) => `{name: ${name}, provider: gemini, priority: ${p}, baseURL: "${f.url}", model: gemini-2.5-flash, apiKey: {value: AIza-fake}}`,
  bedrock: (name: string, f: FakeBedrock, p = 0) =>
    `{name: ${name}, provider: bedrock, priority: ${p}, region: us-east-1, endpoint: "${f.url}", model: "${BEDROCK_MODEL}", apiKey: {value: '${awsPair}'}}`,
  'vertex-gemini': (name: string, f: FakeVertex, p = 0) => `{name: ${name}, provider: vertex, priority: ${p}, project: ${PROJECT}, location: ${LOCATION}, baseURL: "${f.url}", model: gemini-2.5-flash}`,
  'vertex-claude': (name: string, f: FakeVertex, p = 0) => `{name: ${name}, provider: vertex, priority: ${p}, project: ${PROJECT}, location: ${LOCATION}, baseURL: "${f.url}", model: "${VERTEX_CLAUDE}"}`,
} as const;

interface Cell {
  /** The target type; also the route's name and the backup target's name. */
  type: string;
  /** The provider the sidecar reports for it (x-llmroute-provider). */
  provider: string;
  text: string;
  fake: () => Fake;
  /** The backup target's YAML (priority 1). */
  target: () => string;
  /** The failing primary: its target's YAML (named by its type), its fake, and the outcome the fake records for the failure. */
  primary: { name: string; target: () => string; fake: () => Fake; outcome: string };
  /** Where the cell's fake is reached from each API: [non-stream, stream]. */
  responses: [string, string];
  messages: [string, string];
}

const down = {
  openai: { name: 'openai-down', target: () => TARGET.openai('openai-down', openaiDown), fake: () => openaiDown, outcome: 'status' },
  azure: { name: 'azure-down', target: () => TARGET['azure-openai']('azure-down', azureDown), fake: () => azureDown, outcome: 'rate-limit' },
  gemini: { name: 'gemini-down', target: () => TARGET.gemini('gemini-down', geminiDown), fake: () => geminiDown, outcome: 'rate-limit' },
  bedrock: { name: 'bedrock-down', target: () => TARGET.bedrock('bedrock-down', bedrockDown), fake: () => bedrockDown, outcome: 'error' },
  vertex: { name: 'vertex-down', target: () => TARGET['vertex-gemini']('vertex-down', vertexDown), fake: () => vertexDown, outcome: 'status' },
};

const CHAT = ['/v1/chat/completions', '/v1/chat/completions stream'] as [string, string];
const RESPONSES = ['/v1/responses', '/v1/responses stream'] as [string, string];

const CELLS: Cell[] = [
  { type: 'openai', provider: 'openai', text: 'Hello from openai', fake: () => oa, target: () => TARGET.openai('openai', oa, 1), primary: down.gemini, responses: RESPONSES, messages: CHAT },
  {
    type: 'azure-openai',
    provider: 'azure-openai',
    text: 'Hello from azure',
    fake: () => az,
    target: () => TARGET['azure-openai']('azure-openai', az, 1),
    primary: down.bedrock,
    responses: ['/openai/responses', '/openai/responses stream'],
    messages: ['/openai/deployments/dep/chat/completions', '/openai/deployments/dep/chat/completions stream'],
  },
  {
    type: 'openai-compatible',
    provider: 'openai-compatible',
    text: 'Hello from compat',
    fake: () => compat,
    target: () => TARGET['openai-compatible']('openai-compatible', compat, 1),
    primary: down.vertex,
    responses: CHAT,
    messages: CHAT,
  },
  {
    type: 'openai-compatible+servesResponses',
    provider: 'openai-compatible',
    text: 'Hello from compat-native',
    fake: () => compatNative,
    target: () => TARGET['openai-compatible+servesResponses']('openai-compatible-native', compatNative, 1),
    primary: down.azure,
    responses: RESPONSES,
    messages: CHAT,
  },
  {
    type: 'anthropic',
    provider: 'anthropic',
    text: 'Hello from anthropic',
    fake: () => claude,
    target: () => TARGET.anthropic('anthropic', claude, 1),
    primary: down.openai,
    responses: ['/v1/messages', '/v1/messages stream'],
    messages: ['/v1/messages', '/v1/messages stream'],
  },
  {
    // Bedrock throttled → Gemini: the failover between two cloud targets.
    type: 'gemini',
    provider: 'gemini',
    text: 'Hello from gemini',
    fake: () => gemini,
    target: () => TARGET.gemini('gemini', gemini, 1),
    primary: down.bedrock,
    responses: ['/v1beta/models/gemini-2.5-flash:generateContent', '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse'],
    messages: ['/v1beta/models/gemini-2.5-flash:generateContent', '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse'],
  },
  {
    type: 'bedrock',
    provider: 'bedrock',
    text: 'Hello from bedrock',
    fake: () => bedrock,
    target: () => TARGET.bedrock('bedrock', bedrock, 1),
    primary: down.gemini,
    responses: [`${CONVERSE}/converse`, `${CONVERSE}/converse-stream`],
    messages: [`${CONVERSE}/converse`, `${CONVERSE}/converse-stream`],
  },
  {
    type: 'vertex-gemini',
    provider: 'vertex',
    text: 'Hello from vertex-gemini',
    fake: () => vertexGemini,
    target: () => TARGET['vertex-gemini']('vertex-gemini', vertexGemini, 1),
    primary: down.openai,
    responses: [`${VERTEX}/google/models/gemini-2.5-flash:generateContent`, `${VERTEX}/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse`],
    messages: [`${VERTEX}/google/models/gemini-2.5-flash:generateContent`, `${VERTEX}/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse`],
  },
  {
    type: 'vertex-claude',
    provider: 'vertex',
    text: 'Hello from vertex-claude',
    fake: () => vertexClaude,
    target: () => TARGET['vertex-claude']('vertex-claude', vertexClaude, 1),
    primary: down.azure,
    responses: [`${VERTEX}/anthropic/models/${VERTEX_CLAUDE}:rawPredict`, `${VERTEX}/anthropic/models/${VERTEX_CLAUDE}:streamRawPredict stream`],
    messages: [`${VERTEX}/anthropic/models/${VERTEX_CLAUDE}:rawPredict`, `${VERTEX}/anthropic/models/${VERTEX_CLAUDE}:streamRawPredict stream`],
  },
];

/** The cell's backup target name (YAML names cannot hold `+`). */
const targetName = (c: Cell): string => (c.type === 'openai-compatible+servesResponses' ? 'openai-compatible-native' : c.type);
const routeName = targetName;

const policy = `
  retry: {attempts: 0}
  circuitBreaker: {consecutiveFailures: 1000}
  timeouts: {connect: 500ms, firstByte: 5s, total: 20s}`;

beforeAll(async () => {
  oa = await startFakeProvider({ flavor: 'openai', name: 'openai', text: 'Hello from openai' });
  az = await startFakeProvider({ flavor: 'openai', name: 'azure', text: 'Hello from azure' });
  compat = await startFakeProvider({ flavor: 'openai', name: 'compat', text: 'Hello from compat' });
  compatNative = await startFakeProvider({ flavor: 'openai', name: 'compat-native', text: 'Hello from compat-native' });
  claude = await startFakeProvider({ flavor: 'anthropic', name: 'anthropic', text: 'Hello from anthropic' });
  gemini = await startFakeGemini({ apiKey: 'AIza-fake', text: 'Hello from gemini' });
  bedrock = await startFakeBedrock({ region: 'us-east-1', store, text: 'Hello from bedrock' });
  vertexGemini = await startFakeVertex({ project: PROJECT, location: LOCATION, tokens, text: 'Hello from vertex-gemini' });
  vertexClaude = await startFakeVertex({ project: PROJECT, location: LOCATION, tokens, text: 'Hello from vertex-claude' });
  openaiDown = await startFakeProvider({ flavor: 'openai', name: 'openai-down', behaviour: { kind: 'status', status: 503 } });
  azureDown = await startFakeProvider({ flavor: 'openai', name: 'azure-down', behaviour: { kind: 'rate-limit' } });
  anthropicDown = await startFakeProvider({ flavor: 'anthropic', name: 'anthropic-down', behaviour: { kind: 'status', status: 529 } });
  geminiDown = await startFakeGemini({ apiKey: 'AIza-fake', behaviour: { kind: 'rate-limit' } });
  bedrockDown = await startFakeBedrock({ region: 'us-east-1', store, behaviour: { kind: 'error', type: 'ThrottlingException', message: 'Too many requests, please wait before trying again.' } });
  vertexDown = await startFakeVertex({ project: PROJECT, location: LOCATION, tokens, behaviour: { kind: 'status', status: 503, message: 'The service is currently unavailable.' } });
  metadata = await startFakeMetadataServer(tokens, { ttlMs: 60_000 });
  const refused = await refusedURL();
  const routes = CELLS.map((c) => `- name: ${routeName(c)}\n  targets:\n  - ${c.primary.target()}\n  - ${c.target()}${policy}`).join('\n');
  sidecar = await startSidecarProcess(
    `routes:
${routes}
- name: responses-a2o
  targets:
  - ${TARGET.anthropic('anthropic-down', anthropicDown)}
  - ${TARGET.openai('openai', oa, 1)}${policy}
- name: count-down
  targets:
  - {name: anthropic-refused, provider: anthropic, baseURL: "${refused}", model: claude-sonnet-4-5, apiKey: {value: sk-ant-x}}
  - ${TARGET.openai('openai', oa, 1)}${policy}
`,
    { env: { ...metadata.env, GOOGLE_APPLICATION_CREDENTIALS: '', METADATA_SERVER_DETECTION: '' } },
  );
  openai = new OpenAI({ baseURL: sidecar.baseURL, apiKey: 'unused', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: sidecar.baseURL.replace(/\/v1$/, ''), apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await sidecar?.stop();
  await Promise.all(
    [oa, az, compat, compatNative, claude, gemini, bedrock, vertexGemini, vertexClaude, openaiDown, azureDown, anthropicDown, geminiDown, bedrockDown, vertexDown, metadata].map((f) => f?.close()),
  );
});

/** Runs `call` and returns what the fake and the primary's fake received meanwhile. */
async function observed<T>(cell: Cell, call: () => Promise<T>): Promise<{ result: T; reached: string[]; outcomes: Array<string | undefined>; primary: Array<string | undefined> }> {
  const fake = cell.fake();
  const primary = cell.primary.fake();
  const [a, b] = [fake.requests.length, primary.requests.length];
  const result = await call();
  const sent = fake.requests.slice(a);
  return { result, reached: sent.map(where), outcomes: sent.map((q) => q.outcome), primary: primary.requests.slice(b).map((q) => q.outcome) };
}

function failoverHeaders(h: Headers): Record<string, string | null> {
  return { target: h.get('x-llmroute-target'), provider: h.get('x-llmroute-provider'), attempts: h.get('x-llmroute-attempts'), fallbacks: h.get('x-llmroute-fallbacks') };
}
const servedBy = (cell: Cell) => ({ target: targetName(cell), provider: cell.provider, attempts: '2', fallbacks: '1' });

const ask = 'Say hello';

describe.each(CELLS)('$type as the backup of a failing $primary.name', (cell) => {
  const route = routeName(cell);

  it(`Responses (openai SDK), non-stream: ${cell.responses[0]}`, async () => {
    const o = await observed(cell, () => openai.responses.create({ model: route, input: ask, max_output_tokens: 100 }).withResponse());
    expect(o.result.data.output_text).toBe(cell.text);
    expect(failoverHeaders(o.result.response.headers)).toEqual(servedBy(cell));
    expect(o.reached).toEqual([cell.responses[0]]);
    expect(o.primary).toEqual([cell.primary.outcome]);
  });

  it(`Responses (openai SDK), stream: ${cell.responses[1]}`, async () => {
    const o = await observed(cell, async () => {
      const { data, response } = await openai.responses.create({ model: route, input: ask, max_output_tokens: 100, stream: true }).withResponse();
      const types: string[] = [];
      let text = '';
      for await (const e of data) {
        types.push(e.type);
        if (e.type === 'response.output_text.delta') text += e.delta;
      }
      return { text, types, headers: response.headers };
    });
    expect(o.result.text).toBe(cell.text);
    expect(o.result.types[0]).toBe('response.created');
    expect(o.result.types.at(-1)).toBe('response.completed');
    expect(failoverHeaders(o.result.headers)).toEqual(servedBy(cell));
    expect(o.reached).toEqual([cell.responses[1]]);
    expect(o.primary).toEqual([cell.primary.outcome]);
  });

  it(`Messages (Anthropic SDK), non-stream: ${cell.messages[0]}`, async () => {
    const o = await observed(cell, () => anthropic.messages.create({ model: route, max_tokens: 100, messages: [{ role: 'user', content: ask }] }).withResponse());
    expect(o.result.data.content).toEqual([{ type: 'text', text: cell.text }]);
    expect(o.result.data.stop_reason).toBe('end_turn');
    expect(failoverHeaders(o.result.response.headers)).toEqual(servedBy(cell));
    expect(o.reached).toEqual([cell.messages[0]]);
    expect(o.primary).toEqual([cell.primary.outcome]);
  });

  it(`Messages (Anthropic SDK), raw stream: true, the whole event sequence in order: ${cell.messages[1]}`, async () => {
    const o = await observed(cell, async () => {
      const { data, response } = await anthropic.messages.create({ model: route, max_tokens: 100, messages: [{ role: 'user', content: ask }], stream: true }).withResponse();
      const types: string[] = [];
      let text = '';
      let delta: Anthropic.RawMessageDeltaEvent | undefined;
      for await (const e of data) {
        types.push(e.type);
        if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') text += e.delta.text;
        if (e.type === 'message_delta') delta = e;
      }
      return { text, types, delta, headers: response.headers };
    });
    expect(o.result.text).toBe(cell.text);
    // One text block: message_start, content_block_start, its deltas, content_block_stop, message_delta, message_stop (pings aside).
    expect(o.result.types.filter((t) => t !== 'ping').join(' ')).toMatch(/^message_start content_block_start (content_block_delta )+content_block_stop message_delta message_stop$/);
    expect(o.result.delta?.delta.stop_reason).toBe('end_turn');
    expect(o.result.delta?.usage.output_tokens).toBeGreaterThan(0);
    expect(failoverHeaders(o.result.headers)).toEqual(servedBy(cell));
    expect(o.reached).toEqual([cell.messages[1]]);
    expect(o.primary).toEqual([cell.primary.outcome]);
  });

  it('Messages, the stream helper: finalMessage()', async () => {
    const o = await observed(cell, () => anthropic.messages.stream({ model: route, max_tokens: 100, messages: [{ role: 'user', content: ask }] }).finalMessage());
    expect(o.result.content).toEqual([{ type: 'text', text: cell.text }]);
    expect(o.reached).toEqual([cell.messages[1]]);
  });
});

const countBody = { system: 'Be brief.', messages: [{ role: 'user' as const, content: 'How many tokens is this?' }] };

/** The requests every fake has received, by name: to show an estimate reached none. */
function allRequests(): Record<string, number> {
  const fakes: Record<string, Fake> = { oa, az, compat, compatNative, claude, gemini, bedrock, vertexGemini, vertexClaude, openaiDown, azureDown, anthropicDown, geminiDown, bedrockDown, vertexDown };
  return Object.fromEntries(Object.entries(fakes).map(([k, f]) => [k, f.requests.length]));
}

describe('count_tokens (Anthropic SDK messages.countTokens) on every route', () => {
  it.each(CELLS.filter((c) => c.type !== 'anthropic'))('$type: the documented estimate, marked as one, no upstream call', async (cell) => {
    const before = allRequests();
    const { data, response } = await anthropic.messages.countTokens({ model: routeName(cell), ...countBody }).withResponse();
    expect(data).toEqual({ input_tokens: estimateInputTokens({ model: routeName(cell), ...countBody }) });
    expect(data.input_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-llmroute-estimated')).toBe('true');
    expect(response.headers.get('x-llmroute-target')).toBeNull();
    expect(allRequests()).toEqual(before);
  });

  it('anthropic: counted natively by the anthropic backup, the OpenAI primary passed over', async () => {
    const before = allRequests();
    const { data, response } = await anthropic.messages.countTokens({ model: 'anthropic', ...countBody }).withResponse();
    expect(response.headers.get('x-llmroute-estimated')).toBeNull();
    expect(response.headers.get('x-llmroute-target')).toBe('anthropic');
    // The OpenAI primary's skip is an attempt (class unsupported, nothing sent), not a fallback.
    expect([response.headers.get('x-llmroute-attempts'), response.headers.get('x-llmroute-fallbacks')]).toEqual(['2', '0']);
    const sent = claude.requests.at(-1)!;
    expect(sent).toMatchObject({ endpoint: 'count_tokens', outcome: 'count-tokens', body: { model: 'claude-sonnet-4-5', system: 'Be brief.' } });
    // The fake's own count, which is not the sidecar's estimate.
    expect(data.input_tokens).toBe(estimateTokens([sent.body.system, sent.body.messages]));
    expect(data.input_tokens).not.toBe(estimateInputTokens({ model: 'anthropic', ...countBody }));
    expect(allRequests()).toEqual({ ...before, claude: before.claude! + 1 });
  });

  it("an anthropic target that is down (connection refused): the estimate, marked as one, after the failed try", async () => {
    const before = allRequests();
    const { data, response } = await anthropic.messages.countTokens({ model: 'count-down', ...countBody }).withResponse();
    expect(data).toEqual({ input_tokens: estimateInputTokens({ model: 'count-down', ...countBody }) });
    expect(response.headers.get('x-llmroute-estimated')).toBe('true');
    expect(response.headers.get('x-llmroute-target')).toBeNull();
    // Two attempts: the refused try, and the OpenAI backup's skip (class unsupported: it cannot
    // count, and is not asked); a skip is no fallback.
    expect([response.headers.get('x-llmroute-attempts'), response.headers.get('x-llmroute-fallbacks')]).toEqual(['2', '0']);
    expect(sidecar.logs.filter((l) => l.msg === 'upstream attempt failed' && l.route === 'count-down').map((l) => [l.target, l.class])).toEqual([['anthropic-refused', 'connection-error']]);
    expect(allRequests()).toEqual(before);
  });
});

describe('Responses failing over from anthropic (529) to openai', () => {
  it('non-stream and the .stream() helper: the anthropic primary tried translated to Messages, the openai backup natively', async () => {
    const [a, o] = [anthropicDown.requests.length, oa.requests.length];
    const { data, response } = await openai.responses.create({ model: 'responses-a2o', input: ask, max_output_tokens: 100 }).withResponse();
    expect(data.output_text).toBe('Hello from openai');
    expect([response.headers.get('x-llmroute-target'), response.headers.get('x-llmroute-attempts'), response.headers.get('x-llmroute-fallbacks')]).toEqual(['openai', '2', '1']);
    const final = await openai.responses.stream({ model: 'responses-a2o', input: ask, max_output_tokens: 100 }).finalResponse();
    expect(final.output_text).toBe('Hello from openai');
    expect(anthropicDown.requests.slice(a).map((q) => [where(q), q.outcome])).toEqual([
      ['/v1/messages', 'status'],
      ['/v1/messages stream', 'status'],
    ]);
    expect(oa.requests.slice(o).map((q) => [where(q), q.outcome])).toEqual([
      ['/v1/responses', 'ok'],
      ['/v1/responses stream', 'ok'],
    ]);
  });
});

describe('extended thinking through the Anthropic Node SDK', () => {
  const thinking = { type: 'enabled' as const, budget_tokens: 2048 };

  it('native: thinking blocks with their signatures round-trip, streamed as thinking_delta and signature_delta', async () => {
    const first = await anthropic.messages.create({ model: 'anthropic', max_tokens: 4096, thinking, messages: [{ role: 'user', content: ask }] });
    expect(first.content.map((b) => b.type)).toEqual(['thinking', 'text']);
    const block = first.content[0] as Anthropic.ThinkingBlock;
    expect(block.signature.length).toBeGreaterThan(0);

    // Second turn, streamed: the thinking block goes back unchanged, and the fake (which refuses a
    // signature it did not issue) takes it.
    const before = claude.requests.length;
    const turn2: Anthropic.MessageParam[] = [
      { role: 'user', content: ask },
      { role: 'assistant', content: first.content },
      { role: 'user', content: 'Again, please.' },
    ];
    const stream = await anthropic.messages.create({ model: 'anthropic', max_tokens: 4096, thinking, messages: turn2, stream: true });
    const types: string[] = [];
    let thought = '';
    let signature = '';
    let text = '';
    for await (const e of stream) {
      if (e.type === 'content_block_start') types.push(`start:${e.content_block.type}`);
      if (e.type === 'content_block_delta') {
        types.push(e.delta.type);
        if (e.delta.type === 'thinking_delta') thought += e.delta.thinking;
        if (e.delta.type === 'signature_delta') signature += e.delta.signature;
        if (e.delta.type === 'text_delta') text += e.delta.text;
      }
    }
    const sent = claude.requests.slice(before);
    expect(sent.map((q) => [where(q), q.outcome])).toEqual([['/v1/messages stream', 'ok']]);
    expect(sent[0]!.body.messages[1].content[0]).toEqual({ type: 'thinking', thinking: block.thinking, signature: block.signature });
    expect(sent[0]!.body.thinking).toEqual(thinking);
    const kinds = [...new Set(types)];
    expect(kinds).toEqual(['start:thinking', 'thinking_delta', 'signature_delta', 'start:text', 'text_delta']);
    expect(types.filter((t) => t === 'signature_delta')).toHaveLength(1);
    expect(thought.length).toBeGreaterThan(0);
    expect(signature.length).toBeGreaterThan(0);
    expect(text).toBe('Hello from anthropic');

    // Third turn: the streamed thinking block, put together from its deltas, goes back and is taken too.
    const third = await anthropic.messages.create({
      model: 'anthropic',
      max_tokens: 4096,
      thinking,
      messages: [...turn2, { role: 'assistant', content: [{ type: 'thinking', thinking: thought, signature }, { type: 'text', text }] }, { role: 'user', content: 'Thanks.' }],
    });
    expect(third.content.map((b) => b.type)).toEqual(['thinking', 'text']);
    const last = claude.requests.at(-1)!;
    expect(last.outcome).toBe('ok');
    expect(last.body.messages[3].content[0]).toEqual({ type: 'thinking', thinking: thought, signature });
  });

  it("translated: an OpenAI target's reasoning_content arrives as a thinking block (unsigned), non-stream and streamed", async () => {
    const before = oa.requests.length;
    oa.script({ kind: 'ok', text: 'Hello from openai', reasoning: 'Let me think.' }, { kind: 'ok', text: 'Hello from openai', reasoning: 'Let me think.' });
    const m = await anthropic.messages.create({ model: 'openai', max_tokens: 4096, thinking, messages: [{ role: 'user', content: ask }] });
    expect(m.content).toEqual([
      { type: 'thinking', thinking: 'Let me think.', signature: '' },
      { type: 'text', text: 'Hello from openai' },
    ]);
    const stream = await anthropic.messages.create({ model: 'openai', max_tokens: 4096, thinking, messages: [{ role: 'user', content: ask }], stream: true });
    const types: string[] = [];
    let thought = '';
    let text = '';
    for await (const e of stream) {
      types.push(e.type === 'content_block_delta' ? e.delta.type : e.type === 'content_block_start' ? `start:${e.content_block.type}` : e.type);
      if (e.type === 'content_block_delta' && e.delta.type === 'thinking_delta') thought += e.delta.thinking;
      if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') text += e.delta.text;
    }
    expect([thought, text]).toEqual(['Let me think.', 'Hello from openai']);
    expect(types.filter((t) => t !== 'ping').join(' ')).toMatch(
      /^message_start start:thinking thinking_delta signature_delta content_block_stop start:text (text_delta )+content_block_stop message_delta message_stop$/,
    );
    const sent = oa.requests.slice(before);
    expect(sent.map((q) => [where(q), q.outcome, q.body.reasoning_effort])).toEqual([
      ['/v1/chat/completions', 'ok', 'low'],
      ['/v1/chat/completions stream', 'ok', 'low'],
    ]);
  });
});
