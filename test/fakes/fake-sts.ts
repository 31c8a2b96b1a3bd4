/**
 * A fake AWS STS serving `AssumeRoleWithWebIdentity`, the call IRSA (IAM
 * Roles for Service Accounts) makes: the EKS pod-identity webhook gives the
 * pod `AWS_ROLE_ARN` and `AWS_WEB_IDENTITY_TOKEN_FILE` (a projected
 * ServiceAccount token), and the SDK trades the file's content for
 * temporary credentials. The wire format is STS's documented Query API:
 * `POST /` form-encoded (or `GET /?…`) with `Action=AssumeRoleWithWebIdentity`,
 * `Version=2011-06-15`, `RoleArn`, `RoleSessionName`, `WebIdentityToken`
 * (optional `DurationSeconds`), unsigned (this action needs no SigV4); the
 * answer is `<AssumeRoleWithWebIdentityResponse>` XML, errors are
 * `<ErrorResponse><Error><Type>Sender</Type><Code>…` XML.
 *
 * It checks what STS checks: the action and version, every required
 * parameter, the session name's pattern, the role it was configured with
 * (else 403 AccessDenied), the web identity token (equal to the projected
 * token, else 400 InvalidIdentityToken). Credentials it issues expire after
 * `ttlMs` (short, so the SDK's refresh is exercised; Expiration is to the
 * second, as STS sends it) and go into the CredentialStore fake-bedrock.ts
 * verifies signatures against, which refuses them once expired
 * (ExpiredTokenException).
 *
 * `env` is what the pod-identity webhook injects, plus AWS_ENDPOINT_URL_STS,
 * the SDK's documented per-service endpoint override (serviceId "STS"),
 * which @aws-sdk/nested-clients' STS client (the one
 * @aws-sdk/credential-provider-web-identity uses) honours.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { CloudServer, type CloudRequest } from './fake-cloud-server.ts';
import type { AwsKey, CredentialStore } from './fake-aws-credentials.ts';
import { randomAlnum } from './wire-common.ts';

const NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

export type StsBehaviour = { kind: 'issue' } | { kind: 'error'; status: number; code: string; message: string; type?: 'Sender' | 'Receiver' };

export interface FakeStsOptions {
  roleArn?: string;
  /** The projected ServiceAccount token the identity provider vouches for. */
  token?: string;
  /** Lifetime of issued credentials; default 60 s. */
  ttlMs?: number;
  now?: () => number;
  behaviour?: StsBehaviour | ((req: CloudRequest, n: number) => StsBehaviour | undefined);
}

export interface FakeSts {
  readonly url: string;
  readonly roleArn: string;
  readonly token: string;
  /** A file holding the projected token, as the webhook mounts it. */
  readonly tokenFile: string;
  /** The env a pod gets for IRSA, with the STS endpoint pointed here. */
  readonly env: Record<string, string>;
  readonly requests: CloudRequest[];
  /** Credentials issued, oldest first. */
  readonly issued: AwsKey[];
  /** What was refused, by STS error code, in order. */
  readonly refusals: string[];
  script(...b: StsBehaviour[]): void;
  close(): Promise<void>;
}

const xmlEscape = (s: string): string => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

function stsError(res: ServerResponse, status: number, type: 'Sender' | 'Receiver', code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': crypto.randomUUID() });
  res.end(
    `<ErrorResponse xmlns="${NS}">\n  <Error>\n    <Type>${type}</Type>\n    <Code>${code}</Code>\n    <Message>${xmlEscape(message)}</Message>\n  </Error>\n  <RequestId>${crypto.randomUUID()}</RequestId>\n</ErrorResponse>\n`,
  );
}

/** An ISO 8601 instant to the second, as STS writes Expiration. */
const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export async function startFakeSts(store: CredentialStore, o: FakeStsOptions = {}): Promise<FakeSts> {
  const roleArn = o.roleArn ?? 'arn:aws:iam::123456789012:role/llmroute-bedrock';
  const token = o.token ?? `eyJhbGciOiJSUzI1NiIsImtpZCI6Ij${randomAlnum(40)}.${randomAlnum(200)}.${randomAlnum(86)}`;
  const ttl = o.ttlMs ?? 60_000;
  const now = o.now ?? Date.now;
  const dir = mkdtempSync(join(tmpdir(), 'llmroute-irsa-'));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, token);
  const issued: AwsKey[] = [];
  const refusals: string[] = [];
  const refuse = (req: CloudRequest, res: ServerResponse, status: number, code: string, message: string, type: 'Sender' | 'Receiver' = 'Sender'): void => {
    req.outcome = `refused:${code}`;
    refusals.push(code);
    stsError(res, status, type, code, message);
  };

  const server = new CloudServer<StsBehaviour>((req, res, _job, next) => {
    if (req.pathname !== '/' || (req.method !== 'POST' && req.method !== 'GET')) {
      req.outcome = 'not-found';
      res.writeHead(404, { 'content-type': 'text/xml' }).end();
      return;
    }
    let params: URLSearchParams;
    if (req.method === 'POST') {
      if (!/^application\/x-www-form-urlencoded/i.test(req.headers['content-type'] ?? '')) {
        return refuse(req, res, 400, 'InvalidParameterValue', 'Content-Type must be application/x-www-form-urlencoded');
      }
      params = new URLSearchParams(req.rawBody);
    } else {
      params = new URLSearchParams(req.query);
    }
    const action = params.get('Action');
    if (action !== 'AssumeRoleWithWebIdentity') return refuse(req, res, 400, 'InvalidAction', `Could not find operation ${action ?? ''} for version ${params.get('Version') ?? ''}`);
    if (params.get('Version') !== '2011-06-15') return refuse(req, res, 400, 'InvalidAction', `Could not find operation ${action} for version ${params.get('Version') ?? 'NO_VERSION_SPECIFIED'}`);
    for (const p of ['RoleArn', 'RoleSessionName', 'WebIdentityToken']) {
      if (!params.get(p)) return refuse(req, res, 400, 'MissingParameter', `The request must contain the parameter ${p}`);
    }
    const session = params.get('RoleSessionName')!;
    if (!SESSION_NAME.test(session)) {
      return refuse(req, res, 400, 'ValidationError', `1 validation error detected: Value '${session}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`);
    }
    const duration = params.get('DurationSeconds');
    if (duration !== null && !(Number(duration) >= 900 && Number(duration) <= 43_200)) {
      return refuse(req, res, 400, 'ValidationError', `1 validation error detected: Value '${duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900`);
    }
    if (params.get('WebIdentityToken') !== token) {
      return refuse(req, res, 400, 'InvalidIdentityToken', "Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements");
    }
    if (params.get('RoleArn') !== roleArn) return refuse(req, res, 403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
    const b = next() ?? { kind: 'issue' };
    if (b.kind === 'error') return refuse(req, res, b.status, b.code, b.message, b.type ?? (b.status >= 500 ? 'Receiver' : 'Sender'));

    // Expiration to the second (rounded up), and the store refuses the key from exactly then.
    const expiresAt = Math.ceil((now() + ttl) / 1000) * 1000;
    const key = store.add({ accessKeyId: `ASIA${randomAlnum(16).toUpperCase()}`, secretAccessKey: randomAlnum(40), sessionToken: `IQoJb3JpZ2luX2Vj${randomAlnum(300)}`, expiresAt });
    issued.push(key);
    const roleName = roleArn.split('/').pop()!;
    const account = roleArn.split(':')[4];
    res.writeHead(200, { 'content-type': 'text/xml', 'x-amzn-requestid': crypto.randomUUID() });
    res.end(`<AssumeRoleWithWebIdentityResponse xmlns="${NS}">
  <AssumeRoleWithWebIdentityResult>
    <Audience>sts.amazonaws.com</Audience>
    <AssumedRoleUser>
      <AssumedRoleId>AROA${randomAlnum(17).toUpperCase()}:${xmlEscape(session)}</AssumedRoleId>
      <Arn>arn:aws:sts::${account}:assumed-role/${xmlEscape(roleName)}/${xmlEscape(session)}</Arn>
    </AssumedRoleUser>
    <Provider>arn:aws:iam::${account}:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/${randomAlnum(32).toUpperCase()}</Provider>
    <Credentials>
      <AccessKeyId>${key.accessKeyId}</AccessKeyId>
      <SecretAccessKey>${key.secretAccessKey}</SecretAccessKey>
      <SessionToken>${key.sessionToken}</SessionToken>
      <Expiration>${isoSeconds(expiresAt)}</Expiration>
    </Credentials>
    <SubjectFromWebIdentityToken>system:serviceaccount:shop:chat</SubjectFromWebIdentityToken>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata>
    <RequestId>${crypto.randomUUID()}</RequestId>
  </ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>
`);
  }, o.behaviour ?? { kind: 'issue' });
  await server.listen();
  return {
    url: server.origin,
    roleArn,
    token,
    tokenFile,
    env: { AWS_ROLE_ARN: roleArn, AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile, AWS_ENDPOINT_URL_STS: server.origin },
    requests: server.requests,
    issued,
    refusals,
    script: (...b) => server.script(...b),
    close: () => server.close(),
  };
}
