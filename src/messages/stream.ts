/**
 * BidiStream is a services-level bidirectional stream, as etcd's Watch and LeaseKeepAlive RPCs are: the caller
 * sends requests with `send()` and reads responses with `for await`. `close()` ends the caller's side; the
 * responses then end too. Breaking out of the `for await` loop closes the stream.
 */
export interface BidiStream<Req, Res> extends AsyncIterable<Res> {
  send(request: Req): void
  close(): void
}
