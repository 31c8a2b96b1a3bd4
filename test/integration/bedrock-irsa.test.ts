/**
 * IRSA (IAM Roles for Service Accounts) through a real sidecar process and
 * the official openai Node SDK: the sidecar gets exactly what the EKS
 * pod-identity webhook injects (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE,
 * AWS_REGION; no static keys) plus AWS_ENDPOINT_URL_STS, the SDK's
 * per-service endpoint override, pointing it at a fake STS. Claude on the
 * Anthropic API fails over to a keyless bedrock target whose requests are
 * signed with the credentials the fake STS issued; those expire within
 * seconds, and once they have, the next request fetches new ones (never
 * sent expired: the fake Bedrock would answer ExpiredTokenException). A
 * token file STS refuses makes the bedrock attempt an auth failure and the
 * route falls back.
 */
import { writeFileSync } from 'node:fs';
import OpenAI from 'openai';
import { startFakeProvider, type FakeProvider } from '../fakes/fake-provider.ts';
import { startFakeBedrock, type FakeBedrock } from '../fakes/fake-bedrock.ts';
import { CredentialStore } from '../fakes/fake-aws-credentials.ts';
import { startFakeSts, type FakeSts } from '../fakes/fake-sts.ts';
import { eventually, startSidecarProcess, type SidecarProcess } from '../support/sidecar-process.ts';
import { streamChat } from '../support/chat-client.ts';

const MODEL = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
const TTL_MS = 5_000;
let anthropic: FakeProvider;
let openai: FakeProvider;
let bedrock: FakeBedrock;
let sts: FakeSts;
let sidecar: SidecarProcess;
let client: OpenAI;
const store = new CredentialStore();

const policy = `
  retry: {attempts: 0}
  timeouts: {connect: 500ms, firstByte: 5s, total: 20s}`;

/** No AWS identity but the one given: no static keys, no shared files, no container or instance credentials. */
const noOtherIdentity = {
  AWS_ACCESS_KEY_ID: '',
  AWS_SECRET_ACCESS_KEY: '',
  AWS_SESSION_TOKEN: '',
  AWS_PROFILE: '',
  AWS_CONFIG_FILE: '/nonexistent',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
  AWS_CONTAINER_CREDENTIALS_FULL_URI: '',
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '',
  AWS_EC2_METADATA_DISABLED: 'true',
};

const config = (routes: string) => `routes:\n${routes}`;

beforeAll(async () => {
  anthropic = await startFakeProvider({ flavor: 'anthropic', name: 'anthropic', behaviour: { kind: 'status', status: 529 } });
  openai = await startFakeProvider({ flavor: 'openai', name: 'openai', text: 'Hello from openai' });
  sts = await startFakeSts(store, { ttlMs: TTL_MS });
  bedrock = await startFakeBedrock({ region: 'us-west-2', store, text: 'Hello from bedrock' });
  sidecar = await startSidecarProcess(
    config(`- name: claude
  targets:
  - {name: anthropic, provider: anthropic, baseURL: "${anthropic.url}", model: claude-sonnet-4-5, apiKey: {value: sk-ant-x}}
  - {name: bedrock, provider: bedrock, priority: 1, region: us-west-2, endpoint: "${bedrock.url}", model: "${MODEL}"}
${policy}
`),
    { env: { ...noOtherIdentity, ...sts.env, AWS_REGION: 'us-west-2' } },
  );
  client = new OpenAI({ baseURL: sidecar.baseURL, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await sidecar?.stop();
  await Promise.all([anthropic?.close(), openai?.close(), bedrock?.close(), sts?.close()]);
});

const accessKeyOf = (q: { headers: Record<string, string> }): string | undefined => /Credential=([^/]+)\//.exec(q.headers.authorization ?? '')?.[1];

describe('anthropic -> Claude on bedrock, credentials from IRSA (AssumeRoleWithWebIdentity)', () => {
  it('non-stream and stream, signed with the STS credentials; refreshed once they expire', async () => {
    const r = await client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'Hi' }] });
    expect(r.choices[0]!.message.content).toBe('Hello from bedrock');
    expect(await streamChat(client, 'claude')).toMatchObject({ text: 'Hello from bedrock', finish: 'stop' });
    const sent = bedrock.requests.filter((q) => q.outcome === 'ok');
    expect(sent.map((q) => q.pathname)).toEqual([`/model/${encodeURIComponent(MODEL)}/converse`, `/model/${encodeURIComponent(MODEL)}/converse-stream`]);
    for (const q of sent) {
      const key = sts.issued.find((k) => k.accessKeyId === accessKeyOf(q));
      expect(key).toBeDefined();
      expect(q.headers['x-amz-security-token']).toBe(key!.sessionToken);
    }
    // What the SDK sent STS: the webhook's role and the projected token, unsigned.
    const first = sts.requests[0]!;
    expect(first.outcome).toBe('issue');
    expect(first.headers.authorization).toBeUndefined();
    expect(Object.fromEntries(new URLSearchParams(first.rawBody))).toMatchObject({ Action: 'AssumeRoleWithWebIdentity', Version: '2011-06-15', RoleArn: sts.roleArn, WebIdentityToken: sts.token });

    // Every credential issued so far expires (STS is idle meanwhile: nothing asks it), then a request.
    await eventually(() => Date.now() > Math.max(...sts.issued.map((k) => k.expiresAt!)) + 50, TTL_MS * 3, 100);
    const issuedBefore = sts.issued.length;
    const usedBefore = new Set(sent.map((q) => q.headers['x-amz-security-token']));
    const later = await client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'Hi' }] });
    expect(later.choices[0]!.message.content).toBe('Hello from bedrock');
    expect(sts.issued.length).toBeGreaterThan(issuedBefore);
    const last = bedrock.requests.at(-1)!;
    expect(last.outcome).toBe('ok');
    expect(last.headers['x-amz-security-token']).toBe(sts.issued[issuedBefore]!.sessionToken);
    expect(usedBefore.has(last.headers['x-amz-security-token'])).toBe(false);
    // Never sent with expired credentials, nothing refused, STS never refused.
    expect(bedrock.refusals).toEqual([]);
    expect(sts.refusals).toEqual([]);
    // No key, session token or web identity token in the sidecar's output.
    const out = JSON.stringify(sidecar.logs) + sidecar.stderr();
    expect(out).not.toContain(sts.token);
    for (const k of sts.issued) {
      expect(out).not.toContain(k.secretAccessKey);
      expect(out).not.toContain(k.sessionToken!);
    }
  });

  it('a token file STS refuses (InvalidIdentityToken): the bedrock attempt is auth and the route falls back', async () => {
    const refusing = await startFakeSts(new CredentialStore(), { ttlMs: TTL_MS });
    writeFileSync(refusing.tokenFile, 'eyJhbGciOiJSUzI1NiJ9.not-the-projected-token.sig');
    const one = await startSidecarProcess(
      config(`- name: claude
  targets:
  - {name: bedrock, provider: bedrock, region: us-west-2, endpoint: "${bedrock.url}", model: "${MODEL}"}
  - {name: openai, provider: openai, priority: 1, baseURL: "${openai.url}", model: gpt-4o-mini, apiKey: {value: sk-x}}
${policy}
`),
      { env: { ...noOtherIdentity, ...refusing.env, AWS_REGION: 'us-west-2' } },
    );
    try {
      const c = new OpenAI({ baseURL: one.baseURL, apiKey: 'unused', maxRetries: 0 });
      const before = bedrock.requests.length;
      const { data, response } = await c.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
      expect(data.choices[0]!.message.content).toBe('Hello from openai');
      expect(response.headers.get('x-llmroute-target')).toBe('openai');
      expect(response.headers.get('x-llmroute-fallbacks')).toBe('1');
      expect(refusing.refusals[0]).toBe('InvalidIdentityToken');
      // Nothing reached Bedrock: there were no credentials to sign with.
      expect(bedrock.requests.length).toBe(before);
      const failed = await one.waitForLog((l) => l.msg === 'upstream attempt failed' && l.target === 'bedrock');
      expect(failed.class).toBe('auth');
      expect(String(failed.error)).toMatch(/no AWS credentials for bedrock/);
      expect(JSON.stringify(one.logs) + one.stderr()).not.toContain('not-the-projected-token');
    } finally {
      await one.stop();
      await refusing.close();
    }
  });
});
