/**
 * How KubeClient reaches the API server: its URL, the TLS material of the
 * one keep-alive agent, and the Authorization header of each request.
 *
 * The operator reads kubeconfigs and the in-cluster ServiceAccount itself
 * (a token, a token file, client certificates, basic auth): loading
 * @kubernetes/client-node's KubeConfig means loading its whole generated API
 * (about 65 MB of RSS and 0.9 s at start), and its applyToHTTPSOptions()
 * hands every request a new https.Agent (a TLS handshake per request, the
 * CA file read again each time). What the operator's reader does not know
 * (exec plugins, auth providers, proxies) goes to client-node after all,
 * through kubeConfigAccess().
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import yaml from 'js-yaml';
import type { KubeConfig } from '@kubernetes/client-node';

export interface TlsMaterial {
  ca?: Buffer | undefined;
  cert?: Buffer | undefined;
  key?: Buffer | undefined;
  rejectUnauthorized?: boolean | undefined;
  servername?: string | undefined;
}

export interface ClusterAccess {
  /** https://host:port (maybe with a path prefix). */
  readonly server: string;
  /** For the agent, resolved once. */
  tls(): Promise<TlsMaterial>;
  /** Adds credentials to a request's headers (a token file is read again every minute). */
  authorize(headers: Record<string, string>): Promise<void>;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

type ReadFile = (file: string) => Buffer;
const readFile: ReadFile = (f) => readFileSync(f);

/** A token file, read again when the last read is older than a minute (projected tokens rotate). */
function tokenFile(file: string, read: ReadFile, now: () => number = Date.now): () => string {
  let token = '';
  let readAt = -Infinity;
  return () => {
    if (now() - readAt >= 60_000) {
      token = read(file).toString('utf8').trim();
      readAt = now();
    }
    return token;
  };
}

/** The in-cluster config: KUBERNETES_SERVICE_HOST/PORT, the ServiceAccount's CA and token. Like client-node's loadFromCluster(). */
export function inClusterAccess(env: NodeJS.ProcessEnv = process.env, read: ReadFile = readFile, dir = SERVICE_ACCOUNT_DIR): ClusterAccess {
  const host = env.KUBERNETES_SERVICE_HOST ?? '';
  const port = env.KUBERNETES_SERVICE_PORT ?? '';
  const scheme = port === '80' || port === '8080' || port === '8001' ? 'http' : 'https';
  const token = tokenFile(path.join(dir, 'token'), read);
  const tls: TlsMaterial = { ca: read(path.join(dir, 'ca.crt')) };
  return {
    server: `${scheme}://${net.isIPv6(host) ? `[${host}]` : host}:${port}`,
    tls: async () => tls,
    authorize: async (h) => {
      h.authorization = `Bearer ${token()}`;
    },
  };
}

interface KubeconfigDoc {
  'current-context'?: string;
  contexts?: Array<{ name: string; context?: { cluster?: string; user?: string } }>;
  clusters?: Array<{ name: string; cluster?: Record<string, unknown> }>;
  users?: Array<{ name: string; user?: Record<string, unknown> }>;
}

/** Cluster and user fields this reader understands; any other one sends the kubeconfig to client-node. */
const CLUSTER_KEYS = new Set(['server', 'certificate-authority', 'certificate-authority-data', 'insecure-skip-tls-verify', 'tls-server-name', 'extensions']);
const USER_KEYS = new Set(['token', 'tokenFile', 'client-certificate', 'client-certificate-data', 'client-key', 'client-key-data', 'username', 'password', 'extensions']);

export type KubeconfigRead = { access: ClusterAccess } | { unsupported: string } | { problem: string };

/**
 * A kubeconfig's current context, read without client-node. Pure but for
 * `read` (the file and the files it names; relative paths are relative to
 * the kubeconfig's folder). `unsupported` names what needs client-node.
 */
export function kubeconfigAccess(text: string, file: string, read: ReadFile = readFile): KubeconfigRead {
  let doc: KubeconfigDoc;
  try {
    doc = (yaml.load(text) ?? {}) as KubeconfigDoc;
  } catch (err) {
    return { problem: `not YAML: ${(err as Error).message}` };
  }
  const ctxName = doc['current-context'];
  if (!ctxName) return { problem: 'no current-context' };
  const ctx = doc.contexts?.find((c) => c.name === ctxName)?.context;
  if (!ctx) return { problem: `context '${ctxName}' not found` };
  const cluster = doc.clusters?.find((c) => c.name === ctx.cluster)?.cluster;
  if (!cluster || typeof cluster.server !== 'string' || !cluster.server) return { problem: 'no current cluster' };
  const user = (ctx.user === undefined ? {} : doc.users?.find((u) => u.name === ctx.user)?.user) ?? {};
  const odd = [...Object.keys(cluster).filter((k) => !CLUSTER_KEYS.has(k)), ...Object.keys(user).filter((k) => !USER_KEYS.has(k))];
  if (odd.length) return { unsupported: odd.join(', ') };

  const base = path.dirname(path.resolve(file));
  const fileOrData = (fileKey: string, dataKey: string, o: Record<string, unknown>): Buffer | undefined => {
    const f = o[fileKey];
    if (typeof f === 'string' && f) return read(path.resolve(base, f));
    const d = o[dataKey];
    return typeof d === 'string' && d ? Buffer.from(d, 'base64') : undefined;
  };
  let tls: TlsMaterial;
  try {
    tls = {
      ca: fileOrData('certificate-authority', 'certificate-authority-data', cluster),
      cert: fileOrData('client-certificate', 'client-certificate-data', user),
      key: fileOrData('client-key', 'client-key-data', user),
      rejectUnauthorized: cluster['insecure-skip-tls-verify'] === true ? false : undefined,
      servername: typeof cluster['tls-server-name'] === 'string' ? cluster['tls-server-name'] : undefined,
    };
  } catch (err) {
    return { problem: (err as Error).message };
  }
  const server = cluster.server;
  if (server.startsWith('http:') && cluster['insecure-skip-tls-verify'] !== true) {
    // client-node's rule, kept: plain HTTP only when TLS verification is off on purpose.
    return { problem: `${server}: HTTP is allowed only with insecure-skip-tls-verify: true` };
  }
  const staticToken = typeof user.token === 'string' && user.token ? user.token : undefined;
  const fromFile = typeof user.tokenFile === 'string' && user.tokenFile ? tokenFile(path.resolve(base, user.tokenFile), read) : undefined;
  const basic = typeof user.username === 'string' ? Buffer.from(`${user.username}:${String(user.password ?? '')}`).toString('base64') : undefined;
  return {
    access: {
      server,
      tls: async () => tls,
      authorize: async (h) => {
        const token = staticToken ?? fromFile?.();
        if (token) h.authorization = `Bearer ${token}`;
        else if (basic) h.authorization = `Basic ${basic}`;
      },
    },
  };
}

/** A client-node KubeConfig as a ClusterAccess (tests; kubeconfigs with exec plugins or auth providers). */
export function kubeConfigAccess(kc: KubeConfig): ClusterAccess {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  let tls: Promise<TlsMaterial> | undefined;
  return {
    server: cluster.server,
    tls: () =>
      (tls ??= (async () => {
        const o: Record<string, any> = { headers: {} };
        await kc.applyToHTTPSOptions(o);
        return { ca: o.ca, cert: o.cert, key: o.key, rejectUnauthorized: o.rejectUnauthorized, servername: o.servername };
      })()),
    authorize: async (h) => {
      // The agent it makes is dropped: KubeClient keeps its own (keep-alive).
      const o: Record<string, any> = { headers: {} };
      await kc.applyToHTTPSOptions(o);
      for (const [k, v] of Object.entries(o.headers as Record<string, unknown>)) if (typeof v === 'string') h[k.toLowerCase()] = v;
      if (o.auth) h.authorization = `Basic ${Buffer.from(String(o.auth)).toString('base64')}`;
    },
  };
}

export function isKubeConfig(x: ClusterAccess | KubeConfig): x is KubeConfig {
  return typeof (x as KubeConfig).getCurrentCluster === 'function';
}
