// The body of a big list, written in slices. A list of 5,000 Nodes or 100,000 Instances is
// megabytes of JSON: built, measured and written in one go it held the server's event loop for
// 300-450 ms per request at 5,000 nodes (JSON.stringify, Buffer.byteLength, one TLS write), and a
// client that polls the node list every second kept the loop stalled. Here the items are taken
// from the store at once (one consistent snapshot, one revision), then stringified a few
// milliseconds at a time into a stream; between slices the event loop serves everyone else, and
// the socket's back-pressure paces the rest. Secrets and Tokens are redacted item by item, as the
// preSerialization hook does for small replies (it does not see streams).
import { Readable } from 'node:stream';
import { API_VERSION, redactSecret, type AnyObject } from '../core/index.js';

/** Lists with at least this many items are streamed; smaller ones go out as one JSON reply. */
export const STREAMED_LIST_MIN_ITEMS = 500;
/** Stringify for about this long, then yield. */
const SLICE_MS = 5;
/** Items between two looks at the clock. */
const ITEMS_PER_CLOCK_CHECK = 32;

/** `{ apiVersion, kind: 'List', metadata: { revision }, items }` as a byte stream, in slices. */
export function streamedList(items: readonly AnyObject[], revision: number, metadata: Record<string, unknown> = { revision }): Readable {
  return Readable.from(listChunks(items, metadata), { objectMode: false });
}

async function* listChunks(items: readonly AnyObject[], metadata: Record<string, unknown>): AsyncGenerator<string> {
  yield `{"apiVersion":${JSON.stringify(API_VERSION)},"kind":"List","metadata":${JSON.stringify(metadata)},"items":[`;
  let i = 0;
  while (i < items.length) {
    const start = performance.now();
    const parts: string[] = [];
    do {
      parts.push(JSON.stringify(redactSecret(items[i])));
      i++;
    } while (i < items.length && (i % ITEMS_PER_CLOCK_CHECK !== 0 || performance.now() - start < SLICE_MS));
    yield (parts.length === i ? '' : ',') + parts.join(',');
    if (i < items.length) await new Promise((r) => setImmediate(r));
  }
  yield ']}';
}
