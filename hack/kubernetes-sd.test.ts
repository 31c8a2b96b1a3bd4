import { endpointsTargets, overHttpSd, podTargets, type Endpoints, type Pod } from './kubernetes-sd.ts';
import { scrapeConfigsFor } from './pod-monitor-scrape.ts';

const pod: Pod = {
  metadata: { name: 'shop-api-1', namespace: 'shop', uid: 'u1', labels: { app: 'shop-api', 'llmroute.dev/inject': 'true' }, annotations: { 'prometheus.io/port': '4001' }, ownerReferences: [{ kind: 'ReplicaSet', name: 'shop-api-5f', controller: true }] },
  spec: {
    nodeName: 'n1',
    initContainers: [{ name: 'llmroute-sidecar', image: 'sidecar:1', ports: [{ name: 'llmroute-api', containerPort: 4000 }, { name: 'llmroute-admin', containerPort: 4001 }] }],
    containers: [{ name: 'api', image: 'app:1' }],
  },
  status: { phase: 'Running', podIP: '10.244.0.7', hostIP: '10.244.0.1', conditions: [{ type: 'Ready', status: 'True' }], initContainerStatuses: [{ name: 'llmroute-sidecar', containerID: 'containerd://abc' }] },
};

describe('podTargets (role pod, as Prometheus discovers it)', () => {
  it("one target per container port, a native sidecar's (init container) ports included; one at the pod IP for a container without ports", () => {
    const groups = podTargets([pod, { ...pod, metadata: { ...pod.metadata, name: 'pending' }, status: { phase: 'Pending' } }]);
    expect(groups.map((g) => [g.targets[0], g.labels.__meta_kubernetes_pod_container_name, g.labels.__meta_kubernetes_pod_container_port_name, g.labels.__meta_kubernetes_pod_container_init])).toEqual([
      ['10.244.0.7:4000', 'llmroute-sidecar', 'llmroute-api', 'true'],
      ['10.244.0.7:4001', 'llmroute-sidecar', 'llmroute-admin', 'true'],
      ['10.244.0.7', 'api', undefined, 'false'],
    ]);
    expect(groups[1]!.labels).toMatchObject({
      __meta_kubernetes_namespace: 'shop',
      __meta_kubernetes_pod_name: 'shop-api-1',
      __meta_kubernetes_pod_phase: 'Running',
      __meta_kubernetes_pod_ready: 'true',
      __meta_kubernetes_pod_label_llmroute_dev_inject: 'true',
      __meta_kubernetes_pod_labelpresent_llmroute_dev_inject: 'true',
      __meta_kubernetes_pod_annotation_prometheus_io_port: '4001',
      __meta_kubernetes_pod_controller_kind: 'ReplicaSet',
      __meta_kubernetes_pod_container_port_number: '4001',
      __meta_kubernetes_pod_container_port_protocol: 'TCP',
      __meta_kubernetes_pod_container_id: 'containerd://abc',
    });
  });
});

describe('endpointsTargets (role endpoints)', () => {
  it("one target per address and port, with the Service's labels and the backing pod's container", () => {
    const operator: Pod = { ...pod, metadata: { name: 'op-1', namespace: 'sys', labels: { app: 'op' } }, spec: { containers: [{ name: 'operator', ports: [{ name: 'metrics', containerPort: 8080 }] }] }, status: { ...pod.status, podIP: '10.244.0.9' } };
    const e: Endpoints = { metadata: { name: 'llmroute-metrics', namespace: 'sys' }, subsets: [{ addresses: [{ ip: '10.244.0.9', targetRef: { kind: 'Pod', name: 'op-1', namespace: 'sys' } }], ports: [{ name: 'metrics', port: 8080 }] }] };
    const [g, ...rest] = endpointsTargets([e], [{ metadata: { name: 'llmroute-metrics', namespace: 'sys', labels: { 'app.kubernetes.io/component': 'metrics' } } }], [operator]);
    expect(rest).toEqual([]);
    expect(g!.targets).toEqual(['10.244.0.9:8080']);
    expect(g!.labels).toMatchObject({
      __meta_kubernetes_service_name: 'llmroute-metrics',
      __meta_kubernetes_service_label_app_kubernetes_io_component: 'metrics',
      __meta_kubernetes_endpoint_port_name: 'metrics',
      __meta_kubernetes_endpoint_ready: 'true',
      __meta_kubernetes_endpoint_address_target_kind: 'Pod',
      __meta_kubernetes_endpoint_address_target_name: 'op-1',
      __meta_kubernetes_pod_name: 'op-1',
      __meta_kubernetes_pod_container_name: 'operator',
      __meta_kubernetes_pod_container_port_name: 'metrics',
    });
  });
});

describe('overHttpSd', () => {
  it('swaps the Kubernetes discovery for HTTP SD at <base>/<role>, namespaces in the query, the rest unchanged', () => {
    const access = { apiServer: 'https://a:6443', caFile: 'ca', tokenFile: 't' };
    const [c] = scrapeConfigsFor([{ apiVersion: 'v1', kind: 'ServiceMonitor', metadata: { name: 'm', namespace: 'sys' }, spec: { namespaceSelector: { matchNames: ['sys', 'x'] }, endpoints: [{ port: 'metrics' }] } }], access);
    const h = overHttpSd(c!, 'http://127.0.0.1:9', '2s');
    expect(h.http_sd_configs).toEqual([{ url: 'http://127.0.0.1:9/endpoints?namespaces=sys,x', refresh_interval: '2s' }]);
    expect('kubernetes_sd_configs' in h).toBe(false);
    expect(h.relabel_configs).toEqual(c!.relabel_configs);
  });
});
