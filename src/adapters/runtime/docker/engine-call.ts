// An engine call whose failure to connect means the engine is away, not that the request was
// wrong: said as such (`instance-start-failed`, which trying again may cure), with the hint.
import { BatonError } from '../../../domain/errors.ts';
import { engineUnreachable } from './docker-engine.ts';

const AWAY = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE']);

export async function engineCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!AWAY.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    const unreachable = engineUnreachable('its socket', error);
    throw new BatonError('instance-start-failed', `${what}: ${unreachable.message}`, {
      hint: unreachable.hint,
      cause: error,
    });
  }
}
