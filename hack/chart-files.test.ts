// The chart carries a copy of the generated CRD (Helm cannot read files
// outside the chart). It must stay byte-identical to crds/.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';

const read = (rel: string) => readFileSync(new URL(`../${rel}`, import.meta.url), 'utf8');

describe('chart files', () => {
  it("charts/llmroute/files/crds/ holds the CRD of crds/ (npm run gen:crd writes both)", () => {
    expect(read('charts/llmroute/files/crds/llmroute.dev_llmroutes.yaml')).toBe(read('crds/llmroute.dev_llmroutes.yaml'));
  });

  it('the dashboard is valid JSON', () => {
    expect(() => JSON.parse(read('charts/llmroute/files/dashboards/llmroute.json'))).not.toThrow();
  });
});
