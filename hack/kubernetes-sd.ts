/**
 * The targets Prometheus's Kubernetes service discovery (roles pod and endpoints) makes of the API's
 * objects, with the same `__meta_kubernetes_*` labels, as HTTP SD target groups. Debian's
 * Prometheus (2.42.0+ds) is built without the Kubernetes discovery (`kubernetes_sd_configs` is not a
 * field of its config), so the node suite serves these over `http_sd_configs` and keeps the
 * relabelings prometheus-operator generates (pod-monitor-scrape.ts) unchanged. Pure: objects in,
 * target groups out.
 */
import { sanitizeLabelName, type ScrapeConfig } from './pod-monitor-scrape.ts';

export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

type Obj = { metadata: { name: string; namespace?: string; uid?: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: Array<{ kind: string; name: string; controller?: boolean }> } };
interface Port {
  name?: string;
  containerPort: number;
  protocol?: string;
}
interface Container {
  name: string;
  image?: string;
  ports?: Port[];
}
export interface Pod extends Obj {
  spec: { nodeName?: string; containers: Container[]; initContainers?: Container[] };
  status: { phase?: string; podIP?: string; hostIP?: string; conditions?: Array<{ type: string; status: string }>; containerStatuses?: Array<{ name: string; containerID?: string }>; initContainerStatuses?: Array<{ name: string; containerID?: string }> };
}
export interface Endpoints extends Obj {
  subsets?: Array<{
    addresses?: Array<{ ip: string; nodeName?: string; targetRef?: { kind: string; name: string; namespace?: string } }>;
    notReadyAddresses?: Array<{ ip: string; nodeName?: string; targetRef?: { kind: string; name: string; namespace?: string } }>;
    ports?: Array<{ name?: string; port: number; protocol?: string }>;
  }>;
}
export type Service = Obj;

function objectLabels(prefix: string, o: Obj): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o.metadata.labels ?? {})) {
    out[`${prefix}_label_${sanitizeLabelName(k)}`] = v;
    out[`${prefix}_labelpresent_${sanitizeLabelName(k)}`] = 'true';
  }
  for (const [k, v] of Object.entries(o.metadata.annotations ?? {})) {
    out[`${prefix}_annotation_${sanitizeLabelName(k)}`] = v;
    out[`${prefix}_annotationpresent_${sanitizeLabelName(k)}`] = 'true';
  }
  return out;
}

function podLabels(p: Pod): Record<string, string> {
  const ready = p.status.conditions?.find((c) => c.type === 'Ready')?.status;
  const controller = p.metadata.ownerReferences?.find((r) => r.controller);
  const out: Record<string, string> = {
    __meta_kubernetes_namespace: p.metadata.namespace ?? '',
    __meta_kubernetes_pod_name: p.metadata.name,
    __meta_kubernetes_pod_ip: p.status.podIP ?? '',
    __meta_kubernetes_pod_ready: ready === 'True' ? 'true' : ready === 'False' ? 'false' : 'unknown',
    __meta_kubernetes_pod_phase: p.status.phase ?? '',
    __meta_kubernetes_pod_node_name: p.spec.nodeName ?? '',
    __meta_kubernetes_pod_host_ip: p.status.hostIP ?? '',
    __meta_kubernetes_pod_uid: p.metadata.uid ?? '',
    ...objectLabels('__meta_kubernetes_pod', p),
  };
  if (controller) {
    out.__meta_kubernetes_pod_controller_kind = controller.kind;
    out.__meta_kubernetes_pod_controller_name = controller.name;
  }
  return out;
}

function containerLabels(p: Pod, c: Container, init: boolean): Record<string, string> {
  const id = [...(p.status.containerStatuses ?? []), ...(p.status.initContainerStatuses ?? [])].find((s) => s.name === c.name)?.containerID ?? '';
  return { __meta_kubernetes_pod_container_name: c.name, __meta_kubernetes_pod_container_image: c.image ?? '', __meta_kubernetes_pod_container_id: id, __meta_kubernetes_pod_container_init: String(init) };
}

function portLabels(port: Port): Record<string, string> {
  return { __meta_kubernetes_pod_container_port_name: port.name ?? '', __meta_kubernetes_pod_container_port_number: String(port.containerPort), __meta_kubernetes_pod_container_port_protocol: port.protocol ?? 'TCP' };
}

/**
 * Role pod: one target per container port (init containers too: a native sidecar's ports are an
 * init container's), address podIP:port; a container without ports: one target at the pod IP.
 * Pods without an IP yet are left out.
 */
export function podTargets(pods: Pod[]): TargetGroup[] {
  const out: TargetGroup[] = [];
  for (const p of pods) {
    if (!p.status.podIP) continue;
    const base = podLabels(p);
    const containers = [...(p.spec.initContainers ?? []).map((c) => [c, true] as const), ...p.spec.containers.map((c) => [c, false] as const)];
    for (const [c, init] of containers) {
      if (!c.ports?.length) {
        out.push({ targets: [p.status.podIP], labels: { ...base, ...containerLabels(p, c, init) } });
        continue;
      }
      for (const port of c.ports) out.push({ targets: [`${p.status.podIP}:${port.containerPort}`], labels: { ...base, ...containerLabels(p, c, init), ...portLabels(port) } });
    }
  }
  return out;
}

/**
 * Role endpoints: one target per address and port of each Endpoints object, with its Service's
 * labels and, for an address backed by a pod, that pod's labels and the container that has the port.
 */
export function endpointsTargets(endpoints: Endpoints[], services: Service[], pods: Pod[]): TargetGroup[] {
  const out: TargetGroup[] = [];
  const byName = <T extends Obj>(list: T[]) => new Map(list.map((o) => [`${o.metadata.namespace}/${o.metadata.name}`, o]));
  const svcs = byName(services);
  const podsByName = byName(pods);
  for (const e of endpoints) {
    const ns = e.metadata.namespace ?? '';
    const svc = svcs.get(`${ns}/${e.metadata.name}`);
    const common: Record<string, string> = { __meta_kubernetes_namespace: ns, __meta_kubernetes_endpoints_name: e.metadata.name, ...objectLabels('__meta_kubernetes_endpoints', e) };
    if (svc) Object.assign(common, { __meta_kubernetes_service_name: svc.metadata.name, ...objectLabels('__meta_kubernetes_service', svc) });
    for (const subset of e.subsets ?? []) {
      const addresses = [...(subset.addresses ?? []).map((a) => [a, true] as const), ...(subset.notReadyAddresses ?? []).map((a) => [a, false] as const)];
      for (const [a, ready] of addresses) {
        for (const port of subset.ports ?? []) {
          const labels: Record<string, string> = {
            ...common,
            __meta_kubernetes_endpoint_port_name: port.name ?? '',
            __meta_kubernetes_endpoint_port_protocol: port.protocol ?? 'TCP',
            __meta_kubernetes_endpoint_ready: String(ready),
          };
          if (a.nodeName) labels.__meta_kubernetes_endpoint_node_name = a.nodeName;
          if (a.targetRef) {
            labels.__meta_kubernetes_endpoint_address_target_kind = a.targetRef.kind;
            labels.__meta_kubernetes_endpoint_address_target_name = a.targetRef.name;
            const pod = a.targetRef.kind === 'Pod' ? podsByName.get(`${a.targetRef.namespace ?? ns}/${a.targetRef.name}`) : undefined;
            if (pod) {
              Object.assign(labels, podLabels(pod));
              for (const [c, init] of [...(pod.spec.initContainers ?? []).map((x) => [x, true] as const), ...pod.spec.containers.map((x) => [x, false] as const)]) {
                const cp = c.ports?.find((x) => x.containerPort === port.port && (x.protocol ?? 'TCP') === (port.protocol ?? 'TCP'));
                if (cp) Object.assign(labels, containerLabels(pod, c, init), portLabels(cp));
              }
            }
          }
          out.push({ targets: [`${a.ip}:${port.port}`], labels });
        }
      }
    }
  }
  return out;
}

/**
 * The same scrape config with its `kubernetes_sd_configs` served over HTTP SD instead: each becomes
 * an `http_sd_configs` entry at `<base>/<role>` (`?namespaces=a,b` when it lists namespaces).
 */
export function overHttpSd(c: ScrapeConfig, base: string, refreshInterval = '2s'): Omit<ScrapeConfig, 'kubernetes_sd_configs'> & { http_sd_configs: Array<{ url: string; refresh_interval: string }> } {
  const { kubernetes_sd_configs: sd, ...rest } = c;
  return {
    ...rest,
    http_sd_configs: sd.map((k) => {
      const names = (k.namespaces as { names?: string[] } | undefined)?.names;
      return { url: `${base}/${String(k.role)}${names?.length ? `?namespaces=${names.map(encodeURIComponent).join(',')}` : ''}`, refresh_interval: refreshInterval };
    }),
  };
}
