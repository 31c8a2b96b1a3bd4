import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { parseInjectArgs, runInject } from './inject-command.ts';

const IMAGE = 'ghcr.io/llmroute/sidecar:0.1.0';
const labels = 'labels: {app: web, llmroute.dev/inject: "true"}';
const manifests = `
apiVersion: v1
kind: Pod
metadata: {name: solo, namespace: shop, ${labels}}
spec: {containers: [{name: app, image: "app:1"}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {${labels}, annotations: {llmroute.dev/log-level: debug}}
    spec: {containers: [{name: web, image: "web:1", env: [{name: DATE, value: "2024-10-21"}]}]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        metadata: {${labels}}
        spec: {restartPolicy: OnFailure, containers: [{name: job, image: "job:1"}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: plain}
spec:
  selector: {matchLabels: {app: plain}}
  serviceName: plain
  template:
    metadata: {labels: {app: plain}}
    spec: {containers: [{name: db, image: "db:1"}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: untouched}
data: {a: "1"}
`;

type Doc = { kind: string; spec: any };
const initNames = (spec: any): string[] => (spec.initContainers ?? []).map((c: { name: string }) => c.name);

describe('llmroute-inject', () => {
  it('injects labelled Pods and pod templates, leaves the rest, keeps strings strings', () => {
    const r = runInject(manifests, { image: IMAGE, all: false });
    expect(r.code).toBe(0);
    const docs = yaml.loadAll(r.stdout) as Doc[];
    expect(docs.map((d) => d.kind)).toEqual(['Pod', 'Deployment', 'CronJob', 'StatefulSet', 'ConfigMap']);
    expect(initNames(docs[0]!.spec)).toEqual(['llmroute-sidecar']);
    const web = docs[1]!.spec.template;
    expect(initNames(web.spec)).toEqual(['llmroute-sidecar']);
    expect(web.spec.initContainers[0].args).toEqual(['--config', '/etc/llmroute/config.yaml', '--log-level', 'debug']);
    expect(web.metadata.annotations['llmroute.dev/status']).toBe('injected');
    expect(web.spec.containers[0].env).toEqual([
      { name: 'DATE', value: '2024-10-21' },
      { name: 'OPENAI_BASE_URL', value: 'http://127.0.0.1:4000/v1' },
      { name: 'ANTHROPIC_BASE_URL', value: 'http://127.0.0.1:4000' },
    ]);
    expect(r.stdout).toContain("value: '2024-10-21'");
    expect(initNames(docs[2]!.spec.jobTemplate.spec.template.spec)).toEqual(['llmroute-sidecar']);
    expect(initNames(docs[3]!.spec.template.spec)).toEqual([]);
    expect(r.stderr).toBe('llmroute-inject: injected 3 pod spec(s): Pod shop/solo, Deployment shop/web, CronJob nightly\n');
  });

  it('--all injects unlabelled pod specs too; a second pass changes nothing', () => {
    const once = runInject(manifests, { image: IMAGE, all: true });
    expect((yaml.loadAll(once.stdout) as Doc[])[3]!.spec.template.spec.initContainers[0].name).toBe('llmroute-sidecar');
    const twice = runInject(once.stdout, { image: IMAGE, all: true });
    expect(twice.stdout).toBe(once.stdout);
    expect(twice.stderr).toContain('injected 0 pod spec(s)');
  });

  it('reads JSON and Lists', () => {
    const list = { apiVersion: 'v1', kind: 'List', items: [yaml.load(manifests.split('---')[0]!)] };
    const r = runInject(JSON.stringify(list), { image: IMAGE, all: false });
    expect(((yaml.load(r.stdout) as { items: Doc[] }).items[0]!.spec.initContainers[0]).name).toBe('llmroute-sidecar');
  });

  it('refuses bad annotations: nothing on stdout, every problem on stderr', () => {
    const bad = manifests.replace('llmroute.dev/log-level: debug', 'llmroute.dev/log-level: loud, llmroute.dev/port: "0"');
    const r = runInject(bad, { image: IMAGE, all: false });
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'llmroute-inject: Deployment shop/web: annotation llmroute.dev/port: "0" is not a port number from 1 to 65535\n' +
        'llmroute-inject: Deployment shop/web: annotation llmroute.dev/log-level: "loud" is not one of debug, info, warn, error\n',
    });
    expect(runInject('a: [', { image: IMAGE, all: false })).toMatchObject({ code: 1, stderr: expect.stringContaining('not YAML or JSON') });
  });

  it('parses its arguments', () => {
    expect(parseInjectArgs(['--all', '--image=x:1', '-f', 'a.yaml'], {}, '0.1.0')).toMatchObject({ all: true, image: 'x:1', file: 'a.yaml' });
    expect(parseInjectArgs([], { LLMROUTE_SIDECAR_IMAGE: 'y:2' }, '0.1.0').image).toBe('y:2');
    expect(parseInjectArgs([], {}, '0.1.0').image).toBe('ghcr.io/llmroute/sidecar:0.1.0');
    expect(() => parseInjectArgs(['--nope'], {}, '0')).toThrow(/unknown argument/);
    expect(() => parseInjectArgs(['--image'], {}, '0')).toThrow(/needs a value/);
  });

  it('bin/llmroute-inject.js works as a pipe', () => {
    const bin = fileURLToPath(new URL('../../bin/llmroute-inject.js', import.meta.url));
    const r = spawnSync(process.execPath, [bin, '--image', IMAGE], { input: manifests, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect((yaml.loadAll(r.stdout) as Doc[])[0]!.spec.initContainers[0].image).toBe(IMAGE);
    const usage = spawnSync(process.execPath, [bin, '--bogus'], { encoding: 'utf8' });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('usage: llmroute-inject');
  });
});
