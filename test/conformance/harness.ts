import { Client } from '../../src/api/client.ts'
import type { Engine } from '../../src/api/engine.ts'
import type { ManualClock } from '../../src/index.ts'

/**
 * Harness is one target of the conformance suite: something that speaks etcd's API through the client level
 * (`Client`, with `services` underneath). Every suite file registers its tests against a harness, so the memory
 * engine, the disk engine, the gRPC server and real etcd all run the very same tests.
 *
 * Capabilities are data: a test that needs one declares it with `test.skipIf(lacks(h, 'capability'))`, and is skipped
 * where the harness lacks it, never on the harness's name.
 */
export interface Harness {
  readonly name: string
  /** open returns a fresh, empty target (revision 1); the suite closes it after each test. */
  open(): Promise<Target>
  readonly supports: Supports
}

/** Target is what a test drives: the client API, and close(). */
export interface Target extends Client {
  close(): Promise<void>
  /** clock moves the target's time, where the harness supports `manualClock`. */
  readonly clock?: ManualClock
  /**
   * signIn opens another client of the same target, signed in as `user` (etcd clients' --user): the auth tests act
   * as several users at once. close() closes these clients too.
   */
  signIn(user: string, password: string): Promise<Client>
}

export interface Supports {
  /** engineOnly: behaviour of etcdlite's own engine that real etcd does not share (a documented difference). */
  readonly engineOnly: boolean
  /** manualClock: the target runs on a ManualClock (`target.clock`), so tests move time instead of sleeping. */
  readonly manualClock: boolean
}

/** lacks tells vitest's `test.skipIf` whether a harness lacks a capability. */
export function lacks(harness: Harness, capability: keyof Supports): boolean {
  return !harness.supports[capability]
}

/** engineTarget makes an in-process engine a Target: signed-in clients share its services. */
export function engineTarget(engine: Engine, clock: ManualClock | undefined, close: () => Promise<void>): Target {
  return Object.assign(engine, {
    ...(clock === undefined ? {} : { clock }),
    close,
    signIn: async (user: string, password: string) => new Client(engine.services, clock, { user, password }),
  })
}
