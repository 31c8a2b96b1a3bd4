/**
 * A fake Google token source, as the pod sees it: a GCE metadata server (GKE Workload Identity's, `GCE_METADATA_HOST` points
 *   google-auth-library at it): `GET /computeMetadata/v1/instance` (the
 *   library's detection ping) and
 *   `GET /computeMetadata/v1/instance/service-accounts/default/token?scopes=…`
 *   → `{"access_token","expires_in","token_type":"Bearer"}`. Like the real
 *   one it refuses (403) a request without `Metadata-Flavor: Google`, and
 *   answers with that header;
 * Every token issued goes into a TokenStore with a short lifetime (60 s by
 * default, inside the library's five-minute refresh window, so every
 * request fetches a new one); fake-vertex.ts accepts only unexpired tokens
 * of its store.
 */
import { randomAlnum } from './wire-common.ts';
import { CloudServer, type CloudRequest } from './fake-cloud-server.ts';

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

export interface IssuedToken {
  token: string;
  expiresAt: number;
  scopes: string[];
  /** Who it was issued to: `metadata` or a service account's email. */
  subject: string;
}

export class TokenStore {
  readonly issued: IssuedToken[] = [];
  readonly #now: () => number;
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }
  issue(subject: string, scopes: string[], ttlMs: number): IssuedToken {
    const t = { token: `ya29.${randomAlnum(120)}`, expiresAt: this.#now() + ttlMs, scopes, subject };
    this.issued.push(t);
    return t;
  }
  /** Why a bearer token is refused, or undefined when it is valid. */
  check(token: string | undefined): 'missing' | 'unknown' | 'expired' | 'scope' | undefined {
    if (!token) return 'missing';
    const t = this.issued.find((i) => i.token === token);
    if (!t) return 'unknown';
    if (t.expiresAt <= this.#now()) return 'expired';
    if (!t.scopes.includes(CLOUD_PLATFORM_SCOPE)) return 'scope';
    return undefined;
  }
}

export interface FakeMetadataServer {
  readonly origin: string;
  readonly requests: CloudRequest[];
  close(): Promise<void>;
  /** The env that points google-auth-library (gcp-metadata) at this server. */
  readonly env: Record<string, string>;
}

export async function startFakeMetadataServer(store: TokenStore, o: { ttlMs?: number; project?: string } = {}): Promise<FakeMetadataServer> {
  const ttl = o.ttlMs ?? 60_000;
  const server = new CloudServer<{ kind: 'issue' }>((req, res, _job, next) => {
    const flavor = { 'metadata-flavor': 'Google', 'content-type': 'application/json' };
    if (req.headers['metadata-flavor'] !== 'Google') {
      req.outcome = 'no-flavor';
      res.writeHead(403, { 'content-type': 'text/html' }).end('Missing required header: Metadata-Flavor');
      return;
    }
    if (req.method !== 'GET') {
      req.outcome = 'not-found';
      res.writeHead(405, flavor).end();
      return;
    }
    if (req.pathname === '/computeMetadata/v1/instance' || req.pathname === '/computeMetadata/v1/instance/') {
      req.outcome = 'ping';
      res.writeHead(200, { ...flavor, 'content-type': 'application/text' }).end('attributes/\nservice-accounts/\n');
      return;
    }
    if (req.pathname === '/computeMetadata/v1/project/project-id') {
      req.outcome = 'project-id';
      res.writeHead(200, { ...flavor, 'content-type': 'application/text' }).end(o.project ?? 'my-project-1');
      return;
    }
    if (req.pathname !== '/computeMetadata/v1/instance/service-accounts/default/token') {
      req.outcome = 'not-found';
      res.writeHead(404, { ...flavor, 'content-type': 'text/html' }).end('Not Found');
      return;
    }
    next();
    const scopes = (req.query.scopes ?? CLOUD_PLATFORM_SCOPE).split(',').filter(Boolean);
    const t = store.issue('metadata', scopes, ttl);
    res.writeHead(200, flavor).end(JSON.stringify({ access_token: t.token, expires_in: Math.floor(ttl / 1000), token_type: 'Bearer' }));
  }, { kind: 'issue' });
  await server.listen();
  return { origin: server.origin, requests: server.requests, env: { GCE_METADATA_HOST: `127.0.0.1:${server.port}` }, close: () => server.close() };
}
