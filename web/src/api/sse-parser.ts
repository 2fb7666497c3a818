// An incremental parser for the text/event-stream format, as the HTML standard defines it
// (§9.2.6). The console cannot use EventSource: it sends no Authorization header, and a
// token in the URL would end up in logs. So it reads SSE over fetch() and parses it here.

export interface SseMessage {
  /** `message` unless the stream named it with an `event:` field. */
  readonly event: string;
  readonly data: string;
  /** The last event id seen so far (it persists across messages, as in EventSource). */
  readonly lastEventId: string;
}

export class SseParser {
  #pending = '';
  #data: string[] = [];
  #event = '';
  /** The id of the event being read; it becomes the resume point only once that event ends. */
  #idBuffer = '';
  #lastEventId = '';
  #retry: number | undefined;

  constructor(lastEventId = '') {
    this.#idBuffer = lastEventId;
    this.#lastEventId = lastEventId;
  }

  /** The id to send as Last-Event-ID when reconnecting. */
  get lastEventId(): string {
    return this.#lastEventId;
  }

  /** The reconnection delay the server asked for with `retry:`, in milliseconds. */
  get retry(): number | undefined {
    return this.#retry;
  }

  /** Feeds decoded text (any split, even mid-line or between \r and \n); returns complete messages. */
  feed(chunk: string): SseMessage[] {
    const out: SseMessage[] = [];
    let text = this.#pending + chunk;
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c !== '\n' && c !== '\r') continue;
      // A \r at the very end may be the first half of \r\n: wait for the next chunk.
      if (c === '\r' && i === text.length - 1) break;
      this.#line(text.slice(start, i), out);
      if (c === '\r' && text[i + 1] === '\n') i++;
      start = i + 1;
    }
    text = text.slice(start);
    this.#pending = text;
    return out;
  }

  #line(line: string, out: SseMessage[]): void {
    if (line === '') {
      this.#dispatch(out);
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.#event = value;
        break;
      case 'data':
        this.#data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.#idBuffer = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.#retry = Number(value);
        break;
      default:
        break; // unknown fields are ignored
    }
  }

  #dispatch(out: SseMessage[]): void {
    this.#lastEventId = this.#idBuffer;
    const event = this.#event || 'message';
    const data = this.#data;
    this.#event = '';
    this.#data = [];
    if (data.length === 0) return;
    out.push({ event, data: data.join('\n'), lastEventId: this.#lastEventId });
  }
}
