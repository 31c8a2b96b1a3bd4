/**
 * The operator's Prometheus metrics, in a registry of their own (two
 * operators in one process, as in the e2e tests, do not collide).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({
    name: 'llmroute_operator_reconcile_total',
    help: 'Namespace reconciles, by result (success, error).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly reconcileDuration = new Histogram({
    name: 'llmroute_operator_reconcile_duration_seconds',
    help: 'How long a namespace reconcile took.',
    labelNames: ['result'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'llmroute_operator_queue_depth',
    help: 'Namespaces waiting to be reconciled.',
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'llmroute_operator_leader',
    help: '1 while this replica holds the leader Lease, else 0.',
    registers: [this.registry],
  });
  readonly writes = new Counter({
    name: 'llmroute_operator_api_writes_total',
    help: 'Writes to the API server, by kind and verb.',
    labelNames: ['kind', 'verb'] as const,
    registers: [this.registry],
  });
  readonly kubeRequests = new Counter({
    name: 'llmroute_operator_kube_requests_total',
    help: 'Requests sent to the API server, by verb (list, watch, get, apply, create, delete, ...) and resource.',
    labelNames: ['verb', 'resource'] as const,
    registers: [this.registry],
  });
  readonly events = new Counter({
    name: 'llmroute_operator_events_total',
    help: 'Kubernetes Events recorded on LLMRoutes.',
    registers: [this.registry],
  });
  readonly watchRestarts = new Counter({
    name: 'llmroute_operator_watch_errors_total',
    help: 'List/watch failures, by resource; 410 Gone counts as expired.',
    labelNames: ['resource', 'kind'] as const,
    registers: [this.registry],
  });
  readonly routes = new Gauge({
    name: 'llmroute_operator_routes',
    help: 'LLMRoutes in the cache, by whether the last reconcile rendered them.',
    labelNames: ['rendered'] as const,
    registers: [this.registry],
  });

  constructor(o: { defaultMetrics?: boolean } = {}) {
    if (o.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'llmroute_operator_' });
    this.leader.set(0);
    this.queueDepth.set(0);
  }

  /** A counter's or gauge's value, summed over the series whose labels match `labels`. */
  async value(name: string, labels: Record<string, string> = {}): Promise<number> {
    const metric = this.registry.getSingleMetric(name);
    if (!metric) return 0;
    const data = await metric.get();
    return data.values
      .filter((v) => Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want))
      .reduce((sum, v) => sum + v.value, 0);
  }
}
