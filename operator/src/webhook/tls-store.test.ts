import { describe, expect, it } from '@jest/globals';
import { KubeApiError, KubeTransportError } from '../errors.ts';
import { failureMessage, WebhookTlsStore, type KubeRequester } from './tls-store.ts';

const names = { namespace: 'llmroute-system', secretName: 'llmroute-webhook-tls', webhookConfigName: 'llmroute' };
const secretPath = '/api/v1/namespaces/llmroute-system/secrets/llmroute-webhook-tls';

const failing = (err: unknown): KubeRequester => ({
  request: () => Promise.reject(err),
});

const occurrences = (text: string, part: string) => text.split(part).length - 1;

describe('WebhookTlsStore errors', () => {
  it('names the request once when the KubeClient already did (issue 15, point 7)', async () => {
    const apiErr = new KubeApiError({ status: 403, reason: 'Forbidden', message: 'secrets "llmroute-webhook-tls" is forbidden', method: 'GET', path: secretPath });
    const err = await new WebhookTlsStore(failing(apiErr), names).readSecret().catch((e: unknown) => e as Error);
    expect((err as { code?: string }).code).toBe('webhook_tls_api');
    expect((err as Error).message).toBe(`GET ${secretPath}: HTTP 403 Forbidden: secrets "llmroute-webhook-tls" is forbidden`);
    expect(occurrences((err as Error).message, secretPath)).toBe(1);
  });

  it('names the request once for a transport error', async () => {
    const err = await new WebhookTlsStore(failing(new KubeTransportError('PUT', secretPath, new Error('connect ECONNREFUSED 10.96.0.1:443'))), names)
      .writeSecret({ metadata: { name: 'llmroute-webhook-tls' } }, { caCertPem: 'a', caKeyPem: 'b', certPem: 'c', keyPem: 'd' })
      .catch((e: unknown) => e as Error);
    expect((err as Error).message).toBe(`PUT ${secretPath}: connect ECONNREFUSED 10.96.0.1:443`);
  });

  it('adds the request to an error that does not name it', () => {
    expect(failureMessage('GET', secretPath, new Error('socket hang up'))).toBe(`GET ${secretPath}: socket hang up`);
    expect(failureMessage('GET', secretPath, 'boom')).toBe(`GET ${secretPath}: boom`);
  });

  it('a 404 on read is no Secret yet, a 409 is a conflict', async () => {
    const notFound = new KubeApiError({ status: 404, reason: 'NotFound', message: 'not found', method: 'GET', path: secretPath });
    await expect(new WebhookTlsStore(failing(notFound), names).readSecret()).resolves.toBeUndefined();
    const conflict = new KubeApiError({ status: 409, reason: 'Conflict', message: 'the object has been modified', method: 'PUT', path: secretPath });
    const err = await new WebhookTlsStore(failing(conflict), names)
      .writeSecret({ metadata: { name: 'x' } }, { caCertPem: 'a', caKeyPem: 'b', certPem: 'c', keyPem: 'd' })
      .catch((e: unknown) => e as Error);
    expect((err as { code?: string }).code).toBe('webhook_tls_conflict');
    expect(occurrences((err as Error).message, secretPath)).toBe(1);
  });
});
