import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { manifestOf } from '../graph/test-manifest.ts';
import { resolveServiceReferences } from '../manifest/service-references.ts';
import { dependencyVariable, edgeKey, egressKey, namedCallee, wantedListeners } from './east-west.ts';

describe('east-west listeners', () => {
  it('wants an egress per service and a listener per dependency and range', () => {
    const manifest = manifestOf({
      web: { dependsOn: { hotel: '^1.0.0', payments: '>=2' } },
      hotel: {},
      payments: { version: '2.1.0' },
    });
    assert.deepEqual(
      wantedListeners(manifest).map((l) => l.key),
      [
        egressKey('hotel'),
        egressKey('payments'),
        egressKey('web'),
        edgeKey('web', 'hotel', '^1.0.0'),
        edgeKey('web', 'payments', '>=2'),
      ],
    );
  });

  it('keys an edge by its range: a consumer that changes its range gets a new address', () => {
    assert.notEqual(edgeKey('web', 'hotel', '^1.0.0'), edgeKey('web', 'hotel', '^2.0.0'));
  });

  it('names a dependency HOTEL_URL unless the manifest names it', () => {
    assert.equal(dependencyVariable('hotel', {}), 'HOTEL_URL');
    assert.equal(dependencyVariable('room-service', {}), 'ROOM_SERVICE_URL');
    assert.equal(dependencyVariable('hotel', { env: 'HOTEL_API' }), 'HOTEL_API');
  });

  it('reads the callee an egress request names: x-baton-service, else the first label of Host', () => {
    assert.equal(namedCallee(undefined, 'payments'), 'payments');
    assert.equal(namedCallee(undefined, 'payments.internal'), 'payments');
    assert.equal(namedCallee(' Hotel ', 'payments'), 'hotel');
    assert.equal(namedCallee(undefined, ''), '');
  });

  it('resolves references to the addresses an instance was given', () => {
    const addresses = new Map([['hotel', { host: '127.0.0.1', port: 20417 }]]);
    assert.equal(
      resolveServiceReferences(
        '${services.hotel.url}/v1 ${services.hotel.host}:${services.hotel.port}',
        addresses,
      ),
      'http://127.0.0.1:20417/v1 127.0.0.1:20417',
    );
    // Undeclared (refused at validation) or another kind of reference: left as written.
    assert.equal(
      resolveServiceReferences('${services.other.url} ${secret:X}', addresses),
      '${services.other.url} ${secret:X}',
    );
  });
});
