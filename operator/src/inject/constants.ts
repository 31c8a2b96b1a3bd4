/**
 * The names the injection contract is made of: the opt-in label, the
 * per-pod annotations, and the names of what is injected. Users and the
 * chart rely on these strings; they do not change within v1alpha1.
 */

/** A pod opts in with this label set to "true". */
export const INJECT_LABEL = 'llmroute.dev/inject';

/** Written on every injected pod; a pod that has it is left alone. */
export const STATUS_ANNOTATION = 'llmroute.dev/status';
export const STATUS_INJECTED = 'injected';

/** Per-pod settings. */
export const ANNOTATIONS = {
  port: 'llmroute.dev/port',
  adminPort: 'llmroute.dev/admin-port',
  image: 'llmroute.dev/image',
  logLevel: 'llmroute.dev/log-level',
  cpuRequest: 'llmroute.dev/cpu-request',
  memoryRequest: 'llmroute.dev/memory-request',
  memoryLimit: 'llmroute.dev/memory-limit',
} as const;

export const SIDECAR_CONTAINER_NAME = 'llmroute-sidecar';
export const VOLUME_NAME = 'llmroute';
export const MOUNT_PATH = '/etc/llmroute';
/**
 * An empty read-only volume the sidecar mounts where Kubernetes would put
 * the pod's ServiceAccount token: the ServiceAccount admission plugin skips
 * every container that already has a mount at that path, so the sidecar
 * (which never calls the API) does not get the app's token.
 */
export const NO_TOKEN_VOLUME_NAME = 'llmroute-no-token';
export const SERVICE_ACCOUNT_TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
export const CONFIG_PATH = `${MOUNT_PATH}/config.yaml`;
/** Rendered per namespace by the operator. */
export const CONFIG_MAP_NAME = 'llmroute-config';
export const CREDENTIALS_SECRET_NAME = 'llmroute-credentials';
export const ADMIN_PORT_NAME = 'llmroute-admin';
export const BASE_URL_ENV = 'OPENAI_BASE_URL';
/** The Anthropic SDKs' (and Claude Code's) base URL variable: the sidecar's origin, as they add /v1/messages themselves. */
export const ANTHROPIC_BASE_URL_ENV = 'ANTHROPIC_BASE_URL';

/** The user (and group) the sidecar runs as: "nonroot" in distroless images. */
export const SIDECAR_UID = 65532;

/** Prometheus' conventional scrape annotations, added only when the pod has none of them. */
export const PROMETHEUS_ANNOTATIONS = {
  scrape: 'prometheus.io/scrape',
  port: 'prometheus.io/port',
  path: 'prometheus.io/path',
} as const;
