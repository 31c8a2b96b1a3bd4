/**
 * A fake Google OAuth 2.0 token endpoint for service-account keys (the JWT
 * bearer grant, RFC 7523, as https://oauth2.googleapis.com/token serves
 * it): `POST /token`, form-encoded
 * `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>`
 * → `{"access_token","expires_in","token_type":"Bearer"}`.
 *
 * It checks what Google checks: the grant type; the assertion is a JWT
 * signed RS256 with the private key of a registered service account (the
 * signature verified with the public key of the pair the test generated,
 * node:crypto); `iss` that account's client_email; `aud` this endpoint
 * (the key file's token_uri); `iat` not in the future and `exp` after now,
 * at most an hour after `iat`; a `scope`. Refusals are Google's OAuth
 * errors: 400 `{"error":"invalid_grant"|"unsupported_grant_type"|"invalid_scope","error_description"}`.
 * Tokens go into the TokenStore (fake-google-auth.ts) fake-vertex.ts checks,
 * with the account's email as subject, and expire after `ttlMs` (short, so
 * refresh is exercised).
 *
 * `serviceAccountKey()` writes a key file as `gcloud iam service-accounts keys create` does, for a
 * fresh RSA pair whose public half it returns.
 */
import { createPublicKey, generateKeyPairSync, randomUUID, verify, type KeyObject } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { CloudServer, type CloudRequest } from './fake-cloud-server.ts';
import type { TokenStore } from './fake-google-auth.ts';
import { randomHex } from './wire-common.ts';

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export interface ServiceAccountKey {
  /** The key file's JSON, as a Secret would hold it. */
  json: Record<string, unknown>;
  email: string;
  publicKey: KeyObject;
}

/** A service-account key file for a new RSA-2048 pair, its token_uri the given endpoint. */
export function serviceAccountKey(tokenUri: string, o: { project?: string; name?: string } = {}): ServiceAccountKey {
  const project = o.project ?? 'my-project-1';
  const email = `${o.name ?? 'llmroute'}@${project}.iam.gserviceaccount.com`;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    email,
    publicKey,
    json: {
      type: 'service_account',
      project_id: project,
      private_key_id: randomHex(40),
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: email,
      client_id: String(100_000_000_000_000_000_000n + BigInt(Math.floor(Math.random() * 1e15))),
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      token_uri: tokenUri,
      auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
      client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(email)}`,
      universe_domain: 'googleapis.com',
    },
  };
}

export interface FakeGoogleOAuth {
  readonly origin: string;
  /** The token endpoint, the key files' token_uri. */
  readonly tokenUri: string;
  readonly requests: CloudRequest[];
  /** Why assertions were refused, in order. */
  readonly refusals: string[];
  /** Accepts assertions signed by this key for this account. */
  register(email: string, publicKey: KeyObject | string): void;
  close(): Promise<void>;
}

const b64url = (s: string): Buffer => Buffer.from(s, 'base64url');

function oauthError(res: ServerResponse, status: number, error: string, description: string): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache, no-store, max-age=0, must-revalidate' });
  res.end(JSON.stringify({ error, error_description: description }, null, 2));
}

export async function startFakeGoogleOAuth(store: TokenStore, o: { ttlMs?: number; now?: () => number } = {}): Promise<FakeGoogleOAuth> {
  const ttl = o.ttlMs ?? 60_000;
  const now = o.now ?? Date.now;
  const accounts = new Map<string, KeyObject>();
  const refusals: string[] = [];
  let tokenUri = '';
  const server = new CloudServer<{ kind: 'issue' }>((req, res, _job, next) => {
    const refuse = (status: number, error: string, description: string): void => {
      req.outcome = `refused:${error}`;
      refusals.push(`${error}: ${description}`);
      oauthError(res, status, error, description);
    };
    if (req.method !== 'POST' || req.pathname !== '/token') {
      req.outcome = 'not-found';
      res.writeHead(404, { 'content-type': 'text/html' }).end('Not Found');
      return;
    }
    if (!/^application\/x-www-form-urlencoded/i.test(req.headers['content-type'] ?? '')) return refuse(400, 'invalid_request', 'Invalid Content-Type: expected application/x-www-form-urlencoded');
    const form = new URLSearchParams(req.rawBody);
    const grant = form.get('grant_type');
    if (grant !== JWT_BEARER) return refuse(400, 'unsupported_grant_type', `Invalid grant_type: ${grant ?? ''}`);
    const parts = (form.get('assertion') ?? '').split('.');
    if (parts.length !== 3) return refuse(400, 'invalid_grant', 'Invalid JWT: not a JWS compact serialization.');
    let header: any;
    let claims: any;
    try {
      header = JSON.parse(b64url(parts[0]!).toString('utf8'));
      claims = JSON.parse(b64url(parts[1]!).toString('utf8'));
    } catch {
      return refuse(400, 'invalid_grant', 'Invalid JWT: the header or claim set is not JSON.');
    }
    if (header.alg !== 'RS256') return refuse(400, 'invalid_grant', `Invalid JWT: unsupported algorithm ${String(header.alg)}.`);
    const key = typeof claims.iss === 'string' ? accounts.get(claims.iss) : undefined;
    if (!key) return refuse(400, 'invalid_grant', 'Invalid grant: account not found');
    if (!verify('RSA-SHA256', Buffer.from(`${parts[0]}.${parts[1]}`), key, b64url(parts[2]!))) return refuse(400, 'invalid_grant', 'Invalid JWT Signature.');
    if (claims.aud !== tokenUri) return refuse(400, 'invalid_grant', `Invalid JWT: aud ${JSON.stringify(claims.aud)} is not ${tokenUri}.`);
    const t = Math.floor(now() / 1000);
    const skew = 60;
    if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number' || claims.iat > t + skew || claims.exp <= t - skew || claims.exp - claims.iat > 3600 || claims.exp <= claims.iat) {
      return refuse(400, 'invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.');
    }
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
    if (!scopes.length) return refuse(400, 'invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
    next();
    const issued = store.issue(claims.iss, scopes, ttl);
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache, no-store, max-age=0, must-revalidate', 'x-request-id': randomUUID() });
    res.end(JSON.stringify({ access_token: issued.token, expires_in: Math.floor(ttl / 1000), token_type: 'Bearer' }, null, 2));
  }, { kind: 'issue' });
  await server.listen();
  tokenUri = `${server.origin}/token`;
  return {
    origin: server.origin,
    tokenUri,
    requests: server.requests,
    refusals,
    register: (email, publicKey) => void accounts.set(email, typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey),
    close: () => server.close(),
  };
}
