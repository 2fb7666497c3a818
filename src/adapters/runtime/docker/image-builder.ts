// Builds a service's image with the engine, from a context on this machine, never pulling:
// the images a Dockerfile builds on must be on the engine already (Baton makes its own Node
// base when asked for it), and a missing one is named before anything is sent. Progress is
// reported step by step; a failure names the step and the engine's reason.
import type Docker from 'dockerode';
import { BatonError } from '../../../domain/errors.ts';
import { packContext } from './build-context.ts';
import { baseImagesOf } from './dockerfile-bases.ts';
import { engineMessages } from './engine-stream.ts';
import {
  ensureNodeBase,
  hasImage,
  isNodeBase,
  nodeBaseTags,
  type NodeBaseOptions,
} from './node-base-image.ts';

export interface ImageBuild {
  /** `repository:tag` to give the result. */
  readonly tag: string;
  /** Absolute. */
  readonly contextDir: string;
  /** Relative to the context (or absolute). */
  readonly dockerfile: string;
  readonly args?: Readonly<Record<string, string>> | undefined;
  readonly target?: string | undefined;
  readonly labels?: Readonly<Record<string, string>> | undefined;
}

export type BuildProgress =
  | { readonly kind: 'context'; readonly files: number; readonly bytes: number }
  | { readonly kind: 'base'; readonly image: string; readonly made: boolean }
  | { readonly kind: 'step'; readonly index: number; readonly total: number; readonly instruction: string }
  | { readonly kind: 'output'; readonly line: string }
  | { readonly kind: 'built'; readonly tag: string; readonly imageId: string };

export interface ImageBuilderOptions {
  readonly docker: Docker;
  /** The Node Baton runs on, for `FROM baton/node:<version>`. */
  readonly node: NodeBaseOptions;
}

export class ImageBuilder {
  readonly #docker: Docker;
  readonly #node: NodeBaseOptions;

  constructor(options: ImageBuilderOptions) {
    this.#docker = options.docker;
    this.#node = options.node;
  }

  async build(
    request: ImageBuild,
    onProgress: (progress: BuildProgress) => void = () => {},
    signal?: AbortSignal,
  ): Promise<{ imageId: string }> {
    const failed = (message: string, hint?: string, cause?: unknown) =>
      new BatonError('image-build-failed', `building ${request.tag} failed: ${message}`, { hint, cause });
    let context;
    try {
      context = await packContext(request.contextDir, request.dockerfile);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR')
        throw failed(
          (error as Error).message,
          'build.context is relative to the manifest, build.dockerfile to the context',
          error,
        );
      throw error;
    }
    // Checked before the context goes anywhere: a missing base would make the engine pull.
    try {
      for (const image of baseImagesOf(context.dockerfileText, request.args ?? {}).images) {
        if (await hasImage(this.#docker, image)) continue;
        if (isNodeBase(image, this.#node)) {
          await ensureNodeBase(this.#docker, this.#node);
          onProgress({ kind: 'base', image, made: true });
          continue;
        }
        throw failed(
          `it builds on ${image}, which this engine does not have, and Baton never pulls`,
          `build or load ${image} first (docker build, docker load, docker import), or build on ${nodeBaseTags(this.#node.nodeVersion, this.#node.repository).major} (Baton makes it from its own Node)`,
        );
      }
    } catch (error) {
      context.stream.destroy();
      throw error;
    }
    onProgress({ kind: 'context', files: context.files, bytes: context.bytes });

    let step: { index: number; total: number; instruction: string } | undefined;
    let imageId: string | undefined;
    const stepSuffix = () => (step ? ` at step ${step.index}/${step.total} (${step.instruction})` : '');
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.#docker.buildImage(context.stream, {
        t: request.tag,
        dockerfile: context.dockerfile,
        buildargs: { ...request.args },
        labels: { ...request.labels },
        ...(request.target ? { target: request.target } : {}),
        rm: true,
        forcerm: true,
        abortSignal: signal,
      } as Docker.ImageBuildOptions);
    } catch (error) {
      // Refused before any step: a Dockerfile that does not parse, an unknown target.
      throw failed(engineReason(error), 'fix the Dockerfile and build again', error);
    }
    // Images the steps made: the classic builder leaves the last of stages other than the
    // target (and of a failed build) untagged, to pile up; they go once the build ends, with
    // the image the tag named before, when nothing uses it any more.
    const made = new Set<string>();
    const before = await this.#docker
      .getImage(request.tag)
      .inspect()
      .then((image) => shortId(image.Id))
      .catch(() => undefined);
    if (before !== undefined) made.add(before);
    try {
      for await (const message of engineMessages(stream)) {
        const error = message.errorDetail?.message ?? message.error;
        if (error !== undefined)
          throw failed(`${stepSuffix().trimStart()}: ${error.trim()}`.replace(/^: /, ''));
        if (message.aux?.ID) imageId = message.aux.ID;
        for (const line of (message.stream ?? '').split('\n')) {
          const text = line.trimEnd();
          if (text === '') continue;
          const started = /^Step (\d+)\/(\d+) : (.*)$/.exec(text);
          if (started) {
            step = { index: Number(started[1]), total: Number(started[2]), instruction: started[3]! };
            onProgress({ kind: 'step', ...step });
            continue;
          }
          const layer = /^ ---> ([0-9a-f]{12})$/.exec(text);
          if (layer) made.add(layer[1]!);
          const built = /^Successfully built ([0-9a-f]+)$/.exec(text);
          if (built) imageId ??= built[1];
          onProgress({ kind: 'output', line: text });
        }
      }
    } finally {
      await this.#removeLeftovers(made, imageId);
    }
    if (imageId === undefined) throw failed(`the engine ended the build without an image${stepSuffix()}`);
    onProgress({ kind: 'built', tag: request.tag, imageId });
    return { imageId };
  }

  async #removeLeftovers(made: ReadonlySet<string>, kept: string | undefined): Promise<void> {
    // What the new image is built on is the next build's cache: it stays.
    const ancestors = new Set<string>();
    if (kept !== undefined) {
      const history = await this.#docker
        .getImage(kept)
        .history()
        .catch(() => []);
      for (const layer of history as { Id: string }[]) ancestors.add(shortId(layer.Id));
    }
    // A leftover's child may be a leftover too: passes until one removes nothing.
    for (let removed = true; removed;) {
      removed = false;
      const dangling = await this.#docker
        .listImages({ filters: JSON.stringify({ dangling: ['true'] }) })
        .catch(() => []);
      for (const image of dangling) {
        const id = shortId(image.Id);
        if (!made.has(id) || ancestors.has(id)) continue;
        // In use by a container, or just built on by another build (409): it stays.
        removed ||= await this.#docker
          .getImage(image.Id)
          .remove({ noprune: true })
          .then(
            () => true,
            () => false,
          );
      }
    }
  }
}

function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

function engineReason(error: unknown): string {
  const json = (error as { json?: { message?: string } }).json;
  return (json?.message ?? (error as Error).message).trim();
}
