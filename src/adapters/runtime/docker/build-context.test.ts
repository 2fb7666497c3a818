import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import tar from 'tar-stream';
import { packContext } from './build-context.ts';

async function tree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'baton-context-'));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

/** Every entry of the tar: path (directories end with /) → content. */
async function read(stream: NodeJS.ReadableStream): Promise<Map<string, string>> {
  const entries = new Map<string, string>();
  const extract = tar.extract();
  await new Promise<void>((done, fail) => {
    extract.on('entry', (header, body, next) => {
      const chunks: Buffer[] = [];
      body.on('data', (chunk: Buffer) => chunks.push(chunk));
      body.on('end', () => {
        const name = header.type === 'directory' ? `${header.name}/` : header.name;
        entries.set(
          name,
          header.type === 'symlink' ? `-> ${header.linkname}` : Buffer.concat(chunks).toString(),
        );
        next();
      });
    });
    extract.on('finish', done);
    extract.on('error', fail);
    stream.pipe(extract);
  });
  return entries;
}

const files = (entries: Map<string, string>) => [...entries.keys()].filter((k) => !k.endsWith('/')).sort();

describe('packContext', () => {
  it('sends the whole folder when nothing is ignored', async () => {
    const root = await tree({ Dockerfile: 'FROM scratch\n', 'app/main.ts': 'main', 'app/lib/a.ts': 'a' });
    try {
      const context = await packContext(root, 'Dockerfile');
      const entries = await read(context.stream);
      assert.deepEqual(files(entries), ['Dockerfile', 'app/lib/a.ts', 'app/main.ts']);
      assert.ok(entries.has('app/') && entries.has('app/lib/'), 'folders are entries too');
      assert.equal(entries.get('app/main.ts'), 'main');
      assert.equal(context.dockerfile, 'Dockerfile');
      assert.equal(context.dockerfileText, 'FROM scratch\n');
      assert.equal(context.bytes, 'FROM scratch\n'.length + 'main'.length + 1);
    } finally {
      await rm(root, { recursive: true });
    }
  });

  it('follows .dockerignore, re-includes with `!` inside ignored folders, and keeps the Dockerfile', async () => {
    const root = await tree({
      '.dockerignore': '# only what the image needs\n*\n!app\n!node_modules/keep\napp/**/*.test.ts\n',
      Dockerfile: 'FROM scratch\n',
      'app/main.ts': 'm',
      'app/main.test.ts': 't',
      'app/deep/x.test.ts': 't',
      'node_modules/keep/index.js': 'k',
      'node_modules/drop/index.js': 'd',
      'secret.env': 'TOKEN=1',
    });
    try {
      const entries = await read((await packContext(root, 'Dockerfile')).stream);
      assert.deepEqual(files(entries), ['Dockerfile', 'app/main.ts', 'node_modules/keep/index.js']);
      assert.ok(entries.has('node_modules/'), 'the parent of a re-included folder is there');
    } finally {
      await rm(root, { recursive: true });
    }
  });

  it('prefers <dockerfile>.dockerignore beside the Dockerfile, and keeps symlinks as links', async () => {
    const root = await tree({
      '.dockerignore': 'nothing-matches\n',
      'images/web.Dockerfile': 'FROM scratch\n',
      'images/web.Dockerfile.dockerignore': '*\n!web\n!images/web.Dockerfile\n',
      'web/index.html': 'hi',
      'api/main.ts': 'api',
    });
    await symlink('index.html', join(root, 'web/home.html'));
    try {
      const context = await packContext(root, 'images/web.Dockerfile');
      const entries = await read(context.stream);
      assert.deepEqual(files(entries), ['images/web.Dockerfile', 'web/home.html', 'web/index.html']);
      assert.equal(entries.get('web/home.html'), '-> index.html');
      assert.equal(context.dockerfile, 'images/web.Dockerfile');
    } finally {
      await rm(root, { recursive: true });
    }
  });

  it('adds a Dockerfile from outside the context under its own name', async () => {
    const root = await tree({ 'context/a.txt': 'a', 'elsewhere/Dockerfile': 'FROM scratch\nCOPY a.txt /\n' });
    try {
      const context = await packContext(join(root, 'context'), '../elsewhere/Dockerfile');
      const entries = await read(context.stream);
      assert.deepEqual(files(entries), ['.baton-dockerfile', 'a.txt']);
      assert.equal(entries.get('.baton-dockerfile'), 'FROM scratch\nCOPY a.txt /\n');
      assert.equal(context.dockerfile, '.baton-dockerfile');
    } finally {
      await rm(root, { recursive: true });
    }
  });

  it('fails on a missing Dockerfile, naming it', async () => {
    const root = await tree({ 'a.txt': 'a' });
    try {
      await assert.rejects(packContext(root, 'Dockerfile'), /ENOENT.*Dockerfile/);
    } finally {
      await rm(root, { recursive: true });
    }
  });
});
