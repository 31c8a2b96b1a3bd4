/**
 * The operator's command line (SPEC section 4, plus the flags operators
 * usually expect). Pure: argv and env in, options or a UsageError out.
 */
import { durationMs } from '../../api/v1alpha1/schema.ts';
import { forEachFlag, parseLogLevel, parsePort, UsageError } from '../../common/cli-flags.ts';
import type { LogLevel } from '../../common/log.ts';

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
  kubeconfig?: string | undefined;
  identity?: string | undefined;
  logLevel: LogLevel;
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
  --resync-period D                write every namespace again this often (e.g. 5m); default 5m
  --kubeconfig PATH                default $KUBECONFIG, in-cluster, ~/.kube/config
  --id NAME                        this replica's name in the Lease; default $POD_NAME, else hostname-pid
  --log-level L                    debug | info | warn | error; default info
  --help, --version
`;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

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
    logLevel: 'info',
    help: false,
    version: false,
  };
  forEachFlag(argv, (arg, next, value) => {
    switch (arg) {
      case '--namespace':
      case '-n':
        for (const ns of next().split(',').map((s) => s.trim()).filter(Boolean)) {
          if (!DNS_LABEL.test(ns)) throw new UsageError(`--namespace: '${ns}' is not a namespace name`);
          if (!out.namespaces.includes(ns)) out.namespaces.push(ns);
        }
        break;
      case '--webhook-port':
        out.webhookPort = parsePort(arg, next());
        break;
      case '--sidecar-image':
        out.sidecarImage = next();
        break;
      case '--sidecar-image-pull-policy': {
        const p = next();
        if (p !== 'Always' && p !== 'IfNotPresent' && p !== 'Never') throw new UsageError(`--sidecar-image-pull-policy must be Always, IfNotPresent or Never, not '${p}'`);
        out.sidecarImagePullPolicy = p;
        break;
      }
      case '--webhook-config-name':
        out.webhookConfigName = next();
        break;
      case '--webhook-service':
        out.webhookService = next();
        break;
      case '--webhook-secret':
        out.webhookSecret = next();
        break;
      case '--webhook-cert-dir':
        out.webhookCertDir = next();
        break;
      case '--metrics-port':
        out.metricsPort = parsePort(arg, next());
        break;
      case '--metrics-host':
        out.metricsHost = next();
        break;
      case '--leader-elect':
        // A bare --leader-elect means true; --leader-elect=false turns it off.
        out.leaderElect = value === undefined ? true : bool(arg, value);
        break;
      case '--leader-election-namespace': {
        const ns = next();
        if (!DNS_LABEL.test(ns)) throw new UsageError(`--leader-election-namespace: '${ns}' is not a namespace name`);
        out.leaderElectionNamespace = ns;
        break;
      }
      case '--leader-election-id':
        out.leaseName = next();
        break;
      case '--resync-period': {
        const v = next();
        const ms = durationMs(v);
        if (!Number.isFinite(ms) || ms < 1000) throw new UsageError(`--resync-period must be a duration of at least 1s (such as 5m), not '${v}'`);
        out.resyncMs = ms;
        break;
      }
      case '--kubeconfig':
        out.kubeconfig = next();
        break;
      case '--id':
        out.identity = next();
        break;
      case '--log-level':
        out.logLevel = parseLogLevel(arg, next());
        break;
      case '-h':
      case '--help':
        out.help = true;
        break;
      case '--version':
        out.version = true;
        break;
      default:
        throw new UsageError(`unknown argument '${arg}'`);
    }
  });
  out.identity ??= env.POD_NAME || undefined;
  return out;
}


function bool(flag: string, v: string): boolean {
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new UsageError(`${flag} must be true or false, not '${v}'`);
}
