import { inspect } from 'node:util';
import { Secret } from './secret.ts';
import { createLogger } from '../../common/log.ts';

describe('Secret', () => {
  const s = new Secret('sk-live-abcdef');
  it('reveals its value only when asked', () => expect(s.reveal()).toBe('sk-live-abcdef'));
  it('never prints, serialises or inspects as its value', () => {
    expect(String(s)).toBe('[redacted]');
    expect(`${s}`).toBe('[redacted]');
    expect(JSON.stringify({ key: s })).toBe('{"key":"[redacted]"}');
    expect(inspect({ key: s })).not.toContain('sk-live');
  });
  it('stays redacted in a log line at every level', () => {
    const lines: string[] = [];
    const log = createLogger('debug', (l) => lines.push(l));
    for (const level of ['debug', 'info', 'warn', 'error'] as const) log[level]('event', { target: { apiKey: s } });
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(line).not.toContain('sk-live');
  });
});
