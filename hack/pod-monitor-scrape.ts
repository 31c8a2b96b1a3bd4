/**
 * The Prometheus scrape config a prometheus-operator would generate from the chart's PodMonitor and
 * ServiceMonitor, for a plain Prometheus (the node suite runs Debian's, without the operator):
 * Kubernetes service discovery (role pod for a PodMonitor, endpoints for a ServiceMonitor) against
 * the API server with a ServiceAccount token, relabelings that keep the objects the selector
 * matches and the port the endpoint names, and the target labels the operator sets (namespace,
 * pod, container, job, endpoint; service for a ServiceMonitor). Pure: objects in, config out.
 *
 * Also: the rules file of a PrometheusRule (its spec.groups, as Prometheus reads them), and the
 * queries of a Grafana dashboard with its template variables substituted.
 */

export interface ApiAccess {
  /** https://host:port of the API server, as Prometheus reaches it. */
  apiServer: string;
  caFile: string;
  /** A file holding a bearer token allowed to get/list/watch pods, endpoints and services. */
  tokenFile: string;
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }>;
}

interface NamespaceSelector {
  any?: boolean;
  matchNames?: string[];
}

interface Endpoint {
  port?: string;
  path?: string;
  interval?: string;
  scrapeTimeout?: string;
  scheme?: string;
}

export interface MonitorObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string };
  spec: { selector?: LabelSelector; namespaceSelector?: NamespaceSelector; podMetricsEndpoints?: Endpoint[]; endpoints?: Endpoint[] };
}

export interface Relabel {
  source_labels?: string[];
  separator?: string;
  regex?: string;
  target_label?: string;
  replacement?: string;
  action?: 'replace' | 'keep' | 'drop';
}

export interface ScrapeConfig {
  job_name: string;
  scrape_interval?: string;
  scrape_timeout?: string;
  metrics_path: string;
  scheme: string;
  honor_labels: boolean;
  kubernetes_sd_configs: Array<Record<string, unknown>>;
  relabel_configs: Relabel[];
}

/** A Kubernetes label name as a Prometheus meta label suffix: every character outside [a-zA-Z0-9_] becomes _. */
export function sanitizeLabelName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

/** An RE2 pattern matching `s` literally. */
function quoteRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function selectorRelabels(selector: LabelSelector | undefined, role: 'pod' | 'service'): Relabel[] {
  const out: Relabel[] = [];
  const meta = (kind: 'label' | 'labelpresent', key: string) => `__meta_kubernetes_${role}_${kind}_${sanitizeLabelName(key)}`;
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    out.push({ action: 'keep', source_labels: [meta('label', key), meta('labelpresent', key)], regex: `(${quoteRegex(value)});true` });
  }
  for (const e of selector?.matchExpressions ?? []) {
    const values = (e.values ?? []).map(quoteRegex).join('|');
    switch (e.operator) {
      case 'In':
        out.push({ action: 'keep', source_labels: [meta('label', e.key), meta('labelpresent', e.key)], regex: `(${values});true` });
        break;
      case 'NotIn':
        out.push({ action: 'drop', source_labels: [meta('label', e.key), meta('labelpresent', e.key)], regex: `(${values});true` });
        break;
      case 'Exists':
        out.push({ action: 'keep', source_labels: [meta('labelpresent', e.key)], regex: 'true' });
        break;
      case 'DoesNotExist':
        out.push({ action: 'drop', source_labels: [meta('labelpresent', e.key)], regex: 'true' });
        break;
      default:
        throw new Error(`label selector operator ${String((e as { operator: unknown }).operator)} is not supported`);
    }
  }
  return out;
}

function sdConfig(role: 'pod' | 'endpoints', ns: NamespaceSelector | undefined, ownNamespace: string, access: ApiAccess): Record<string, unknown> {
  const sd: Record<string, unknown> = {
    role,
    api_server: access.apiServer,
    tls_config: { ca_file: access.caFile },
    authorization: { type: 'Bearer', credentials_file: access.tokenFile },
  };
  // The operator's rule: any → every namespace; matchNames → those; neither → the monitor's own.
  if (!ns?.any) sd.namespaces = { names: ns?.matchNames?.length ? ns.matchNames : [ownNamespace] };
  return sd;
}

function common(job: string, e: Endpoint, defaultInterval: string | undefined): Pick<ScrapeConfig, 'job_name' | 'scrape_interval' | 'scrape_timeout' | 'metrics_path' | 'scheme' | 'honor_labels'> {
  const c: ReturnType<typeof common> = { job_name: job, metrics_path: e.path ?? '/metrics', scheme: e.scheme ?? 'http', honor_labels: false };
  const interval = e.interval ?? defaultInterval;
  if (interval) c.scrape_interval = interval;
  if (e.scrapeTimeout) c.scrape_timeout = e.scrapeTimeout;
  return c;
}

/**
 * One scrape config per endpoint of every PodMonitor and ServiceMonitor among `objects` (other kinds
 * are ignored). Endpoints must name their port (a targetPort number is not supported).
 */
export function scrapeConfigsFor(objects: MonitorObject[], access: ApiAccess, o: { defaultInterval?: string } = {}): ScrapeConfig[] {
  const out: ScrapeConfig[] = [];
  for (const m of objects) {
    const { name, namespace } = m.metadata;
    if (m.kind === 'PodMonitor') {
      (m.spec.podMetricsEndpoints ?? []).forEach((e, i) => {
        if (!e.port) throw new Error(`PodMonitor ${namespace}/${name} endpoint ${i}: no port name`);
        out.push({
          ...common(`podMonitor/${namespace}/${name}/${i}`, e, o.defaultInterval),
          kubernetes_sd_configs: [sdConfig('pod', m.spec.namespaceSelector, namespace, access)],
          relabel_configs: [
            { source_labels: ['job'], target_label: '__tmp_prometheus_job_name' },
            // finished pods keep their IPs in the API for a while: never scraped
            { action: 'drop', source_labels: ['__meta_kubernetes_pod_phase'], regex: '(Failed|Succeeded)' },
            ...selectorRelabels(m.spec.selector, 'pod'),
            { action: 'keep', source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: quoteRegex(e.port) },
            { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
            { source_labels: ['__meta_kubernetes_pod_container_name'], target_label: 'container' },
            { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
            { target_label: 'job', replacement: `${namespace}/${name}` },
            { target_label: 'endpoint', replacement: e.port },
          ],
        });
      });
    } else if (m.kind === 'ServiceMonitor') {
      (m.spec.endpoints ?? []).forEach((e, i) => {
        if (!e.port) throw new Error(`ServiceMonitor ${namespace}/${name} endpoint ${i}: no port name`);
        out.push({
          ...common(`serviceMonitor/${namespace}/${name}/${i}`, e, o.defaultInterval),
          kubernetes_sd_configs: [sdConfig('endpoints', m.spec.namespaceSelector, namespace, access)],
          relabel_configs: [
            { source_labels: ['job'], target_label: '__tmp_prometheus_job_name' },
            ...selectorRelabels(m.spec.selector, 'service'),
            { action: 'keep', source_labels: ['__meta_kubernetes_endpoint_port_name'], regex: quoteRegex(e.port) },
            // an address backed by a pod: its namespace, pod and container; then the service
            { source_labels: ['__meta_kubernetes_endpoint_address_target_kind', '__meta_kubernetes_endpoint_address_target_name'], separator: ';', regex: 'Pod;(.*)', target_label: 'pod', replacement: '${1}' },
            { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
            { source_labels: ['__meta_kubernetes_service_name'], target_label: 'service' },
            { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
            { source_labels: ['__meta_kubernetes_pod_container_name'], target_label: 'container' },
            { source_labels: ['__meta_kubernetes_service_name'], target_label: 'job', replacement: '${1}' },
            { target_label: 'endpoint', replacement: e.port },
          ],
        });
      });
    }
  }
  return out;
}

export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Array<{ alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }>;
}

/** The rules file of the PrometheusRules among `objects`: every group of every one, as Prometheus's `rule_files` read them. */
export function rulesFileFrom(objects: Array<{ kind: string; spec?: { groups?: RuleGroup[] } }>): { groups: RuleGroup[] } {
  const groups = objects.filter((o) => o.kind === 'PrometheusRule').flatMap((o) => o.spec?.groups ?? []);
  if (groups.length === 0) throw new Error('no PrometheusRule groups among the objects');
  return { groups };
}

export interface DashboardQuery {
  panel: string;
  refId: string;
  /** As the dashboard has it. */
  raw: string;
  /** With the template variables substituted. */
  expr: string;
}

/**
 * Every Prometheus query of a dashboard's panels (rows' nested panels too), its variables
 * substituted: each `$name`/`${name}` (and `[[name]]`) of `vars` by its value; a variable missing
 * from `vars` is an error, so a query never reaches Prometheus with a `$` left in it.
 */
export function dashboardQueries(dashboard: { panels?: unknown[] }, vars: Record<string, string>): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  const visit = (panels: unknown[] | undefined) => {
    for (const p of (panels ?? []) as Array<{ title?: string; panels?: unknown[]; targets?: Array<{ expr?: string; refId?: string }> }>) {
      visit(p.panels);
      for (const t of p.targets ?? []) {
        if (!t.expr) continue;
        const expr = t.expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]/g, (m, a?: string, b?: string, c?: string) => {
          const name = (a ?? b ?? c)!;
          if (!(name in vars)) throw new Error(`panel "${p.title}": variable ${m} has no value`);
          return vars[name]!;
        });
        out.push({ panel: p.title ?? '(untitled)', refId: t.refId ?? '', raw: t.expr, expr });
      }
    }
  };
  visit(dashboard.panels);
  return out;
}
