import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InstanceSpec } from '../../../ports/runtime.ts';
import {
  instanceOfService,
  placementConstraints,
  serviceSpec,
  SWARM_LABEL,
  swarmPorts,
} from './service-spec.ts';

const context = {
  owner: 'abcdef123456',
  dataPlaneHost: '10.77.0.1',
  serverUrl: 'http://10.77.0.1:7070',
  tokenFor: () => 't',
  logMaxBytes: 1024,
  logFiles: 2,
  avoidNodes: ['lostnode'],
  stopGraceMs: 2_000,
};

const spec: InstanceSpec = {
  id: 'orders-k3x9f2',
  service: 'orders',
  version: '2.1.0',
  revision: 4,
  baseDir: '/srv',
  mode: 'pet',
  env: { LOG_LEVEL: 'info' },
  ports: [{ name: 'http' }, { name: 'db', port: 5432 }],
  dependencies: [{ service: 'payments', variable: 'PAYMENTS_URL', range: '^1.5.0', port: 20001 }],
  workload: {
    image: 'shop/orders:2.1.0',
    cmd: ['services/orders.ts'],
    resources: { cpu: '500m', memory: '192Mi', pids: 64 },
    placement: { labels: { zone: 'z2', disk: 'ssd' } },
    volumes: [{ name: 'data', path: '/data', readOnly: false }],
  },
};

describe('swarm service of an instance', () => {
  it('publishes every port on its own number; an unnumbered one listens inside on it too', () => {
    let next = 33000;
    const ports = swarmPorts(spec, () => next++);
    assert.deepEqual(ports, { published: { http: 33000, db: 33001 }, targets: { http: 33000, db: 5432 } });
  });

  it('places by the manifest’s labels, away from lost nodes, on a pet’s node when pinned', () => {
    assert.deepEqual(placementConstraints(spec, context), [
      'node.labels.disk==ssd',
      'node.labels.zone==z2',
      'node.id!=lostnode',
    ]);
    assert.deepEqual(placementConstraints(spec, { ...context, avoidNodes: [], pinnedNode: 'n1' }), [
      'node.labels.disk==ssd',
      'node.labels.zone==z2',
      'node.id==n1',
    ]);
  });

  it('makes one dnsrr service of one task: host-mode ports, reservations, no restarts, an init, labels', () => {
    const service = serviceSpec(spec, context, {
      published: { http: 33000, db: 33001 },
      targets: { http: 33000, db: 5432 },
    });
    assert.equal(service.Name, 'baton-abcdef12-orders-k3x9f2');
    assert.deepEqual(service.Mode, { Replicated: { Replicas: 1 } });
    assert.equal(service.EndpointSpec?.Mode, 'dnsrr');
    assert.deepEqual(service.EndpointSpec?.Ports, [
      { Protocol: 'tcp', TargetPort: 33000, PublishedPort: 33000, PublishMode: 'host' },
      { Protocol: 'tcp', TargetPort: 5432, PublishedPort: 33001, PublishMode: 'host' },
    ]);
    const task = service.TaskTemplate as {
      ContainerSpec: { Env: string[]; Init: boolean; StopGracePeriod: number };
    } & Record<string, unknown>;
    assert.deepEqual(task.RestartPolicy, { Condition: 'none', MaxAttempts: 0 });
    assert.deepEqual(task.Resources, {
      Limits: { NanoCPUs: 500_000_000, MemoryBytes: 192 * 1024 * 1024, Pids: 64 },
      Reservations: { NanoCPUs: 500_000_000, MemoryBytes: 192 * 1024 * 1024 },
    });
    assert.equal(task.ContainerSpec.Init, true);
    assert.equal(task.ContainerSpec.StopGracePeriod, 2_000_000_000);
    const env = task.ContainerSpec.Env;
    assert.ok(env.includes('PORT=33000'), 'PORT is where the instance is reached');
    assert.ok(env.includes('PORT_DB=5432'));
    assert.ok(env.includes('PAYMENTS_URL=http://10.77.0.1:20001'), 'dependencies at the data plane');
    assert.ok(env.includes('BATON_SERVER=http://10.77.0.1:7070'));
    assert.deepEqual(instanceOfService(service.Labels), {
      id: 'orders-k3x9f2',
      service: 'orders',
      version: '2.1.0',
      revision: 4,
      mode: 'pet',
      published: { http: 33000, db: 33001 },
    });
    assert.match(service.Labels?.[SWARM_LABEL.config] ?? '', /^[0-9a-f]{16}$/);
  });

  it('refuses labels that are not a whole Baton set', () => {
    assert.equal(instanceOfService(undefined), undefined);
    assert.equal(instanceOfService({ [SWARM_LABEL.instance]: 'x' }), undefined);
  });
});
