// The engine answers builds and imports with a stream of JSON objects, one a line, and
// reports a failure as one of them (`{"error": …}`) on an HTTP 200.

export interface EngineMessage {
  readonly stream?: string;
  readonly status?: string;
  readonly error?: string;
  readonly errorDetail?: { readonly message?: string };
  readonly aux?: { readonly ID?: string };
}

export async function* engineMessages(stream: NodeJS.ReadableStream): AsyncIterable<EngineMessage> {
  let buffered = '';
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    buffered += chunk.toString();
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line !== '') yield parse(line);
    }
  }
  if (buffered.trim() !== '') yield parse(buffered.trim());
}

function parse(line: string): EngineMessage {
  try {
    return JSON.parse(line) as EngineMessage;
  } catch {
    return { stream: line };
  }
}

/** Reads the stream to its end; fails with the engine's error message, if it sent one. */
export async function drain(stream: NodeJS.ReadableStream, what: string): Promise<void> {
  for await (const message of engineMessages(stream)) {
    const error = message.errorDetail?.message ?? message.error;
    if (error !== undefined) throw new Error(`${what}: ${error}`);
  }
}
