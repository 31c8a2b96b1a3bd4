/**
 * Vertex AI request authentication, loaded only by vertex targets (vertex.ts
 * imports it on first use): this module pulls in google-auth-library.
 *
 * A target's credentials, by its Secret (README, "Vertex AI targets"):
 * - a service-account key file (JSON, `"type": "service_account"` with
 *   `client_email` and `private_key`): the library signs a JWT with the key
 *   and trades it at the key's `token_uri` for an access token;
 * - no Secret: the pod's Google identity from the metadata server (GKE
 *   Workload Identity; `GCE_METADATA_HOST` names another metadata host).
 * Scope https://www.googleapis.com/auth/cloud-platform. The library caches
 * each token and fetches the next from five minutes before expiry, so no
 * request goes out with an expired one. The token goes into
 * `Authorization: Bearer`, never into a log or an error: errors name the
 * source only.
 */
import { GoogleAuth } from 'google-auth-library';
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

/** One GoogleAuth per Secret (its token cache lives as long as the Secret), one for the pod. */
const bySecret = new WeakMap<Secret, GoogleAuth>();
let pod: GoogleAuth | undefined;

function authFor(target: ProviderTarget): { auth: GoogleAuth; source: string } {
  if (target.apiKey) {
    let auth = bySecret.get(target.apiKey);
    if (!auth) {
      auth = new GoogleAuth({ credentials: readVertexSecret(target.apiKey.reveal()), scopes: [VERTEX_SCOPE] });
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
