import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { operatorPath } from './operator-path.ts';

const npm = { npm_execpath: '/usr/lib/node_modules/npm/bin/npm-cli.js' };

describe('operatorPath', () => {
  it('drops what npm run and npx put in front of the PATH', () => {
    const PATH = [
      '/home/op/baton/node_modules/.bin',
      '/home/op/baton/node_modules/.bin',
      '/home/op/node_modules/.bin',
      '/node_modules/.bin',
      '/usr/lib/node_modules/npm/node_modules/@npmcli/run-script/lib/node-gyp-bin',
      '/home/op/.local/bin',
      '/usr/bin',
    ].join(':');
    assert.equal(operatorPath({ ...npm, PATH }), '/home/op/.local/bin:/usr/bin');
  });

  it('keeps a node_modules/.bin the operator put later in their own PATH', () => {
    const PATH = '/home/op/baton/node_modules/.bin:/usr/bin:/home/op/tools/node_modules/.bin';
    assert.equal(operatorPath({ ...npm, PATH }), '/usr/bin:/home/op/tools/node_modules/.bin');
  });

  it('leaves the PATH alone when Baton was not started by npm', () => {
    const PATH = './node_modules/.bin:/usr/bin';
    assert.equal(operatorPath({ PATH }), PATH);
    assert.equal(operatorPath({}), undefined);
  });
});
