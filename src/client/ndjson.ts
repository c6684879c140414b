// Splits a byte stream into JSON lines. A line may arrive in pieces across chunks (and a multi-byte
// character across two), so bytes are decoded in streaming mode and the tail after the last
// newline waits for the next chunk.

export async function* ndjsonLines(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<unknown> {
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of chunks) {
    pending += decoder.decode(chunk, { stream: true });
    // Walk the buffer with an index: slicing per line would copy a large chunk once per line.
    let start = 0;
    let nl = pending.indexOf('\n', start);
    while (nl >= 0) {
      const line = pending.slice(start, nl).trim();
      if (line) yield JSON.parse(line) as unknown;
      start = nl + 1;
      nl = pending.indexOf('\n', start);
    }
    pending = pending.slice(start);
  }
  const last = (pending + decoder.decode()).trim();
  if (last) yield JSON.parse(last) as unknown;
}
