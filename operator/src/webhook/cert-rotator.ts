/**
 * Keeps the webhook's TLS material good, from every replica at once:
 * each round reads the Secret and the webhook configuration, writes a new
 * Secret version when planRotation says so (optimistic concurrency: a
 * replica that loses the race re-reads next round), puts the Secret's CA
 * bundle into the configuration's caBundle, and hands the serving
 * certificate to the server when it changed. So a replica picks up what
 * another wrote within one interval.
 */
import { silentLogger, type Logger } from '../../../common/log.ts';
import type { KeyAndCert } from './certs.ts';
import { realClock, type Clock, type ClockTimer } from '../../../common/clock.ts';
import { WebhookTlsError } from './errors.ts';
import { checkPolicy, planRotation, type RotationPolicy, type TlsMaterial } from './tls-rotation.ts';
import { materialFromSecret, type WebhookTlsStore } from './tls-store.ts';

export interface CertRotatorOptions {
  store: Pick<WebhookTlsStore, 'readSecret' | 'writeSecret' | 'readWebhookConfiguration' | 'writeWebhookConfiguration' | 'names'>;
  policy: RotationPolicy;
  /** Between rounds; default 10 s. */
  intervalMs?: number;
  /** What time it is (certificates are valid from its now) and the timers between rounds; default the real ones. */
  clock?: Clock;
  log?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Called with the serving certificate whenever the one in the Secret changes (and once at first). */
  onCertificate?: (c: KeyAndCert) => void;
}

export interface ReconcileResult {
  /** The reasons a new Secret version was written (empty: none was). */
  wrote: string[];
  caBundleUpdated: boolean;
  /** A concurrent write was detected; the next round settles it. */
  conflict: boolean;
  certificate: KeyAndCert | undefined;
}

export interface CertRotator {
  reconcile(): Promise<ReconcileResult>;
  /** Runs reconcile every interval until stop(); errors are logged and retried. */
  start(): void;
  stop(): void;
  current(): KeyAndCert | undefined;
}

export function createCertRotator(o: CertRotatorOptions): CertRotator {
  checkPolicy(o.policy);
  const log = o.log ?? silentLogger;
  const clock = o.clock ?? realClock;
  const intervalMs = o.intervalMs ?? 10_000;
  let current: KeyAndCert | undefined;
  let timer: ClockTimer | undefined;
  let running = false;
  let stopped = true;
  let lastError = '';

  async function reconcile(): Promise<ReconcileResult> {
    const result: ReconcileResult = { wrote: [], caBundleUpdated: false, conflict: false, certificate: current };
    try {
      const secret = await o.store.readSecret();
      const config = await o.store.readWebhookConfiguration();
      // The caBundle the API server uses; a CA counts as trusted only when every webhook holds the same bundle.
      const bundles = config?.webhooks?.map((w) => Buffer.from(w.clientConfig?.caBundle ?? '', 'base64').toString('utf8')) ?? [];
      const trustedPem = bundles.length && bundles.every((b) => b === bundles[0]) ? bundles[0]! : '';
      const stored = materialFromSecret(secret);
      const plan = await planRotation(stored, trustedPem, new Date(clock.now()), o.policy);
      let material: Partial<TlsMaterial> | undefined = stored;
      if (plan.action === 'write') {
        await o.store.writeSecret(secret, plan.material);
        material = plan.material;
        result.wrote = plan.reasons;
        log.info('webhook certificate written', { secret: o.store.names.secretName, reasons: plan.reasons });
      }

      if (!config) {
        log.warn('webhook configuration not found: its caBundle cannot be set', { name: o.store.names.webhookConfigName });
      } else if (material?.caCertPem) {
        const caBundle = Buffer.from(material.caCertPem, 'utf8').toString('base64');
        if (config.webhooks?.some((w) => w.clientConfig?.caBundle !== caBundle)) {
          const updated = {
            ...config,
            webhooks: config.webhooks.map((w) => ({ ...w, clientConfig: { ...w.clientConfig, caBundle } })),
          };
          await o.store.writeWebhookConfiguration(updated);
          result.caBundleUpdated = true;
          log.info('webhook caBundle updated', { name: o.store.names.webhookConfigName });
        }
      }

      if (material?.certPem && material.keyPem && (material.certPem !== current?.certPem || material.keyPem !== current?.keyPem)) {
        current = { certPem: material.certPem, keyPem: material.keyPem };
        o.onCertificate?.(current);
      }
      result.certificate = current;
      lastError = '';
      return result;
    } catch (err) {
      if (err instanceof WebhookTlsError && err.code === 'webhook_tls_conflict') {
        result.conflict = true;
        return result;
      }
      throw err;
    }
  }

  function schedule(ms: number): void {
    if (stopped) return;
    timer = clock.setTimeout(() => void tick(), ms);
    timer.unref();
  }

  async function tick(): Promise<void> {
    if (running || stopped) return;
    running = true;
    let next = intervalMs;
    try {
      const r = await reconcile();
      if (r.conflict) next = Math.min(intervalMs, 500);
    } catch (err) {
      const message = (err as Error)?.message ?? String(err);
      if (message !== lastError) log.error('webhook certificate round failed', { error: message, code: (err as { code?: string }).code });
      lastError = message;
    } finally {
      running = false;
      schedule(next);
    }
  }

  return {
    reconcile,
    start() {
      if (!stopped) return;
      stopped = false;
      schedule(intervalMs);
    },
    stop() {
      stopped = true;
      if (timer) clock.clearTimeout(timer);
    },
    current: () => current,
  };
}
