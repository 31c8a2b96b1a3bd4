/**
 * Vertex AI request authentication, loaded only by vertex targets (vertex.ts
 * imports it on first use): this module pulls in google-auth-library.
 *
 * A target's credentials, by its Secret (README, "Vertex AI targets"):
 * - a service-account key file (JSON, `"type": "service_account"` with
 *   `client_email` and `private_key`): the library signs a JWT with the key
 *   and trades it at the key's `token_uri` for an access token. (The JWT
 *   flow of google-auth-library 11 always posts to
 *   https://oauth2.googleapis.com/token with that as the JWT's `aud`,
 *   whatever the key says; for a key whose `token_uri` is another, as
 *   Google's Python and Go libraries do, the assertion's `aud` is the
 *   `token_uri` and the token request goes there: https, or http to a
 *   loopback address only.)
 * - no Secret: the pod's Google identity from the metadata server (GKE
 *   Workload Identity; `GCE_METADATA_HOST` names another metadata host).
 * Scope https://www.googleapis.com/auth/cloud-platform. The library caches
 * each token and fetches the next from five minutes before expiry, so no
 * request goes out with an expired one. The token goes into
 * `Authorization: Bearer`, never into a log or an error: errors name the
 * source only.
 */
import { GoogleAuth, JWT } from 'google-auth-library';
import { CredentialsError } from '../errors.ts';
import type { Secret } from '../secret.ts';
import { isObject, redact, rejectOnAbort } from './common.ts';
import type { ProviderTarget, UpstreamRequest } from './types.ts';

export const VERTEX_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/** The service-account key in a Secret's value. Throws CredentialsError (naming no field's value) for anything else. */
export function readVertexSecret(value: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(value);
  } catch {
    throw new CredentialsError('the vertex Secret is not a service-account key file (JSON)');
  }
  if (!isObject(v) || v.type !== 'service_account') throw new CredentialsError('the vertex Secret is not a service-account key file (JSON with "type": "service_account")');
  for (const field of ['client_email', 'private_key'] as const) {
    if (typeof v[field] !== 'string' || !v[field]) throw new CredentialsError(`the vertex service-account key has no ${field}`);
  }
  return v;
}

/** Where google-auth-library's JWT flow posts the assertion, whatever the key file says. */
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

/** The key's `token_uri` when it names another token endpoint than Google's. Throws CredentialsError for one it will not send an assertion to. */
export function keyTokenUri(key: Record<string, unknown>): URL | undefined {
  const raw = key.token_uri;
  if (raw === undefined || raw === GOOGLE_TOKEN_URL) return undefined;
  let url: URL;
  try {
    url = new URL(String(raw));
  } catch {
    throw new CredentialsError('the vertex service-account key has a token_uri that is not a URL');
  }
  const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) throw new CredentialsError('the vertex service-account key has a token_uri that is neither https nor a loopback address');
  return url.href === GOOGLE_TOKEN_URL ? undefined : url;
}

/** A GoogleAuth for a service-account key, its token requests sent to the key's token_uri. */
function keyAuth(key: Record<string, unknown>): GoogleAuth {
  const tokenUri = keyTokenUri(key);
  if (!tokenUri) return new GoogleAuth({ credentials: key, scopes: [VERTEX_SCOPE] });
  const jwt = new JWT({ scopes: [VERTEX_SCOPE], additionalClaims: { aud: tokenUri.href } });
  jwt.fromJSON(key);
  jwt.transporter.interceptors.request.add({
    resolved: async (config) => (String(config.url) === GOOGLE_TOKEN_URL ? { ...config, url: new URL(tokenUri.href) } : config),
  });
  return new GoogleAuth({ authClient: jwt });
}

/** One GoogleAuth per Secret (its token cache lives as long as the Secret), one for the pod. */
const bySecret = new WeakMap<Secret, GoogleAuth>();
let pod: GoogleAuth | undefined;

function authFor(target: ProviderTarget): { auth: GoogleAuth; source: string } {
  if (target.apiKey) {
    let auth = bySecret.get(target.apiKey);
    if (!auth) {
      auth = keyAuth(readVertexSecret(target.apiKey.reveal()));
      bySecret.set(target.apiKey, auth);
    }
    return { auth, source: "the target's service-account key" };
  }
  pod ??= new GoogleAuth({ scopes: [VERTEX_SCOPE] });
  return { auth: pod, source: "the pod's Google identity (GKE Workload Identity, the metadata server)" };
}

/** The request with `Authorization: Bearer <access token>`. Rejects with a CredentialsError when no token can be had. */
export async function authorizeVertexRequest(req: UpstreamRequest, target: ProviderTarget, signal: AbortSignal): Promise<UpstreamRequest> {
  const { auth, source } = authFor(target);
  let token: string | null | undefined;
  try {
    token = await rejectOnAbort(auth.getAccessToken(), signal);
  } catch (err) {
    if (signal.aborted) throw err;
    const why = err instanceof Error ? redact(err.message).slice(0, 300) : 'unknown error';
    throw new CredentialsError(`no Google access token for vertex from ${source}: ${why}`);
  }
  if (!token) throw new CredentialsError(`no Google access token for vertex from ${source}`);
  return { ...req, headers: { ...req.headers, authorization: `Bearer ${token}` } };
}
