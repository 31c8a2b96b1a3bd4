import fc from 'fast-check';
import { credentialFileKey, parseCredentialFileKey } from './credential-key.ts';

describe('credential file keys', () => {
  it('look like <namespace>.<route>_<target>', () => {
    expect(credentialFileKey('shop', 'chat.v2', 'open_ai.x')).toBe('shop.chat.v2_open_ai.x');
  });

  it('parse back unambiguously for any valid names (property)', () => {
    const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/);
    const subdomain = fc.array(label, { minLength: 1, maxLength: 3 }).map((p) => p.join('.'));
    const target = fc.stringMatching(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,20}[A-Za-z0-9])?$/);
    fc.assert(
      fc.property(label, subdomain, target, (namespace, route, t) => {
        const key = credentialFileKey(namespace, route, t);
        expect(parseCredentialFileKey(key)).toEqual({ namespace, route, target: t });
        expect(key).toMatch(/^[-._a-zA-Z0-9]+$/);
        expect(key).not.toBe('config.yaml');
      }),
    );
  });

  it('refuses what is not a key', () => {
    expect(parseCredentialFileKey('config.yaml')).toBeUndefined();
    expect(parseCredentialFileKey('nodot')).toBeUndefined();
  });
});
