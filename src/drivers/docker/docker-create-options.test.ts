import { describe, expect, it } from 'vitest';
import { LABELS } from '../driver.js';
import { aLaunch, aSidecar } from '../test-helpers.js';
import { buildCreateOptions, containerName, decodePortsLabel, encodePortsLabel, PORTS_LABEL, type CreateContext } from './docker-create-options.js';

const ctx: CreateContext = { clusterId: 'c1', nodeName: 'n1', publishAddress: '127.0.0.1', pidsLimit: 1024, nameSuffix: 'x9k2' };

describe('buildCreateOptions', () => {
  it('raises a cpu limit below Docker\'s minimum (and 0, which Docker reads as unlimited) to 10m, with a warning', () => {
    for (const cpu of ['1m', 0]) {
      const warnings: string[] = [];
      const o = buildCreateOptions(aLaunch({ spec: { resources: { cpu, memory: '64Mi' } } }), { ...ctx, onWarning: (m) => warnings.push(m) });
      expect(o.HostConfig?.NanoCpus).toBe(10_000_000);
      expect(warnings).toEqual([expect.stringMatching(/container "main" of instance default\/web-ab12c asks for \d+m CPU; Docker's minimum is 10m/)]);
    }
    const warnings: string[] = [];
    expect(buildCreateOptions(aLaunch({ spec: { resources: { cpu: '10m', memory: '64Mi' } } }), { ...ctx, onWarning: (m) => warnings.push(m) }).HostConfig?.NanoCpus).toBe(10_000_000);
    expect(warnings).toEqual([]);
  });

  it('labels the container with cluster, node, instance and container', () => {
    const o = buildCreateOptions(aLaunch(), ctx);
    expect(o.Labels).toMatchObject({
      [LABELS.cluster]: 'c1',
      [LABELS.node]: 'n1',
      [LABELS.namespace]: 'default',
      [LABELS.instance]: 'web-ab12c',
      [LABELS.instanceUid]: 'uid-1',
      [LABELS.container]: 'main',
      [LABELS.index]: '0',
    });
  });

  it('keeps extra labels but never lets them override the driver\'s own', () => {
    const o = buildCreateOptions(aLaunch(), { ...ctx, extraLabels: { 'io.gantry.test': '1', [LABELS.node]: 'other' } });
    expect(o.Labels?.['io.gantry.test']).toBe('1');
    expect(o.Labels?.[LABELS.node]).toBe('n1');
  });

  it('always sets init, limits, no privilege, no Docker restarts and rotated json logs', () => {
    const o = buildCreateOptions(aLaunch({ spec: { resources: { cpu: '250m', memory: '64Mi' } } }), { ...ctx, pidsLimit: 77 });
    expect(o.HostConfig).toMatchObject({
      Init: true,
      Memory: 64 * 2 ** 20,
      MemorySwap: 64 * 2 ** 20,
      NanoCpus: 250_000_000,
      PidsLimit: 77,
      Privileged: false,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      RestartPolicy: { Name: 'no' },
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
    });
  });

  it('takes the PIDs limit from resources.pids over the node default, and mounts the lxcfs /proc views read-only', () => {
    const o = buildCreateOptions(aLaunch({ spec: { resources: { pids: 64 } }, mounts: [{ volume: 'data', path: '/data' }] }), { ...ctx, procViews: ['meminfo', 'uptime'] });
    expect(o.HostConfig?.PidsLimit).toBe(64);
    expect(o.HostConfig?.Binds).toEqual(['data:/data', '/var/lib/lxcfs/proc/meminfo:/proc/meminfo:ro', '/var/lib/lxcfs/proc/uptime:/proc/uptime:ro']);
    // A container in the host's PID namespace sees the host: no views over its /proc.
    expect(buildCreateOptions(aLaunch({ host: { pid: true } }), { ...ctx, procViews: ['meminfo'] }).HostConfig?.Binds).toBeUndefined();
  });

  it('enforces cpu by quota (default), by weight (shares) or by pinned cores (cpuset)', () => {
    const quota = buildCreateOptions(aLaunch({ spec: { resources: { cpu: 0.5 } } }), ctx).HostConfig!;
    expect(quota).toMatchObject({ NanoCpus: 500_000_000 });
    expect(quota.CpuShares).toBeUndefined();
    const shares = buildCreateOptions(aLaunch({ spec: { resources: { cpu: 0.5, cpuMode: 'shares' } } }), ctx).HostConfig!;
    expect(shares).toMatchObject({ CpuShares: 512 });
    expect(shares.NanoCpus).toBeUndefined();
    const pinned = buildCreateOptions(aLaunch({ spec: { resources: { cpu: 2, cpuMode: 'cpuset' } }, cpuset: '2-3' }), ctx).HostConfig!;
    expect(pinned).toMatchObject({ CpusetCpus: '2-3' });
    expect(pinned.NanoCpus).toBeUndefined();
    expect(() => buildCreateOptions(aLaunch({ spec: { resources: { cpu: 2, cpuMode: 'cpuset' } } }), ctx)).toThrow(/cpuMode cpuset but no cores were pinned/);
  });

  it('runs runAsUser auto as the instance\'s own uid (and group), and refuses it without one', () => {
    const sc = { runAsUser: 'auto' as const };
    expect(buildCreateOptions(aLaunch({ spec: { securityContext: sc }, autoUid: 100_007 }), ctx).User).toBe('100007:100007');
    expect(buildCreateOptions(aLaunch({ spec: { securityContext: { ...sc, runAsGroup: 50 } }, autoUid: 100_007 }), ctx).User).toBe('100007:50');
    expect(() => buildCreateOptions(aLaunch({ spec: { securityContext: sc } }), ctx)).toThrow(/runAsUser auto but the instance has no uid yet/);
  });

  it('drops every capability and adds back what the profile admitted; maps the security context and host namespaces', () => {
    const plain = buildCreateOptions(aLaunch(), ctx).HostConfig!;
    expect(plain.CapDrop).toEqual(['ALL']);
    expect(plain.CapAdd).toEqual(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);
    expect(plain.ReadonlyRootfs).toBe(false);
    const strict = buildCreateOptions(
      aLaunch({
        spec: { securityContext: { capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] }, readOnlyRootFilesystem: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } } },
        mounts: [{ volume: 'gantry-default-data', path: '/data', readOnly: true }],
      }),
      ctx,
    );
    expect(strict.HostConfig).toMatchObject({ CapDrop: ['ALL'], CapAdd: ['NET_BIND_SERVICE'], ReadonlyRootfs: true, SecurityOpt: ['no-new-privileges'], Binds: ['gantry-default-data:/data:ro'] });
    expect(strict.User).toBe('1000:1000');
    const loose = buildCreateOptions(
      aLaunch({ spec: { securityContext: { privileged: true, allowPrivilegeEscalation: true, seccompProfile: { type: 'Unconfined' }, capabilities: { drop: ['KILL'], add: ['SYS_ADMIN'] } } }, host: { network: true, pid: true, ipc: true } }),
      ctx,
    );
    expect(loose.HostConfig).toMatchObject({ Privileged: true, SecurityOpt: ['seccomp=unconfined'], NetworkMode: 'host', PidMode: 'host', IpcMode: 'host' });
    expect(loose.HostConfig?.CapAdd).toContain('SYS_ADMIN');
    expect(loose.HostConfig?.CapAdd).not.toContain('KILL');
    expect(loose.Hostname).toBeUndefined();
    expect(loose.HostConfig?.PortBindings).toBeUndefined();
  });

  it('falls back to the default requests when resources are not given', () => {
    const o = buildCreateOptions(aLaunch(), ctx);
    expect(o.HostConfig?.Memory).toBe(128 * 2 ** 20);
    expect(o.HostConfig?.NanoCpus).toBe(100_000_000);
  });

  it('rejects an unparsable quantity with the field path', () => {
    expect(() => buildCreateOptions(aLaunch({ spec: { resources: { memory: 'lots' } } }), ctx)).toThrow(/invalid memory/);
  });

  it('publishes every port of the instance on the first container, dynamic or fixed', () => {
    const o = buildCreateOptions(
      aLaunch({
        publish: [
          { name: 'http', containerPort: 8080, protocol: 'tcp' },
          { name: 'dns', containerPort: 53, protocol: 'udp', hostPort: 5353 },
        ],
      }),
      ctx,
    );
    expect(o.Hostname).toBe('web-ab12c');
    expect(o.ExposedPorts).toEqual({ '8080/tcp': {}, '53/udp': {} });
    expect(o.HostConfig?.PortBindings).toEqual({
      '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
      '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353' }],
    });
    expect(o.Labels?.[PORTS_LABEL]).toBe('http=8080/tcp,dns=53/udp');
    expect(o.HostConfig?.NetworkMode).toBeUndefined();
  });

  it('joins the first container\'s network for later containers, without hostname or ports', () => {
    const o = buildCreateOptions(aSidecar('abc123', { publish: [{ name: 'http', containerPort: 80, protocol: 'tcp' }] }), ctx);
    expect(o.HostConfig?.NetworkMode).toBe('container:abc123');
    expect(o.Hostname).toBeUndefined();
    expect(o.ExposedPorts).toBeUndefined();
    expect(o.HostConfig?.PortBindings).toBeUndefined();
    expect(o.Labels?.[LABELS.index]).toBe('1');
  });

  it('sets name servers and search domains on the first container only (the others share its namespace)', () => {
    const dns = { servers: ['172.17.0.1'], search: ['default.gantry'] };
    const o = buildCreateOptions(aLaunch({ dns }), ctx);
    expect([o.HostConfig?.Dns, o.HostConfig?.DnsSearch]).toEqual([['172.17.0.1'], ['default.gantry']]);
    expect(buildCreateOptions(aLaunch(), ctx).HostConfig?.Dns).toBeUndefined();
  });

  it('refuses a later container without a network to join', () => {
    expect(() => buildCreateOptions(aLaunch({ index: 1 }), ctx)).toThrow(/networkOf/);
  });

  it('maps command to the entrypoint and args to the cmd, leaving the image\'s own when absent', () => {
    const both = buildCreateOptions(aLaunch({ spec: { command: ['httpd'], args: ['-f'] } }), ctx);
    expect(both.Entrypoint).toEqual(['httpd']);
    expect(both.Cmd).toEqual(['-f']);
    const argsOnly = buildCreateOptions(aLaunch({ spec: { args: ['-v'] } }), ctx);
    expect(argsOnly.Entrypoint).toBeUndefined();
    expect(argsOnly.Cmd).toEqual(['-v']);
    const neither = buildCreateOptions(aLaunch(), ctx);
    expect(neither.Entrypoint).toBeUndefined();
    expect(neither.Cmd).toBeUndefined();
  });

  it('passes the environment as sorted KEY=value pairs', () => {
    const o = buildCreateOptions(aLaunch({ env: { B: '2', A: 'x=y' } }), ctx);
    expect(o.Env).toEqual(['A=x=y', 'B=2']);
  });

  it('names the container after namespace, instance and container, with the unique suffix', () => {
    expect(buildCreateOptions(aLaunch(), ctx).name).toBe('gantry-default-web-ab12c-main-x9k2');
    expect(containerName(aLaunch(), 'zzzz')).not.toBe(containerName(aLaunch(), 'x9k2'));
  });
});

describe('ports label', () => {
  it('round-trips and ignores malformed entries', () => {
    const label = encodePortsLabel([
      { name: 'http', containerPort: 8080, protocol: 'tcp' },
      { name: 'q', containerPort: 9, protocol: 'udp' },
    ]);
    expect([...decodePortsLabel(label)]).toEqual([['8080/tcp', 'http'], ['9/udp', 'q']]);
    expect([...decodePortsLabel('junk,ok=1/tcp,=2/tcp,x=3/sctp')]).toEqual([['1/tcp', 'ok']]);
    expect(decodePortsLabel(undefined).size).toBe(0);
  });
});
