/**
 * The injected pieces as plain Kubernetes objects: the sidecar container
 * (a native sidecar: an init container with restartPolicy Always) and the
 * projected volume it reads its config from. Pure.
 *
 * The volume: ConfigMap llmroute-config is required (no `optional`), the
 * Secret llmroute-credentials is optional. Without a config the sidecar has
 * nothing to serve (it would exit with code 2 and restart in a loop), so
 * the kubelet holds the pod in Init:0/1, with FailedMount events naming the
 * missing ConfigMap, until the operator has rendered one for the namespace
 * (i.e. until the namespace has an LLMRoute); the app never starts without
 * its proxy. The Secret is optional because a namespace whose routes need
 * no keys (openai-compatible servers without auth) has none; a key file a
 * config names but the volume lacks is a clear sidecar error.
 *
 * The second volume keeps the app's ServiceAccount token out of the sidecar.
 * The ServiceAccount admission plugin runs before the mutating webhooks, but
 * once a webhook has changed the pod the API server runs the built-in
 * mutating plugins again (admission reinvocation), and that second pass
 * mounts the token into every container, the sidecar included, that has no
 * mount at /var/run/secrets/kubernetes.io/serviceaccount. The sidecar has
 * one: an empty, read-only, memory-backed emptyDir (1 KiB at most), so the
 * plugin leaves it alone. The app containers keep their token as before.
 */
import type { V1Container, V1Volume } from '@kubernetes/client-node';
import {
  ADMIN_PORT_NAME,
  CONFIG_MAP_NAME,
  CONFIG_PATH,
  CREDENTIALS_SECRET_NAME,
  MOUNT_PATH,
  NO_TOKEN_VOLUME_NAME,
  SERVICE_ACCOUNT_TOKEN_PATH,
  SIDECAR_CONTAINER_NAME,
  SIDECAR_UID,
  VOLUME_NAME,
} from './constants.ts';
import { SIDECAR_DEFAULTS } from './options.ts';
import type { SidecarSettings } from './settings.ts';

export function sidecarContainer(s: SidecarSettings, imagePullPolicy: V1Container['imagePullPolicy'] = 'IfNotPresent'): V1Container {
  const args = ['--config', CONFIG_PATH];
  if (s.port !== SIDECAR_DEFAULTS.port) args.push('--port', String(s.port));
  if (s.adminPort !== SIDECAR_DEFAULTS.adminPort) args.push('--admin-port', String(s.adminPort));
  if (s.logLevel) args.push('--log-level', s.logLevel);
  const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path, port: ADMIN_PORT_NAME, scheme: 'HTTP' },
    periodSeconds,
    timeoutSeconds: 2,
    failureThreshold,
  });
  return {
    name: SIDECAR_CONTAINER_NAME,
    image: s.image,
    imagePullPolicy,
    // A native sidecar: started before the other init containers and the
    // app, kept running beside it, stopped after it.
    restartPolicy: 'Always',
    args,
    ports: [{ name: ADMIN_PORT_NAME, containerPort: s.adminPort, protocol: 'TCP' }],
    // The kubelet starts the next container only once this succeeds, so the
    // app never sends a request before the proxy has a config: up to 60 s.
    startupProbe: probe('/readyz', 1, 60),
    readinessProbe: probe('/readyz', 5, 3),
    livenessProbe: probe('/healthz', 10, 3),
    resources: {
      requests: { cpu: s.cpuRequest, memory: s.memoryRequest },
      limits: { memory: s.memoryLimit },
    },
    securityContext: {
      runAsNonRoot: true,
      runAsUser: SIDECAR_UID,
      runAsGroup: SIDECAR_UID,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    volumeMounts: [
      { name: VOLUME_NAME, mountPath: MOUNT_PATH, readOnly: true },
      { name: NO_TOKEN_VOLUME_NAME, mountPath: SERVICE_ACCOUNT_TOKEN_PATH, readOnly: true },
    ],
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
}

export function sidecarVolume(): V1Volume {
  return {
    name: VOLUME_NAME,
    projected: {
      sources: [
        { configMap: { name: CONFIG_MAP_NAME } },
        { secret: { name: CREDENTIALS_SECRET_NAME, optional: true } },
      ],
    },
  };
}

/** Mounted over the ServiceAccount token's path in the sidecar only: see the top of this file. */
export function noTokenVolume(): V1Volume {
  return { name: NO_TOKEN_VOLUME_NAME, emptyDir: { medium: 'Memory', sizeLimit: '1Ki' } };
}
