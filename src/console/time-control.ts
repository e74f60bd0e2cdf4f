import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Engine } from '../api/engine.ts'
import { ManualClock } from '../util/clock.ts'
import { EtcdError } from '../util/errors.ts'
import { sendError, sendJson } from '../server/gateway/gateway-call.ts'
import { toGrpcStatus } from '../wire/status.ts'
import { answerJson, ConsoleRefusal, credentialsOf } from './console-json.ts'
import { isLoopback } from '../util/loopback.ts'

/**
 * The console's "advance time" control, for an engine that runs on a ManualClock (a fake from etcdlite/testing, or
 * `serve({ engine })` of an engine opened with one): moving its clock expires leases (their keys deleted in one
 * revision each, as expiry does, so watchers see the deletes) and auth tokens, exactly as waiting would.
 *
 * Only a caller allowed to run the store's clock may move it: with auth on, a root user (checked as etcd checks its
 * admin-only calls: UserList refuses everyone else); with auth off, a caller on loopback. Anything else is refused
 * with a message that says why, and the clock does not move.
 *
 * GET /ui/api/clock answers `{ manual, allowed, now }` for the caller; POST /ui/api/advance-time `{ "seconds": N }`
 * advances the clock by N seconds once every timer due by then has run, and answers `{ now }`.
 */

/** MAX_ADVANCE_SECONDS is etcd's longest lease TTL: a single step never needs to be longer. */
export const MAX_ADVANCE_SECONDS = 9_000_000_000

export interface TimeControlContext {
  readonly engine: Engine
  readonly authEnabled: () => Promise<boolean>
}

/** serveClockStatus answers GET /ui/api/clock. */
export function serveClockStatus(req: IncomingMessage, res: ServerResponse, ctx: TimeControlContext): void {
  const clock = ctx.engine.clock
  const manual = clock instanceof ManualClock
  refusalFor(req, ctx).then(
    (refusal) => sendJson(res, 200, JSON.stringify({ manual, allowed: refusal === undefined, now: clock.now() })),
    (err: unknown) => sendError(res, toGrpcStatus(err)),
  )
}

/** serveAdvanceTime answers POST /ui/api/advance-time. */
export function serveAdvanceTime(req: IncomingMessage, res: ServerResponse, ctx: TimeControlContext): void {
  answerJson(req, res, async (body) => {
    const refusal = await refusalFor(req, ctx)
    if (refusal !== undefined) throw refusal
    const seconds = body.seconds
    if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 1 || seconds > MAX_ADVANCE_SECONDS) {
      throw new ConsoleRefusal(3, `etcdlite: seconds must be a whole number from 1 to ${MAX_ADVANCE_SECONDS}`)
    }
    const clock = ctx.engine.clock as ManualClock
    await clock.advance(seconds * 1000)
    return { now: clock.now() }
  })
}

const NEEDS_ROOT = new ConsoleRefusal(7, 'etcdlite: advancing time needs a root user while auth is enabled')

/** refusalFor is the error that says why this caller may not move the clock, or undefined when it may. */
async function refusalFor(req: IncomingMessage, ctx: TimeControlContext): Promise<unknown> {
  if (!(ctx.engine.clock instanceof ManualClock)) {
    return new ConsoleRefusal(9, 'etcdlite: the served engine runs on the system clock; only a ManualClock can be advanced')
  }
  if (await ctx.authEnabled()) {
    const credentials = credentialsOf(req)
    if (credentials === undefined) return NEEDS_ROOT
    try {
      await ctx.engine.services.auth.userList({}, credentials)
    } catch (err) {
      // Permission denied: a user who is not root. Anything else (a token that expired) is etcd's own error.
      return err instanceof EtcdError && err.code === 'ETCD_PERMISSION_DENIED' ? NEEDS_ROOT : err
    }
    return undefined
  }
  if (!isLoopback(req.socket.remoteAddress ?? '')) {
    return new ConsoleRefusal(7, 'etcdlite: advancing time is allowed only from loopback while auth is disabled')
  }
  return undefined
}
