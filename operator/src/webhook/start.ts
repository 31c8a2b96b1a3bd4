/**
 * startWebhook: the sidecar-injection webhook as the operator runs it.
 *
 *   managed TLS (default): the operator makes its own CA and serving
 *     certificate, keeps them in a Secret shared by the replicas, writes the
 *     CA into its MutatingWebhookConfiguration's caBundle and rotates both
 *     before they expire (cert-rotator.ts);
 *   files: something else (cert-manager) issues the certificate into a
 *     mounted folder; the operator only serves it and reloads it on change.
 *
 * Resolves once the server listens with a certificate; rejects with a
 * WebhookStartError when no certificate could be had (RBAC, no Secret).
 */
import { silentLogger, type Logger } from '../../../common/log.ts';
import type { InjectOptions } from '../inject/options.ts';
import { readCertDir, watchCertDir } from './cert-dir.ts';
import { createCertRotator, type CertRotator } from './cert-rotator.ts';
import { serviceDnsNames, type KeyAndCert } from './certs.ts';
import { realClock, type Clock } from '../../../common/clock.ts';
import { WebhookStartError } from './errors.ts';
import { startWebhookServer } from './server.ts';
import { DEFAULT_ROTATION } from './tls-rotation.ts';
import { WebhookTlsStore, type KubeRequester } from './tls-store.ts';

export const WEBHOOK_DEFAULTS = {
  port: 9443,
  serviceName: 'llmroute-webhook',
  secretName: 'llmroute-webhook-tls',
  webhookConfigName: 'llmroute',
} as const;

export interface ManagedTls {
  mode: 'managed';
  /** A Kubernetes client (the operator's KubeClient). */
  kube: KubeRequester;
  /** The operator's namespace (POD_NAMESPACE): where the Secret and the Service are. */
  namespace: string;
  serviceName?: string;
  secretName?: string;
  webhookConfigName?: string;
  /** More SANs: IP addresses (tests: 127.0.0.1) and DNS names. */
  ipAddresses?: string[];
  dnsNames?: string[];
  validityMs?: number;
  renewBeforeMs?: number;
  caValidityMs?: number;
  caRenewBeforeMs?: number;
  /** Between certificate rounds; default 10 s. */
  intervalMs?: number;
  /** How long startWebhook keeps trying to get a first certificate; default 15 s. */
  startTimeoutMs?: number;
}

export interface FileTls {
  mode: 'files';
  /** Holds tls.crt and tls.key (cert-manager's Secret, mounted). */
  certDir: string;
  intervalMs?: number;
}

export interface StartWebhookOptions {
  /** Default 9443; 0 picks a free port. */
  port?: number;
  /** Default 0.0.0.0 */
  host?: string;
  /** The sidecar image to inject (the operator's --sidecar-image). */
  sidecarImage: string;
  sidecarImagePullPolicy?: InjectOptions['imagePullPolicy'];
  tls: ManagedTls | FileTls;
  /** The operator's logger; the webhook writes info, warn and error lines. */
  log?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Time for the certificates and every wait (the first certificate's retries, the rounds, the file polls); default the real one. */
  clock?: Clock;
}

export interface WebhookHandle {
  readonly port: number;
  /** The serving certificate in use. */
  certificate(): KeyAndCert;
  /** Managed mode: runs one certificate round now (tests, diagnostics). */
  reconcileCertificates?: CertRotator['reconcile'];
  stop(): Promise<void>;
}

export async function startWebhook(o: StartWebhookOptions): Promise<WebhookHandle> {
  const log = o.log ?? silentLogger;
  const clock = o.clock ?? realClock;
  const inject: InjectOptions = { image: o.sidecarImage, ...(o.sidecarImagePullPolicy ? { imagePullPolicy: o.sidecarImagePullPolicy } : {}) };
  let cert: KeyAndCert;
  let rotator: CertRotator | undefined;
  let dirWatch: { stop(): void } | undefined;
  let setCertificate: (c: KeyAndCert) => void = (c) => {
    cert = c;
  };

  if (o.tls.mode === 'files') {
    try {
      cert = readCertDir(o.tls.certDir);
    } catch (err) {
      throw new WebhookStartError((err as Error).message, { cause: err });
    }
  } else {
    const t = o.tls;
    const serviceName = t.serviceName ?? WEBHOOK_DEFAULTS.serviceName;
    const store = new WebhookTlsStore(t.kube, {
      namespace: t.namespace,
      secretName: t.secretName ?? WEBHOOK_DEFAULTS.secretName,
      webhookConfigName: t.webhookConfigName ?? WEBHOOK_DEFAULTS.webhookConfigName,
    });
    rotator = createCertRotator({
      store,
      policy: {
        dnsNames: [...serviceDnsNames(serviceName, t.namespace), ...(t.dnsNames ?? [])],
        ipAddresses: t.ipAddresses ?? [],
        validityMs: t.validityMs ?? DEFAULT_ROTATION.validityMs,
        renewBeforeMs: t.renewBeforeMs ?? DEFAULT_ROTATION.renewBeforeMs,
        caValidityMs: t.caValidityMs ?? DEFAULT_ROTATION.caValidityMs,
        caRenewBeforeMs: t.caRenewBeforeMs ?? DEFAULT_ROTATION.caRenewBeforeMs,
        caCommonName: DEFAULT_ROTATION.caCommonName,
      },
      ...(t.intervalMs !== undefined ? { intervalMs: t.intervalMs } : {}),
      clock,
      log,
      onCertificate: (c) => setCertificate(c),
    });
    let lastError: unknown;
    const deadline = clock.now() + (t.startTimeoutMs ?? 15_000);
    for (let attempt = 0; !rotator.current() && (attempt === 0 || clock.now() < deadline); attempt++) {
      if (attempt) await new Promise<void>((r) => clock.setTimeout(r, Math.max(0, Math.min(200 * 2 ** attempt, 3_000, deadline - clock.now()))));
      try {
        await rotator.reconcile();
      } catch (err) {
        lastError = err;
        log.warn('webhook certificate not ready yet', { error: (err as Error).message, attempt: attempt + 1 });
      }
    }
    const first = rotator.current();
    if (!first) {
      throw new WebhookStartError(
        `no serving certificate for the webhook: ${(lastError as Error)?.message ?? 'the Secret could not be written'}`,
        { cause: lastError },
      );
    }
    cert = first;
  }

  const server = await startWebhookServer({
    port: o.port ?? WEBHOOK_DEFAULTS.port,
    ...(o.host ? { host: o.host } : {}),
    certificate: cert!,
    inject,
    log,
  });
  setCertificate = (c) => {
    cert = c;
    server.setCertificate(c);
    log.info('webhook serving certificate loaded');
  };
  if (o.tls.mode === 'files') dirWatch = watchCertDir(o.tls.certDir, cert!, (c) => setCertificate(c), { intervalMs: o.tls.intervalMs ?? 5_000, log, clock });
  rotator?.start();
  log.info('webhook listening', { port: server.port, tls: o.tls.mode });

  return {
    port: server.port,
    certificate: () => cert,
    ...(rotator ? { reconcileCertificates: rotator.reconcile } : {}),
    async stop() {
      rotator?.stop();
      dirWatch?.stop();
      await server.close();
    },
  };
}
