import { buildAlertTests, coverage, expandAnnotations, seriesText, type ScenarioSeries } from './alert-rule-tests.ts';
import type { RuleGroup } from './pod-monitor-scrape.ts';

const groups: RuleGroup[] = [
  {
    name: 'llmroute',
    rules: [
      { alert: 'LLMRouteNoHealthyTarget', expr: 'min by (namespace, pod, route) (llmroute_circuit_state) == 2', for: '1m', labels: { severity: 'critical' }, annotations: { summary: '{{ $labels.route }} in {{ $labels.namespace }}/{{ $labels.pod }}' } },
      { alert: 'LLMRouteHighFallbackRate', expr: 'sum by (namespace, route) (rate(llmroute_fallbacks_total[5m]))\n  / sum by (namespace, route) (rate(llmroute_requests_total[5m]))\n  > 0.2\n', for: '10m', labels: { severity: 'warning' }, annotations: { summary: '{{ $labels.route }} falls back on {{ $value | humanizePercentage }}' } },
      { alert: 'LLMRouteCircuitOpen', expr: 'max by (namespace, route, target) (llmroute_circuit_state) == 2', for: '5m', labels: { severity: 'warning' } },
      { alert: 'LLMRouteConfigRefused', expr: 'increase(llmroute_config_reloads_total{result="error"}[10m]) > 0', labels: { severity: 'warning' } },
    ],
  },
];

const base = { namespace: 'shop', container: 'llmroute-sidecar', job: 'llmroute-system/llmroute-sidecars', endpoint: 'llmroute-admin' };
const pod = (p: string) => ({ ...base, pod: p, instance: `10.244.0.${p === 'a' ? 5 : 6}:4001` });
const series: ScenarioSeries = {
  circuit: ['a', 'b'].flatMap((p) => ['openai', 'claude'].map((t) => ({ labels: { __name__: 'llmroute_circuit_state', ...pod(p), route: 'chat', target: t }, value: t === 'openai' ? 2 : 0 }))),
  reloadErrors: ['a', 'b'].map((p) => ({ labels: { __name__: 'llmroute_config_reloads_total', ...pod(p), result: 'error' }, value: 0 })),
  fallbacks: ['a', 'b'].map((p) => ({ labels: { __name__: 'llmroute_fallbacks_total', ...pod(p), route: 'chat', from: 'openai', to: 'claude', reason: 'auth' }, value: 40, perMinute: 60.2 })),
  requests: ['a', 'b'].map((p) => ({ labels: { __name__: 'llmroute_requests_total', ...pod(p), route: 'chat', target: 'claude', status: '200', api: 'chat' }, value: 100, perMinute: 59.9 })),
  failover: {
    fallbacks: ['a', 'b'].map((p) => ({ labels: { __name__: 'llmroute_fallbacks_total', ...pod(p), route: 'chat', from: 'openai', to: 'claude', reason: 'auth' }, value: 4, perMinute: 120 })),
    requests: ['a', 'b'].map((p) => ({ labels: { __name__: 'llmroute_requests_total', ...pod(p), route: 'chat', target: 'claude', status: '200', api: 'chat' }, value: 50, perMinute: 60 })),
  },
};

describe('buildAlertTests', () => {
  const file = buildAlertTests(groups, series);
  const [a, f, f2, b] = file.tests;

  it('covers every alert with a firing and a not-firing case', () => {
    for (const c of Object.values(coverage(file))) {
      expect(c.firing).toBeGreaterThan(0);
      expect(c.notFiring).toBeGreaterThan(0);
    }
  });

  it('the held scenario: open circuits on one target fire CircuitOpen only; the real fallback ratio fires its alert, with its value', () => {
    const at = (name: string, t: string) => a!.alert_rule_test.find((x) => x.alertname === name && x.eval_time === t)!.exp_alerts;
    expect(at('LLMRouteNoHealthyTarget', '20m')).toEqual([]);
    expect(at('LLMRouteCircuitOpen', '20m').map((x) => x.exp_labels)).toEqual([{ namespace: 'shop', route: 'chat', target: 'openai', severity: 'warning' }]);
    expect(at('LLMRouteHighFallbackRate', '20m')).toEqual([
      { exp_labels: { namespace: 'shop', route: 'chat', severity: 'warning' }, exp_annotations: { summary: 'chat falls back on 100%' } },
    ]);
    const atF = (name: string, t: string) => f!.alert_rule_test.find((x) => x.alertname === name && x.eval_time === t)!.exp_alerts;
    expect(atF('LLMRouteHighFallbackRate', '5m')).toEqual([]);
    expect(atF('LLMRouteHighFallbackRate', '20m')[0]!.exp_annotations).toEqual({ summary: 'chat falls back on 200%' });
    expect(a!.input_series).toContainEqual({ series: seriesText(series.fallbacks[0]!.labels), values: '40+60x20' });
  });

  it("the open route: one pod's route fires NoHealthyTarget, with the pod's refused config", () => {
    const at = (name: string, t: string) => b!.alert_rule_test.find((x) => x.alertname === name && x.eval_time === t)!.exp_alerts;
    expect(at('LLMRouteNoHealthyTarget', '2m')).toEqual([
      { exp_labels: { namespace: 'shop', pod: 'a', route: 'chat', severity: 'critical' }, exp_annotations: { summary: 'chat in shop/a' } },
    ]);
    expect(at('LLMRouteConfigRefused', '6m')[0]!.exp_labels).toEqual({ ...pod('a'), result: 'error', severity: 'warning' });
    expect(b!.input_series.find((x) => x.series.includes('config_reloads') && x.series.includes('pod="a"'))!.values).toBe('0x4 1x15');
  });

  it("a failover under the threshold (the breaker cut it short): not firing as it was; its fallbacks scaled to 3× the threshold fire", () => {
    const low = buildAlertTests(groups, { ...series, failover: { fallbacks: series.failover.fallbacks.map((c) => ({ ...c, perMinute: 3.3 })), requests: series.failover.requests } });
    const at = (t: (typeof low.tests)[number], time: string) => t.alert_rule_test.find((x) => x.alertname === 'LLMRouteHighFallbackRate' && x.eval_time === time)!.exp_alerts;
    expect(at(low.tests[1]!, '20m')).toEqual([]);
    expect(low.tests[2]!.name).toContain('12×');
    expect(at(low.tests[2]!, '20m')[0]!.exp_annotations).toEqual({ summary: 'chat falls back on 60%' });
    expect(at(f2!, '20m')).toHaveLength(1);
  });

  it('refuses an alert it has no cases for', () => {
    expect(() => buildAlertTests([{ name: 'x', rules: [...groups[0]!.rules, { alert: 'New', expr: 'up == 0' }] }], series)).toThrow(/New has no cases/);
  });
});

describe('expandAnnotations', () => {
  it('expands labels and humanizePercentage as Go formats %.4g', () => {
    expect(expandAnnotations({ s: '{{ $labels.route }}: {{ $value | humanizePercentage }}' }, { route: 'chat' }, 1 / 3)).toEqual({ s: 'chat: 33.33%' });
    expect(expandAnnotations({ s: '{{ $value | humanizePercentage }}' }, {}, 2)).toEqual({ s: '200%' });
    expect(() => expandAnnotations({ s: '{{ $value | humanize }}' }, {}, 1)).toThrow(/does not expand/);
  });
});
