import { createInterface } from 'node:readline'
import { Client } from '../src/api/client.ts'
import { remoteServices } from '../src/remote/remote-services.ts'

/**
 * The writer of bench/console-open.ts, in a process of its own: a gRPC client putting as fast as the server answers,
 * 16 puts in flight, over 10k keys. On "count" it prints how many puts have been answered; "exit" stops it.
 */

const services = remoteServices(process.argv[2]!)
const client = new Client(services)
let puts = 0
let writing = true
const lane = async (first: number) => {
  for (let n = first; writing; n += 16) {
    await client.put(`writer/${n % 10_000}`, 'x')
    puts++
  }
}
const lanes = Array.from({ length: 16 }, (_, i) => lane(i))

for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === 'count') process.stdout.write(`${JSON.stringify({ puts, at: performance.now() })}\n`)
  else if (line.trim() === 'exit') break
}
writing = false
await Promise.all(lanes)
services.close()
