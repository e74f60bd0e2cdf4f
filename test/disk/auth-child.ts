import { writeSync } from 'node:fs'
import { open } from '../../src/index.ts'

/**
 * The auth writer the durability test kills: it opens the store in argv[2], sets up root and turns auth on, then
 * adds users one after another (each with a role granting its own prefix), printing one line per acknowledged
 * change, synchronously, before the next. The parent kills it with SIGKILL and checks every acknowledged change.
 */
const dir = process.argv[2]!
const etcd = await open({ dir, durability: 'fsync', user: 'root', password: 'rootpw' })
const ack = (line: object): void => void writeSync(1, JSON.stringify(line) + '\n')

if (!(await etcd.auth.authStatus()).enabled) {
  await etcd.auth.userAdd('root', 'rootpw')
  await etcd.auth.userGrantRole('root', 'root')
  await etcd.auth.authEnable()
}
ack({ kind: 'enabled' })
for (let i = 0; ; i++) {
  await etcd.auth.roleAdd(`r${i}`)
  await etcd.auth.roleGrantPermission(`r${i}`, 'READWRITE', `u${i}/`, { prefix: true })
  await etcd.auth.userAdd(`u${i}`, `pw${i}`)
  await etcd.auth.userGrantRole(`u${i}`, `r${i}`)
  ack({ kind: 'user', name: `u${i}`, password: `pw${i}`, prefix: `u${i}/` })
}
