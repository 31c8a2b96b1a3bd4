import { describe, expect, it } from '@jest/globals';
import { admitPod } from './admission.ts';

const options = { image: 'ghcr.io/llmroute/sidecar:0.1.0' };

function review(object: unknown, over: Record<string, unknown> = {}) {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      operation: 'CREATE',
      namespace: 'shop',
      object,
      ...over,
    },
  };
}

const labelled = (annotations?: Record<string, string>) => ({
  metadata: { generateName: 'web-7d9f-', labels: { 'llmroute.dev/inject': 'true' }, ...(annotations ? { annotations } : {}) },
  spec: { containers: [{ name: 'web', image: 'web:1' }] },
});

describe('admitPod', () => {
  it('echoes the uid and returns a base64 JSONPatch', () => {
    const out = admitPod(review(labelled()), options);
    expect(out.httpStatus).toBe(200);
    const body = out.body as { apiVersion: string; kind: string; response: { uid: string; allowed: boolean; patchType: string; patch: string } };
    expect(body.apiVersion).toBe('admission.k8s.io/v1');
    expect(body.kind).toBe('AdmissionReview');
    expect(body.response.uid).toBe('705ab4f5-6393-11e8-b7cc-42010a800002');
    expect(body.response.allowed).toBe(true);
    expect(body.response.patchType).toBe('JSONPatch');
    const patch = JSON.parse(Buffer.from(body.response.patch, 'base64').toString('utf8')) as Array<{ path: string }>;
    expect(patch.map((p) => p.path)).toEqual(['/spec/initContainers', '/spec/volumes', '/spec/containers/0/env', '/metadata/annotations']);
    expect(out.log).toMatchObject({ decision: 'injected', namespace: 'shop', pod: 'web-7d9f-*' });
  });

  it('allows without a patch: unlabelled pods, updates, other resources', () => {
    const plain = { metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: 'a' }] } };
    for (const r of [
      review(plain),
      review(labelled(), { operation: 'UPDATE' }),
      review({}, { kind: { group: '', version: 'v1', kind: 'ConfigMap' }, resource: { group: '', version: 'v1', resource: 'configmaps' } }),
      review(labelled(), { subResource: 'ephemeralcontainers' }),
    ]) {
      const out = admitPod(r, options);
      expect(out.httpStatus).toBe(200);
      expect((out.body as { response: object }).response).toEqual({ uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true });
    }
  });

  it('denies bad annotations with a clear message', () => {
    const out = admitPod(review(labelled({ 'llmroute.dev/memory-limit': 'lots' })), options);
    expect(out.httpStatus).toBe(200);
    expect((out.body as { response: object }).response).toEqual({
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      allowed: false,
      status: {
        code: 400,
        reason: 'BadRequest',
        message: 'llmroute cannot inject this pod: annotation llmroute.dev/memory-limit: "lots" is not a positive Kubernetes quantity (e.g. 256Mi)',
      },
    });
    expect(out.log).toMatchObject({ decision: 'denied', reason: 'inject_invalid_annotation' });
  });

  it('passes warnings on, prefixed', () => {
    const pod = labelled();
    (pod.spec.containers[0] as Record<string, unknown>).envFrom = [{ configMapRef: { name: 'x' } }];
    const out = admitPod(review(pod), options);
    expect((out.body as { response: { warnings: string[] } }).response.warnings).toEqual([expect.stringMatching(/^llmroute: container web: OPENAI_BASE_URL/), expect.stringMatching(/^llmroute: container web: ANTHROPIC_BASE_URL/)]);
  });

  it.each([
    ['null', null],
    ['a string', 'x'],
    ['the wrong version', { apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: { uid: 'u' } }],
    ['no uid', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: {} }],
    ['no request', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }],
  ])('%s is a bad request (HTTP 400)', (_name, body) => {
    expect(admitPod(body, options).httpStatus).toBe(400);
  });

  it('a pod object it cannot read is denied, not a crash', () => {
    const out = admitPod(review({ metadata: { labels: { 'llmroute.dev/inject': 'true' } }, spec: { containers: 'nope' } }), options);
    expect((out.body as { response: { allowed: boolean; status: { message: string } } }).response).toMatchObject({
      allowed: false,
      status: { message: expect.stringContaining('no spec.containers') },
    });
  });
});
