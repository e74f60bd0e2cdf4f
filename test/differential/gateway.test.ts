import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { serve, type Serving } from '../../src/server/serve.ts'
import { etcdBinary, startEtcd, type RealEtcd } from '../support/real-etcd.ts'
import { b64, post, send, type Answer, type Step } from './http-steps.ts'

/**
 * The JSON gateway, byte for byte against real etcd 3.4's: one fixed list of HTTP requests, sent in order to a fresh
 * etcd and to a fresh etcdlite; every answer's status, Content-Type and body must match once the cluster id, member
 * id and raft term (which differ by design) are replaced by placeholders.
 */

const binary = etcdBinary()
if (binary === undefined) console.log('gateway differential: skipped, no etcd 3.4 binary is installed (apt-get install etcd-server)')


const STEPS: Step[] = [
  post('/v3/kv/put', { key: b64('foo'), value: b64('bar') }),
  post('/v3/kv/put', { key: b64('foo'), value: b64('baz'), prev_kv: true }),
  post('/v3/kv/put', { key: b64('foo/a'), value: b64('1') }),
  post('/v3/kv/put', { key: b64('foo/b'), value: b64('<2&>') }),
  post('/v3/kv/range', { key: b64('foo') }),
  post('/v3/kv/range', { key: b64('nothing') }),
  post('/v3/kv/range', { key: b64('foo/'), range_end: b64('foo0'), sort_order: 'DESCEND', sort_target: 'MOD', limit: 1 }),
  post('/v3/kv/range', { key: b64('foo'), range_end: b64('fop'), keys_only: true }),
  post('/v3/kv/range', { key: b64('foo'), range_end: b64('fop'), count_only: true }),
  post('/v3/kv/range', { key: b64('foo'), rangeEnd: b64('fop'), limit: '2', sortOrder: 1 }),
  post('/v3/kv/range', { key: b64('\0'), range_end: b64('\0'), revision: 3 }),
  post('/v3/kv/range', { key: b64('foo'), revision: 100 }),
  post('/v3/kv/txn', {
    compare: [{ key: b64('foo'), result: 'EQUAL', target: 'VALUE', value: b64('baz') }],
    success: [{ request_put: { key: b64('t'), value: b64('1') } }, { request_range: { key: b64('foo') } }],
    failure: [{ request_delete_range: { key: b64('foo') } }],
  }),
  post('/v3/kv/txn', {
    compare: [{ key: b64('foo'), result: 'GREATER', target: 'VERSION', version: 5 }],
    success: [{ request_put: { key: b64('t'), value: b64('2') } }],
    failure: [{ request_range: { key: b64('t') } }, { request_txn: { success: [{ request_put: { key: b64('u'), value: b64('3') } }] } }],
  }),
  post('/v3/kv/txn', { success: [{ request_put: { key: b64('d') } }, { request_put: { key: b64('d') } }] }),
  post('/v3/kv/deleterange', { key: b64('foo/'), range_end: b64('foo0'), prev_kv: true }),
  post('/v3/kv/deleterange', { key: b64('absent') }),
  post('/v3/kv/compaction', { revision: 3 }),
  post('/v3/kv/range', { key: b64('foo'), revision: 2 }),
  post('/v3/kv/compaction', { revision: 2 }),
  post('/v3/lease/grant', { TTL: 60, ID: 1000 }),
  post('/v3/lease/grant', { TTL: '60', ID: '1000' }),
  post('/v3/kv/put', { key: b64('leased'), value: b64('x'), lease: 1000 }),
  post('/v3/kv/put', { key: b64('leased2'), value: b64('x'), lease: 999 }),
  post('/v3/lease/timetolive', { ID: 1000 }),
  post('/v3/kv/lease/timetolive', { ID: 1000, keys: true }),
  post('/v3/lease/timetolive', { ID: 77 }),
  post('/v3/lease/leases', {}),
  post('/v3/kv/lease/leases', {}),
  post('/v3/lease/revoke', { ID: 1000 }),
  post('/v3/kv/lease/revoke', { ID: 1000 }),
  post('/v3/lease/grant', { TTL: 9000000001 }),
  post('/v3/kv/range', { key: b64('leased') }),
  // Bad input: every one is refused and changes nothing.
  post('/v3/kv/put', 'hello'),
  post('/v3/kv/put', '{"key":'),
  post('/v3/kv/put', '[]'),
  post('/v3/kv/put', { key: 5 }),
  post('/v3/kv/put', { key: 'not base64!' }),
  post('/v3/kv/put', { key: b64('k'), bogus: 1 }),
  post('/v3/kv/put', { key: b64('k'), lease: 'abc' }),
  post('/v3/kv/put', { key: b64('k'), lease: 1.5 }),
  post('/v3/kv/put', { key: b64('k'), prev_kv: 'yes' }),
  post('/v3/kv/put', { key: b64('k'), lease: '9223372036854775808' }),
  post('/v3/kv/range', { key: b64('k'), sort_order: 'BOGUS' }),
  post('/v3/kv/range', { key: b64('k'), sort_target: 'SIZE' }),
  post('/v3/kv/put', {}),
  post('/v3/kv/put', ''),
  post('/v3/kv/put', { key: b64('k'), value: 'Zm9v' }),
  post('/v3/kv/put', { key: b64('k'), value: 'Zm9' }),
  post('/v3/kv/range', { key: b64('k'), revision: null }),
  post('/v3/kv/range', {}),
  post('/v3/kv/range', { key: b64('\0'), range_end: b64('\0') }),
  post('/v3/kv/range', { key: b64('foo'), range_end: b64('zzz'), rangeEnd: b64('fop'), count_only: true }),
  post('/v3/kv/range', '{"key":"Zm9v","count_only":true}trailing garbage'),
  post('/v3/kv/range', '{"revision":true,"limit":"x"}'),
  post('/v3/kv/put', { key: b64('k'), value: 'YQ' }),
  post('/v3/kv/put', { key: b64('k'), value: '-_8=' }),
  post('/v3/kv/range', { key: b64('k'), sort_order: '2' }),
  post('/v3/kv/range', { key: b64('k'), sort_order: 2.0 }),
  post('/v3/kv/range', { key: b64('k'), limit: '1e2' }),
  post('/v3/kv/txn', { compare: { key: b64('k') } }),
  post('/v3/kv/txn', { success: [{ request_put: 'x' }] }),
  post('/v3/kv/put', { key: b64('big'), value: Buffer.alloc(1_600_000, 1).toString('base64') }),
  post('/v3/kv/put', { key: b64('a'), value: Buffer.alloc(2_200_000, 1).toString('base64') }),
  post('/v3beta/kv/range', { key: b64('foo') }),
  post('/v3/maintenance/alarm', {}),
  post('/v3/maintenance/defragment', {}),
  // Routing.
  { path: '/v3/kv/nope', body: '{}' },
  { path: '/v3/kv/range', method: 'OPTIONS' },
  { path: '/health', method: 'POST', body: '' },
  { path: '/v3/kv/range', method: 'GET' },
  { path: '/nope', method: 'GET' },
  { path: '/health', method: 'GET' },
  { path: '/version', method: 'GET' },
  // A watch replays history from a revision, then the answer streams on; the first lines are compared.
  { ...post('/v3/watch', { create_request: { key: b64('foo'), range_end: b64('fop'), start_revision: 2, prev_kv: true } }), lines: 2 },
  { ...post('/v3/watch', { create_request: { key: b64('x'), start_revision: 1 } }), lines: 1 },
  { ...post('/v3/watch', '{"create_request":{"key":5}}'), lines: 1 },
  { ...post('/v3/lease/keepalive', '{"ID":77}'), lines: 1 },
]

/** COUNTED: requests whose effect on etcd's mvcc counters is compared, one at a time. */
const COUNTED: Step[] = [
  post('/v3/kv/put', { key: b64('a'), value: b64('1') }),
  post('/v3/kv/put', { key: b64('a'), value: b64('22'), prev_kv: true }),
  post('/v3/kv/put', { key: b64('a'), ignore_value: true }),
  post('/v3/kv/range', { key: b64('a') }),
  post('/v3/kv/range', { key: b64('a'), revision: 99 }),
  post('/v3/kv/deleterange', { key: b64('missing') }),
  post('/v3/kv/put', { key: b64('b'), value: b64('1') }),
  post('/v3/kv/deleterange', { key: b64('b'), prev_kv: true }),
  post('/v3/kv/txn', {}),
  post('/v3/kv/txn', { success: [{ request_range: { key: b64('a') } }] }),
  post('/v3/kv/txn', { success: [{ request_put: { key: b64('c'), value: b64('1') } }] }),
  post('/v3/kv/txn', {
    compare: [
      { key: b64('a'), target: 'VERSION', result: 'GREATER', version: 0 },
      { key: b64('b'), target: 'VERSION', result: 'EQUAL', version: 0 },
      { key: b64('c'), target: 'MOD', result: 'GREATER', mod_revision: 0 },
    ],
  }),
  post('/v3/kv/txn', {
    compare: [{ key: b64('a'), target: 'VERSION', result: 'GREATER', version: 0 }],
    success: [{ request_put: { key: b64('d'), value: b64('1') } }],
  }),
  post('/v3/kv/txn', {
    compare: [{ key: b64('a'), target: 'VERSION', result: 'GREATER', version: 0 }],
    success: [
      { request_put: { key: b64('e'), value: b64('1') } },
      { request_range: { key: b64('a') } },
      { request_put: { key: b64('f'), value: b64('1') } },
      { request_delete_range: { key: b64('a') } },
    ],
  }),
  post('/v3/kv/txn', { success: [{ request_txn: { success: [{ request_put: { key: b64('g'), value: b64('1') } }] } }] }),
  post('/v3/kv/txn', { success: [{ request_put: { key: b64('h') } }, { request_put: { key: b64('h') } }] }),
  post('/v3/kv/compaction', { revision: 3 }),
]

const COUNTERS = ['etcd_mvcc_put_total', 'etcd_mvcc_range_total', 'etcd_mvcc_delete_total', 'etcd_mvcc_txn_total', 'etcd_debugging_mvcc_keys_total']

async function counters(base: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text()
  const out: Record<string, number> = {}
  for (const name of COUNTERS) out[name] = Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1])
  return out
}

/** deltas sends each step and records how much each counter moved. */
async function deltas(base: string): Promise<Record<string, number>[]> {
  const out: Record<string, number>[] = []
  for (const step of COUNTED) {
    const before = await counters(base)
    await send(base, step)
    const after = await counters(base)
    out.push(Object.fromEntries(COUNTERS.map((n) => [n, after[n]! - before[n]!])))
  }
  return out
}

/** AUTH_STEPS: users, roles, permissions and tokens, through the gateway, from auth off to on and off again. */
const AUTH_STEPS: Step[] = [
  post('/v3/auth/authenticate', { name: 'root', password: 'x' }),
  post('/v3/auth/user/list', {}),
  post('/v3/auth/enable', {}),
  post('/v3/auth/user/add', { name: 'root', password: 'rootpw' }),
  post('/v3/auth/user/add', { name: 'root', password: 'again' }),
  post('/v3/auth/user/add', { name: '' }),
  post('/v3/auth/enable', {}),
  post('/v3/auth/user/grant', { user: 'root', role: 'root' }),
  post('/v3/auth/role/add', { name: 'app' }),
  post('/v3/auth/role/add', { name: 'app' }),
  post('/v3/auth/role/grant', { name: 'app', perm: { permType: 'READWRITE', key: b64('app/'), range_end: b64('app0') } }),
  post('/v3/auth/role/grant', { name: 'app', perm: { key: b64('a') } }),
  post('/v3/auth/role/grant', { name: 'nope', perm: { key: b64('a') } }),
  post('/v3/auth/role/get', { role: 'app' }),
  post('/v3/auth/user/add', { name: 'alice', password: 'alicepw' }),
  post('/v3/auth/user/grant', { user: 'alice', role: 'app' }),
  post('/v3/auth/user/grant', { user: 'alice', role: 'nope' }),
  post('/v3/auth/user/revoke', { name: 'alice', role: 'other' }),
  post('/v3/auth/user/get', { name: 'alice' }),
  post('/v3/auth/role/revoke', { role: 'app', key: b64('zzz') }),
  post('/v3/auth/role/list', {}),
  post('/v3/auth/enable', {}),
  post('/v3/kv/put', { key: b64('app/x'), value: b64('1') }),
  { ...post('/v3/kv/range', { key: b64('a') }), as: 'bogus' },
  post('/v3/auth/authenticate', { name: 'alice', password: 'wrong' }),
  post('/v3/auth/authenticate', { name: 'nobody', password: 'x' }),
  { ...post('/v3/auth/authenticate', { name: 'alice', password: 'alicepw' }), saveAs: 'alice' },
  { ...post('/v3/kv/put', { key: b64('app/x'), value: b64('1') }), as: 'alice' },
  { ...post('/v3/kv/put', { key: b64('b'), value: b64('1') }), as: 'alice' },
  { ...post('/v3/kv/put', { key: b64('a'), value: b64('1') }), as: 'alice' },
  { ...post('/v3/kv/range', { key: b64('a') }), as: 'alice' },
  { ...post('/v3/kv/range', { key: b64('app/'), range_end: b64('app0') }), as: 'alice' },
  { ...post('/v3/kv/range', { key: b64('app/'), range_end: b64('b') }), as: 'alice' },
  { ...post('/v3/kv/deleterange', { key: b64('app/x'), prev_kv: true }), as: 'alice' },
  {
    ...post('/v3/kv/txn', {
      compare: [{ key: b64('app/x'), target: 'VERSION', result: 'EQUAL', version: 0 }],
      success: [{ request_put: { key: b64('app/y'), value: b64('2') } }],
      failure: [{ request_range: { key: b64('b') } }],
    }),
    as: 'alice',
  },
  { ...post('/v3/auth/user/list', {}), as: 'alice' },
  { ...post('/v3/auth/user/get', { name: 'alice' }), as: 'alice' },
  { ...post('/v3/auth/user/get', { name: 'root' }), as: 'alice' },
  { ...post('/v3/auth/role/get', { role: 'app' }), as: 'alice' },
  { ...post('/v3/watch', { create_request: { key: b64('b') } }), as: 'alice', lines: 1 },
  { ...post('/v3/watch', { create_request: { key: b64('b') } }), lines: 1 },
  { ...post('/v3/auth/authenticate', { name: 'root', password: 'rootpw' }), saveAs: 'root' },
  { ...post('/v3/auth/user/delete', { name: 'root' }), as: 'root' },
  { ...post('/v3/auth/user/revoke', { name: 'root', role: 'root' }), as: 'root' },
  { ...post('/v3/auth/user/changepw', { name: 'alice', password: 'newpw' }), as: 'root' },
  { ...post('/v3/kv/range', { key: b64('a') }), as: 'alice' },
  { ...post('/v3/auth/disable', {}), as: 'root' },
  post('/v3/kv/range', { key: b64('app/y') }),
  { ...post('/v3/kv/range', { key: b64('app/y') }), as: 'root' },
]

describe.skipIf(binary === undefined)('gateway differential: etcdlite answers HTTP JSON as etcd 3.4 does', () => {
  let etcd: RealEtcd
  let lite: Serving
  const etcdAnswers: Answer[] = []
  const liteAnswers: Answer[] = []
  const etcdAuth: Answer[] = []
  const liteAuth: Answer[] = []

  beforeAll(async () => {
    ;[etcd, lite] = await Promise.all([startEtcd(binary), serve({ port: 0 })])
    for (const step of STEPS) {
      etcdAnswers.push(await send(`http://${etcd.endpoint}`, step))
      liteAnswers.push(await send(`http://${lite.endpoint}`, step))
    }
    // The auth sequence runs last, on fresh servers: auth stays on between its steps.
    await Promise.all([etcd.stop(), lite.close()])
    ;[etcd, lite] = await Promise.all([startEtcd(binary), serve({ port: 0 })])
    const etcdTokens = new Map<string, string>()
    const liteTokens = new Map<string, string>()
    for (const step of AUTH_STEPS) {
      etcdAuth.push(await send(`http://${etcd.endpoint}`, step, etcdTokens))
      liteAuth.push(await send(`http://${lite.endpoint}`, step, liteTokens))
    }
  }, 90_000)

  afterAll(async () => {
    await Promise.all([etcd?.stop(), lite?.close()])
  })

  test.skipIf(process.env.SHOW_AUTH === undefined)('(debug) print the auth answers', () => {
    console.log(etcdAuth.map((a) => `${a.status} ${a.body}`).join('\n'))
  })

  test.each(AUTH_STEPS.map((step, i) => [i, `${step.as ? `(as ${step.as}) ` : ''}${step.path} ${step.body ?? ''}`.slice(0, 160)] as const))(
    'auth step %i: %s',
    (i) => {
      expect(liteAuth[i]).toEqual(etcdAuth[i])
    },
  )

  test('each request moves etcd\'s mvcc counters as it moves them on etcd', async () => {
    const [fromEtcd, fromLite] = await Promise.all([deltas(`http://${etcd.endpoint}`), deltas(`http://${lite.endpoint}`)])
    const rows = COUNTED.map((step, i) => ({ request: `${step.path} ${step.body}`, etcd: fromEtcd[i], etcdlite: fromLite[i] }))
    expect(rows.filter((r) => JSON.stringify(r.etcd) !== JSON.stringify(r.etcdlite))).toEqual([])
  }, 30_000)

  test.each(STEPS.map((step, i) => [i, `${step.method ?? 'POST'} ${step.path} ${step.body ?? ''}`.slice(0, 160)] as const))(
    'step %i: %s',
    (i) => {
      expect(liteAnswers[i]).toEqual(etcdAnswers[i])
    },
  )
})
