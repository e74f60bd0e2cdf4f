import { describe, expect, test } from 'vitest'
import { open } from '../../src/api/engine.ts'
import type { LatestChangesResponse } from '../../src/watch/latest-changes.ts'

/** engine.latestChanges: the newest events under a key range, newest first, from the retained history. */

const lines = (r: LatestChangesResponse) =>
  r.events.map((e) => `${e.kv.modRevision} ${e.type} ${Buffer.from(e.kv.key).toString()}${e.type === 'PUT' ? `=${Buffer.from(e.kv.value).toString()}` : ''}`)

describe('latestChanges', () => {
  test('the newest events under a prefix, newest first, deletes included, other keys left out', async () => {
    await using etcd = await open()
    await etcd.put('app/a', '1') // 2
    await etcd.put('other', 'x') // 3
    await etcd.put('app/b', '2') // 4
    await etcd.put('app/a', '3') // 5
    await etcd.delete('app/b') // 6
    await etcd.put('app0', 'just past the prefix') // 7
    const r = await etcd.latestChanges({ key: 'app/', rangeEnd: 'app0', limit: 10 })
    expect(lines(r)).toEqual(['6 DELETE app/b', '5 PUT app/a=3', '4 PUT app/b=2', '2 PUT app/a=1'])
    expect(r.header.revision).toBe(7)
    expect(r.events[1]!.kv).toMatchObject({ createRevision: 2, version: 2 })
    expect(lines(await etcd.latestChanges({ key: 'app/', rangeEnd: 'app0', limit: 2 }))).toEqual(['6 DELETE app/b', '5 PUT app/a=3'])
    expect(lines(await etcd.latestChanges({ key: 'app/a', limit: 5 }))).toEqual(['5 PUT app/a=3', '2 PUT app/a=1'])
    expect(lines(await etcd.latestChanges({ key: 'app0', rangeEnd: '\0', limit: 1 }))).toEqual(['7 PUT app0=just past the prefix'])
    expect(lines(await etcd.latestChanges({ key: 'app/', rangeEnd: 'app0', limit: 10, revision: 4 }))).toEqual(['4 PUT app/b=2', '2 PUT app/a=1'])
  })

  test('a rare key far back in a long history is found (the reading goes back window by window)', async () => {
    await using etcd = await open()
    await etcd.put('rare', 'old') // 2
    for (let i = 0; i < 3000; i++) await etcd.put(`busy/${i % 7}`, String(i))
    const r = await etcd.latestChanges({ key: 'rare', limit: 3 })
    expect(lines(r)).toEqual(['2 PUT rare=old'])
    const busy = await etcd.latestChanges({ key: 'busy/', rangeEnd: 'busy0', limit: 1000 })
    expect(busy.events).toHaveLength(1000)
    expect(busy.events[0]!.kv.modRevision).toBe(3002)
    expect(busy.events[999]!.kv.modRevision).toBe(2003)
  })

  test('the changes of one txn come newest sub-revision first; compaction bounds the history', async () => {
    await using etcd = await open()
    await etcd.put('k/1', 'a') // 2
    await etcd.services.kv.txn({ success: [{ requestPut: { key: 'k/2', value: 'b' } }, { requestPut: { key: 'k/3', value: 'c' } }] })
    const rev = etcd.revision
    expect(lines(await etcd.latestChanges({ key: 'k/', rangeEnd: 'k0', limit: 10 })).slice(0, 2)).toEqual([`${rev} PUT k/3=c`, `${rev} PUT k/2=b`])
    await etcd.delete('k/1')
    await etcd.compact(etcd.revision)
    const after = await etcd.latestChanges({ key: 'k/', rangeEnd: 'k0', limit: 10 })
    expect(after.compactRevision).toBe(etcd.revision)
    expect(after.events.every((e) => e.kv.modRevision >= after.compactRevision)).toBe(true)
    await expect(etcd.latestChanges({ key: 'k/', rangeEnd: 'k0', limit: 10, revision: 2 })).rejects.toMatchObject({ code: 'ETCD_COMPACTED' })
    await expect(etcd.latestChanges({ key: 'k/', limit: 10, revision: 999 })).rejects.toMatchObject({ code: 'ETCD_FUTURE_REV' })
  })

  test.each([0, -1, 1.5, 1001])('a limit of %s is refused', async (limit) => {
    await using etcd = await open()
    await expect(etcd.latestChanges({ key: 'a', limit })).rejects.toThrow(RangeError)
  })

  test("an empty key is etcd's error; once auth is on, a user needs read permission over the range", async () => {
    await using etcd = await open()
    await expect(etcd.latestChanges({ key: '', limit: 1 })).rejects.toMatchObject({ code: 'ETCD_EMPTY_KEY' })
    await etcd.put('app/x', '1')
    await etcd.put('secret/x', '2')
    const auth = etcd.services.auth
    await auth.userAdd({ name: 'root', password: 'r' })
    await auth.userGrantRole({ user: 'root', role: 'root' })
    await auth.roleAdd({ name: 'reader' })
    await auth.roleGrantPermission({ name: 'reader', perm: { permType: 'READ', key: 'app/', rangeEnd: 'app0' } })
    await auth.userAdd({ name: 'alice', password: 'a' })
    await auth.userGrantRole({ user: 'alice', role: 'reader' })
    await auth.authEnable({})
    const { token } = await auth.authenticate({ name: 'alice', password: 'a' })
    expect(lines(await etcd.latestChanges({ key: 'app/', rangeEnd: 'app0', limit: 5 }, { token }))).toEqual(['2 PUT app/x=1'])
    await expect(etcd.latestChanges({ key: 'secret/', rangeEnd: 'secret0', limit: 5 }, { token })).rejects.toMatchObject({ code: 'ETCD_PERMISSION_DENIED' })
    await expect(etcd.latestChanges({ key: 'a', rangeEnd: '\0', limit: 5 }, { token })).rejects.toMatchObject({ code: 'ETCD_PERMISSION_DENIED' })
    await expect(etcd.latestChanges({ key: 'app/', rangeEnd: 'app0', limit: 5 })).rejects.toMatchObject({ code: 'ETCD_USER_EMPTY' })
  })
})
