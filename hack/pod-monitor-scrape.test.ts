import { dashboardQueries, rulesFileFrom, sanitizeLabelName, scrapeConfigsFor, type MonitorObject } from './pod-monitor-scrape.ts';

const access = { apiServer: 'https://10.244.0.1:6443', caFile: '/tmp/ca.crt', tokenFile: '/tmp/token' };

// The shapes of charts/llmroute/templates/monitoring.yaml, rendered.
const podMonitor: MonitorObject = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PodMonitor',
  metadata: { name: 'llmroute-sidecars', namespace: 'llmroute-system' },
  spec: { selector: { matchLabels: { 'llmroute.dev/inject': 'true' } }, namespaceSelector: { any: true }, podMetricsEndpoints: [{ port: 'llmroute-admin', path: '/metrics', interval: '2s' }] },
};
const serviceMonitor: MonitorObject = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'ServiceMonitor',
  metadata: { name: 'llmroute-operator', namespace: 'llmroute-system' },
  spec: {
    selector: { matchLabels: { 'app.kubernetes.io/name': 'llmroute', 'app.kubernetes.io/component': 'metrics' } },
    namespaceSelector: { matchNames: ['llmroute-system'] },
    endpoints: [{ port: 'metrics', path: '/metrics', interval: '5s' }],
  },
};

describe('scrapeConfigsFor (a PodMonitor / ServiceMonitor as prometheus-operator turns it into a scrape config)', () => {
  it('a PodMonitor: role pod in every namespace, keeps the labelled pods and the named port, sets the labels the operator sets', () => {
    const [c, ...rest] = scrapeConfigsFor([podMonitor, { ...serviceMonitor, kind: 'Service' } as MonitorObject], access);
    expect(rest).toEqual([]);
    expect(c).toMatchObject({ job_name: 'podMonitor/llmroute-system/llmroute-sidecars/0', scrape_interval: '2s', metrics_path: '/metrics', scheme: 'http', honor_labels: false });
    expect(c!.kubernetes_sd_configs).toEqual([{ role: 'pod', api_server: access.apiServer, tls_config: { ca_file: access.caFile }, authorization: { type: 'Bearer', credentials_file: access.tokenFile } }]);
    expect(c!.relabel_configs).toEqual(
      expect.arrayContaining([
        { action: 'drop', source_labels: ['__meta_kubernetes_pod_phase'], regex: '(Failed|Succeeded)' },
        { action: 'keep', source_labels: ['__meta_kubernetes_pod_label_llmroute_dev_inject', '__meta_kubernetes_pod_labelpresent_llmroute_dev_inject'], regex: '(true);true' },
        { action: 'keep', source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: 'llmroute-admin' },
        { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
        { source_labels: ['__meta_kubernetes_pod_container_name'], target_label: 'container' },
        { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
        { target_label: 'job', replacement: 'llmroute-system/llmroute-sidecars' },
        { target_label: 'endpoint', replacement: 'llmroute-admin' },
      ]),
    );
    // the keeps come before the labels they would otherwise leave on dropped targets
    const idx = (target: string) => c!.relabel_configs.findIndex((r) => r.target_label === target);
    const lastKeep = c!.relabel_configs.findLastIndex((r) => r.action === 'keep');
    expect(lastKeep).toBeLessThan(idx('namespace'));
  });

  it('a ServiceMonitor: role endpoints in its matchNames, keeps the selected services and the port, job = the service', () => {
    const [c] = scrapeConfigsFor([serviceMonitor], access);
    expect(c!.job_name).toBe('serviceMonitor/llmroute-system/llmroute-operator/0');
    expect(c!.scrape_interval).toBe('5s');
    expect(c!.kubernetes_sd_configs[0]).toMatchObject({ role: 'endpoints', namespaces: { names: ['llmroute-system'] } });
    expect(c!.relabel_configs).toEqual(
      expect.arrayContaining([
        { action: 'keep', source_labels: ['__meta_kubernetes_service_label_app_kubernetes_io_component', '__meta_kubernetes_service_labelpresent_app_kubernetes_io_component'], regex: '(metrics);true' },
        { action: 'keep', source_labels: ['__meta_kubernetes_service_label_app_kubernetes_io_name', '__meta_kubernetes_service_labelpresent_app_kubernetes_io_name'], regex: '(llmroute);true' },
        { action: 'keep', source_labels: ['__meta_kubernetes_endpoint_port_name'], regex: 'metrics' },
        { source_labels: ['__meta_kubernetes_service_name'], target_label: 'job', replacement: '${1}' },
        { target_label: 'endpoint', replacement: 'metrics' },
      ]),
    );
  });

  it('no namespaceSelector: the monitor\'s own namespace; matchExpressions and regex characters in values', () => {
    const [c] = scrapeConfigsFor(
      [{ ...podMonitor, spec: { selector: { matchLabels: { 'a.b/c': 'x.y' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b+'] }, { key: 'skip', operator: 'Exists' }] }, podMetricsEndpoints: [{ port: 'm' }] } }],
      access,
      { defaultInterval: '30s' },
    );
    expect(c!.kubernetes_sd_configs[0]).toMatchObject({ namespaces: { names: ['llmroute-system'] } });
    expect(c!.scrape_interval).toBe('30s');
    expect(c!.relabel_configs).toEqual(
      expect.arrayContaining([
        { action: 'keep', source_labels: ['__meta_kubernetes_pod_label_a_b_c', '__meta_kubernetes_pod_labelpresent_a_b_c'], regex: '(x\\.y);true' },
        { action: 'keep', source_labels: ['__meta_kubernetes_pod_label_tier', '__meta_kubernetes_pod_labelpresent_tier'], regex: '(a|b\\+);true' },
        { action: 'keep', source_labels: ['__meta_kubernetes_pod_labelpresent_skip'], regex: 'true' },
      ]),
    );
  });

  it('an endpoint without a port name is refused', () => {
    expect(() => scrapeConfigsFor([{ ...podMonitor, spec: { podMetricsEndpoints: [{ path: '/metrics' }] } }], access)).toThrow(/no port name/);
  });

  it('sanitizes label names as Prometheus meta labels have them', () => {
    expect(sanitizeLabelName('llmroute.dev/inject')).toBe('llmroute_dev_inject');
    expect(sanitizeLabelName('app.kubernetes.io/name')).toBe('app_kubernetes_io_name');
  });
});

describe('rulesFileFrom', () => {
  it('gathers the groups of every PrometheusRule, and refuses none', () => {
    const g = { name: 'llmroute', rules: [{ alert: 'A', expr: 'up == 0' }] };
    expect(rulesFileFrom([{ kind: 'ConfigMap' }, { kind: 'PrometheusRule', spec: { groups: [g] } }])).toEqual({ groups: [g] });
    expect(() => rulesFileFrom([{ kind: 'ConfigMap' }])).toThrow(/no PrometheusRule/);
  });
});

describe('dashboardQueries', () => {
  const dashboard = {
    panels: [
      { title: 'A', targets: [{ refId: 'A', expr: 'sum(rate(x{namespace=~"$namespace", route=~"${route}"}[$__rate_interval]))' }] },
      { title: 'row', panels: [{ title: 'B', targets: [{ refId: 'B', expr: 'y[[route]]' }, { refId: 'C' }] }] },
    ],
  };

  it('substitutes every variable, nested panels included', () => {
    expect(dashboardQueries(dashboard, { namespace: '.*', route: 'chat', __rate_interval: '1m' }).map((q) => [q.panel, q.expr])).toEqual([
      ['A', 'sum(rate(x{namespace=~".*", route=~"chat"}[1m]))'],
      ['B', 'ychat'],
    ]);
  });

  it('a variable without a value is an error', () => {
    expect(() => dashboardQueries(dashboard, { namespace: '.*', route: 'chat' })).toThrow(/__rate_interval/);
  });
});
