import { connect, type ClientHttp2Session } from 'node:http2'
import { Client as GrpcClient, credentials, Metadata, status as Status, type ServiceError } from '@grpc/grpc-js'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { Client } from '../../src/api/client.ts'
import { EtcdError } from '../../src/util/errors.ts'
import type { WatchResponse } from '../../src/messages/watch.ts'
import { remoteServices, type RemoteServices } from '../../src/remote/remote-services.ts'
import { serve, type Serving } from '../../src/server/serve.ts'
import { GrpcError } from '../../src/wire/status.ts'
import { method, type ServiceName, type WireMessage } from '../../src/wire/proto.ts'

/**
 * Hostile and odd input over the wire: malformed protobuf, wrong wire types, unknown enum values, huge and deeply
 * nested requests, thousands of watchers on one stream, clients vanishing mid-stream. Each gets an error or a clean
 * close; the server stays up and nothing in the store changes.
 */

interface RawReply {
  status: number | undefined
  message: string
  frames: Buffer[]
}

/** frame wraps a payload in gRPC's length-prefixed message framing. */
function frame(payload: Buffer): Buffer {
  const head = Buffer.alloc(5)
  head.writeUInt32BE(payload.length, 1)
  return Buffer.concat([head, payload])
}

/** raw sends `body` as is to a gRPC path over plain HTTP/2 and collects the reply. */
function raw(session: ClientHttp2Session, path: string, body: Buffer, contentType = 'application/grpc'): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': contentType, te: 'trailers' })
    const chunks: Buffer[] = []
    let status: number | undefined
    let message = ''
    const take = (h: Record<string, unknown>) => {
      if (h['grpc-status'] !== undefined) status = Number(h['grpc-status'])
      if (h['grpc-message'] !== undefined) message = decodeURIComponent(String(h['grpc-message']))
    }
    req.on('response', take)
    req.on('trailers', take)
    req.on('data', (d: Buffer) => chunks.push(d))
    req.on('error', reject)
    req.on('close', () => {
      const data = Buffer.concat(chunks)
      const frames: Buffer[] = []
      for (let at = 0; at + 5 <= data.length; ) {
        const n = data.readUInt32BE(at + 1)
        frames.push(data.subarray(at + 5, at + 5 + n))
        at += 5 + n
      }
      resolve({ status, message, frames })
    })
    req.end(body)
  })
}

describe('hostile input over the wire', () => {
  let server: Serving
  let services: RemoteServices
  let etcd: Client
  let session: ClientHttp2Session
  let grpc: GrpcClient

  beforeEach(async () => {
    server = await serve({ port: 0 })
    services = remoteServices(server.endpoint)
    etcd = new Client(services)
    session = connect(`http://${server.endpoint}`)
    grpc = new GrpcClient(server.endpoint, credentials.createInsecure())
  })
  afterEach(async () => {
    session.destroy()
    grpc.close()
    services.close()
    await server.close()
  })

  /** unaryWire calls a method with a wire message encoded as given, bypassing the codec's checks. */
  function unaryWire(service: ServiceName, name: string, wire: WireMessage): Promise<WireMessage> {
    const m = method(service, name)
    return new Promise((resolve, reject) => {
      grpc.makeUnaryRequest(m.path, m.request.encode, m.response.decode, wire, new Metadata(), { deadline: Date.now() + 5_000 }, (err: ServiceError | null, v?: WireMessage) =>
        err ? reject(err) : resolve(v!),
      )
    })
  }

  /** stays checks that the server still serves and that the store is exactly as `revision` and `count` say. */
  async function stays(revision: number, count: number): Promise<void> {
    const r = await etcd.get('\0', { rangeEnd: '\0', countOnly: true })
    expect({ revision: r.header.revision, count: r.count }).toEqual({ revision, count })
  }

  describe('malformed protobuf', () => {
    test.each([
      ['garbage bytes', Buffer.from('this is not protobuf at all \xff\xff\xff\xff\xff', 'latin1')],
      ['a truncated field', Buffer.from([0x0a, 0x7f, 0x61])],
      ['a varint that never ends', Buffer.alloc(20, 0xff)],
      ['a reserved wire type', Buffer.from([0x0f, 0x01])],
      ['field number 0', Buffer.from([0x02, 0x01, 0x61])],
    ])('%s is answered, with an error on Put, and changes nothing', async (_name, payload) => {
      await etcd.put('k', 'v')
      const put = await raw(session, '/etcdserverpb.KV/Put', frame(payload))
      expect(put.status).toBeDefined()
      expect(put.status).not.toBe(Status.OK)
      // protobufjs skips a field numbered 0 where Go's decoder refuses it; then Txn reads an empty txn (which etcd
      // answers succeeded) and Range an empty key (an error). Either way there is an answer and no change.
      for (const path of ['/etcdserverpb.KV/Txn', '/etcdserverpb.KV/Range', '/etcdserverpb.KV/DeleteRange']) {
        const r = await raw(session, path, frame(payload))
        expect(r.status).toBeDefined()
      }
      await stays(2, 1)
    })

    test('a frame whose length runs past the body, and a body that is not a frame', async () => {
      const head = Buffer.from([0, 0, 0, 1, 0])
      for (const body of [Buffer.concat([head, Buffer.from('short')]), Buffer.from([1, 2, 3])]) {
        const r = await raw(session, '/etcdserverpb.KV/Put', body)
        expect(r.status).not.toBe(Status.OK)
      }
      await stays(1, 0)
    })

    test('wrong wire types for known fields never crash the server', async () => {
      await etcd.put('k', 'v')
      const payloads = [
        Buffer.from([0x08, 0x05]), // key (bytes) sent as a varint
        Buffer.from([0x0a, 0x01, 0x6b, 0x1a, 0x02, 0x01, 0x02]), // lease (int64) sent as bytes
        Buffer.from([0x0a, 0x01, 0x6b, 0x21, 1, 2, 3, 4, 5, 6, 7, 8]), // prev_kv as a fixed64
      ]
      for (const p of payloads) {
        const r = await raw(session, '/etcdserverpb.KV/Put', frame(p))
        expect(r.status).toBeDefined()
      }
      // Whatever each one did, the server answers, and a request it could not read changed nothing.
      const after = await etcd.get('\0', { rangeEnd: '\0' })
      expect(after.kvs.every((kv) => kv.key.toString() === 'k')).toBe(true)
    })

    test('a request that is not gRPC at all is refused', async () => {
      const r = await raw(session, '/etcdserverpb.KV/Put', Buffer.from('{"key":"aw=="}'), 'application/json')
      expect(r.status === undefined || r.status !== Status.OK).toBe(true)
      await stays(1, 0)
    })
  })

  describe('unknown enum values, as etcd 3.4.23 answers them', () => {
    test('an unknown sort order sorts nothing: key order, whatever the target', async () => {
      for (const [k, v] of [['b', '1'], ['a', '1'], ['b', '2'], ['c', '1']] as const) await etcd.put(k, v)
      const r = await unaryWire('etcdserverpb.KV', 'Range', { key: Buffer.from('a'), rangeEnd: Buffer.from('z'), sortOrder: 7, sortTarget: 1 })
      expect((r.kvs as { key: Buffer }[]).map((kv) => kv.key.toString())).toEqual(['a', 'b', 'c'])
    })

    test('an unknown sort target (which crashed etcd 3.4) is "invalid sort option"', async () => {
      await etcd.put('a', '1')
      await expect(unaryWire('etcdserverpb.KV', 'Range', { key: Buffer.from('a'), sortOrder: 1, sortTarget: 9 })).rejects.toMatchObject({
        code: Status.INVALID_ARGUMENT,
        details: 'etcdserver: invalid sort option',
      })
      await stays(2, 1)
    })

    test('a compare with an unknown result holds; one with an unknown target holds only for EQUAL', async () => {
      const put = { requestPut: { key: Buffer.from('x'), value: Buffer.from('1') } }
      const txn = (cmp: WireMessage) => unaryWire('etcdserverpb.KV', 'Txn', { compare: [cmp], success: [put] })
      expect((await txn({ key: Buffer.from('missing'), result: 9, target: 0 })).succeeded).toBe(true)
      expect((await txn({ key: Buffer.from('missing'), result: 9, target: 3 })).succeeded).toBeFalsy()
      expect((await txn({ key: Buffer.from('missing'), result: 0, target: 9 })).succeeded).toBe(true)
      expect((await txn({ key: Buffer.from('missing'), result: 3, target: 9 })).succeeded).toBeFalsy()
    })

    test('unknown watch filters are dropped', async () => {
      const s = services.watch.watch()
      try {
        // Through the raw codec: filters [7] arrive as no filter at all.
        const it = s[Symbol.asyncIterator]()
        s.send({ createRequest: { key: 'k', filters: [] } })
        expect((await it.next()).value).toMatchObject({ created: true })
      } finally {
        s.close()
      }
      const m = method('etcdserverpb.Watch', 'Watch')
      const call = grpc.makeBidiStreamRequest<WireMessage, WireMessage>(m.path, m.request.encode, m.response.decode, new Metadata(), {})
      const got: WireMessage[] = []
      call.on('data', (d: WireMessage) => got.push(d))
      call.on('error', () => {})
      call.write({ createRequest: { key: Buffer.from('k'), filters: [7, 0] } })
      await until(() => got.length === 1)
      await etcd.put('k', '1')
      await etcd.delete('k')
      await until(() => got.length === 2)
      const events = got[1]!.events as { type: number }[]
      expect(events.map((e) => e.type)).toEqual([1]) // NOPUT kept, 7 dropped: only the delete
      call.cancel()
    })
  })

  describe('size limits', () => {
    test('a put above the request limit is "request is too large"; above limit + 512 KiB, RESOURCE_EXHAUSTED', async () => {
      const big = Buffer.alloc(1_600_000, 0x61)
      await expect(etcd.put(big, 'v')).rejects.toMatchObject({ code: 'ETCD_REQUEST_TOO_LARGE' })
      await expect(etcd.put('k', big)).rejects.toBeInstanceOf(EtcdError)
      const huge = Buffer.alloc(2_200_000, 0x61)
      const err = await etcd.put('k', huge).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(GrpcError)
      expect((err as GrpcError).grpcCode).toBe(Status.RESOURCE_EXHAUSTED)
      await stays(1, 0)
    })

    test('a key of 1 MiB fits, and comes back whole', async () => {
      const key = Buffer.alloc(1 << 20, 0x6b)
      await etcd.put(key, 'v')
      const r = await etcd.get(key)
      expect(r.kvs[0]!.key.length).toBe(1 << 20)
      expect(Buffer.compare(r.kvs[0]!.key, key)).toBe(0)
    })

    test('a txn nested thousands deep is refused and the server goes on', async () => {
      let txn: WireMessage = { success: [{ requestPut: { key: Buffer.from('deep'), value: Buffer.from('1') } }] }
      for (let i = 0; i < 5_000; i++) txn = { success: [{ requestTxn: txn }] }
      await expect(unaryWire('etcdserverpb.KV', 'Txn', txn)).rejects.toBeDefined()
      await stays(1, 0)
    })

    test('the txn that crashes etcd 3.4 (delete through "\\0", then put with ignoreLease) is an error', async () => {
      await etcd.put('k', 'v')
      const before = await etcd.get('k')
      await expect(
        etcd.services.kv.txn({
          success: [{ requestDeleteRange: { key: 'k', rangeEnd: '\0' } }, { requestPut: { key: 'k', value: '', ignoreLease: true } }],
        }),
      ).rejects.toBeInstanceOf(EtcdError)
      expect(await etcd.get('k')).toEqual(before)
      await stays(2, 1)
    })
  })

  describe('streams', () => {
    test('five thousand watchers on one stream each get their events, and closing the stream removes them all', async () => {
      const engineWatch = server.engine.services.watch as unknown as { streams: number }
      const s = services.watch.watch()
      const it = s[Symbol.asyncIterator]()
      const N = 5_000
      for (let i = 0; i < N; i++) s.send({ createRequest: { key: 'w/', rangeEnd: 'w0' } })
      const ids = new Set<number>()
      while (ids.size < N) {
        const r = (await it.next()).value as WatchResponse
        expect(r.created).toBe(true)
        ids.add(r.watchId)
      }
      expect(Math.max(...ids)).toBe(N - 1)
      await etcd.put('w/x', '1')
      const got = new Set<number>()
      while (got.size < N) {
        const r = (await it.next()).value as WatchResponse
        expect(r.events.map((e) => e.kv.key.toString())).toEqual(['w/x'])
        got.add(r.watchId)
      }
      expect(engineWatch.streams).toBe(1)
      s.close()
      await until(() => engineWatch.streams === 0)
      await stays(2, 1)
    }, 30_000)

    test('a client that disconnects mid-stream closes its engine streams, and the server goes on', async () => {
      const engineWatch = server.engine.services.watch as unknown as { streams: number }
      const m = method('etcdserverpb.Watch', 'Watch')
      const raw2 = connect(`http://${server.endpoint}`)
      const req = raw2.request({ ':method': 'POST', ':path': m.path, 'content-type': 'application/grpc', te: 'trailers' })
      req.on('error', () => {})
      req.write(frame(m.request.encode({ createRequest: { key: Buffer.from('a'), rangeEnd: Buffer.from('\0') } })))
      await new Promise<void>((resolve) => req.once('data', () => resolve()))
      expect(engineWatch.streams).toBe(1)
      // Writes keep coming while the client is gone without a word.
      raw2.destroy()
      for (let i = 0; i < 100; i++) await etcd.put(`a${i}`, 'x')
      await until(() => engineWatch.streams === 0)
      await stays(101, 100)
    })

    test('a keepalive client that vanishes mid-stream leaves the lease alone', async () => {
      const { id } = await etcd.grant(60)
      const m = method('etcdserverpb.Lease', 'LeaseKeepAlive')
      const raw2 = connect(`http://${server.endpoint}`)
      const req = raw2.request({ ':method': 'POST', ':path': m.path, 'content-type': 'application/grpc', te: 'trailers' })
      req.on('error', () => {})
      req.write(frame(m.request.encode({ ID: { low: Number(id & 0xffffffffn) | 0, high: Number(id >> 32n) | 0 } })))
      await new Promise<void>((resolve) => req.once('data', () => resolve()))
      raw2.destroy()
      const ttl = await etcd.timeToLive(id)
      expect(ttl.ttl).toBeGreaterThan(50)
      expect((await etcd.leases()).leases.map((l) => l.id)).toEqual([id])
    })

    test('a revision larger than the request limit reaches a fragment watcher in fragments, and whole otherwise', async () => {
      const big = (c: string) => Buffer.alloc(480_000, c)
      for (const k of ['a', 'b', 'c']) await etcd.put(k, big('0'))
      const start = (await etcd.get('a')).header.revision + 1
      await etcd.services.kv.txn({ success: ['a', 'b', 'c'].map((k) => ({ requestPut: { key: k, value: big('1') } })) })
      const read = async (fragment: boolean) => {
        const s = services.watch.watch()
        const it = s[Symbol.asyncIterator]()
        s.send({ createRequest: { key: 'a', rangeEnd: 'z', startRevision: start, prevKv: true, fragment } })
        expect(((await it.next()).value as WatchResponse).created).toBe(true)
        const parts: WatchResponse[] = []
        do parts.push((await it.next()).value as WatchResponse)
        while (parts.at(-1)!.fragment)
        s.close()
        return parts
      }
      const fragments = await read(true)
      expect(fragments.length).toBeGreaterThan(1)
      expect(fragments.flatMap((r) => r.events.map((e) => `${e.kv.key}:${e.kv.value.length}:${e.prevKv?.value.length}`))).toEqual([
        'a:480000:480000',
        'b:480000:480000',
        'c:480000:480000',
      ])
      const whole = await read(false)
      expect(whole).toHaveLength(1)
      expect(whole[0]!.events).toHaveLength(3)
    })

    test('a slow watch reader does not stop writers, and catches up on every event in order', async () => {
      const w = etcd.watch('s/', { prefix: true })
      for (let i = 0; i < 3_000; i++) await etcd.put(`s/${i % 10}`, String(i))
      let seen = 0
      for await (const r of w) {
        for (const e of r.events) expect(e.kv.value.toString()).toBe(String(seen++))
        if (seen === 3_000) break
      }
      expect(seen).toBe(3_000)
    }, 20_000)
  })

  describe('compressed requests', () => {
    test('a client that gzips its messages (grpc-encoding: gzip) is served', async () => {
      const gzipping = new GrpcClient(server.endpoint, credentials.createInsecure(), { 'grpc.default_compression_algorithm': 2 })
      try {
        const m = method('etcdserverpb.KV', 'Put')
        const wire = { key: Buffer.from('zipped'), value: Buffer.alloc(4096, 0x61) }
        await new Promise<void>((resolve, reject) => {
          gzipping.makeUnaryRequest(m.path, m.request.encode, m.response.decode, wire, new Metadata(), { deadline: Date.now() + 5_000 }, (err: ServiceError | null) =>
            err ? reject(err) : resolve(),
          )
        })
      } finally {
        gzipping.close()
      }
      const r = await etcd.get('zipped')
      expect(r.kvs[0]!.value).toEqual(Buffer.alloc(4096, 0x61))
    })
  })

  describe('methods etcdlite does not serve', () => {
    test.each([
      ['etcdserverpb.Cluster', 'MemberAdd'],
      ['etcdserverpb.Maintenance', 'MoveLeader'],
      ['etcdserverpb.Maintenance', 'Downgrade'],
    ] as const)('%s/%s answers UNIMPLEMENTED at once', async (service, name) => {
      await expect(unaryWire(service, name, {})).rejects.toMatchObject({ code: Status.UNIMPLEMENTED })
    })

    test('an unknown service answers UNIMPLEMENTED', async () => {
      const r = await raw(session, '/etcdserverpb.Nope/Nothing', frame(Buffer.alloc(0)))
      expect(r.status).toBe(Status.UNIMPLEMENTED)
    })
  })

  describe('int64 fields cross the wire losslessly', () => {
    test.each([2n ** 62n + 1n, 2n ** 63n - 1n, -1n, -(2n ** 63n), 9_007_199_254_740_993n])('lease id %s', async (id) => {
      const g = await etcd.grant(60, { id })
      expect(g.id).toBe(id)
      await etcd.put('k', 'v', { lease: id })
      expect((await etcd.get('k')).kvs[0]!.lease).toBe(id)
      expect((await etcd.timeToLive(id, { keys: true })).id).toBe(id)
      expect((await etcd.leases()).leases.map((l) => l.id)).toContain(id)
      expect((await server.engine.leases()).leases.map((l) => l.id)).toContain(id)
      await etcd.revoke(id)
    })

    test('header ids are the engine’s, bit for bit', async () => {
      const local = await server.engine.get('k')
      const remote = await etcd.get('k')
      expect(remote.header).toEqual(local.header)
    })
  })
})

/** until polls a condition for up to 5 s. */
async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error('until: the condition never held')
    await new Promise((r) => setTimeout(r, 5))
  }
}
