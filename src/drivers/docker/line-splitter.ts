// Splits a byte stream into lines whatever the chunk boundaries: a line (or a multi-byte UTF-8
// character) cut across two chunks is held until the rest arrives. Used for log lines and for
// the newline-delimited JSON of Docker's event stream.
import { StringDecoder } from 'node:string_decoder';

export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';

  /** Returns the complete lines in `chunk` plus what was held, without their line endings. */
  push(chunk: Buffer | string): string[] {
    const text = this.partial + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  }

  /** The unterminated last line, if any, once the stream has ended. */
  flush(): string | undefined {
    const rest = this.partial + this.decoder.end();
    this.partial = '';
    return rest.length > 0 ? rest : undefined;
  }
}
