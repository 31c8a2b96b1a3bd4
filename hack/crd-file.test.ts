import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderCrdYaml, CRD_PATH } from './crd-file.ts';

describe('crds/llmroute.dev_llmroutes.yaml', () => {
  it('is what api/v1alpha1 generates (run `npm run gen:crd` after changing the schema)', () => {
    const onDisk = readFileSync(fileURLToPath(new URL(`../${CRD_PATH}`, import.meta.url)), 'utf8');
    expect(onDisk).toBe(renderCrdYaml());
  });
});
