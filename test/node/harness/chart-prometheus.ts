// A Prometheus that scrapes the node the way the chart's monitoring objects say: the chart rendered
// with `helm template` (podMonitor, serviceMonitor, prometheusRule and grafanaDashboard enabled, the
// release's name and namespace), its PodMonitor and ServiceMonitor turned into scrape configs as
// prometheus-operator would (hack/pod-monitor-scrape.ts), its PrometheusRule's groups as the rules
// file; service discovery with the token of a ServiceAccount allowed to get/list/watch pods,
// endpoints and services, nothing more.
//
// Debian's Prometheus (2.42.0+ds) is built without the Kubernetes discovery: `kubernetes_sd_configs`
// is not a field of its config. The discovery is served to it over HTTP SD instead, by
// kubernetes-http-sd.ts (in the namespace, with that token), with the labels Prometheus's own
// Kubernetes SD sets (hack/kubernetes-sd.ts); the relabelings are the operator's, unchanged. The
// config as the operator would write it is kept beside, as prometheus-operator.yml.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import path from 'node:path';
import yaml from 'js-yaml';
import { overHttpSd } from '../../../hack/kubernetes-sd.ts';
import { rulesFileFrom, scrapeConfigsFor, type MonitorObject, type RuleGroup } from '../../../hack/pod-monitor-scrape.ts';
import { helm, kubectl, nodeInfo, REPO } from './cluster.ts';
import { inNetns } from './node-cluster.ts';
import { startPrometheus, type RunningPrometheus } from './prometheus.ts';

export const SCRAPE_INTERVAL = '2s';
export const PROMETHEUS_NS = 'monitoring';

export interface ChartPrometheus {
  prom: RunningPrometheus;
  /** Every object `helm template` rendered. */
  objects: any[];
  podMonitor: MonitorObject;
  serviceMonitor: MonitorObject;
  rules: { groups: RuleGroup[] };
  dashboard: { panels?: unknown[]; templating?: { list?: any[] } };
  /** performance.now() figures: spawn → /-/ready. */
  readyMs: number;
  /** When it started (epoch seconds): where its data begins. */
  startedAt: number;
  sd: ChildProcess;
  /** Stops Prometheus and the discovery endpoint. */
  stop(): Promise<void>;
}

function stopProc(p: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) return resolve();
    const kill = setTimeout(() => p.kill('SIGKILL'), 5_000);
    p.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    p.kill('SIGTERM');
  });
}

/** The discovery endpoint, in the node's namespace; resolves with its base URL once it listens. */
async function startHttpSd(netns: string | undefined, apiServer: string, caFile: string, tokenFile: string): Promise<{ proc: ChildProcess; base: string }> {
  const argv = inNetns(netns, [process.execPath, path.join(import.meta.dirname, 'kubernetes-http-sd.ts'), '--api', apiServer, '--ca', caFile, '--token', tokenFile]);
  const proc = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  let port = 0;
  for await (const line of createInterface({ input: proc.stdout! })) {
    port = (JSON.parse(line) as { port: number }).port;
    break;
  }
  proc.stdout!.resume();
  if (!port) {
    await stopProc(proc);
    throw new Error('kubernetes-http-sd exited without listening');
  }
  return { proc, base: `http://127.0.0.1:${port}` };
}

const RBAC = `
apiVersion: v1
kind: Namespace
metadata: {name: ${PROMETHEUS_NS}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: prometheus, namespace: ${PROMETHEUS_NS}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: llmroute-test-prometheus}
rules:
  - apiGroups: [""]
    resources: [pods, endpoints, services]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: llmroute-test-prometheus}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: llmroute-test-prometheus}
subjects: [{kind: ServiceAccount, name: prometheus, namespace: ${PROMETHEUS_NS}}]
`;

export async function startChartPrometheus(release: string, releaseNamespace: string): Promise<ChartPrometheus> {
  const info = nodeInfo();
  const dir = path.join(info.rootDir, 'prometheus');
  mkdirSync(dir, { recursive: true });
  const rendered = helm([
    'template', release, path.join(REPO, 'charts/llmroute'), '-n', releaseNamespace,
    '--set', 'podMonitor.enabled=true', '--set', 'serviceMonitor.enabled=true', '--set', 'prometheusRule.enabled=true', '--set', 'grafanaDashboard.enabled=true',
    '--set', `podMonitor.interval=${SCRAPE_INTERVAL}`, '--set', `serviceMonitor.interval=${SCRAPE_INTERVAL}`,
  ]);
  const objects = yaml.loadAll(rendered).filter(Boolean) as any[];
  const one = (kind: string) => {
    const found = objects.filter((o) => o.kind === kind);
    if (found.length !== 1) throw new Error(`helm template rendered ${found.length} ${kind}s`);
    return found[0];
  };
  const podMonitor = one('PodMonitor') as MonitorObject;
  const serviceMonitor = one('ServiceMonitor') as MonitorObject;
  const rules = rulesFileFrom(objects);
  const dashboardMap = objects.find((o) => o.kind === 'ConfigMap' && Object.keys(o.data ?? {}).some((k) => k.endsWith('.json')));
  if (!dashboardMap) throw new Error('helm template rendered no dashboard ConfigMap');
  const dashboard = JSON.parse(Object.entries(dashboardMap.data as Record<string, string>).find(([k]) => k.endsWith('.json'))![1]);

  kubectl(['apply', '-f', '-'], RBAC);
  const token = kubectl(['-n', PROMETHEUS_NS, 'create', 'token', 'prometheus', '--duration=2h']).trim();
  const tokenFile = path.join(dir, 'token');
  writeFileSync(tokenFile, token, { mode: 0o600 });
  const kubeconfig = yaml.load(readFileSync(info.kubeconfigPath, 'utf8')) as { clusters: Array<{ cluster: { server: string; 'certificate-authority-data'?: string } }> };
  const cluster = kubeconfig.clusters[0]!.cluster;
  const caFile = path.join(dir, 'ca.crt');
  if (!cluster['certificate-authority-data']) throw new Error(`${info.kubeconfigPath}: no certificate-authority-data`);
  writeFileSync(caFile, Buffer.from(cluster['certificate-authority-data'], 'base64'));

  const global = { scrape_interval: SCRAPE_INTERVAL, evaluation_interval: SCRAPE_INTERVAL };
  const operatorConfigs = scrapeConfigsFor([podMonitor, serviceMonitor], { apiServer: cluster.server, caFile, tokenFile });
  writeFileSync(path.join(dir, 'prometheus-operator.yml'), yaml.dump({ global, scrape_configs: operatorConfigs }, { lineWidth: -1 }));
  const sd = await startHttpSd(info.netns, cluster.server, caFile, tokenFile);
  const config = { global, scrape_configs: operatorConfigs.map((c) => overHttpSd(c, sd.base, SCRAPE_INTERVAL)) };
  const t0 = performance.now();
  const startedAt = Date.now() / 1000;
  let prom: RunningPrometheus;
  try {
    prom = await startPrometheus(info.netns, dir, { config, rules });
  } catch (e) {
    await stopProc(sd.proc);
    throw e;
  }
  const readyMs = Math.round(performance.now() - t0);
  return { prom, objects, podMonitor, serviceMonitor, rules, dashboard, readyMs, startedAt, sd: sd.proc, stop: async () => { await prom.stop(); await stopProc(sd.proc); } };
}
