import { Etcd3 } from 'etcd3'
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest'
import { fakeEtcd, type FakeEtcd } from '../../src/testing/index.ts'

// One fake for the file, emptied between tests: reset() is a fresh store on the same port, in well under a millisecond.
let fake: FakeEtcd
let client: Etcd3
beforeAll(async () => {
  fake = await fakeEtcd()
  client = new Etcd3({ hosts: fake.endpoint })
})
afterEach(() => fake.reset())
afterAll(async () => {
  client.close()
  await fake.close()
})

test('the app writes its port', async () => {
  await client.put('config/port').value('8080') // stands for the code under test
  expect(await fake.dump('config/')).toEqual({ 'config/port': '8080' })
  expect(fake.requests.of('KV.Put').map((r) => r.request)).toEqual([{ key: 'config/port', value: '8080' }])
})

test('each test starts from an empty store at revision 1', async () => {
  expect(await fake.dump()).toEqual({})
  expect(fake.engine.revision).toBe(1)
  expect(fake.requests.all).toEqual([])
})
