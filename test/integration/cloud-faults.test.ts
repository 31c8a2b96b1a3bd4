/**
 * Faults of the cloud providers through a real sidecar process and the
 * official openai Node SDK, each route a cloud target with an OpenAI
 * target behind it: a 5xx, or a stream cut or failed before any content,
 * falls back (the client sees the backup's answer); a stream cut or failed
 * after content reached the client (the commit point) ends with the
 * explicit error event, never a clean end with a finish_reason. Bedrock
 * (ServiceUnavailableException, InternalServerException, a cut event
 * stream, ExpiredTokenException as auth), Gemini on Vertex and Claude on
 * Vertex (a 5xx, an error event mid-stream, a cut stream), Gemini (a cut
 * and an error after the commit point).
 */
import OpenAI from 'openai';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.ts';
import { startFakeBedrock, type FakeBedrock } from '../fakes/fake-bedrock.ts';
import { CredentialStore } from '../fakes/fake-aws-credentials.ts';
import { startFakeGemini, type FakeGemini } from '../fakes/fake-gemini.ts';
import { startFakeVertex, type FakeVertex } from '../fakes/fake-vertex.ts';
import { startFakeMetadataServer, TokenStore, type FakeMetadataServer } from '../fakes/fake-google-auth.ts';
import { startSidecarProcess, type SidecarProcess } from '../support/sidecar-process.ts';

const MODEL = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
const PROJECT = 'my-project-1';
let openai: FakeProvider;
let bedrock: FakeBedrock;
let gemini: FakeGemini;
let vertex: FakeVertex;
let metadata: FakeMetadataServer;
let sidecar: SidecarProcess;
let client: OpenAI;
const store = new CredentialStore();
const key = store.add(CredentialStore.key());
const tokens = new TokenStore();

// The faults are scripted one after another on the same targets: no circuit opens between them
// (auth opens one at once, so ExpiredTokenException has a route of its own).
const policy = `
  retry: {attempts: 0}
  circuitBreaker: {consecutiveFailures: 1000}
  timeouts: {connect: 500ms, firstByte: 5s, total: 20s}`;
const backup = (n = 1) => `  - {name: openai, provider: openai, priority: ${n}, baseURL: "${openai.url}", model: gpt-4o-mini, apiKey: {value: sk-x}}`;

beforeAll(async () => {
  openai = await startFakeProvider({ flavor: 'openai', name: 'openai', text: 'Hello from openai' });
  bedrock = await startFakeBedrock({ region: 'us-west-2', store, text: 'Hello from bedrock' });
  gemini = await startFakeGemini({ apiKey: 'AIza-fake', text: 'Hello from gemini' });
  vertex = await startFakeVertex({ project: PROJECT, location: 'us-east5', tokens, text: 'Hello from vertex' });
  metadata = await startFakeMetadataServer(tokens);
  const keys = JSON.stringify({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey });
  const vertexTarget = (model: string) => `  - {name: vertex, provider: vertex, project: ${PROJECT}, location: us-east5, baseURL: "${vertex.url}", model: "${model}"}`;
  sidecar = await startSidecarProcess(
    `routes:
- name: br
  targets:
  - {name: bedrock, provider: bedrock, region: us-west-2, endpoint: "${bedrock.url}", model: "${MODEL}", apiKey: {value: '${keys}'}}
${backup()}
${policy}
- name: br-auth
  targets:
  - {name: bedrock, provider: bedrock, region: us-west-2, endpoint: "${bedrock.url}", model: "${MODEL}", apiKey: {value: '${keys}'}}
${backup()}
${policy}
- name: vg
  targets:
${vertexTarget('gemini-2.5-flash')}
${backup()}
${policy}
- name: vc
  targets:
${vertexTarget('claude-sonnet-4-5@20250929')}
${backup()}
${policy}
- name: gm
  targets:
  - {name: gemini, provider: gemini, baseURL: "${gemini.url}", model: gemini-2.5-flash, apiKey: {value: AIza-fake}}
${backup()}
${policy}
`,
    { env: { ...metadata.env, GOOGLE_APPLICATION_CREDENTIALS: '', METADATA_SERVER_DETECTION: '' } },
  );
  client = new OpenAI({ baseURL: sidecar.baseURL, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await sidecar?.stop();
  await Promise.all([openai?.close(), bedrock?.close(), gemini?.close(), vertex?.close(), metadata?.close()]);
});

interface Streamed {
  text: string;
  finish: string | null;
  target: string | null;
  error?: unknown;
}

/** A stream read to its end or its error: the text that arrived, the finish_reason, the error it ended with. */
async function stream(model: string): Promise<Streamed> {
  const { data: s, response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }], stream: true }).withResponse();
  const out: Streamed = { text: '', finish: null, target: response.headers.get('x-llmroute-target') };
  try {
    for await (const chunk of s) {
      out.text += chunk.choices[0]?.delta.content ?? '';
      out.finish = chunk.choices[0]?.finish_reason ?? out.finish;
    }
  } catch (err) {
    out.error = err;
  }
  return out;
}

async function once(model: string): Promise<{ text: string | null | undefined; target: string | null }> {
  const { data, response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
  return { text: data.choices[0]?.message.content, target: response.headers.get('x-llmroute-target') };
}

/** The stream ended with the sidecar's error event after some of `full`, not cleanly: a connection-error for a cut upstream, the upstream's error for its error event. */
function endedWithError(s: Streamed, full: string, how: 'cut' | 'error'): void {
  // The SDK read an error event (APIError with the event's error), not a dropped connection.
  expect(s.error).toBeInstanceOf(OpenAI.APIError);
  expect(s.error).not.toBeInstanceOf(OpenAI.APIConnectionError);
  expect((s.error as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ message: expect.any(String) });
  const code = (s.error as InstanceType<typeof OpenAI.APIError>).error as { code?: string | null };
  if (how === 'cut') expect(code.code).toBe('connection-error');
  else expect(code.code).not.toBe('connection-error');
  expect(s.text.length).toBeGreaterThan(0);
  expect(full.startsWith(s.text)).toBe(true);
  expect(s.text).not.toBe(full);
  expect(s.finish).toBeNull();
}

const failedAttempts = (route: string) => sidecar.logs.filter((l) => l.msg === 'upstream attempt failed' && l.route === route).map((l) => [l.target, l.class]);

describe('bedrock faults', () => {
  it('ServiceUnavailableException and InternalServerException fall back, streamed or not', async () => {
    bedrock.script({ kind: 'error', type: 'ServiceUnavailableException', message: 'Bedrock is unable to process your request.' });
    expect(await once('br')).toEqual({ text: 'Hello from openai', target: 'openai' });
    bedrock.script({ kind: 'error', type: 'InternalServerException', message: 'The server encountered an internal error.' });
    const s = await stream('br');
    expect([s.text, s.finish, s.target, s.error]).toEqual(['Hello from openai', 'stop', 'openai', undefined]);
    expect(bedrock.requests.slice(-2).map((q) => q.outcome)).toEqual(['error', 'error']);
    expect(failedAttempts('br')).toEqual([
      ['bedrock', 'server-error'],
      ['bedrock', 'server-error'],
    ]);
  });

  it('ExpiredTokenException is auth and falls back', async () => {
    bedrock.script({ kind: 'error', type: 'ExpiredTokenException', status: 403, message: 'The security token included in the request is expired' });
    expect(await once('br-auth')).toEqual({ text: 'Hello from openai', target: 'openai' });
    expect(bedrock.requests.at(-1)!.outcome).toBe('error');
    expect(failedAttempts('br-auth')).toEqual([['bedrock', 'auth']]);
  });

  it('a cut event stream before any content falls back; after content, the stream ends with the error event', async () => {
    bedrock.script({ kind: 'cut', afterChunks: 0 });
    const before = await stream('br');
    expect([before.text, before.finish, before.target, before.error]).toEqual(['Hello from openai', 'stop', 'openai', undefined]);
    bedrock.script({ kind: 'cut', afterChunks: 2 });
    const after = await stream('br');
    expect(after.target).toBe('bedrock');
    endedWithError(after, 'Hello from bedrock', 'cut');
    expect(bedrock.requests.at(-1)!.outcome).toBe('cut');
  });
});

describe('vertex faults: the gemini publisher', () => {
  it('a 503 falls back, streamed or not', async () => {
    vertex.script({ kind: 'status', status: 503, message: 'The service is currently unavailable.' });
    expect(await once('vg')).toEqual({ text: 'Hello from openai', target: 'openai' });
    vertex.script({ kind: 'status', status: 500, message: 'Internal error encountered.' });
    expect((await stream('vg')).text).toBe('Hello from openai');
    expect(failedAttempts('vg')).toEqual([
      ['vertex', 'server-error'],
      ['vertex', 'server-error'],
    ]);
  });

  it('an error event or a cut after content ends the stream with the error event; a cut before content falls back', async () => {
    vertex.script({ kind: 'stream-error', afterChunks: 2 });
    const failed = await stream('vg');
    expect(failed.target).toBe('vertex');
    endedWithError(failed, 'Hello from vertex', 'error');
    vertex.script({ kind: 'cut', afterChunks: 2 });
    const cut = await stream('vg');
    expect(cut.target).toBe('vertex');
    endedWithError(cut, 'Hello from vertex', 'cut');
    vertex.script({ kind: 'cut', afterChunks: 0 });
    expect((await stream('vg')).text).toBe('Hello from openai');
  });
});

describe('vertex faults: Claude on Vertex', () => {
  it('a 503 falls back; an overloaded error event before content falls back', async () => {
    vertex.script({ kind: 'status', status: 503, message: 'The service is currently unavailable.' });
    expect(await once('vc')).toEqual({ text: 'Hello from openai', target: 'openai' });
    vertex.script({ kind: 'stream-error', afterChunks: 0 });
    expect((await stream('vc')).text).toBe('Hello from openai');
    expect(failedAttempts('vc').map(([, c]) => c)).toEqual(['server-error', 'server-error']);
  });

  it('an error event or a cut after content ends the stream with the error event', async () => {
    vertex.script({ kind: 'stream-error', afterChunks: 2 });
    const failed = await stream('vc');
    expect(failed.target).toBe('vertex');
    endedWithError(failed, 'Hello from vertex', 'error');
    vertex.script({ kind: 'cut', afterChunks: 2 });
    const cut = await stream('vc');
    expect(cut.target).toBe('vertex');
    endedWithError(cut, 'Hello from vertex', 'cut');
    expect(vertex.requests.slice(-2).map((q) => q.outcome)).toEqual(['stream-error', 'cut']);
  });
});

describe('gemini faults after the commit point', () => {
  it('a cut and an error event after content end the stream with the error event', async () => {
    gemini.script({ kind: 'cut', afterChunks: 2 });
    const cut = await stream('gm');
    expect(cut.target).toBe('gemini');
    endedWithError(cut, 'Hello from gemini', 'cut');
    gemini.script({ kind: 'stream-error', afterChunks: 2, message: 'The model is overloaded. Please try again later.' });
    const failed = await stream('gm');
    expect(failed.target).toBe('gemini');
    endedWithError(failed, 'Hello from gemini', 'error');
    expect(gemini.requests.slice(-2).map((q) => q.outcome)).toEqual(['cut', 'stream-error']);
    expect(openai.requests.filter((q) => q.body?.stream).length).toBeGreaterThan(0);
  });
});
