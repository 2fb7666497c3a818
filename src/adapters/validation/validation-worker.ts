// The worker side of the precheck: validates each text it is sent, answers with its problems
// (or none when it is valid). Problems are plain objects, so they cross the thread as they are.
import { parentPort } from 'node:worker_threads';
import { validateArchitecture } from '../../domain/validate.ts';

interface Job {
  readonly id: number;
  readonly text: string;
  readonly file: string | undefined;
}

parentPort?.on('message', ({ id, text, file }: Job) => {
  try {
    const result = validateArchitecture(text, { file });
    parentPort?.postMessage({ id, problems: result.ok ? undefined : result.problems });
  } catch (error) {
    parentPort?.postMessage({ id, error: (error as Error).message });
  }
});
