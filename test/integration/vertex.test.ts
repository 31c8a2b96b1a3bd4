/**
 * Issue 12: vertex targets through a real sidecar process and the official
 * openai Node SDK, with no static key: the sidecar's Google identity comes
 * from a fake GCE metadata server (GKE Workload Identity's path;
 * GCE_METADATA_HOST points google-auth-library at it), whose tokens expire
 * within the library's refresh window, so each request fetches a new one; a
 * fake Vertex AI takes only unexpired tokens it issued. Claude on the
 * Anthropic API failing over to Claude on Vertex (rawPredict /
 * streamRawPredict), Gemini on AI Studio failing over to Gemini on Vertex
 * (generateContent / streamGenerateContent), stream and non-stream.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.ts';
import { startFakeGemini, type FakeGemini } from '../fakes/fake-gemini.ts';
import { startFakeVertex, type FakeVertex } from '../fakes/fake-vertex.ts';
import { startFakeMetadataServer, TokenStore, type FakeMetadataServer } from '../fakes/fake-google-auth.ts';
import { startSidecarProcess, type SidecarProcess } from '../support/sidecar-process.ts';
import { streamChat } from '../support/chat-client.ts';

const PROJECT = 'my-project-1';
const CLAUDE = 'claude-sonnet-4-5@20250929';
const BASE = `/v1/projects/${PROJECT}/locations/us-east5/publishers`;
let anthropic: FakeProvider;
let gemini: FakeGemini;
let vertex: FakeVertex;
let metadata: FakeMetadataServer;
let sidecar: SidecarProcess;
let client: OpenAI;
const tokens = new TokenStore();

const policy = `
  retry: {attempts: 0}
  timeouts: {connect: 500ms, firstByte: 5s, total: 20s}`;

beforeAll(async () => {
  anthropic = await startFakeProvider({ flavor: 'anthropic', name: 'anthropic', behaviour: { kind: 'status', status: 529 } });
  gemini = await startFakeGemini({ apiKey: 'AIza-fake', behaviour: { kind: 'rate-limit' } });
  vertex = await startFakeVertex({ project: PROJECT, location: 'us-east5', tokens, text: 'Hello from vertex' });
  metadata = await startFakeMetadataServer(tokens, { ttlMs: 60_000 });
  sidecar = await startSidecarProcess(
    `routes:
- name: claude
  targets:
  - {name: anthropic, provider: anthropic, baseURL: "${anthropic.url}", model: claude-sonnet-4-5, apiKey: {value: sk-ant-x}}
  - {name: vertex, provider: vertex, priority: 1, project: ${PROJECT}, location: us-east5, baseURL: "${vertex.url}", model: "${CLAUDE}"}
${policy}
- name: gem
  targets:
  - {name: gemini, provider: gemini, baseURL: "${gemini.url}", model: gemini-2.5-flash, apiKey: {value: AIza-fake}}
  - {name: vertex, provider: vertex, priority: 1, project: ${PROJECT}, location: us-east5, baseURL: "${vertex.url}", model: gemini-2.5-flash}
${policy}
`,
    { env: { ...metadata.env, GOOGLE_APPLICATION_CREDENTIALS: '', METADATA_SERVER_DETECTION: '' } },
  );
  client = new OpenAI({ baseURL: sidecar.baseURL, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await sidecar?.stop();
  await Promise.all([anthropic?.close(), gemini?.close(), vertex?.close(), metadata?.close()]);
});

const bearer = (q: { headers: Record<string, string> }): string => q.headers.authorization!.slice('Bearer '.length);

describe('anthropic -> Claude on vertex, token from the metadata server', () => {
  it('non-stream and stream: rawPredict and streamRawPredict with the vertex anthropic_version and no model', async () => {
    const r = await client.chat.completions.create({ model: 'claude', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }], max_tokens: 50 });
    expect(r.choices[0]!.message.content).toBe('Hello from vertex');
    expect(r.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(await streamChat(client, 'claude')).toMatchObject({ text: 'Hello from vertex', finish: 'stop' });
    const sent = vertex.requests.filter((q) => q.pathname.includes('/anthropic/'));
    expect(sent.map((q) => [q.pathname, q.outcome])).toEqual([
      [`${BASE}/anthropic/models/${CLAUDE}:rawPredict`, 'ok'],
      [`${BASE}/anthropic/models/${CLAUDE}:streamRawPredict`, 'ok'],
    ]);
    expect(sent[0]!.body).toMatchObject({ anthropic_version: 'vertex-2023-10-16', system: 'Be brief.', max_tokens: 50, messages: [{ role: 'user' }] });
    expect(sent[0]!.body.model).toBeUndefined();
    expect(sent[1]!.body.stream).toBe(true);
    // Tokens that expire within five minutes are fetched again: each request had a fresh one.
    expect(bearer(sent[0]!)).not.toBe(bearer(sent[1]!));
    expect(metadata.requests.filter((q) => q.outcome === 'issue').length).toBeGreaterThanOrEqual(2);
    expect(metadata.requests.map((q) => `${q.pathname} ${q.outcome}`).filter((o) => !/ (issue|ping|project-id)$/.test(o))).toEqual([]);
    expect(tokens.issued.find((t) => t.token === bearer(sent[0]!))?.subject).toBe('metadata');
    // No token in the sidecar's logs.
    expect(JSON.stringify(sidecar.logs)).not.toContain('ya29.');
  });

  it('a tool call through streamRawPredict comes back as tool_calls', async () => {
    vertex.script({ kind: 'ok', toolCall: true });
    const s = await client.chat.completions.create({
      model: 'claude',
      stream: true,
      messages: [{ role: 'user', content: 'Weather?' }],
      tools: [{ type: 'function', function: { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }],
    });
    let name = '';
    let args = '';
    let finish: string | null = null;
    for await (const chunk of s) {
      const call = chunk.choices[0]?.delta.tool_calls?.[0];
      name += call?.function?.name ?? '';
      args += call?.function?.arguments ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect([name, finish]).toEqual(['weather', 'tool_calls']);
    expect(JSON.parse(args)).toHaveProperty('city');
    expect(vertex.requests.at(-1)!.body.tools).toEqual([expect.objectContaining({ name: 'weather', input_schema: expect.objectContaining({ type: 'object' }) })]);
  });

  it("Vertex's quota refusal (429 RESOURCE_EXHAUSTED) is a rate-limit of the vertex target", async () => {
    vertex.script({ kind: 'rate-limit' });
    await expect(client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'Hi' }] })).rejects.toMatchObject({ status: 502 });
    expect(vertex.requests.at(-1)!.outcome).toBe('rate-limit');
    expect(sidecar.logs.filter((l) => l.msg === 'upstream attempt failed' && l.target === 'vertex').map((l) => [l.class, l.status])).toContainEqual(['rate-limit', 429]);
  });
});

describe('gemini -> Gemini on vertex', () => {
  it('non-stream and stream: generateContent and streamGenerateContent?alt=sse under the project and location', async () => {
    const r = await client.chat.completions.create({ model: 'gem', messages: [{ role: 'user', content: 'Hi' }] });
    expect(r.choices[0]!.message.content).toBe('Hello from vertex');
    expect(await streamChat(client, 'gem')).toMatchObject({ text: 'Hello from vertex', finish: 'stop' });
    const sent = vertex.requests.filter((q) => q.pathname.includes('/google/'));
    expect(sent.map((q) => [q.path, q.outcome])).toEqual([
      [`${BASE}/google/models/gemini-2.5-flash:generateContent`, 'ok'],
      [`${BASE}/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, 'ok'],
    ]);
    expect(sent[0]!.body).toMatchObject({ contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] });
    expect(gemini.requests.length).toBe(2);
  });
});

describe('the Anthropic SDK (Messages API) through the same failover', () => {
  it('anthropic down → Claude on vertex: the Message and the stream helper, the metadata-server token used', async () => {
    const anthropicSdk = new Anthropic({ baseURL: sidecar.baseURL.replace(/\/v1$/, ''), apiKey: 'unused', maxRetries: 0 });
    const before = vertex.requests.length;
    const m = await anthropicSdk.messages.create({ model: 'claude', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] });
    expect(m.content).toEqual([{ type: 'text', text: 'Hello from vertex' }]);
    const final = await anthropicSdk.messages.stream({ model: 'claude', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] }).finalMessage();
    expect(final.content).toEqual([{ type: 'text', text: 'Hello from vertex' }]);
    const sent = vertex.requests.slice(before);
    expect(sent.map((q) => q.outcome)).toEqual(['ok', 'ok']);
    expect(sent.every((q) => tokens.issued.some((t) => t.token === bearer(q)))).toBe(true);
  });
});
