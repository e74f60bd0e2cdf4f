import { spawn, type ChildProcess } from 'node:child_process'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { connect, Election, Mutex, Session, type Remote } from '../../src/index.ts'
import { servedTargets, type ServedTarget } from '../support/served-targets.ts'
import { ETCDCTL, etcdctlMissing, Lines } from './helpers.ts'

/**
 * The concurrency recipes against etcd's own Go implementation of them, on the wire: `etcdctl lock` is a Go
 * concurrency.Mutex and `etcdctl elect` a Go concurrency.Election. An etcdlite mutex or election and etcdctl's on the
 * same name must exclude each other and agree on the leader, against `etcdlite serve` and against a real etcd 3.4.
 */
if (etcdctlMissing !== undefined) console.log(`skipping concurrency interop tests: ${etcdctlMissing}`)

const servers = servedTargets()

/** etcdctlRun starts a long-running etcdctl command (lock, elect) and reads its output lines. */
function etcdctlRun(endpoint: string, args: string[]): { child: ChildProcess; lines: Lines; closed: Promise<void> } {
  const child = spawn(ETCDCTL, [`--endpoints=${endpoint}`, ...args], { env: { ...process.env, ETCDCTL_API: '3' } })
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()))
  return { child, lines: new Lines(child), closed }
}

/** nothingWithin asserts that a command prints nothing for `ms`: it still waits. */
async function nothingWithin(lines: Lines, ms: number): Promise<void> {
  await expect(lines.next(ms)).rejects.toThrow('no line within the timeout')
}

/** keysUnder waits until `count` keys exist under `prefix`. */
async function keysUnder(remote: Remote, prefix: string, count: number): Promise<void> {
  const deadline = Date.now() + 10_000
  while ((await remote.get(prefix, { prefix: true, countOnly: true })).count !== count) {
    if (Date.now() > deadline) throw new Error(`never ${count} keys under ${prefix}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe.skipIf(etcdctlMissing !== undefined).each(servers)('concurrency recipes and etcdctl (%s)', (_name, start) => {
  let server: ServedTarget
  let remote: Remote
  const children: ChildProcess[] = []
  beforeEach(async () => {
    server = await start()
    remote = await connect({ endpoints: [server.endpoint] })
  })
  afterEach(async () => {
    for (const c of children.splice(0)) c.kill('SIGKILL')
    await remote.close()
    await server.stop()
  })

  test('an etcdlite mutex and etcdctl lock on the same name exclude each other, first come first served', async () => {
    const mine = await Session.open(remote)
    const mutex = new Mutex(mine, 'interop/lock')
    await mutex.lock()
    const go = etcdctlRun(server.endpoint, ['lock', 'interop/lock'])
    children.push(go.child)
    await keysUnder(remote, 'interop/lock/', 2)
    await nothingWithin(go.lines, 500)
    await mutex.unlock()
    const goKey = await go.lines.next(10_000)
    expect(goKey).toMatch(/^interop\/lock\/[0-9a-f]+$/)

    const other = await Session.open(remote)
    const second = new Mutex(other, 'interop/lock')
    expect(await second.tryLock()).toBe(false)
    const waiting = second.lock()
    await keysUnder(remote, 'interop/lock/', 2)
    go.child.kill('SIGINT') // etcdctl unlocks on an interrupt
    await go.closed
    await waiting
    expect(second.key).not.toBe(goKey)
    await mine.close()
    await other.close()
  })

  test('etcdctl elect and an etcdlite election agree on the leader, and hand leadership over both ways', async () => {
    const go = etcdctlRun(server.endpoint, ['elect', 'interop/elect', 'from-go'])
    children.push(go.child)
    const [goKey, goValue] = await go.lines.take(2)
    expect(goKey).toMatch(/^interop\/elect\/[0-9a-f]+$/)
    expect(goValue).toBe('from-go')

    const mine = await Session.open(remote)
    const election = new Election(mine, 'interop/elect')
    const leader = await election.leader()
    expect([Buffer.from(leader.kv.key).toString(), Buffer.from(leader.kv.value).toString()]).toEqual([goKey, 'from-go'])
    let leading = false
    const campaign = election.campaign('from-ts').then(() => (leading = true))
    await keysUnder(remote, 'interop/elect/', 2)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(leading).toBe(false)
    go.child.kill('SIGINT') // etcdctl resigns on an interrupt
    await go.closed
    await campaign

    // etcdctl elect -l observes: it sees this election's value, then what it proclaims.
    const observer = etcdctlRun(server.endpoint, ['elect', '-l', 'interop/elect'])
    children.push(observer.child)
    expect(await observer.lines.take(2)).toEqual([election.key, 'from-ts'])
    await election.proclaim('proclaimed')
    expect(await observer.lines.take(2)).toEqual([election.key, 'proclaimed'])

    // A Go candidate now waits behind this one, and leads once it resigns.
    const next = etcdctlRun(server.endpoint, ['elect', 'interop/elect', 'go-again'])
    children.push(next.child)
    await keysUnder(remote, 'interop/elect/', 2) // this election's key and the new Go candidate's (observers put none)
    await nothingWithin(next.lines, 300)
    await election.resign()
    expect((await next.lines.take(2))[1]).toBe('go-again')
    expect(Buffer.from((await election.leader()).kv.value).toString()).toBe('go-again')
    await mine.close()
  })
})
