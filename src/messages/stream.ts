/**
 * BidiStream is a services-level bidirectional stream, as etcd's Watch and LeaseKeepAlive RPCs are: the caller
 * sends requests with `send()` and reads responses with `for await`. `close()` ends the caller's side; the
 * responses then end too. Breaking out of the `for await` loop closes the stream.
 */
export interface BidiStream<Req, Res> extends AsyncIterable<Res> {
  send(request: Req): void
  close(): void
}

/** StreamReader is told, once, that a PollStream has a response ready or has ended. */
export interface StreamReader {
  ready(): void
  /**
   * take, where a reader has it, is handed a response directly when it waits and nothing is queued, instead of
   * ready() and a poll(): the response is then the reader's, never queued. It answers true when the reader is
   * satisfied (it stops waiting), false when it took the response and waits on (it stays the stream's reader).
   */
  take?(response: unknown): boolean
}

/**
 * PollStream is a BidiStream whose queued responses can also be taken synchronously, as the in-process engine's
 * streams allow: a consumer layered on top (the client-level watch) then pays one promise per result instead of two.
 * Use either `poll`/`onReady` or the async iterator, not both at once.
 */
export interface PollStream<Req, Res> extends BidiStream<Req, Res> {
  /** poll takes the next queued response, or returns undefined when none is queued. */
  poll(): Res | undefined
  /** ended is true once the stream is closed and every queued response was taken. */
  readonly ended: boolean
  /** onReady calls `reader.ready()` once, when a response is queued or the stream ends (at once if either holds). */
  onReady(reader: StreamReader): void
}

/** isPollStream tells whether a stream is a PollStream. */
export function isPollStream<Req, Res>(s: BidiStream<Req, Res>): s is PollStream<Req, Res> {
  return typeof (s as Partial<PollStream<Req, Res>>).poll === 'function'
}
