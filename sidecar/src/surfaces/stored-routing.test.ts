import { describe, expect, it } from '@jest/globals';
import { configFrom } from '../testing/route.ts';
import { nativeCandidates, routeStoredRequest, type HeldResponse } from './stored-routing.ts';

const config = configFrom(`routes:
- name: gpt-first
  targets:
  - {name: gpt, provider: openai, baseURL: "http://gpt.test/v1", model: m, apiKey: {value: sk-a}}
  - {name: claude, provider: anthropic, priority: 1, baseURL: "http://claude.test", model: c, apiKey: {value: sk-b}}
- name: azure
  targets:
  - {name: az, provider: azure-openai, baseURL: "http://az.test", model: dep, apiKey: {value: az-key}}
  - {name: gpt-again, provider: openai, priority: 1, baseURL: "http://gpt.test/v1", model: other, apiKey: {value: sk-a}}
  - {name: gpt-other-key, provider: openai, priority: 2, baseURL: "http://gpt.test/v1", model: m, apiKey: {value: sk-c}}
- name: compat
  targets:
  - {name: vllm, provider: openai-compatible, baseURL: "http://vllm.test/v1", model: l, servesResponses: true}
  - {name: chat-only, provider: openai-compatible, priority: 1, baseURL: "http://chat.test/v1", model: l}
`);
const routes = config.routes;
const target = (route: string, name: string) => routes.find((r) => r.name === route)!.targets.find((t) => t.name === name)!;

function held(route: string, name: string, status: string, baseURL = target(route, name).baseURL): HeldResponse {
  return { route, servedBy: { target: name, provider: target(route, name).provider, baseURL }, response: { id: 'resp_1', object: 'response', status } };
}

describe('routeStoredRequest: an id the store holds from a native target', () => {
  it.each(['completed', 'incomplete', 'failed', 'cancelled'])('get of a %s response: the store', (status) => {
    expect(routeStoredRequest('get', held('gpt-first', 'gpt', status), routes)).toEqual({ to: 'store' });
  });

  it.each(['queued', 'in_progress'])('get of a %s (background) response: the target that served it', (status) => {
    expect(routeStoredRequest('get', held('gpt-first', 'gpt', status), routes)).toEqual({ to: 'native', target: target('gpt-first', 'gpt') });
    expect(routeStoredRequest('get', held('azure', 'az', status), routes)).toEqual({ to: 'native', target: target('azure', 'az') });
    expect(routeStoredRequest('get', held('compat', 'vllm', status), routes)).toEqual({ to: 'native', target: target('compat', 'vllm') });
  });

  it('cancel and delete: the target, whatever the status; input_items: the store', () => {
    for (const status of ['completed', 'queued']) {
      expect(routeStoredRequest('cancel', held('gpt-first', 'gpt', status), routes)).toEqual({ to: 'native', target: target('gpt-first', 'gpt') });
      expect(routeStoredRequest('delete', held('gpt-first', 'gpt', status), routes)).toEqual({ to: 'native', target: target('gpt-first', 'gpt') });
      expect(routeStoredRequest('input_items', held('gpt-first', 'gpt', status), routes)).toEqual({ to: 'store' });
    }
  });

  it('the target found by name in the route whose store holds it, else by name and base URL in another route', () => {
    const moved = { ...held('azure', 'gpt-again', 'queued'), route: 'gone' };
    expect(routeStoredRequest('delete', moved, routes)).toEqual({ to: 'native', target: target('azure', 'gpt-again') });
    const elsewhere = { ...held('azure', 'gpt-again', 'queued', 'http://moved.test/v1'), route: 'gone' };
    expect(routeStoredRequest('delete', elsewhere, routes)).toEqual({ to: 'store' });
  });

  it('a target no longer in the config: the store, as before', () => {
    const h: HeldResponse = { route: 'gpt-first', servedBy: { target: 'removed', provider: 'openai', baseURL: 'http://gpt.test/v1' }, response: { status: 'queued' } };
    for (const action of ['get', 'delete', 'cancel', 'input_items'] as const) expect(routeStoredRequest(action, h, routes)).toEqual({ to: 'store' });
  });
});

describe('routeStoredRequest: an id the store holds from a translated target', () => {
  it.each(['get', 'delete', 'cancel', 'input_items'] as const)('%s: the store', (action) => {
    expect(routeStoredRequest(action, held('gpt-first', 'claude', 'completed'), routes)).toEqual({ to: 'store' });
    expect(routeStoredRequest(action, held('compat', 'chat-only', 'queued'), routes)).toEqual({ to: 'store' });
  });
});

describe('routeStoredRequest: an id the store does not hold', () => {
  it.each(['get', 'delete', 'cancel', 'input_items'] as const)('%s: every native target, one per base URL and key, in config order', (action) => {
    const r = routeStoredRequest(action, undefined, routes);
    expect(r.to).toBe('candidates');
    expect(r.to === 'candidates' && r.targets.map((t) => t.name)).toEqual(['gpt', 'az', 'gpt-other-key', 'vllm']);
  });

  it('no native target: no candidate (the store answers its 404)', () => {
    const chatOnly = configFrom(`routes:
- name: r
  targets:
  - {name: claude, provider: anthropic, baseURL: "http://claude.test", model: c, apiKey: {value: k}}
`).routes;
    expect(routeStoredRequest('get', undefined, chatOnly)).toEqual({ to: 'candidates', targets: [] });
    expect(nativeCandidates(chatOnly)).toEqual([]);
  });

  it('what is native is the caller’s rule when given', () => {
    expect(nativeCandidates(routes, (t) => t.name === 'vllm').map((t) => t.name)).toEqual(['vllm']);
  });
});
