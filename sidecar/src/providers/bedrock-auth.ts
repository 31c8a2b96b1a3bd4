/**
 * Bedrock request authentication, loaded only by bedrock targets (bedrock.ts
 * imports it on first use): this module pulls in @smithy/signature-v4,
 * @aws-crypto/sha256-js and @aws-sdk/credential-providers.
 *
 * A target's credentials, by its Secret's value (README, "Bedrock targets"):
 * - JSON `{"accessKeyId","secretAccessKey","sessionToken"?}`: an access key
 *   pair; requests are signed with SigV4.
 * - anything else: a Bedrock API key, sent as `Authorization: Bearer`.
 * - no Secret: the pod's AWS identity through the SDK's node provider chain
 *   (environment, IRSA web identity, EKS Pod Identity / ECS container
 *   credentials, instance role). The chain caches what it gets and fetches
 *   again from five minutes before expiry, so requests never wait on a
 *   refresh they could avoid and never go out with expired credentials.
 *
 * Requests are signed (service `bedrock`, the target's region) for the
 * regional host bedrock-runtime.<region>.amazonaws.com and carry it as
 * `Host`, whatever endpoint (PrivateLink, a VPC endpoint) they are sent to.
 * No credential reaches a log or an error: errors name the source only.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { SignatureV4 } from '@smithy/signature-v4';
import { bedrockRuntimeHost } from '../../../api/v1alpha1/enums.ts';
import { CredentialsError } from '../errors.ts';
import type { Secret } from '../secret.ts';
import { redact, rejectOnAbort } from './common.ts';
import type { ProviderTarget, UpstreamRequest } from './types.ts';

interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
  expiration?: Date | undefined;
}
type CredentialSource = () => Promise<AwsCredentials>;

/** What a target's Secret holds. */
export type BedrockAuth = { kind: 'bearer'; key: string } | { kind: 'keys'; credentials: AwsCredentials };

/** Reads a Secret's value (see the module comment). Throws CredentialsError for JSON that is not a key pair. */
export function readBedrockSecret(value: string): BedrockAuth {
  const text = value.trim();
  if (!text.startsWith('{')) return { kind: 'bearer', key: text };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new CredentialsError('the bedrock Secret is neither a Bedrock API key nor JSON {"accessKeyId","secretAccessKey","sessionToken"}');
  }
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  if (typeof o.accessKeyId !== 'string' || !o.accessKeyId || typeof o.secretAccessKey !== 'string' || !o.secretAccessKey) {
    throw new CredentialsError('the bedrock Secret is JSON without accessKeyId and secretAccessKey strings');
  }
  const sessionToken = typeof o.sessionToken === 'string' && o.sessionToken ? o.sessionToken : undefined;
  return { kind: 'keys', credentials: { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey, sessionToken } };
}

const parsedSecrets = new WeakMap<Secret, BedrockAuth>();
let chain: CredentialSource | undefined;
/** Signers by credential source and region (a SignatureV4 caches its signing keys). */
const signers = new WeakMap<object, Map<string, SignatureV4>>();

function signerFor(key: object, region: string, credentials: AwsCredentials | CredentialSource): SignatureV4 {
  let byRegion = signers.get(key);
  if (!byRegion) signers.set(key, (byRegion = new Map()));
  let signer = byRegion.get(region);
  if (!signer) {
    signer = new SignatureV4({ service: 'bedrock', region, sha256: Sha256, credentials, applyChecksum: false });
    byRegion.set(region, signer);
  }
  return signer;
}

/** The pod's credentials through the node provider chain: one chain per process, its cache shared by every target. */
function podCredentials(): CredentialSource {
  if (!chain) {
    const provider = fromNodeProviderChain();
    chain = async () => {
      try {
        return await provider();
      } catch (err) {
        const why = err instanceof Error ? redact(err.message) : 'unknown error';
        throw new CredentialsError(`no AWS credentials for bedrock from the pod's identity (IRSA, EKS Pod Identity, instance role): ${why}`);
      }
    };
  }
  return chain;
}

export interface SignOptions {
  /** The signing time (tests); default now. */
  now?: () => Date;
  /** The credentials when the target has no Secret (tests); default the node provider chain. */
  podCredentials?: CredentialSource;
}

/** The request with its auth headers: a bearer key, or a SigV4 signature for the regional host. */
export async function authorizeBedrockRequest(req: UpstreamRequest, target: ProviderTarget, signal: AbortSignal, o: SignOptions = {}): Promise<UpstreamRequest> {
  const region = target.region;
  if (!region) throw new CredentialsError('a bedrock target needs a region');
  let signer: SignatureV4;
  if (target.apiKey) {
    let auth = parsedSecrets.get(target.apiKey);
    if (!auth) parsedSecrets.set(target.apiKey, (auth = readBedrockSecret(target.apiKey.reveal())));
    if (auth.kind === 'bearer') return { ...req, headers: { ...req.headers, authorization: `Bearer ${auth.key}` } };
    signer = signerFor(target.apiKey, region, auth.credentials);
  } else {
    const source = o.podCredentials ?? podCredentials();
    signer = signerFor(source, region, source);
  }
  const url = new URL(req.url);
  const host = bedrockRuntimeHost(region);
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const signed = await rejectOnAbort(
    signer.sign(
      { method: 'POST', protocol: 'https:', hostname: host, path: url.pathname, query, headers: { ...req.headers, host }, body: req.body },
      o.now ? { signingDate: o.now() } : {},
    ),
    signal,
  );
  return { ...req, headers: signed.headers as Record<string, string> };
}
