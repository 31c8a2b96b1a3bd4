/**
 * Vertex targets with a service-account key in a Secret, through a real
 * sidecar process and the official openai Node SDK: the key file (for an
 * RSA pair the test generates) names a fake OAuth token endpoint as its
 * token_uri; the sidecar signs the JWT assertion with the key and trades
 * it there (the endpoint verifies the RS256 signature with the public
 * half, iss, aud, iat/exp and the scope); the fake Vertex takes only the
 * unexpired tokens it issued. No metadata server is reachable. Tokens
 * expire within seconds and are fetched again; a key whose signature the
 * endpoint refuses makes the vertex attempt auth and the route fall back.
 */
import OpenAI from 'openai';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.ts';
import { startFakeVertex, type FakeVertex } from '../fakes/fake-vertex.ts';
import { TokenStore } from '../fakes/fake-google-auth.ts';
import { serviceAccountKey, startFakeGoogleOAuth, type FakeGoogleOAuth, type ServiceAccountKey } from '../fakes/fake-google-oauth.ts';
import { refusedURL } from '../fakes/refused-port.ts';
import { eventually, startSidecarProcess, type SidecarProcess } from '../support/sidecar-process.ts';
import { streamChat } from '../support/chat-client.ts';

const PROJECT = 'my-project-1';
const CLAUDE = 'claude-sonnet-4-5@20250929';
const TTL_MS = 3_000;
let anthropic: FakeProvider;
let openai: FakeProvider;
let vertex: FakeVertex;
let oauth: FakeGoogleOAuth;
let sa: ServiceAccountKey;
let rogue: ServiceAccountKey;
let sidecar: SidecarProcess;
let client: OpenAI;
const tokens = new TokenStore();

const policy = `
  retry: {attempts: 0}
  timeouts: {connect: 500ms, firstByte: 5s, total: 20s}`;

/** A Secret's value in the sidecar config, as YAML single-quoted text. */
const secret = (v: Record<string, unknown>): string => `'${JSON.stringify(v).replace(/'/g, "''")}'`;

beforeAll(async () => {
  anthropic = await startFakeProvider({ flavor: 'anthropic', name: 'anthropic', behaviour: { kind: 'status', status: 529 } });
  openai = await startFakeProvider({ flavor: 'openai', name: 'openai', text: 'Hello from openai' });
  vertex = await startFakeVertex({ project: PROJECT, location: 'us-east5', tokens, text: 'Hello from vertex' });
  oauth = await startFakeGoogleOAuth(tokens, { ttlMs: TTL_MS });
  sa = serviceAccountKey(oauth.tokenUri);
  oauth.register(sa.email, sa.publicKey);
  // Same account and token_uri, another private key than the registered one.
  rogue = serviceAccountKey(oauth.tokenUri, { name: 'llmroute' });
  const noMetadata = new URL(await refusedURL()).host;
  sidecar = await startSidecarProcess(
    `routes:
- name: claude
  targets:
  - {name: anthropic, provider: anthropic, baseURL: "${anthropic.url}", model: claude-sonnet-4-5, apiKey: {value: sk-ant-x}}
  - {name: vertex, provider: vertex, priority: 1, project: ${PROJECT}, location: us-east5, baseURL: "${vertex.url}", model: "${CLAUDE}", apiKey: {value: ${secret(sa.json)}}}
${policy}
- name: gem
  targets:
  - {name: vertex, provider: vertex, project: ${PROJECT}, location: us-east5, baseURL: "${vertex.url}", model: gemini-2.5-flash, apiKey: {value: ${secret(sa.json)}}}
${policy}
- name: rogue
  targets:
  - {name: vertex, provider: vertex, project: ${PROJECT}, location: us-east5, baseURL: "${vertex.url}", model: gemini-2.5-flash, apiKey: {value: ${secret(rogue.json)}}}
  - {name: openai, provider: openai, priority: 1, baseURL: "${openai.url}", model: gpt-4o-mini, apiKey: {value: sk-x}}
${policy}
`,
    { env: { GCE_METADATA_HOST: noMetadata, GOOGLE_APPLICATION_CREDENTIALS: '', METADATA_SERVER_DETECTION: 'none' } },
  );
  client = new OpenAI({ baseURL: sidecar.baseURL, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await sidecar?.stop();
  await Promise.all([anthropic?.close(), openai?.close(), vertex?.close(), oauth?.close()]);
});

const bearer = (q: { headers: Record<string, string> }): string => q.headers.authorization!.slice('Bearer '.length);
const assertionClaims = (q: { rawBody: string }): Record<string, unknown> =>
  JSON.parse(Buffer.from(new URLSearchParams(q.rawBody).get('assertion')!.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

describe('vertex with a service-account key Secret, tokens from its token_uri', () => {
  it('anthropic -> Claude on vertex and Gemini on vertex, non-stream and stream, with tokens the endpoint issued for the key', async () => {
    const r = await client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'Hi' }] });
    expect(r.choices[0]!.message.content).toBe('Hello from vertex');
    expect(await streamChat(client, 'claude')).toMatchObject({ text: 'Hello from vertex', finish: 'stop' });
    expect((await client.chat.completions.create({ model: 'gem', messages: [{ role: 'user', content: 'Hi' }] })).choices[0]!.message.content).toBe('Hello from vertex');
    expect(await streamChat(client, 'gem')).toMatchObject({ text: 'Hello from vertex', finish: 'stop' });
    const sent = vertex.requests;
    expect(sent.map((q) => q.outcome)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(sent.map((q) => q.pathname.replace(/^.*:/, ''))).toEqual(['rawPredict', 'streamRawPredict', 'generateContent', 'streamGenerateContent']);
    for (const q of sent) expect(tokens.issued.find((t) => t.token === bearer(q))?.subject).toBe(sa.email);
    // The assertion the sidecar signed: the key's account, for the key's token_uri, the cloud-platform scope.
    const first = oauth.requests[0]!;
    expect(first.outcome).toBe('issue');
    expect(new URLSearchParams(first.rawBody).get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    expect(assertionClaims(first)).toMatchObject({ iss: sa.email, aud: oauth.tokenUri, scope: 'https://www.googleapis.com/auth/cloud-platform' });
    expect(oauth.refusals).toEqual([]);
  });

  it('a token is fetched again once the last one has expired, and never sent expired', async () => {
    await eventually(() => Date.now() > Math.max(...tokens.issued.map((t) => t.expiresAt)) + 50, TTL_MS * 3, 100);
    const issuedBefore = tokens.issued.length;
    const r = await client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'Hi' }] });
    expect(r.choices[0]!.message.content).toBe('Hello from vertex');
    expect(tokens.issued.length).toBeGreaterThan(issuedBefore);
    expect(bearer(vertex.requests.at(-1)!)).toBe(tokens.issued.at(-1)!.token);
    expect(vertex.requests.filter((q) => q.outcome.startsWith('auth-failed'))).toEqual([]);
  });

  it('a key whose signature the endpoint refuses: the vertex attempt is auth, the route falls back', async () => {
    const before = vertex.requests.length;
    const { data, response } = await client.chat.completions.create({ model: 'rogue', messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
    expect(data.choices[0]!.message.content).toBe('Hello from openai');
    expect(response.headers.get('x-llmroute-target')).toBe('openai');
    expect(oauth.refusals.at(-1)).toMatch(/^invalid_grant: Invalid JWT Signature/);
    expect(vertex.requests.length).toBe(before);
    const failed = await sidecar.waitForLog((l) => l.msg === 'upstream attempt failed' && l.route === 'rogue');
    expect([failed.target, failed.class]).toEqual(['vertex', 'auth']);
    expect(String(failed.error)).toMatch(/no Google access token for vertex from the target's service-account key/);
  });

  it('no private key, assertion or token in the sidecar output', () => {
    const out = JSON.stringify(sidecar.logs) + sidecar.stderr();
    expect(out).not.toContain('PRIVATE KEY');
    expect(out).not.toContain('ya29.');
    for (const q of oauth.requests) expect(out).not.toContain(new URLSearchParams(q.rawBody).get('assertion')!.split('.')[2]!);
  });
});
