// The fake STS refuses what STS refuses (another action or version, a missing parameter, a
// session name off the pattern, a token the identity provider did not issue, another role), in
// STS's XML error shape; the SDK's own web-identity provider, pointed at it with
// AWS_ENDPOINT_URL_STS, gets credentials from it; the fake Bedrock takes those credentials
// until they expire, then answers ExpiredTokenException.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import aws4 from 'aws4';
import { fromTokenFile } from '@aws-sdk/credential-providers';
import { CredentialStore } from './fake-aws-credentials.ts';
import { startFakeBedrock, type FakeBedrock } from './fake-bedrock.ts';
import { startFakeSts, type FakeSts } from './fake-sts.ts';

let now = Date.UTC(2026, 0, 2, 3, 4, 5);
const store = new CredentialStore();
let sts: FakeSts;
let bedrock: FakeBedrock;

beforeAll(async () => {
  sts = await startFakeSts(store, { ttlMs: 900_000, now: () => now });
  bedrock = await startFakeBedrock({ region: 'us-west-2', store, now: () => now });
});

afterAll(async () => {
  await Promise.all([sts?.close(), bedrock?.close()]);
});

const form = (p: Record<string, string>) =>
  fetch(sts.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body: new URLSearchParams(p).toString() });
const good = () => ({ Action: 'AssumeRoleWithWebIdentity', Version: '2011-06-15', RoleArn: sts.roleArn, RoleSessionName: 'app-1', WebIdentityToken: sts.token });
const code = (xml: string) => /<Code>([^<]+)<\/Code>/.exec(xml)?.[1];

describe('fake STS', () => {
  it('issues credentials in the documented XML, POST form-encoded or GET, expiring to the second', async () => {
    const r = await form(good());
    expect(r.status).toBe(200);
    const xml = await r.text();
    expect(xml).toMatch(/^<AssumeRoleWithWebIdentityResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/">/);
    const key = sts.issued.at(-1)!;
    expect(xml).toContain(`<AccessKeyId>${key.accessKeyId}</AccessKeyId>`);
    expect(xml).toContain(`<SessionToken>${key.sessionToken}</SessionToken>`);
    expect(xml).toContain(`<Expiration>${new Date(now + 900_000).toISOString().replace('.000Z', 'Z')}</Expiration>`);
    const g = await fetch(`${sts.url}/?${new URLSearchParams(good())}`);
    expect(g.status).toBe(200);
    expect(sts.issued.length).toBe(2);
  });

  it("refuses what STS refuses, in STS's error XML", async () => {
    const cases: Array<[Record<string, string>, number, string]> = [
      [{ ...good(), Action: 'AssumeRole' }, 400, 'InvalidAction'],
      [{ ...good(), Version: '2010-05-08' }, 400, 'InvalidAction'],
      [{ ...good(), RoleSessionName: '' }, 400, 'MissingParameter'],
      [{ ...good(), RoleSessionName: 'has space' }, 400, 'ValidationError'],
      [{ ...good(), DurationSeconds: '60' }, 400, 'ValidationError'],
      [{ ...good(), WebIdentityToken: 'eyJforged' }, 400, 'InvalidIdentityToken'],
      [{ ...good(), RoleArn: 'arn:aws:iam::123456789012:role/other' }, 403, 'AccessDenied'],
    ];
    for (const [p, status, c] of cases) {
      const r = await form(p);
      const xml = await r.text();
      expect([r.status, code(xml)]).toEqual([status, c]);
      expect(xml).toMatch(/<ErrorResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/">\s*<Error>\s*<Type>Sender<\/Type>/);
      expect(xml).not.toContain(sts.token);
    }
    const json = await fetch(sts.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(good()) });
    expect(json.status).toBe(400);
  });

  it("the SDK's web-identity provider gets credentials from it through AWS_ENDPOINT_URL_STS", async () => {
    const saved = process.env.AWS_ENDPOINT_URL_STS;
    process.env.AWS_ENDPOINT_URL_STS = sts.url;
    try {
      const before = sts.requests.length;
      const c = await fromTokenFile({ webIdentityTokenFile: sts.tokenFile, roleArn: sts.roleArn, clientConfig: { region: 'us-west-2' } })();
      const key = sts.issued.at(-1)!;
      expect(c).toMatchObject({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, sessionToken: key.sessionToken, expiration: new Date(key.expiresAt!) });
      const q = sts.requests[before]!;
      expect([q.method, q.outcome]).toEqual(['POST', 'issue']);
      expect(Object.fromEntries(new URLSearchParams(q.rawBody))).toMatchObject({ Action: 'AssumeRoleWithWebIdentity', Version: '2011-06-15', RoleArn: sts.roleArn, WebIdentityToken: sts.token });
      expect(q.headers.authorization).toBeUndefined();
      await expect(fromTokenFile({ webIdentityTokenFile: sts.tokenFile, roleArn: 'arn:aws:iam::123456789012:role/other', clientConfig: { region: 'us-west-2' } })()).rejects.toMatchObject({ name: 'AccessDenied' });
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_STS;
      else process.env.AWS_ENDPOINT_URL_STS = saved;
    }
  });
});

describe('fake Bedrock with STS credentials', () => {
  const converse = (key: { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined }) => {
    const body = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'Hi' }] }] });
    const amzDate = new Date(now).toISOString().replace(/[:-]|\.\d{3}/g, '');
    const signed = aws4.sign(
      { host: bedrock.host, path: '/model/m/converse', method: 'POST', service: 'bedrock', region: 'us-west-2', headers: { 'content-type': 'application/json', 'X-Amz-Date': amzDate }, body },
      { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, ...(key.sessionToken ? { sessionToken: key.sessionToken } : {}) },
    );
    // node:http, not fetch: fetch will not send another Host than the address's.
    return new Promise<{ status: number; errorType: string | undefined }>((resolve, reject) => {
      const req = http.request(`${bedrock.url}/model/m/converse`, { method: 'POST', headers: signed.headers as Record<string, string> }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, errorType: res.headers['x-amzn-errortype'] as string | undefined }));
      });
      req.on('error', reject);
      req.end(body);
    });
  };

  it('takes them until they expire, then answers ExpiredTokenException; without the session token they are invalid', async () => {
    await form(good());
    const key = sts.issued.at(-1)!;
    const ok = await converse(key);
    expect([ok.status, bedrock.refusals]).toEqual([200, []]);
    expect((await converse({ ...key, sessionToken: undefined })).status).toBe(403);
    expect(bedrock.refusals.at(-1)).toBe('UnrecognizedClientException');
    now = key.expiresAt! + 1;
    const r = await converse(key);
    expect(r.status).toBe(403);
    expect(r.errorType).toMatch(/^ExpiredTokenException:/);
  });
});
