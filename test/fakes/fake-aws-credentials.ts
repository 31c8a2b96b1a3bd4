/**
 * A fake container-credentials endpoint, as EKS Pod Identity (and ECS)
 * provides one: the pod gets `AWS_CONTAINER_CREDENTIALS_FULL_URI` and
 * `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`; the SDK GETs the URI with the
 * token file's content as `Authorization` and receives
 * `{"AccessKeyId","SecretAccessKey","Token","AccountId","Expiration"}`.
 * Every fetch issues a new key pair that expires after `ttlMs` (short by
 * default, so the SDK's refresh is exercised); the pairs go into a
 * CredentialStore that fake-bedrock.ts checks signatures against.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomAlnum } from './wire-common.ts';
import { CloudServer, type CloudRequest } from './fake-cloud-server.ts';

export interface AwsKey {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
  /** Date.now() after which the key is refused (ExpiredTokenException). */
  expiresAt?: number | undefined;
}

/** The keys a fake AWS service accepts, by access key id. */
export class CredentialStore {
  readonly #keys = new Map<string, AwsKey>();
  add(key: AwsKey): AwsKey {
    this.#keys.set(key.accessKeyId, key);
    return key;
  }
  get(accessKeyId: string): AwsKey | undefined {
    return this.#keys.get(accessKeyId);
  }
  /** A static long-term key pair (AKIA…), as an IAM user's. */
  static key(): AwsKey {
    return { accessKeyId: `AKIA${randomAlnum(16).toUpperCase()}`, secretAccessKey: randomAlnum(40) };
  }
}

export interface FakeContainerCredentials {
  readonly url: string;
  readonly tokenFile: string;
  /** The env a pod gets from the EKS Pod Identity webhook. */
  readonly env: Record<string, string>;
  /** Requests made, oldest first (the `outcome` says issued or auth-failed). */
  readonly requests: CloudRequest[];
  readonly issued: AwsKey[];
  close(): Promise<void>;
}

export async function startFakeContainerCredentials(store: CredentialStore, o: { ttlMs?: number; token?: string; now?: () => number } = {}): Promise<FakeContainerCredentials> {
  const token = o.token ?? `eks-pod-identity-${randomAlnum(24)}`;
  const dir = mkdtempSync(join(tmpdir(), 'llmroute-pod-identity-'));
  const tokenFile = join(dir, 'eks-pod-identity-token');
  writeFileSync(tokenFile, token);
  const ttl = o.ttlMs ?? 60_000;
  const now = o.now ?? Date.now;
  const issued: AwsKey[] = [];
  const server = new CloudServer<{ kind: 'issue' }>((req, res, _job, next) => {
    if (req.method !== 'GET' || req.pathname !== '/v1/credentials') {
      req.outcome = 'not-found';
      res.writeHead(404).end();
      return;
    }
    if (req.headers.authorization !== token) {
      req.outcome = 'auth-failed';
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'AccessDeniedException', message: 'Invalid token' }));
      return;
    }
    next();
    const key = store.add({
      accessKeyId: `ASIA${randomAlnum(16).toUpperCase()}`,
      secretAccessKey: randomAlnum(40),
      sessionToken: `IQoJb3JpZ2luX2Vj${randomAlnum(120)}`,
      expiresAt: now() + ttl,
    });
    issued.push(key);
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({ AccessKeyId: key.accessKeyId, SecretAccessKey: key.secretAccessKey, Token: key.sessionToken, AccountId: '123456789012', Expiration: new Date(key.expiresAt!).toISOString() }),
    );
  }, { kind: 'issue' });
  await server.listen();
  const url = `${server.origin}/v1/credentials`;
  return {
    url,
    tokenFile,
    env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: url, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile },
    requests: server.requests,
    issued,
    close: () => server.close(),
  };
}
