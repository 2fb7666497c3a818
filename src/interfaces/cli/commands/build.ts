// build: the images of services that declare `build`, made by the Docker Engine on this
// machine, step by step on the terminal. Never pulls.
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { BatonError } from '../../../domain/errors.ts';
import type { Manifest } from '../../../domain/manifest/model.ts';
import { validateArchitecture } from '../../../domain/validate.ts';
import { openImageBuilder } from '../../../server.ts';
import { CliExit, EXIT } from '../exit-codes.ts';
import { readManifestFile } from '../manifest-file.ts';
import { createOutput, printProblems, type Output } from '../output.ts';

export function registerBuildCommand(program: Command): void {
  program
    .command('build')
    .description(
      'Build the images of services that declare `build`, with the Docker Engine on this machine (never pulls)',
    )
    .argument('[services...]', 'only these services (default: every one with `build`)')
    .option('-f, --file <path>', 'manifest file', 'baton.yaml')
    .addHelpText(
      'after',
      [
        '',
        'Images are tagged `image` when the service names one, else <architecture>/<service>:<version>.',
        'Dockerfiles may build on baton/node:24: Baton makes it from the Node it runs on.',
        '',
        'Examples:',
        '  baton build -f examples/shop/baton.yaml',
        '  baton build -f baton.yaml web orders',
      ].join('\n'),
    )
    .action(async (services: string[], options: { file: string }) => {
      const out = createOutput({ json: false });
      const manifest = await readValidManifest(options.file, out);
      const builder = await engineBuilder(out);
      await buildImages(out, builder, manifest, dirname(resolve(options.file)), services);
    });
}

type ImageBuilder = Awaited<ReturnType<typeof openImageBuilder>>;

export async function readValidManifest(file: string, out: Output): Promise<Manifest> {
  const text = await readManifestFile(file, out);
  const validation = validateArchitecture(text, { file });
  if (!validation.ok) {
    printProblems(out, validation.problems);
    throw new CliExit(EXIT.invalid);
  }
  return validation.value.manifest;
}

export async function engineBuilder(out: Output): Promise<ImageBuilder> {
  try {
    return await openImageBuilder(process.env['DOCKER_HOST']);
  } catch (error) {
    if (!(error instanceof BatonError)) throw error;
    out.error(`baton: ${error.message}`);
    if (error.hint) out.error(`  hint: ${error.hint}`);
    throw new CliExit(EXIT.unavailable);
  }
}

/** Builds one service after another; the first failure stops, naming its step. */
export async function buildImages(
  out: Output,
  builder: ImageBuilder,
  manifest: Manifest,
  baseDir: string,
  only: readonly string[] = [],
): Promise<void> {
  for (const name of only) {
    const spec = manifest.services[name];
    if (spec === undefined || spec.build === undefined) {
      out.error(
        `baton build: ${name} ${spec === undefined ? 'is not in the manifest' : 'declares no `build`'}`,
      );
      throw new CliExit(EXIT.invalid);
    }
  }
  const services = Object.entries(manifest.services).filter(
    ([name, spec]) => spec.build !== undefined && (only.length === 0 || only.includes(name)),
  );
  if (services.length === 0) {
    out.line('no service declares `build`: nothing to build');
    return;
  }
  for (const [name, spec] of services) {
    const build = spec.build!;
    const tag = spec.image!;
    const contextDir = resolve(baseDir, build.context);
    out.line(
      `${out.style('bold', `building ${tag}`)} ${out.style('gray', `(${name}: ${build.context}, ${build.dockerfile})`)}`,
    );
    const started = performance.now();
    try {
      const { imageId } = await builder.build(
        {
          tag,
          contextDir,
          dockerfile: build.dockerfile,
          args: build.args,
          target: build.target,
          labels: { 'dev.baton.service': name, 'dev.baton.version': spec.version },
        },
        (progress) => {
          if (progress.kind === 'step')
            out.line(out.style('gray', `  ${progress.index}/${progress.total} ${progress.instruction}`));
          if (progress.kind === 'base')
            out.line(out.style('gray', `  made ${progress.image} from this machine's Node`));
          if (progress.kind === 'context')
            out.line(
              out.style(
                'gray',
                `  context: ${progress.files} files, ${(progress.bytes / 1024 / 1024).toFixed(1)} MiB`,
              ),
            );
        },
      );
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      out.line(
        `${out.style('green', '✓')} ${tag} ${out.style('gray', `${imageId.replace(/^sha256:/, '').slice(0, 12)}, ${seconds} s`)}`,
      );
    } catch (error) {
      if (!(error instanceof BatonError)) throw error;
      out.error(`${out.style('red', '✗')} ${error.message}`);
      if (error.hint) out.error(`  ${out.style('cyan', 'hint:')} ${error.hint}`);
      throw new CliExit(EXIT.invalid);
    }
  }
}
