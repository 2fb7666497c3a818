import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InstanceSpec } from './runtime.ts';
import { serviceEnvironment } from './instance-spec.ts';

const spec = (overrides: Partial<InstanceSpec>): InstanceSpec => ({
  id: 'web-1',
  service: 'web',
  version: '1.0.0',
  revision: 3,
  workload: { run: { command: 'node', args: [] }, volumes: [] },
  baseDir: '/srv',
  mode: 'cattle',
  env: {},
  ports: [{ name: 'http' }],
  ...overrides,
});

describe('serviceEnvironment', () => {
  it('gives each declared dependency its address at the data plane, references resolved, the egress too', () => {
    const env = serviceEnvironment(
      spec({
        env: { HOTEL_API: '${services.hotel.url}/v1', LOG_LEVEL: 'info' },
        dependencies: [
          { service: 'hotel', variable: 'HOTEL_URL', range: '^1.0.0', port: 20417 },
          { service: 'payments', variable: 'PAY', range: '^2.0.0', port: 20418 },
        ],
        egressPort: 20001,
      }),
      '172.18.0.1',
    );
    assert.deepEqual(env, {
      HOTEL_URL: 'http://172.18.0.1:20417',
      PAY: 'http://172.18.0.1:20418',
      HOTEL_API: 'http://172.18.0.1:20417/v1',
      LOG_LEVEL: 'info',
      BATON_EGRESS_URL: 'http://172.18.0.1:20001',
    });
  });

  it("lets the manifest's own value win, and gives nothing for a dependency without a port", () => {
    const env = serviceEnvironment(
      spec({
        env: { HOTEL_URL: 'http://hotel.internal' },
        dependencies: [
          { service: 'hotel', variable: 'HOTEL_URL', range: '^1.0.0', port: 20417 },
          { service: 'payments', variable: 'PAYMENTS_URL', range: '^1.0.0' },
        ],
      }),
      '127.0.0.1',
    );
    assert.deepEqual(env, { HOTEL_URL: 'http://hotel.internal' });
  });
});
