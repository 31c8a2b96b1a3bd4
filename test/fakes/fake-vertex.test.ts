// The fake Vertex AI and the fake GCE metadata server refuse what the real ones refuse: a
// request without Metadata-Flavor, a bearer token they never issued or that has expired, a
// project or location that is not theirs, a Claude body with another anthropic_version, with a
// model field, or with stream set against the method.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startFakeMetadataServer, TokenStore, type FakeMetadataServer } from './fake-google-auth.ts';
import { startFakeVertex, type FakeVertex } from './fake-vertex.ts';

let now = 1_000_000;
const tokens = new TokenStore(() => now);
let vertex: FakeVertex;
let metadata: FakeMetadataServer;
const PATH = '/v1/projects/p-1/locations/us-east5/publishers';

beforeAll(async () => {
  vertex = await startFakeVertex({ project: 'p-1', location: 'us-east5', tokens });
  metadata = await startFakeMetadataServer(tokens, { ttlMs: 60_000 });
});

afterAll(async () => {
  await Promise.all([vertex?.close(), metadata?.close()]);
});

async function token(): Promise<string> {
  const r = await fetch(`${metadata.origin}/computeMetadata/v1/instance/service-accounts/default/token?scopes=https://www.googleapis.com/auth/cloud-platform`, { headers: { 'Metadata-Flavor': 'Google' } });
  expect(r.headers.get('metadata-flavor')).toBe('Google');
  const body = (await r.json()) as { access_token: string; expires_in: number; token_type: string };
  expect(body).toMatchObject({ expires_in: 60, token_type: 'Bearer' });
  return body.access_token;
}

const post = (path: string, body: unknown, bearer?: string) =>
  fetch(`${vertex.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) }, body: JSON.stringify(body) });
const claude = { anthropic_version: 'vertex-2023-10-16', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] };

describe('fake GCE metadata server', () => {
  it('refuses a request without Metadata-Flavor: Google', async () => {
    const r = await fetch(`${metadata.origin}/computeMetadata/v1/instance/service-accounts/default/token`);
    expect(r.status).toBe(403);
  });
});

describe('fake Vertex AI', () => {
  it('takes only unexpired tokens it issued', async () => {
    const t = await token();
    expect((await post(`${PATH}/anthropic/models/claude-sonnet-4-5@20250929:rawPredict`, claude, t)).status).toBe(200);
    expect((await post(`${PATH}/anthropic/models/claude-sonnet-4-5@20250929:rawPredict`, claude)).status).toBe(401);
    expect((await post(`${PATH}/anthropic/models/claude-sonnet-4-5@20250929:rawPredict`, claude, 'ya29.forged')).status).toBe(401);
    now += 60_000;
    const expired = await post(`${PATH}/anthropic/models/claude-sonnet-4-5@20250929:rawPredict`, claude, t);
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as any).error.status).toBe('UNAUTHENTICATED');
  });

  it('refuses another project or location, and the wrong method for a publisher', async () => {
    const t = await token();
    expect((await post('/v1/projects/other/locations/us-east5/publishers/google/models/gemini-2.5-flash:generateContent', { contents: [{ role: 'user', parts: [{ text: 'x' }] }] }, t)).status).toBe(403);
    expect((await post('/v1/projects/p-1/locations/europe-west1/publishers/google/models/gemini-2.5-flash:generateContent', { contents: [{ role: 'user', parts: [{ text: 'x' }] }] }, t)).status).toBe(404);
    expect((await post(`${PATH}/anthropic/models/claude-sonnet-4-5:generateContent`, claude, t)).status).toBe(400);
    expect((await post(`${PATH}/google/models/gemini-2.5-flash:rawPredict`, claude, t)).status).toBe(400);
  });

  it("refuses a Claude body Vertex would: another anthropic_version, a model field, stream against the method, Anthropic's own rules", async () => {
    const t = await token();
    const url = `${PATH}/anthropic/models/claude-sonnet-4-5@20250929`;
    expect((await post(`${url}:rawPredict`, { ...claude, anthropic_version: '2023-06-01' }, t)).status).toBe(400);
    expect((await post(`${url}:rawPredict`, { ...claude, model: 'claude-sonnet-4-5' }, t)).status).toBe(400);
    expect((await post(`${url}:streamRawPredict`, claude, t)).status).toBe(400);
    expect((await post(`${url}:rawPredict`, { ...claude, stream: true }, t)).status).toBe(400);
    const sys = await post(`${url}:rawPredict`, { ...claude, messages: [{ role: 'system', content: 'x' }] }, t);
    expect(sys.status).toBe(400);
    expect(((await sys.json()) as any).type).toBe('error');
    const s = await post(`${url}:streamRawPredict`, { ...claude, stream: true }, t);
    expect(s.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(await s.text()).toMatch(/event: message_start[\s\S]*event: message_stop/);
  });

  it("the anthropic publisher's stream-error: deltas, then Anthropic's error event; non-stream a 529", async () => {
    const t = await token();
    const url = `${PATH}/anthropic/models/claude-sonnet-4-5@20250929`;
    vertex.script({ kind: 'stream-error', afterChunks: 1 });
    const text = await (await post(`${url}:streamRawPredict`, { ...claude, stream: true }, t)).text();
    expect(text).toMatch(/event: content_block_delta[\s\S]*event: error\ndata: \{"type":"error","error":\{"type":"overloaded_error","message":"Overloaded"\}\}\n\n$/);
    expect(text.match(/event: content_block_delta/g)).toHaveLength(1);
    expect(text).not.toContain('message_stop');
    vertex.script({ kind: 'stream-error', afterChunks: 0 });
    expect((await post(`${url}:rawPredict`, claude, t)).status).toBe(529);
  });
});
