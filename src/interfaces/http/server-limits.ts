// The listening socket's own limits, and what Node answers before any route sees a request.
// Node's defaults keep an idle connection and a slow header for a long time; a client that
// trickles bytes would hold sockets and memory. And Node's own 400 and 431 answers are bare
// text: here they are problem+json like every other error of the API.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { BatonError } from '../../domain/errors.ts';
import { problemBody } from './problem.ts';

export const SERVER_LIMITS = {
  /** The whole head must arrive within this. */
  headersTimeoutMs: 10_000,
  /** The whole request (head and body: a 2 MiB manifest) within this. Streams' responses are not bound by it. */
  requestTimeoutMs: 60_000,
  /** An idle kept-alive connection is closed after this. */
  keepAliveTimeoutMs: 5_000,
} as const;

export function limitServer(server: Server): void {
  server.headersTimeout = SERVER_LIMITS.headersTimeoutMs;
  server.requestTimeout = SERVER_LIMITS.requestTimeoutMs;
  server.keepAliveTimeout = SERVER_LIMITS.keepAliveTimeoutMs;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const timedOut = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    const problem = problemBody(
      tooLarge
        ? new BatonError('headers-too-large', 'the request headers exceed 16 KiB', {
            hint: 'send fewer or shorter headers',
          })
        : new BatonError(
            'bad-request',
            timedOut ? 'the request did not arrive in time' : 'the request is not valid HTTP/1.1',
            {
              hint: timedOut ? 'send the whole request promptly' : 'check the request line and headers',
            },
          ),
    );
    const status = timedOut ? 408 : problem.status;
    const body = JSON.stringify({ ...problem, status });
    const reason = tooLarge
      ? 'Request Header Fields Too Large'
      : timedOut
        ? 'Request Timeout'
        : 'Bad Request';
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
}
