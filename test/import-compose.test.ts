// `baton import compose` as users run it: files read beside the compose file, a manifest
// written that `baton validate` accepts, a line per note, no overwrite without --force.
import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO, runCli, tempDir } from './support/baton-process.ts';

describe('baton import compose', () => {
  let dir: { path: string; remove: () => Promise<void> };
  before(async () => {
    dir = await tempDir('import');
    await cp(join(REPO, 'test/fixtures/compose/everything'), join(dir.path, 'store'), { recursive: true });
  });
  after(() => dir.remove());

  it('writes a valid baton.yaml beside the compose file it finds, and names every note', async () => {
    const cwd = join(dir.path, 'store');
    const result = await runCli(['import', 'compose'], {}, cwd);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /✓ 4 services from compose\.yaml → baton\.yaml, 23 notes/);
    assert.equal(result.stderr.match(/^note /gm)?.length, 23);
    assert.match(result.stderr, /note services\.migrate\.env_file: missing\.env was not found/);
    const written = await readFile(join(cwd, 'baton.yaml'), 'utf8');
    assert.match(written, /LOG_LEVEL: debug/, '.env beside the file was read');
    assert.match(written, /DATABASE_URL: postgres:\/\/store@db:5432\/store/, 'and the env_file');
    const validated = await runCli(['validate', '-f', 'baton.yaml'], {}, cwd);
    assert.equal(validated.code, 0, validated.stderr + validated.stdout);
    assert.match(validated.stdout, /4 services, 3 dependencies, valid/);

    const again = await runCli(['import', 'compose'], {}, cwd);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /baton\.yaml exists; pass --force/);
    assert.equal(await readFile(join(cwd, 'baton.yaml'), 'utf8'), written, 'left as it was');
    assert.equal((await runCli(['import', 'compose', '--force', '--name', 'shop'], {}, cwd)).code, 0);
    assert.match(await readFile(join(cwd, 'baton.yaml'), 'utf8'), /^name: shop$/m);
  });

  it('prints to stdout with -o -, and refuses what is no compose file', async () => {
    const file = join(dir.path, 'not-compose.yaml');
    await writeFile(file, 'version: "3"\n');
    const refused = await runCli(['import', 'compose', file, '-o', '-']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /not a compose file: it has no `services`/);
    const printed = await runCli([
      'import',
      'compose',
      join(REPO, 'test/fixtures/compose/elk/compose.yaml'),
      '-o',
      '-',
    ]);
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(printed.stdout, /^# Imported from compose\.yaml/);
    assert.match(printed.stdout, /\n {2}elasticsearch:\n/);
    const missing = await runCli(['import', 'compose', join(dir.path, 'nowhere.yml')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read .*nowhere\.yml: no such file/);
  });
});
