import type { ServerTap } from '../server/server-tap.ts'
import type { FaultRule, Faults } from './faults.ts'

/**
 * A dead member: what a rule `{ method: '*', fault: 'unavailable' }` (no prefix, no count) makes of the fake. While it
 * is in force the fake behaves as an etcd whose process was killed: every open gRPC connection is cut when the rule
 * is added, and each new one is cut as it arrives, so clients never get a working connection (the etcd3 client: "No
 * connection established"; Go clientv3 and etcdctl wait for one until their deadline, "context deadline exceeded").
 * Removing the rule brings the member back. Narrower 'unavailable' rules cut only the connections their calls come on.
 */

/** isDeadMember tells whether a rule takes the whole member down. */
export function isDeadMember(rule: FaultRule): boolean {
  return rule.method === '*' && rule.fault === 'unavailable' && rule.prefix === undefined && rule.times === undefined
}

/**
 * withDeadMember adds the dead-member behaviour of `faults` to a server tap. The fault control's own HTTP requests
 * (the tap's `http`) are still served, so the rule can be removed; every other HTTP/1.1 request (the JSON gateway,
 * /health) has its connection cut.
 */
export function withDeadMember(tap: ServerTap, faults: Faults): ServerTap {
  const refusing = () => faults.list().some((r) => isDeadMember(r.rule))
  return {
    ...tap,
    refusing,
    http: (req, res) => {
      if (tap.http?.(req, res) === true) return true
      if (!refusing()) return false
      res.socket?.destroy()
      return true
    },
    attach: (server) => {
      tap.attach?.(server)
      faults.onAdd((active) => {
        if (isDeadMember(active.rule)) server.cutConnections()
      })
    },
  }
}
