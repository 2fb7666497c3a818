// Free ports for instances. The kernel picks one (bind to port 0), then we release it for
// the child to bind. Between the two, the kernel may hand the same port to the next
// bind(0): ports handed out recently are remembered and skipped, so two concurrent starts
// never get the same one.
import { createServer } from 'node:net';
import type { Clock } from '../../../ports/clock.ts';

/** Long enough for any child to have bound its port. */
const HOLD_MS = 60_000;
const ATTEMPTS = 50;

export class PortAllocator {
  readonly #host: string;
  readonly #clock: Clock;
  /** Port → when it was handed out (ms). */
  readonly #recent = new Map<number, number>();

  constructor(host: string, clock: Clock) {
    this.#host = host;
    this.#clock = clock;
  }

  async allocate(): Promise<number> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const port = await kernelFreePort(this.#host);
      this.#forgetOld();
      if (!this.#recent.has(port)) {
        this.reserve(port);
        return port;
      }
    }
    throw new Error(`no free port found on ${this.#host} after ${ATTEMPTS} attempts`);
  }

  /** Marks a port as taken: fixed ports, so that an allocation never hands them out too. */
  reserve(port: number): void {
    this.#recent.set(port, this.#clock.now().getTime());
  }

  #forgetOld(): void {
    const cutoff = this.#clock.now().getTime() - HOLD_MS;
    for (const [port, at] of this.#recent) if (at < cutoff) this.#recent.delete(port);
  }
}

function kernelFreePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error(`could not read the port bound on ${host}`));
      });
    });
  });
}
