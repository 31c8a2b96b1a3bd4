/**
 * The operator's command line (SPEC section 4, plus the flags operators
 * usually expect). Pure: argv and env in, options or a UsageError out.
 */
import { durationMs } from '../../api/v1alpha1/schema.ts';
import { parseFlags, parseLogLevel, parsePort, UsageError, type FlagHandler } from '../../common/cli-flags.ts';
import type { LogLevel } from '../../common/log.ts';
import type { Provider } from '../../api/v1alpha1/enums.ts';
import { HostRuleError, parseAllowedHostsFlag } from './render/key-destinations.ts';

export interface OperatorArgs {
  /** Namespaces to watch; empty: all. */
  namespaces: string[];
  /** The sidecar-injection webhook's HTTPS port. */
  webhookPort: number;
  /** The image the webhook injects; the webhook runs only when it is set. */
  sidecarImage?: string | undefined;
  sidecarImagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never' | undefined;
  webhookConfigName: string;
  webhookService: string;
  webhookSecret: string;
  /** Serve a certificate from this folder (cert-manager) instead of managing one. */
  webhookCertDir?: string | undefined;
  metricsPort: number;
  metricsHost: string;
  leaderElect: boolean;
  leaderElectionNamespace: string;
  leaseName: string;
  resyncMs: number;
  /** The write rate limit (token bucket): writes a second (0: none), and the burst. */
  writeQps: number;
  writeBurst: number;
  kubeconfig?: string | undefined;
  identity?: string | undefined;
  /** This replica's Pod ($POD_NAME and $POD_UID, the downward API): the leader makes it the Lease's owner. */
  pod?: { name: string; uid: string } | undefined;
  logLevel: LogLevel;
  /** --allowed-base-url-hosts, by provider; undefined: the defaults (DEFAULT_KEY_DESTINATIONS). */
  allowedBaseUrlHosts?: Partial<Record<Provider, string[]>> | undefined;
  help: boolean;
  version: boolean;
}

export const USAGE = `usage: llmroute-operator [--namespace NS]... [--webhook-port N] [--metrics-port N]

  --namespace NS                   watch only this namespace (repeatable, or comma-separated); default: all
  --webhook-port N                 the sidecar-injection webhook (HTTPS); default 9443
  --sidecar-image IMG              the sidecar image to inject; the webhook runs only when this is set
  --sidecar-image-pull-policy P    Always | IfNotPresent | Never; default: Kubernetes' own
  --webhook-config-name NAME       the MutatingWebhookConfiguration whose caBundle the operator keeps; default llmroute
  --webhook-service NAME           the webhook's Service (the certificate's DNS names); default llmroute-webhook
  --webhook-secret NAME            the Secret that holds the webhook's CA and certificate; default llmroute-webhook-tls
  --webhook-cert-dir DIR           serve tls.crt/tls.key from DIR (cert-manager) instead of managing a certificate
  --metrics-port N                 /healthz, /readyz and /metrics; default 8080
  --metrics-host H                 address for that port; default 0.0.0.0
  --leader-elect BOOL              run leader election (true) or reconcile unconditionally (false); default true
  --leader-election-namespace NS   namespace of the Lease; default $POD_NAMESPACE, else llmroute-system
  --leader-election-id NAME        name of the Lease; default llmroute-operator
  --resync-period D                render every namespace again this often, writing what differs (e.g. 5m); default 5m
  --kube-write-qps N               writes to the API server a second, at most (a token bucket; 0: no limit); default 50
  --kube-write-burst N             writes that may go at once after a quiet spell; default 100
  --kubeconfig PATH                default $KUBECONFIG, in-cluster, ~/.kube/config
  --id NAME                        this replica's name in the Lease; default $POD_NAME, else hostname-pid
  --log-level L                    debug | info | warn | error; default info
  --allowed-base-url-hosts LIST    where keys may go: provider=host pairs, comma-separated, repeatable
                                   (host, host:port, *.domain, [v6], or * for any); a target with an
                                   apiKeySecretRef whose baseURL host is not listed for its provider is
                                   refused (HostNotAllowed). Given at all (even empty: =), it replaces the default:
                                   openai=api.openai.com, anthropic=api.anthropic.com,
                                   azure-openai=*.openai.azure.com, azure-openai=*.cognitiveservices.azure.com
                                   (openai-compatible: none; a target without a key may go anywhere)
  --help, --version
`;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

const namespaceName = (flag: string, ns: string): string => {
  if (!DNS_LABEL.test(ns)) throw new UsageError(`${flag}: '${ns}' is not a namespace name`);
  return ns;
};

const namespaces: FlagHandler<OperatorArgs> = (out, value) => {
  for (const ns of value().split(',').map((s) => s.trim()).filter(Boolean)) {
    namespaceName('--namespace', ns);
    if (!out.namespaces.includes(ns)) out.namespaces.push(ns);
  }
};

const FLAGS: Readonly<Record<string, FlagHandler<OperatorArgs>>> = {
  '--namespace': namespaces,
  '-n': namespaces,
  '--webhook-port': (out, value, _, flag) => (out.webhookPort = parsePort(flag, value())),
  '--sidecar-image': (out, value) => (out.sidecarImage = value()),
  '--sidecar-image-pull-policy': (out, value) => {
    const p = value();
    if (p !== 'Always' && p !== 'IfNotPresent' && p !== 'Never') throw new UsageError(`--sidecar-image-pull-policy must be Always, IfNotPresent or Never, not '${p}'`);
    out.sidecarImagePullPolicy = p;
  },
  '--webhook-config-name': (out, value) => (out.webhookConfigName = value()),
  '--webhook-service': (out, value) => (out.webhookService = value()),
  '--webhook-secret': (out, value) => (out.webhookSecret = value()),
  '--webhook-cert-dir': (out, value) => (out.webhookCertDir = value()),
  '--metrics-port': (out, value, _, flag) => (out.metricsPort = parsePort(flag, value())),
  '--metrics-host': (out, value) => (out.metricsHost = value()),
  // A bare --leader-elect means true; --leader-elect=false turns it off.
  '--leader-elect': (out, _, inline, flag) => (out.leaderElect = inline === undefined ? true : bool(flag, inline)),
  '--leader-election-namespace': (out, value, _, flag) => (out.leaderElectionNamespace = namespaceName(flag, value())),
  '--leader-election-id': (out, value) => (out.leaseName = value()),
  '--resync-period': (out, value) => {
    const v = value();
    const ms = durationMs(v);
    if (!Number.isFinite(ms) || ms < 1000) throw new UsageError(`--resync-period must be a duration of at least 1s (such as 5m), not '${v}'`);
    out.resyncMs = ms;
  },
  '--kube-write-qps': (out, value, _, flag) => (out.writeQps = count(flag, value(), 0)),
  '--kube-write-burst': (out, value, _, flag) => (out.writeBurst = count(flag, value(), 1)),
  '--kubeconfig': (out, value) => (out.kubeconfig = value()),
  '--id': (out, value) => (out.identity = value()),
  '--log-level': (out, value, _, flag) => (out.logLevel = parseLogLevel(flag, value())),
  '--allowed-base-url-hosts': (out, value, inline, flag) => {
    try {
      // `--allowed-base-url-hosts=` (empty): no host for any provider (what the chart passes for empty lists).
      out.allowedBaseUrlHosts = parseAllowedHostsFlag(inline === '' ? '' : value(), out.allowedBaseUrlHosts ?? {});
    } catch (err) {
      if (err instanceof HostRuleError) throw new UsageError(`${flag}: ${err.message}`);
      throw err;
    }
  },
};

export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv): OperatorArgs {
  const out: OperatorArgs = {
    namespaces: [],
    webhookPort: 9443,
    webhookConfigName: 'llmroute',
    webhookService: 'llmroute-webhook',
    webhookSecret: 'llmroute-webhook-tls',
    metricsPort: 8080,
    metricsHost: '0.0.0.0',
    leaderElect: true,
    leaderElectionNamespace: env.POD_NAMESPACE || 'llmroute-system',
    leaseName: 'llmroute-operator',
    resyncMs: 5 * 60_000,
    writeQps: 50,
    writeBurst: 100,
    logLevel: 'info',
    help: false,
    version: false,
  };
  parseFlags(argv, FLAGS, out);
  out.identity ??= env.POD_NAME || undefined;
  if (env.POD_NAME && env.POD_UID) out.pod = { name: env.POD_NAME, uid: env.POD_UID };
  return out;
}

function count(flag: string, v: string, min: number): number {
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || !Number.isFinite(n) || n < min) throw new UsageError(`${flag} must be a number of at least ${min}, not '${v}'`);
  return n;
}

function bool(flag: string, v: string): boolean {
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new UsageError(`${flag} must be true or false, not '${v}'`);
}
