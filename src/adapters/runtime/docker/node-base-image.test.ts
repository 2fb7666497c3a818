import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ensureNodeBase, librariesOf, nodeBaseTags } from './node-base-image.ts';
import { openTestEngine, type TestEngine } from './test-engine.ts';

describe('librariesOf', () => {
  it('reads every absolute path ldd prints, the loader included, once each', () => {
    const ldd = [
      '\tlinux-vdso.so.1 (0x00007ffd)',
      '\tlibdl.so.2 => /lib/x86_64-linux-gnu/libdl.so.2 (0x00007f1)',
      '\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f2)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f3)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f3)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f4)',
      '\tlibmissing.so => not found',
    ].join('\n');
    assert.deepEqual(librariesOf(ldd), [
      '/lib/x86_64-linux-gnu/libdl.so.2',
      '/lib/x86_64-linux-gnu/libstdc++.so.6',
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/lib64/ld-linux-x86-64.so.2',
    ]);
  });

  it('tags by exact and major version', () => {
    assert.deepEqual(nodeBaseTags('v24.21.0'), { exact: 'baton/node:24.21.0', major: 'baton/node:24' });
  });
});

describe('ensureNodeBase (real engine)', () => {
  let engine: TestEngine;
  before(async () => (engine = await openTestEngine()));
  after(() => engine.cleanup());

  it('makes an image of the running Node alone, run as nobody, with /tmp and a /data nobody owns', async () => {
    const repository = `baton-test-${engine.runId}/node`;
    const options = {
      nodePath: process.execPath,
      nodeVersion: process.version,
      repository,
      labels: engine.labels,
    };
    const exact = await ensureNodeBase(engine.docker, options);
    const { major } = nodeBaseTags(process.version, repository);
    assert.equal(exact, nodeBaseTags(process.version, repository).exact);
    const image = await engine.docker.getImage(major).inspect();
    assert.equal(image.Config.User, '65534:65534');
    assert.deepEqual(image.Config.Entrypoint, ['node']);
    assert.ok(image.Size < 200 * 1024 * 1024, `${image.Size} bytes`);

    const script =
      "const fs = require('node:fs');" +
      'const s = (p) => { const x = fs.statSync(p); return [x.uid, (x.mode & 0o7777).toString(8)]; };' +
      "console.log(JSON.stringify({ version: process.version, uid: process.getuid(), tmp: s('/tmp'), data: s('/data'), root: fs.readdirSync('/').sort() }))";
    const container = await engine.docker.createContainer({
      Image: major,
      Cmd: ['-e', script],
      Labels: { ...engine.labels },
    });
    await container.start();
    await container.wait();
    const out = (await container.logs({ stdout: true })).toString();
    const seen = JSON.parse(out.slice(out.indexOf('{')));
    assert.deepEqual(seen, {
      version: process.version,
      uid: 65534,
      tmp: [0, '1777'],
      data: [65534, '755'],
      root: seen.root,
    });
    for (const entry of ['app', 'data', 'etc', 'tmp', 'usr']) assert.ok(seen.root.includes(entry), entry);
    assert.ok(!seen.root.includes('bin'), 'no shell, no tools: only Node and its libraries');

    // A second call finds it.
    assert.equal(await ensureNodeBase(engine.docker, options), exact);
  });
});
