import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { missingScript, scriptArgument } from './script-argument.ts';

describe('scriptArgument', () => {
  it('finds the script an interpreter is given, past its options', () => {
    assert.deepEqual(scriptArgument('node', ['services/web.ts']), { index: 0, script: 'services/web.ts' });
    assert.deepEqual(
      scriptArgument('/usr/local/bin/node', ['--watch', '--import', 'tsx', 'app.ts', '--port']),
      {
        index: 3,
        script: 'app.ts',
      },
    );
    assert.deepEqual(scriptArgument('python3', ['-u', 'server.py']), { index: 1, script: 'server.py' });
  });

  it('sees no script in inline code, a module, a subcommand or a command that is no interpreter', () => {
    assert.equal(scriptArgument('node', ['-e', 'console.log(1)']), undefined);
    assert.equal(scriptArgument('python', ['-m', 'http.server']), undefined);
    assert.equal(scriptArgument('sh', ['-c', 'exec ./server']), undefined);
    assert.equal(scriptArgument('node', ['--version']), undefined);
    assert.equal(scriptArgument('./bin/server', ['config/app.yaml']), undefined);
    assert.equal(scriptArgument('npm', ['start']), undefined);
  });
});

describe('missingScript', () => {
  it('names a missing script by its path under the working directory, and passes an existing one', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'baton-script-'));
    try {
      await writeFile(join(cwd, 'here.ts'), '');
      assert.equal(await missingScript('node', ['here.ts'], cwd), undefined);
      assert.deepEqual(await missingScript('node', ['gone.ts'], cwd), {
        index: 0,
        script: 'gone.ts',
        path: join(cwd, 'gone.ts'),
      });
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });
});
