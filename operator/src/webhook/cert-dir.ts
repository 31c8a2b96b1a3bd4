/**
 * Serving certificate from files (tls.crt, tls.key in a folder), for when
 * something else issues it: cert-manager, through a mounted Secret. The
 * kubelet swaps the files on renewal; a poll picks the new pair up.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../../../common/log.ts';
import { keyMatches, splitPemCertificates, type KeyAndCert } from './certs.ts';
import { realClock, type Clock, type ClockTimer } from '../../../common/clock.ts';
import { CertDirError } from './errors.ts';

/** Reads and checks the pair; throws CertDirError when it is missing or does not match. */
export function readCertDir(dir: string): KeyAndCert {
  let certPem: string;
  let keyPem: string;
  try {
    certPem = readFileSync(join(dir, 'tls.crt'), 'utf8');
    keyPem = readFileSync(join(dir, 'tls.key'), 'utf8');
  } catch (err) {
    throw new CertDirError(`cannot read tls.crt and tls.key in ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const cert = splitPemCertificates(certPem)[0];
  if (!cert) throw new CertDirError(`${join(dir, 'tls.crt')} holds no certificate`);
  if (!keyMatches(cert, keyPem)) throw new CertDirError(`${join(dir, 'tls.key')} is not the key of ${join(dir, 'tls.crt')}`);
  return { certPem, keyPem };
}

export function watchCertDir(
  dir: string,
  initial: KeyAndCert,
  onCertificate: (c: KeyAndCert) => void,
  o: { intervalMs?: number; log?: Pick<Logger, 'info' | 'warn'>; clock?: Clock } = {},
): { stop(): void } {
  const log = o.log ?? silentLogger;
  const clock = o.clock ?? realClock;
  const intervalMs = o.intervalMs ?? 5_000;
  let current = initial;
  let timer: ClockTimer | undefined;
  let stopped = false;
  const poll = (): void => {
    try {
      const next = readCertDir(dir);
      if (next.certPem !== current.certPem || next.keyPem !== current.keyPem) {
        current = next;
        onCertificate(next);
        log.info('webhook certificate reloaded from files', { dir });
      }
    } catch (err) {
      // Mid-swap or broken: keep serving the last good pair.
      log.warn('webhook certificate files unreadable; keeping the current one', { error: (err as Error).message });
    }
    schedule();
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = clock.setTimeout(poll, intervalMs);
    timer.unref();
  };
  schedule();
  return {
    stop() {
      stopped = true;
      if (timer) clock.clearTimeout(timer);
    },
  };
}
