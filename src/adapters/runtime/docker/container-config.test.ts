import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InstanceSpec } from '../../../ports/runtime.ts';
import {
  containerConfig,
  containerPorts,
  cpuCores,
  exitOf,
  exposedPorts,
  instanceOfLabels,
  LABEL,
  memoryBytes,
} from './container-config.ts';

const context = {
  owner: 'abcdef123456',
  network: 'baton-abcdef123456',
  dataPlaneHost: '172.18.0.1',
  logMaxBytes: 1024,
  logFiles: 2,
};

const spec: InstanceSpec = {
  id: 'orders-k3x9f2',
  service: 'orders',
  version: '2.1.0',
  revision: 4,
  baseDir: '/srv',
  mode: 'pet',
  env: { LOG_LEVEL: 'info', PORT: '1' },
  ports: [{ name: 'http' }, { name: 'admin', port: 9000 }],
  workload: {
    image: 'shop/orders:2.1.0',
    cmd: ['services/orders.ts'],
    user: '1000:1000',
    resources: { cpu: '500m', memory: '192Mi', pids: 64 },
    volumes: [{ name: 'data', path: '/data', readOnly: false }],
  },
};

describe('container configuration', () => {
  it('numbers ports: fixed ones kept, then what the image exposes, then 8080 on', () => {
    assert.deepEqual(containerPorts({ ports: [{ name: 'http' }, { name: 'admin' }] }), {
      http: 8080,
      admin: 8081,
    });
    assert.deepEqual(containerPorts({ ports: [{ name: 'a', port: 8080 }, { name: 'b' }] }), {
      a: 8080,
      b: 8081,
    });
    assert.deepEqual(containerPorts({ ports: [{ name: 'db' }, { name: 'metrics' }] }, [5432]), {
      db: 5432,
      metrics: 8080,
    });
    assert.deepEqual(containerPorts({ ports: [{ name: 'x', port: 6379 }, { name: 'y' }] }, [6379, 16379]), {
      x: 6379,
      y: 16379,
    });
    assert.deepEqual(exposedPorts({ '6379/tcp': {}, '53/udp': {}, '80/tcp': {} }), [80, 6379]);
    assert.deepEqual(exposedPorts(null), []);
  });

  it('reads resources as the engine wants them', () => {
    assert.equal(cpuCores('250m'), 0.25);
    assert.equal(cpuCores(2), 2);
    assert.equal(memoryBytes('64Mi'), 64 * 1024 * 1024);
    assert.equal(memoryBytes('1Gi'), 1024 ** 3);
    assert.equal(memoryBytes('512Ki'), 512 * 1024);
  });

  it('reads the init’s exit code back as a signal, as shells do', () => {
    assert.deepEqual(exitOf(0), { code: 0, signal: null });
    assert.deepEqual(exitOf(3), { code: 3, signal: null });
    assert.deepEqual(exitOf(127), { code: 127, signal: null });
    assert.deepEqual(exitOf(137), { code: null, signal: 'SIGKILL' });
    assert.deepEqual(exitOf(143), { code: null, signal: 'SIGTERM' });
    assert.deepEqual(exitOf(255), { code: 255, signal: null });
  });

  it("points dependencies at the node's data plane where containers reach it, references resolved", () => {
    const config = containerConfig(
      {
        ...spec,
        env: { ...spec.env, LEDGER_BASE: '${services.payments.url}/v1' },
        dependencies: [{ service: 'payments', variable: 'PAYMENTS_URL', range: '^1.5.0', port: 20001 }],
        egressPort: 20002,
      },
      context,
    );
    assert.ok(config.Env?.includes('PAYMENTS_URL=http://172.18.0.1:20001'), String(config.Env));
    assert.ok(config.Env?.includes('LEDGER_BASE=http://172.18.0.1:20001/v1'));
    assert.ok(config.Env?.includes('BATON_EGRESS_URL=http://172.18.0.1:20002'));
  });

  it('makes the container: its image, Baton env last, limits, volumes, labels, the service name on the network', () => {
    const config = containerConfig(spec, {
      ...context,
      serverUrl: 'http://172.18.0.1:7070',
      tokenFor: (service) => `t-${service}`,
    });
    assert.equal(config.name, 'baton-abcdef12-orders-k3x9f2');
    assert.equal(config.Image, 'shop/orders:2.1.0');
    assert.deepEqual(config.Cmd, ['services/orders.ts']);
    assert.equal(config.Entrypoint, undefined, "the image's ENTRYPOINT unless the manifest says");
    assert.equal(config.User, '1000:1000');
    assert.ok(config.Env?.includes('PORT=8080'), 'PORT is Baton’s, whatever the manifest says');
    assert.ok(config.Env?.includes('PORT_ADMIN=9000'));
    assert.ok(config.Env?.includes('BATON_SERVER=http://172.18.0.1:7070'));
    assert.ok(config.Env?.includes('BATON_TOKEN=t-orders'));
    assert.ok(config.Env?.includes('LOG_LEVEL=info'));
    assert.deepEqual(config.ExposedPorts, { '8080/tcp': {}, '9000/tcp': {} });
    assert.deepEqual(config.HostConfig?.Mounts, [
      { Type: 'volume', Source: 'baton-abcdef12-orders-data', Target: '/data', ReadOnly: false },
    ]);
    assert.equal(config.HostConfig?.NanoCpus, 500_000_000);
    assert.equal(config.HostConfig?.Memory, 192 * 1024 * 1024);
    assert.equal(config.HostConfig?.PidsLimit, 64);
    assert.deepEqual(config.HostConfig?.LogConfig, {
      Type: 'json-file',
      Config: { 'max-size': '1024', 'max-file': '2' },
    });
    assert.deepEqual(config.NetworkingConfig, {
      EndpointsConfig: { 'baton-abcdef123456': { Aliases: ['orders'] } },
    });
    assert.deepEqual(instanceOfLabels(config.Labels), {
      id: 'orders-k3x9f2',
      service: 'orders',
      version: '2.1.0',
      revision: 4,
      mode: 'pet',
      ports: { http: 8080, admin: 9000 },
    });
  });

  it("binds its config file's folder read-only, after its volumes", () => {
    const config = containerConfig(
      {
        ...spec,
        configMount: { source: '/var/lib/baton.config/orders-k3x9f2', target: '/run/baton/config' },
      },
      context,
    );
    assert.deepEqual(config.HostConfig?.Mounts, [
      { Type: 'volume', Source: 'baton-abcdef12-orders-data', Target: '/data', ReadOnly: false },
      {
        Type: 'bind',
        Source: '/var/lib/baton.config/orders-k3x9f2',
        Target: '/run/baton/config',
        ReadOnly: true,
      },
    ]);
  });

  it('hashes the configuration, so that a pet is restarted in place only into the same one', () => {
    const hash = (s: InstanceSpec) => containerConfig(s, context).Labels?.[LABEL.config];
    assert.equal(hash(spec), hash({ ...spec }));
    assert.notEqual(hash(spec), hash({ ...spec, env: { LOG_LEVEL: 'debug' } }));
    assert.notEqual(
      hash(spec),
      hash({ ...spec, workload: { ...spec.workload, image: 'shop/orders:2.2.0' } }),
    );
  });

  it('refuses labels that are not a whole Baton set', () => {
    assert.equal(instanceOfLabels(undefined), undefined);
    assert.equal(instanceOfLabels({ [LABEL.instance]: 'x' }), undefined);
    assert.equal(
      instanceOfLabels({
        [LABEL.instance]: 'x',
        [LABEL.service]: 's',
        [LABEL.version]: '1.0.0',
        [LABEL.revision]: '1',
        [LABEL.ports]: 'not json',
      }),
      undefined,
    );
  });
});
