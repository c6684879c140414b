import { describe, expect, it } from 'vitest';
import { buildLbModel, slotsFor, type ModelInput } from './lb-model.js';
import { anExposedService } from './test-services.js';

const input = (services: ModelInput['services'], o: Partial<ModelInput> = {}): ModelInput => ({
  services,
  options: { address: '127.0.0.1', httpPort: 8080 },
  endpointCount: () => 3,
  currentSlots: () => undefined,
  ...o,
});

describe('buildLbModel', () => {
  it('makes a frontend per servicePort, a host route per hostname, and one backend per service port and mode', () => {
    const m = buildLbModel(
      input([
        anExposedService({ name: 'web', expose: [{ port: 'http', servicePort: 18080, mode: 'http' }, { port: 'http', hostname: 'web.example.com', mode: 'http' }] }),
        anExposedService({ name: 'db', expose: [{ port: 'admin', servicePort: 15432, mode: 'tcp' }] }),
      ]),
    );
    expect(m.frontends).toEqual([
      { name: 'fe_15432', address: '127.0.0.1', port: 15432, mode: 'tcp', backend: 'be_default_db_admin_tcp' },
      { name: 'fe_18080', address: '127.0.0.1', port: 18080, mode: 'http', backend: 'be_default_web_http_http' },
    ]);
    expect(m.httpFrontend?.routes).toEqual([{ hostname: 'web.example.com', backend: 'be_default_web_http_http' }]);
    expect(m.backends.map((b) => b.name)).toEqual(['be_default_db_admin_tcp', 'be_default_web_http_http']);
    expect(m.entries.every((e) => e.problem === undefined)).toBe(true);
  });

  it('gives a clashing servicePort or hostname to the older service and reports it on the newer one', () => {
    const m = buildLbModel(
      input([
        anExposedService({ name: 'young', createdAt: '2026-02-01T00:00:00Z', expose: [{ port: 'http', servicePort: 18080 }, { port: 'http', hostname: 'a.example.com' }] }),
        anExposedService({ name: 'old', createdAt: '2026-01-01T00:00:00Z', expose: [{ port: 'http', servicePort: 18080, hostname: 'a.example.com' }] }),
      ]),
    );
    expect(m.frontends.map((f) => f.backend)).toEqual(['be_default_old_http_http']);
    expect(m.httpFrontend?.routes).toEqual([{ hostname: 'a.example.com', backend: 'be_default_old_http_http' }]);
    const young = m.entries.filter((e) => e.service === 'young');
    expect(young[0]?.problem).toBe('spec.expose[0].servicePort 18080 is already used by service default/old; pick another port');
    expect(young[1]?.problem).toBe('spec.expose[1].hostname a.example.com is already routed to service default/old; pick another host name');
    expect(m.backends.map((b) => b.service)).toEqual(['old']);
  });

  it('refuses the shared HTTP port as a servicePort, and hostnames without a shared HTTP port', () => {
    const svc = anExposedService({ expose: [{ port: 'http', servicePort: 8080 }, { port: 'http', hostname: 'x.example.com' }] });
    expect(buildLbModel(input([svc])).entries[0]?.problem).toMatch(/is the shared HTTP port/);
    const noShared = buildLbModel(input([svc], { options: { address: '127.0.0.1' } }));
    expect(noShared.entries[1]?.problem).toMatch(/needs the shared HTTP port; start Gantry with --lb-http-port/);
    expect(noShared.httpFrontend).toBeUndefined();
  });

  it('mirrors the health check on the exposed port (http path, interval, retries) and falls back to a connect check', () => {
    const hc = { http: { port: 'http', path: '/healthz' }, interval: '1s', retries: 2 };
    const [b] = buildLbModel(input([anExposedService({ expose: [{ port: 'http', servicePort: 18080 }], healthCheck: hc })])).backends;
    expect(b?.health).toEqual({ kind: 'http', path: '/healthz', intervalMs: 1000, fall: 2 });
    const [other] = buildLbModel(input([anExposedService({ expose: [{ port: 'admin', servicePort: 19090 }], healthCheck: hc })])).backends;
    expect(other?.health).toEqual({ kind: 'tcp', intervalMs: 1000, fall: 2 });
    const [none] = buildLbModel(input([anExposedService({ expose: [{ port: 'http', servicePort: 18080 }] })])).backends;
    expect(none?.health.kind).toBe('tcp');
  });

  it('sizes slots in powers of two from 8 and never shrinks a backend', () => {
    expect([0, 1, 8, 9, 16, 17, 100].map(slotsFor)).toEqual([8, 8, 8, 16, 16, 32, 128]);
    const svc = anExposedService({ expose: [{ port: 'http', servicePort: 18080 }] });
    expect(buildLbModel(input([svc], { endpointCount: () => 12 })).backends[0]?.slots).toBe(16);
    expect(buildLbModel(input([svc], { endpointCount: () => 2, currentSlots: () => 32 })).backends[0]?.slots).toBe(32);
  });
});
