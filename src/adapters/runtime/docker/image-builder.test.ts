// Against the real engine: builds from a local context, the Node base made on demand,
// failures that name the step, and a missing base named without any pull.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BatonError } from '../../../domain/errors.ts';
import { ImageBuilder, type BuildProgress } from './image-builder.ts';
import { nodeBaseTags } from './node-base-image.ts';
import { openTestEngine, type TestEngine } from './test-engine.ts';

const node = { nodePath: process.execPath, nodeVersion: process.version };
const base = nodeBaseTags(process.version).major;

describe('ImageBuilder (real engine)', () => {
  let engine: TestEngine;
  let builder: ImageBuilder;
  let dir: string;
  before(async () => {
    engine = await openTestEngine();
    builder = new ImageBuilder({ docker: engine.docker, node });
    dir = await mkdtemp(join(tmpdir(), 'baton-build-'));
  });
  after(async () => {
    await engine.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  async function context(name: string, files: Record<string, string>): Promise<string> {
    const root = join(dir, name);
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), content);
    }
    return root;
  }

  const tag = (name: string) => `baton-test-${engine.runId}/${name}:1.0.0`;

  it('builds on the Node base, reporting each step, and the image runs the service', async () => {
    const root = await context('ok', {
      Dockerfile: `ARG NODE=24\nFROM ${base.replace(':24', ':${NODE}')}\nCOPY main.js /app/\nCMD ["main.js"]\n`,
      'main.js': 'console.log("hello from", process.version)\n',
      '.dockerignore': 'secret.txt\n',
      'secret.txt': 'never sent',
    });
    const progress: BuildProgress[] = [];
    const { imageId } = await builder.build(
      { tag: tag('ok'), contextDir: root, dockerfile: 'Dockerfile', labels: engine.labels },
      (p) => progress.push(p),
    );
    assert.match(imageId, /^(sha256:)?[0-9a-f]+$/);
    const steps = progress.filter((p) => p.kind === 'step');
    assert.deepEqual(
      steps.map((s) => `${s.index}/${s.total} ${s.instruction}`),
      [
        '1/5 ARG NODE=24',
        `2/5 FROM ${base.replace(':24', ':${NODE}')}`,
        '3/5 COPY main.js /app/',
        '4/5 CMD ["main.js"]',
        // The engine adds the labels as a last step.
        `5/5 LABEL dev.baton.test=${engine.runId}`,
      ],
    );
    const contextReport = progress.find((p) => p.kind === 'context');
    assert.deepEqual(contextReport, {
      kind: 'context',
      files: 3,
      bytes: contextReport?.kind === 'context' ? contextReport.bytes : 0,
    });
    assert.deepEqual(progress.at(-1), { kind: 'built', tag: tag('ok'), imageId });

    const inspect = await engine.docker.getImage(tag('ok')).inspect();
    assert.equal(inspect.Config.Labels?.['dev.baton.test'], engine.runId);
    assert.deepEqual(inspect.Config.Entrypoint, ['node']);
    assert.equal(inspect.Config.User, '65534:65534', 'the base runs as nobody');

    const container = await engine.docker.createContainer({
      Image: tag('ok'),
      Labels: { ...engine.labels },
      HostConfig: { Init: true },
    });
    await container.start();
    await container.wait();
    const logs = (await container.logs({ stdout: true, stderr: true })).toString();
    assert.match(logs, new RegExp(`hello from ${process.version}`));
    await container.remove();
  });

  it('names the failing step and the reason', async () => {
    const root = await context('broken', {
      Dockerfile: `FROM ${base}\nCOPY main.js /app/\nCOPY missing.js /app/\n`,
      'main.js': '',
    });
    await assert.rejects(
      builder.build({
        tag: tag('broken'),
        contextDir: root,
        dockerfile: 'Dockerfile',
        labels: engine.labels,
      }),
      (error: BatonError) => {
        assert.equal(error.code, 'image-build-failed');
        assert.match(
          error.message,
          /failed: at step 3\/\d \(COPY missing\.js \/app\/\): COPY failed: .*missing\.js/,
        );
        return true;
      },
    );
  });

  it('refuses a Dockerfile the engine cannot parse, with its reason', async () => {
    const root = await context('unparsable', { Dockerfile: `FROM ${base}\nFORM nothing\n` });
    await assert.rejects(
      builder.build({ tag: tag('unparsable'), contextDir: root, dockerfile: 'Dockerfile' }),
      (error: BatonError) => {
        assert.equal(error.code, 'image-build-failed');
        assert.match(error.message, /unknown instruction: FORM/i);
        return true;
      },
    );
  });

  it('names a base image the engine lacks, and never pulls it', async () => {
    const missing = `baton-test-${engine.runId}/not-here:1`;
    const root = await context('missing-base', { Dockerfile: `FROM ${missing}\n` });
    await assert.rejects(
      builder.build({ tag: tag('missing-base'), contextDir: root, dockerfile: 'Dockerfile' }),
      (error: BatonError) => {
        assert.equal(error.code, 'image-build-failed');
        assert.ok(
          error.message.includes(`it builds on ${missing}, which this engine does not have`),
          error.message,
        );
        assert.match(error.hint ?? '', /docker load/);
        return true;
      },
    );
  });

  it('says where a missing context was looked for', async () => {
    await assert.rejects(
      builder.build({ tag: tag('nowhere'), contextDir: join(dir, 'nowhere'), dockerfile: 'Dockerfile' }),
      (error: BatonError) => {
        assert.equal(error.code, 'image-build-failed');
        assert.ok(error.message.includes(join(dir, 'nowhere')), error.message);
        return true;
      },
    );
  });
});
