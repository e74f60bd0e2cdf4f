import type { Services } from '../api/services.ts'

/**
 * currentServices is a services level that forwards every call to `current()`'s, read at the moment of the call. A
 * server hands it to its handlers instead of an engine's own services, so that the engine it serves can be replaced
 * while clients stay connected (`Serving.replaceEngine`): a call reaches whichever engine is served when it arrives.
 * Each call costs one more function call than calling the engine directly.
 */
export function currentServices(current: () => Services): Services {
  return {
    kv: {
      range: (r, c) => current().kv.range(r, c),
      put: (r, c) => current().kv.put(r, c),
      deleteRange: (r, c) => current().kv.deleteRange(r, c),
      txn: (r, c) => current().kv.txn(r, c),
      compact: (r, c) => current().kv.compact(r, c),
    },
    lease: {
      leaseGrant: (r, c) => current().lease.leaseGrant(r, c),
      leaseRevoke: (r, c) => current().lease.leaseRevoke(r, c),
      leaseKeepAlive: (c) => current().lease.leaseKeepAlive(c),
      leaseTimeToLive: (r, c) => current().lease.leaseTimeToLive(r, c),
      leaseLeases: (r, c) => current().lease.leaseLeases(r, c),
    },
    watch: { watch: (c) => current().watch.watch(c) },
    maintenance: {
      status: (r, c) => current().maintenance.status(r, c),
      alarm: (r, c) => current().maintenance.alarm(r, c),
      defragment: (r, c) => current().maintenance.defragment(r, c),
      hash: (r, c) => current().maintenance.hash(r, c),
      hashKV: (r, c) => current().maintenance.hashKV(r, c),
    },
    cluster: { memberList: (r, c) => current().cluster.memberList(r, c) },
    auth: {
      authEnable: (r, c) => current().auth.authEnable(r, c),
      authDisable: (r, c) => current().auth.authDisable(r, c),
      authStatus: (r, c) => current().auth.authStatus(r, c),
      authenticate: (r, c) => current().auth.authenticate(r, c),
      userAdd: (r, c) => current().auth.userAdd(r, c),
      userGet: (r, c) => current().auth.userGet(r, c),
      userList: (r, c) => current().auth.userList(r, c),
      userDelete: (r, c) => current().auth.userDelete(r, c),
      userChangePassword: (r, c) => current().auth.userChangePassword(r, c),
      userGrantRole: (r, c) => current().auth.userGrantRole(r, c),
      userRevokeRole: (r, c) => current().auth.userRevokeRole(r, c),
      roleAdd: (r, c) => current().auth.roleAdd(r, c),
      roleGet: (r, c) => current().auth.roleGet(r, c),
      roleList: (r, c) => current().auth.roleList(r, c),
      roleDelete: (r, c) => current().auth.roleDelete(r, c),
      roleGrantPermission: (r, c) => current().auth.roleGrantPermission(r, c),
      roleRevokePermission: (r, c) => current().auth.roleRevokePermission(r, c),
    },
  }
}
