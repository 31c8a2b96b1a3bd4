// The fake OAuth token endpoint takes only what Google's takes: the JWT bearer grant, an RS256
// assertion signed by a registered service account's key, iss that account, aud the endpoint,
// iat/exp a short-lived window around now, a scope; it refuses the rest with Google's OAuth
// errors. The fake Vertex takes its tokens, as it takes the metadata server's, until they expire.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { CLOUD_PLATFORM_SCOPE, TokenStore } from './fake-google-auth.ts';
import { JWT_BEARER, serviceAccountKey, startFakeGoogleOAuth, type FakeGoogleOAuth, type ServiceAccountKey } from './fake-google-oauth.ts';
import { startFakeVertex, type FakeVertex } from './fake-vertex.ts';

let now = 1_800_000_000_000;
const tokens = new TokenStore(() => now);
let oauth: FakeGoogleOAuth;
let vertex: FakeVertex;
let sa: ServiceAccountKey;

beforeAll(async () => {
  oauth = await startFakeGoogleOAuth(tokens, { ttlMs: 30_000, now: () => now });
  vertex = await startFakeVertex({ project: 'my-project-1', location: 'us-east5', tokens });
  sa = serviceAccountKey(oauth.tokenUri);
  oauth.register(sa.email, sa.publicKey);
});

afterAll(async () => {
  await Promise.all([oauth?.close(), vertex?.close()]);
});

function jwt(claims: Record<string, unknown>, o: { alg?: string; key?: string } = {}): string {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const head = `${enc({ alg: o.alg ?? 'RS256', typ: 'JWT' })}.${enc(claims)}`;
  return `${head}.${sign('RSA-SHA256', Buffer.from(head), createPrivateKey(o.key ?? (sa.json.private_key as string))).toString('base64url')}`;
}
const claims = (over: Record<string, unknown> = {}) => {
  const iat = Math.floor(now / 1000);
  return { iss: sa.email, aud: oauth.tokenUri, scope: CLOUD_PLATFORM_SCOPE, iat, exp: iat + 3600, ...over };
};
const grant = (assertion: string, grantType = JWT_BEARER) =>
  fetch(oauth.tokenUri, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: grantType, assertion }).toString() });
const claude = (token: string) =>
  fetch(`${vertex.url}/v1/projects/my-project-1/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ anthropic_version: 'vertex-2023-10-16', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] }),
  });

describe('fake Google OAuth token endpoint', () => {
  it('trades a good assertion for a short-lived token the fake Vertex takes until it expires', async () => {
    expect(sa.json).toMatchObject({ type: 'service_account', client_email: sa.email, token_uri: oauth.tokenUri });
    const r = await grant(jwt(claims()));
    expect(r.status).toBe(200);
    const body = (await r.json()) as { access_token: string; expires_in: number; token_type: string };
    expect(body).toMatchObject({ expires_in: 30, token_type: 'Bearer' });
    expect(tokens.issued.at(-1)).toMatchObject({ token: body.access_token, subject: sa.email, scopes: [CLOUD_PLATFORM_SCOPE] });
    expect((await claude(body.access_token)).status).toBe(200);
    now += 30_000;
    expect((await claude(body.access_token)).status).toBe(401);
  });

  it("refuses what Google refuses, with Google's OAuth errors", async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const t = Math.floor(now / 1000);
    const cases: Array<[string, string, RegExp]> = [
      [jwt(claims(), { key: other }), 'invalid_grant', /Invalid JWT Signature/],
      [jwt(claims({ iss: 'someone@else.iam.gserviceaccount.com' })), 'invalid_grant', /account not found/],
      [jwt(claims({ aud: 'https://oauth2.googleapis.com/token' })), 'invalid_grant', /aud/],
      [jwt(claims({ iat: t - 7200, exp: t - 3600 })), 'invalid_grant', /short-lived/],
      [jwt(claims({ exp: t + 7200 })), 'invalid_grant', /short-lived/],
      [jwt(claims({ iat: t + 600, exp: t + 1200 })), 'invalid_grant', /short-lived/],
      [jwt(claims({ scope: '' })), 'invalid_scope', /scope/],
      [jwt(claims(), { alg: 'HS256' }), 'invalid_grant', /algorithm/],
      ['not.a-jwt', 'invalid_grant', /JSON|JWS/],
    ];
    for (const [assertion, error, why] of cases) {
      const r = await grant(assertion);
      const body = (await r.json()) as { error: string; error_description: string };
      expect([r.status, body.error]).toEqual([400, error]);
      expect(body.error_description).toMatch(why);
    }
    const g = await grant(jwt(claims()), 'client_credentials');
    expect([g.status, ((await g.json()) as { error: string }).error]).toEqual([400, 'unsupported_grant_type']);
  });
});
