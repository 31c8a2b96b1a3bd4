// Writes crds/llmroute.dev_llmroutes.yaml from api/v1alpha1 (npm run gen:crd),
// and the chart's copy of it (Helm cannot read files outside the chart).
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { renderCrdYaml, CRD_PATH, CHART_CRD_PATH } from './crd-file.ts';

const text = renderCrdYaml();
for (const path of [CRD_PATH, CHART_CRD_PATH]) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  console.log(`wrote ${path}`);
}
