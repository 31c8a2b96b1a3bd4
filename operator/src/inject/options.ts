/**
 * What the injector needs besides the pod: the sidecar image and the
 * defaults a pod's annotations may override. Plain data.
 */
import { DEFAULT_ADMIN, DEFAULT_LISTEN } from '../../../api/v1alpha1/enums.ts';
import type { LogLevel } from '../../../common/log.ts';

export interface InjectOptions {
  /** The sidecar image, e.g. ghcr.io/llmroute/sidecar:0.1.0 (the operator's --sidecar-image). */
  image: string;
  /** Default IfNotPresent. */
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** Only pods labelled llmroute.dev/inject=true are injected unless this is false (the inject CLI's --all). */
  requireLabel?: boolean;
  /** Defaults for what annotations may override. */
  defaults?: Partial<SidecarDefaults>;
}

export interface SidecarDefaults {
  port: number;
  adminPort: number;
  logLevel: LogLevel | undefined;
  cpuRequest: string;
  memoryRequest: string;
  memoryLimit: string;
}

export const SIDECAR_DEFAULTS: SidecarDefaults = {
  port: DEFAULT_LISTEN.port,
  adminPort: DEFAULT_ADMIN.port,
  logLevel: undefined,
  // Measured (bench/cpu-per-request.ts, README "Sidecar resources"): about 0.8 ms of CPU per
  // non-streaming request at 50–200 req/s (0.05 cores at 50 req/s, 0.17 at 200, 0.34 at 500).
  // 100m reserves about 100 req/s; there is no CPU limit, so a busier pod bursts above it, and
  // llmroute.dev/cpu-request sets it per pod.
  cpuRequest: '100m',
  memoryRequest: '64Mi',
  // A ceiling, not a reservation: 8 requests at once of the default maxRequestBody (32Mi) peak at
  // about 1.2 GB (bench/large-bodies.ts; README, "Request size"). Pods that send only small
  // requests may lower it with llmroute.dev/memory-limit.
  memoryLimit: '1536Mi',
};

/** The default image tag follows the package version; the chart sets it explicitly. */
export const DEFAULT_IMAGE_REPOSITORY = 'ghcr.io/llmroute/sidecar';
