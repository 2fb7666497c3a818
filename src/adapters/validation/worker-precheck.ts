// A ManifestPrecheck on one worker thread, started at the first large manifest and kept.
// Jobs queue in the worker; a crashed worker fails its jobs (validated in place instead)
// and the next job starts a new one.
import { Worker } from 'node:worker_threads';
import type { Problem } from '../../domain/problems.ts';
import type { ManifestPrecheck } from '../../ports/manifest-precheck.ts';

interface Answer {
  readonly id: number;
  readonly problems?: readonly Problem[];
  readonly error?: string;
}

export interface WorkerPrecheck {
  readonly precheck: ManifestPrecheck;
  close(): Promise<void>;
}

export function workerPrecheck(): WorkerPrecheck {
  let worker: Worker | undefined;
  let next = 0;
  const pending = new Map<
    number,
    { resolve: (p: readonly Problem[] | undefined) => void; reject: (e: Error) => void }
  >();
  const failAll = (error: Error) => {
    for (const job of pending.values()) job.reject(error);
    pending.clear();
    worker = undefined;
  };
  const start = () => {
    const w = new Worker(new URL('./validation-worker.ts', import.meta.url));
    w.unref();
    w.on('message', (answer: Answer) => {
      const job = pending.get(answer.id);
      pending.delete(answer.id);
      if (answer.error !== undefined) job?.reject(new Error(answer.error));
      else job?.resolve(answer.problems);
    });
    w.on('error', failAll);
    w.on('exit', () => failAll(new Error('the validation worker exited')));
    return w;
  };
  return {
    precheck: (text, file) =>
      new Promise((resolve, reject) => {
        worker ??= start();
        const id = ++next;
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, text, file });
      }),
    async close() {
      const w = worker;
      worker = undefined;
      await w?.terminate();
    },
  };
}
