import type { WireMessage } from '../wire/proto.ts'
import type { RecordedRequest, RequestLog } from './requests.ts'
import type { Rpc } from '../wire/rpc-table.ts'
import { requestKeys } from './request-keys.ts'

/** Decoded is a request read once, lazily: its typed form and keys. */
export class Decoded {
  #typed: unknown
  #keys: Uint8Array[] | undefined
  #done = false

  constructor(
    readonly rpc: Rpc,
    readonly wire: WireMessage,
  ) {}

  get typed(): unknown {
    if (!this.#done) {
      this.#done = true
      try {
        this.#typed = this.rpc.request.fromWire(this.wire)
      } catch {
        // The handler will refuse it with the codec's own error; record it as it came.
        this.#typed = undefined
      }
    }
    return this.#typed
  }

  keys = (): Uint8Array[] => {
    this.#keys ??= this.typed === undefined ? [] : requestKeys(this.rpc.name, this.typed)
    return this.#keys
  }

  record(log: RequestLog | undefined): RecordedRequest | undefined {
    return log?.add(this.rpc.name, this.typed ?? this.wire, this.keys())
  }
}

