// The sockets of the east-west listeners: one HTTP server per port the snapshot names, all
// serving requests the same way (the port a request came in on says which edge it travels).
// Ports come and go with snapshots: a new one is opened at once; one that left stops
// accepting and lets its requests in flight finish. A port something else holds is tried
// again until it is free or leaves the snapshot, and said so in the log: the consumers given
// that address cannot reach their dependency meanwhile.
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';

export interface EastWestListenersOptions {
  readonly host: string;
  readonly serverOptions: http.ServerOptions;
  readonly retryMs: number;
  readonly logger: Logger;
  readonly onRequest: (req: IncomingMessage, res: ServerResponse) => void;
  readonly onClientError: (error: NodeJS.ErrnoException, socket: Duplex) => void;
  readonly onConnect: (req: IncomingMessage, socket: Duplex) => void;
}

interface Listener {
  readonly server: http.Server;
  listening: boolean;
  retry: NodeJS.Timeout | undefined;
}

export class EastWestListeners {
  readonly #o: EastWestListenersOptions;
  readonly #listeners = new Map<number, Listener>();
  #closed = false;

  constructor(options: EastWestListenersOptions) {
    this.#o = options;
  }

  /** Opens the ports the snapshot names, closes the others. */
  sync(ports: readonly number[]): void {
    if (this.#closed) return;
    const wanted = new Set(ports);
    for (const [port, listener] of this.#listeners) {
      if (wanted.has(port)) continue;
      this.#listeners.delete(port);
      void this.#stop(listener);
    }
    for (const port of wanted) {
      if (this.#listeners.has(port)) continue;
      const server = http.createServer(this.#o.serverOptions, this.#o.onRequest);
      server.on('clientError', this.#o.onClientError);
      server.on('connect', this.#o.onConnect);
      const listener: Listener = { server, listening: false, retry: undefined };
      this.#listeners.set(port, listener);
      this.#listen(port, listener, true);
    }
  }

  /** The ports listening now. */
  ports(): number[] {
    return [...this.#listeners]
      .filter(([, l]) => l.listening)
      .map(([port]) => port)
      .sort((a, b) => a - b);
  }

  /** Stops accepting; resolves once every server has closed (after closeAllConnections). */
  async close(): Promise<void> {
    this.#closed = true;
    const listeners = [...this.#listeners.values()];
    this.#listeners.clear();
    await Promise.all(listeners.map((listener) => this.#stop(listener)));
  }

  closeAllConnections(): void {
    for (const listener of this.#listeners.values()) listener.server.closeAllConnections();
    for (const server of this.#stopping) server.closeAllConnections();
  }

  readonly #stopping = new Set<http.Server>();

  #listen(port: number, listener: Listener, first: boolean): void {
    const { server } = listener;
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (this.#listeners.get(port) !== listener) return;
      if (first)
        this.#o.logger.error(
          { port, host: this.#o.host, err: error.message },
          'an east-west port is taken: the consumers given this address cannot reach their dependency; trying again',
        );
      listener.retry = setTimeout(() => this.#listen(port, listener, false), this.#o.retryMs).unref();
    };
    const onListening = () => {
      server.off('error', onError);
      listener.listening = true;
      if (!first) this.#o.logger.info({ port }, 'east-west port listening at last');
    };
    server.once('error', onError);
    server.once('listening', onListening);
    // Not exclusive: the workers of a cluster share each port, as they share the traffic port.
    server.listen({ host: this.#o.host, port });
  }

  #stop(listener: Listener): Promise<void> {
    if (listener.retry !== undefined) clearTimeout(listener.retry);
    if (!listener.listening) return Promise.resolve();
    const { server } = listener;
    this.#stopping.add(server);
    const closed = new Promise<void>((resolve) =>
      server.close(() => {
        this.#stopping.delete(server);
        resolve();
      }),
    );
    server.closeIdleConnections();
    return closed;
  }
}
