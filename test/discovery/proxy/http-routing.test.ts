// HTTP routing and the headers that cross the proxy, as tables.
import assert from 'node:assert/strict';
import { hasBody, isIdempotent, requestHeaders, responseHeaders } from '../../../src/discovery/proxy/http-headers.ts';
import { matchRoute, pathMatches, routingHost, routingPath } from '../../../src/discovery/proxy/index.ts';

describe('proxy http routing', () => {
  const hosts: Array<[string | undefined, string]> = [
    ['Example.COM', 'example.com'],
    ['example.com:8080', 'example.com'],
    ['[::1]:80', '[::1]'],
    [undefined, ''],
  ];
  for (const [header, expected] of hosts) it(`host ${header} → ${expected}`, () => assert.equal(routingHost(header), expected));

  const paths: Array<[string, string]> = [
    ['/api/users?x=1', '/api/users'],
    ['http://example.com/a/b?q', '/a/b'],
    ['http://example.com', '/'],
    ['*', '/*'],
  ];
  for (const [target, expected] of paths) it(`path of ${target} → ${expected}`, () => assert.equal(routingPath(target), expected));

  const prefixes: Array<[string | null, string, boolean]> = [
    [null, '/anything', true],
    ['/api', '/api', true],
    ['/api', '/api/', true],
    ['/api', '/api/users', true],
    ['/api', '/apiary', false],
    ['/api/', '/api', true],
    ['/api/', '/api/users', true],
    ['/', '/x', true],
    ['/api', '/', false],
  ];
  for (const [prefix, path, expected] of prefixes) it(`prefix ${prefix} ${expected ? 'matches' : 'does not match'} ${path}`, () => assert.equal(pathMatches(prefix, path), expected));

  const routes = [
    { name: 'api', hosts: ['example.com'], pathPrefix: '/api' },
    { name: 'site', hosts: ['example.com', 'www.example.com'], pathPrefix: null },
    { name: 'any-static', hosts: [], pathPrefix: '/static' },
  ];
  const matches: Array<[string, string, string | undefined]> = [
    ['example.com', '/api/v1', 'api'],
    ['example.com', '/apiary', 'site'],
    ['www.example.com', '/api/v1', 'site'],
    ['other.org', '/static/a.css', 'any-static'],
    ['other.org', '/', undefined],
  ];
  for (const [host, path, expected] of matches) it(`${host}${path} → ${expected ?? 'no route'}`, () => assert.equal(matchRoute(routes, host, path)?.name, expected));
});

describe('proxy http headers', () => {
  const forwarded = { clientAddress: '10.0.0.9', port: 8080, proto: 'http' as const };

  it('drops hop-by-hop headers and the ones Connection names, keeps the rest with their case', () => {
    const raw = ['Host', 'a.example', 'Connection', 'keep-alive, X-Secret', 'Keep-Alive', 'timeout=5', 'X-Secret', 's', 'TE', 'trailers', 'Accept', 'text/html', 'Expect', '100-continue', 'Cookie', 'a=1', 'Cookie', 'b=2'];
    assert.deepEqual(requestHeaders(raw, forwarded), [
      'Host', 'a.example', 'Accept', 'text/html', 'Cookie', 'a=1', 'Cookie', 'b=2',
      'X-Forwarded-For', '10.0.0.9', 'X-Forwarded-Host', 'a.example', 'X-Forwarded-Proto', 'http', 'X-Forwarded-Port', '8080',
    ]);
  });

  it('appends the client to X-Forwarded-For and replaces the other X-Forwarded headers', () => {
    const raw = ['X-Forwarded-For', '1.1.1.1', 'x-forwarded-for', '2.2.2.2', 'X-Forwarded-Proto', 'https', 'Host', 'h'];
    assert.deepEqual(requestHeaders(raw, forwarded), ['Host', 'h', 'X-Forwarded-For', '1.1.1.1, 2.2.2.2, 10.0.0.9', 'X-Forwarded-Host', 'h', 'X-Forwarded-Proto', 'http', 'X-Forwarded-Port', '8080']);
  });

  it('keeps a chunked body chunked, and an upgrade an upgrade', () => {
    assert.deepEqual(requestHeaders(['Transfer-Encoding', 'chunked'], forwarded).slice(0, 2), ['Transfer-Encoding', 'chunked']);
    const raw = ['Host', 'h', 'Connection', 'Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k'];
    assert.deepEqual(requestHeaders(raw, forwarded, { upgrade: true }).slice(0, 8), ['Host', 'h', 'Sec-WebSocket-Key', 'k', 'Connection', 'Upgrade', 'Upgrade', 'websocket']);
  });

  it('drops hop-by-hop headers of responses', () => {
    assert.deepEqual(responseHeaders(['Content-Type', 'text/plain', 'Transfer-Encoding', 'chunked', 'Connection', 'close', 'Set-Cookie', 'a', 'Set-Cookie', 'b']), ['Content-Type', 'text/plain', 'Set-Cookie', 'a', 'Set-Cookie', 'b']);
  });

  const methods: Array<[string, boolean]> = [['GET', true], ['HEAD', true], ['OPTIONS', true], ['PUT', true], ['DELETE', true], ['POST', false], ['PATCH', false]];
  for (const [method, expected] of methods) it(`${method} is ${expected ? '' : 'not '}idempotent`, () => assert.equal(isIdempotent(method), expected));

  it('knows a request with a body', () => {
    assert.equal(hasBody({}), false);
    assert.equal(hasBody({ 'content-length': '0' }), false);
    assert.equal(hasBody({ 'content-length': '12' }), true);
    assert.equal(hasBody({ 'transfer-encoding': 'chunked' }), true);
  });
});
