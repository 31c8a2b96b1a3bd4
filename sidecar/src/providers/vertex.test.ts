/**
 * The vertex adapter: URLs by publisher and location, the Claude body
 * (vertex anthropic_version, no model), errors in either shape, the
 * service-account Secret's format, and google-auth-library loaded only by a
 * vertex request.
 */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { vertexHost } from '../../../api/v1alpha1/enums.ts';
import { keyTokenUri, readVertexSecret } from './vertex-auth.ts';
import { vertexAdapter, vertexURL } from './vertex.ts';
import type { ProviderTarget } from './types.ts';

const target = (model: string): ProviderTarget => ({ provider: 'vertex', model, baseURL: `https://${vertexHost('us-east5')}`, project: 'my-project-1', location: 'us-east5' });

describe('vertex', () => {
  it('URLs: google and anthropic publishers, global host, versioned Claude names', () => {
    expect(vertexHost('global')).toBe('aiplatform.googleapis.com');
    expect(vertexURL('https://aiplatform.googleapis.com/', 'p-1', 'global', 'gemini-2.5-pro', true)).toBe(
      'https://aiplatform.googleapis.com/v1/projects/p-1/locations/global/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse',
    );
    expect(vertexURL('https://us-east5-aiplatform.googleapis.com', 'p-1', 'us-east5', 'claude-sonnet-4-5@20250929', false)).toBe(
      'https://us-east5-aiplatform.googleapis.com/v1/projects/p-1/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict',
    );
    expect(vertexURL('https://h', 'p-1', 'us-east5', 'claude-opus-4-1', true)).toMatch(/anthropic\/models\/claude-opus-4-1:streamRawPredict$/);
  });

  it('Claude: the Messages body with the vertex anthropic_version and no model; Gemini: the gemini body', () => {
    const c = JSON.parse(vertexAdapter.buildRequest('chat', { model: 'x', messages: [{ role: 'system', content: 'S' }, { role: 'user', content: 'Hi' }] }, target('claude-sonnet-4-5@20250929'), { stream: true }).body);
    expect(c).toMatchObject({ anthropic_version: 'vertex-2023-10-16', system: 'S', stream: true, messages: [{ role: 'user' }] });
    expect(c.model).toBeUndefined();
    expect(c.max_tokens).toBeGreaterThan(0);
    const g = JSON.parse(vertexAdapter.buildRequest('chat', { model: 'x', messages: [{ role: 'user', content: 'Hi' }] }, target('gemini-2.5-flash'), { stream: false }).body);
    expect(g).toMatchObject({ contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] });
    expect(() => vertexAdapter.buildRequest('embeddings', { model: 'x', input: 'a' }, target('gemini-2.5-flash'), { stream: false })).toThrow(/not supported by vertex/);
  });

  it('errors: Google shape (Vertex itself) and Anthropic shape (Claude)', () => {
    expect(vertexAdapter.parseError(401, JSON.stringify({ error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' } })).errorClass).toBe('auth');
    expect(vertexAdapter.parseError(429, JSON.stringify({ error: { code: 429, message: 'Quota exceeded', status: 'RESOURCE_EXHAUSTED' } })).errorClass).toBe('rate-limit');
    expect(vertexAdapter.parseError(529, JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })).errorClass).toBe('server-error');
  });

  it('a Secret is a service-account key file; errors name no value', () => {
    const key = { type: 'service_account', client_email: 'a@p.iam.gserviceaccount.com', private_key: '-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n' };
    expect(readVertexSecret(JSON.stringify(key))).toMatchObject({ client_email: key.client_email });
    expect(() => readVertexSecret('AIza-not-json')).toThrow(/not a service-account key file/);
    expect(() => readVertexSecret(JSON.stringify({ ...key, type: 'authorized_user' }))).toThrow(/"type": "service_account"/);
    expect(() => readVertexSecret(JSON.stringify({ ...key, private_key: '' }))).toThrow(/no private_key/);
  });

  it("a key's token_uri: Google's own is left to the library; another must be https or loopback http", () => {
    expect(keyTokenUri({})).toBeUndefined();
    expect(keyTokenUri({ token_uri: 'https://oauth2.googleapis.com/token' })).toBeUndefined();
    expect(keyTokenUri({ token_uri: 'https://oauth2.example.test/token' })?.href).toBe('https://oauth2.example.test/token');
    expect(keyTokenUri({ token_uri: 'http://127.0.0.1:8080/token' })?.href).toBe('http://127.0.0.1:8080/token');
    expect(() => keyTokenUri({ token_uri: 'http://oauth2.example.test/token' })).toThrow(/neither https nor a loopback/);
    expect(() => keyTokenUri({ token_uri: 'not a url' })).toThrow(/not a URL/);
  });

  it('no cost for those who do not use it: google-auth-library loads on the first vertex request only', () => {
    const vertex = fileURLToPath(new URL('./vertex.ts', import.meta.url));
    const probe = `const { createRequire } = await import('node:module'); const r = createRequire(import.meta.url); const n = () => Object.keys(r.cache).filter((k) => /google-auth-library|gaxios|gcp-metadata/.test(k)).length;`;
    const script = `${probe} const { vertexAdapter } = await import(${JSON.stringify(vertex)}); const before = n(); const { Secret } = await import(${JSON.stringify(fileURLToPath(new URL('../secret.ts', import.meta.url)))}); await vertexAdapter.prepare({ url: 'https://h/x', headers: {}, body: '{}' }, { provider: 'vertex', model: 'm', baseURL: 'https://h', project: 'p', location: 'l', apiKey: new Secret('not json') }, new AbortController().signal).catch(() => {}); process.stdout.write(JSON.stringify([before, n() > 0]));`;
    expect(JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }))).toEqual([0, true]);
  });

  it('no Google identity to be had: a CredentialsError that names the source', () => {
    const vertex = fileURLToPath(new URL('./vertex.ts', import.meta.url));
    const script = `const { vertexAdapter } = await import(${JSON.stringify(vertex)}); try { await vertexAdapter.prepare({ url: 'https://h/x', headers: {}, body: '{}' }, { provider: 'vertex', model: 'm', baseURL: 'https://h', project: 'p', location: 'l' }, new AbortController().signal); process.stdout.write('no error'); } catch (e) { process.stdout.write(JSON.stringify([e.code, e.message])); }`;
    // Port 1: below the ephemeral range, refused (test/fakes/refused-port.ts); no gcloud credentials in the HOME.
    const env = { ...process.env, GCE_METADATA_HOST: '127.0.0.1:1', HOME: '/nonexistent', GOOGLE_APPLICATION_CREDENTIALS: '' };
    const [code, message] = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env })) as [string, string];
    expect(code).toBe('credentials_unavailable');
    expect(message).toMatch(/^no Google access token for vertex from the pod's Google identity \(GKE Workload Identity, the metadata server\)/);
  });
});
