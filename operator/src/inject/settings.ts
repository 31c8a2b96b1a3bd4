/**
 * The sidecar's per-pod settings: the defaults, overridden by the pod's
 * llmroute.dev/* annotations. Every bad annotation is reported (not just
 * the first), each naming the annotation, its value and what is expected.
 * Pure.
 */
import { ANNOTATIONS } from './constants.ts';
import { SIDECAR_DEFAULTS, type SidecarDefaults } from './options.ts';
import { parseQuantity } from './quantity.ts';
import { isLogLevel } from '../../../common/log.ts';

/** The defaults, with the image, after the pod's annotations. */
export interface SidecarSettings extends SidecarDefaults {
  image: string;
}

export type SettingsResult = { ok: true; settings: SidecarSettings } | { ok: false; problems: string[] };

/**
 * A container image reference: [registry[:port]/]path[:tag][@digest], no
 * spaces, no upper case in the path. Loose on purpose: the kubelet has the
 * last word; this catches typos such as a stray space or quote.
 */
const IMAGE = /^[a-z0-9]([a-z0-9._\-/:]*[a-zA-Z0-9_])?(@sha256:[a-f0-9]{64})?$/;
const IMAGE_MAX = 512;

export function resolveSettings(
  annotations: Readonly<Record<string, string>> | undefined,
  image: string,
  defaults: Partial<SidecarDefaults> = {},
): SettingsResult {
  const a = annotations ?? {};
  const base = { ...SIDECAR_DEFAULTS, ...defaults };
  const problems: string[] = [];
  const bad = (key: string, value: string, expected: string) =>
    problems.push(`annotation ${key}: ${JSON.stringify(value)} is not ${expected}`);

  const port = (key: string, fallback: number): number => {
    const v = a[key];
    if (v === undefined) return fallback;
    if (!/^\d{1,5}$/.test(v) || Number(v) < 1 || Number(v) > 65535) {
      bad(key, v, 'a port number from 1 to 65535');
      return fallback;
    }
    return Number(v);
  };
  const quantity = (key: string, fallback: string, what: string): string => {
    const v = a[key];
    if (v === undefined) return fallback;
    const n = parseQuantity(v);
    if (n === undefined || n <= 0) {
      bad(key, v, `a positive Kubernetes quantity (${what})`);
      return fallback;
    }
    return v;
  };

  const settings: SidecarSettings = {
    image,
    port: port(ANNOTATIONS.port, base.port),
    adminPort: port(ANNOTATIONS.adminPort, base.adminPort),
    logLevel: base.logLevel,
    cpuRequest: quantity(ANNOTATIONS.cpuRequest, base.cpuRequest, 'e.g. 50m or 0.1'),
    memoryRequest: quantity(ANNOTATIONS.memoryRequest, base.memoryRequest, 'e.g. 64Mi'),
    memoryLimit: quantity(ANNOTATIONS.memoryLimit, base.memoryLimit, 'e.g. 256Mi'),
  };

  const img = a[ANNOTATIONS.image];
  if (img !== undefined) {
    if (img.length > IMAGE_MAX || !IMAGE.test(img)) bad(ANNOTATIONS.image, img, 'a container image reference (e.g. ghcr.io/llmroute/sidecar:0.1.0)');
    else settings.image = img;
  }
  const level = a[ANNOTATIONS.logLevel];
  if (level !== undefined) {
    if (!isLogLevel(level)) bad(ANNOTATIONS.logLevel, level, 'one of debug, info, warn, error');
    else settings.logLevel = level;
  }

  if (settings.port === settings.adminPort) {
    problems.push(`annotations ${ANNOTATIONS.port} and ${ANNOTATIONS.adminPort}: the API port and the admin port must differ (both ${settings.port})`);
  }
  const request = parseQuantity(settings.memoryRequest);
  const limit = parseQuantity(settings.memoryLimit);
  if (request !== undefined && limit !== undefined && request > limit) {
    problems.push(
      `annotations ${ANNOTATIONS.memoryRequest} and ${ANNOTATIONS.memoryLimit}: the memory request (${settings.memoryRequest}) exceeds the limit (${settings.memoryLimit})`,
    );
  }
  return problems.length ? { ok: false, problems } : { ok: true, settings };
}
