// A Server-Sent Events parser (the WHATWG event-stream format) for text arriving in chunks
// of any size: lines end in LF, CRLF or CR; `data` lines accumulate; a blank line dispatches.

export interface SseEvent {
  readonly event: string;
  readonly data: string;
  readonly id: string | undefined;
}

export class SseParser {
  readonly #maxEventChars: number;
  #buffer = '';
  #event = '';
  #data: string[] = [];
  #dataChars = 0;
  #id: string | undefined;
  /** The previous chunk ended in CR: an LF starting this one belongs to that line end. */
  #pendingCr = false;

  constructor(maxEventChars = 64 * 1024 * 1024) {
    this.#maxEventChars = maxEventChars;
  }

  /** Feeds text; returns the events it completed. Throws past the size limit. */
  push(text: string): SseEvent[] {
    const events: SseEvent[] = [];
    let chunk = text;
    if (this.#pendingCr && chunk.startsWith('\n')) chunk = chunk.slice(1);
    this.#pendingCr = false;
    let buffer = this.#buffer + chunk;
    let start = 0;
    for (;;) {
      let end = -1;
      for (let i = start; i < buffer.length; i++) {
        const c = buffer.charCodeAt(i);
        if (c === 10 || c === 13) {
          end = i;
          break;
        }
      }
      if (end === -1) break;
      const line = buffer.slice(start, end);
      if (buffer.charCodeAt(end) === 13) {
        if (end + 1 < buffer.length) {
          start = buffer.charCodeAt(end + 1) === 10 ? end + 2 : end + 1;
        } else {
          this.#pendingCr = true;
          start = end + 1;
        }
      } else start = end + 1;
      const event = this.#line(line);
      if (event !== undefined) events.push(event);
    }
    buffer = buffer.slice(start);
    if (buffer.length + this.#dataChars > this.#maxEventChars) {
      throw new Error(`an event exceeds ${this.#maxEventChars} characters`);
    }
    this.#buffer = buffer;
    return events;
  }

  #line(line: string): SseEvent | undefined {
    if (line === '') {
      if (this.#data.length === 0) {
        this.#event = '';
        return undefined;
      }
      const event = { event: this.#event || 'message', data: this.#data.join('\n'), id: this.#id };
      this.#event = '';
      this.#data = [];
      this.#dataChars = 0;
      return event;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') {
      this.#data.push(value);
      this.#dataChars += value.length + 1;
      if (this.#dataChars > this.#maxEventChars)
        throw new Error(`an event exceeds ${this.#maxEventChars} characters`);
    } else if (field === 'event') this.#event = value;
    else if (field === 'id' && !value.includes('\0')) this.#id = value;
    return undefined;
  }
}
