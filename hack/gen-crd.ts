// Writes crds/llmroute.dev_llmroutes.yaml from api/v1alpha1 (npm run gen:crd).
import { writeFileSync, mkdirSync } from 'node:fs';
import { renderCrdYaml, CRD_PATH } from './crd-file.ts';

mkdirSync('crds', { recursive: true });
writeFileSync(CRD_PATH, renderCrdYaml());
console.log(`wrote ${CRD_PATH}`);
