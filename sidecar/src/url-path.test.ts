import { describe, expect, it } from '@jest/globals';
import { pathOf, routePath } from './url-path.ts';

describe('pathOf', () => {
  it.each([
    ['/metrics', '/metrics'],
    ['/metrics?name[]=x', '/metrics'],
    ['/readyz/?full=1', '/readyz/'],
    ['/', '/'],
    ['//metrics', '//metrics'],
    [undefined, '/'],
  ])('%s → %s', (url, path) => {
    expect(pathOf(url)).toBe(path);
  });
});

describe('routePath', () => {
  it.each([
    ['/metrics/', '/metrics'],
    ['/v1/chat/completions', '/v1/chat/completions'],
    ['/', '/'],
    ['//', '/'],
    ['/a//', '/a/'],
  ])('%s → %s', (path, route) => {
    expect(routePath(path)).toBe(route);
  });
});

describe('both, as the servers use them', () => {
  it.each([
    ['/metrics/', '/metrics'],
    ['/metrics?name[]=x', '/metrics'],
    ['/readyz/?full=1', '/readyz'],
    ['/', '/'],
    ['//metrics', '//metrics'],
    [undefined, '/'],
  ])('%s → %s', (url, route) => {
    expect(routePath(pathOf(url))).toBe(route);
  });
});
