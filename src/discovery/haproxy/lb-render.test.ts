import { describe, expect, it } from 'vitest';
import { buildLbModel } from './lb-model.js';
import { renderConfig, structureOf } from './lb-render.js';
import { anExposedService } from './test-services.js';

const paths = { adminSocket: '/d/haproxy/admin.sock' };
const model = (hostname?: string, endpoints = 3) =>
  buildLbModel({
    services: [anExposedService({ expose: [{ port: 'http', servicePort: 18080, mode: 'http' }, ...(hostname ? [{ port: 'http', hostname, mode: 'http' as const }] : [])], healthCheck: { http: { port: 'http', path: '/ok' }, interval: '1s', retries: 2 } })],
    options: { address: '127.0.0.1', httpPort: 8080 },
    endpointCount: () => endpoints,
    currentSlots: () => undefined,
  });

describe('renderConfig and structureOf', () => {
  it('writes servers into their slots, parks empty ones disabled, and mirrors the health check', () => {
    const text = renderConfig(model(), paths, () => [{ instance: 'a', address: '127.0.0.1', port: 24117 }, undefined]);
    expect(text).toContain('  stats socket /d/haproxy/admin.sock mode 600 level admin expose-fd listeners');
    expect(text).toContain('frontend fe_18080\n  bind 127.0.0.1:18080\n  mode http\n  default_backend be_default_web_http_http');
    expect(text).toContain('  option httpchk GET /ok');
    expect(text).toContain('  retry-on conn-failure empty-response response-timeout');
    expect(text).toContain('  default-server check inter 1000ms fastinter 500ms fall 2 rise 1 observe layer4 error-limit 1 on-error mark-down');
    expect(text).toContain('  server slot1 127.0.0.1:24117\n  server slot2 127.0.0.1:1 disabled\n');
    expect(text.match(/server slot\d+ /g)).toHaveLength(8);
  });

  it('is deterministic, and its structure ignores endpoints but not routes or slot counts', () => {
    const m = model();
    expect(renderConfig(m, paths, () => [])).toBe(renderConfig(model(), paths, () => []));
    // Endpoints are not part of the structure: no reload for them.
    expect(renderConfig(m, paths, () => [{ instance: 'a', address: '127.0.0.1', port: 1 }])).not.toBe(renderConfig(m, paths, () => []));
    expect(structureOf(model(undefined, 1), paths)).toBe(structureOf(model(undefined, 8), paths));
    // A host route, or a backend outgrowing its slots, is.
    const withHost = structureOf(model('web.example.com'), paths);
    expect(withHost).not.toBe(structureOf(m, paths));
    expect(withHost).toContain('  use_backend be_default_web_http_http if { req.hdr(host),field(1,:),lower -m str web.example.com }');
    expect(structureOf(model(undefined, 9), paths)).not.toBe(structureOf(m, paths));
  });

  it('leaves HTTP-only directives out of TCP backends', () => {
    const m = buildLbModel({ services: [anExposedService({ expose: [{ port: 'admin', servicePort: 19090, mode: 'tcp' }] })], options: { address: '127.0.0.1' }, endpointCount: () => 0, currentSlots: () => undefined });
    const text = renderConfig(m, paths, () => []);
    expect(text).toContain('backend be_default_web_admin_tcp\n  mode tcp');
    expect(text).not.toContain('retry-on');
    expect(text).not.toContain('gantry_http');
  });

  it('never writes an unsafe string: the path or host name of an old object is not served, an unsafe address or bind address throws', () => {
    const m = buildLbModel({
      services: [anExposedService({ expose: [{ port: 'http', hostname: 'web example.com', mode: 'http' }, { port: 'http', servicePort: 18081 }], healthCheck: { http: { port: 'http', path: '/ok\n  # x' } } })],
      options: { address: '127.0.0.1', httpPort: 8080 },
      endpointCount: () => 1,
      currentSlots: () => undefined,
    });
    expect(m.entries.map((e) => e.problem)).toEqual([expect.stringContaining('spec.expose[0].hostname must be a host name'), expect.stringContaining('spec.containers[0].healthCheck.http.path must be an absolute path')]);
    const text = renderConfig(m, paths, () => []);
    expect(text).not.toContain('# x');
    expect(text).not.toContain('web example.com');
    expect(() => renderConfig(model(), paths, () => [{ instance: 'a', address: '1.2.3.4;shutdown', port: 1 }])).toThrow(/the address of a: "1.2.3.4;shutdown"/);
    const badBind = buildLbModel({ services: [anExposedService({ expose: [{ port: 'http', servicePort: 18080 }] })], options: { address: '0.0.0.0\nlisten x' }, endpointCount: () => 0, currentSlots: () => undefined });
    expect(() => renderConfig(badBind, paths, () => [])).toThrow(/--lb-address/);
  });
});
