import { createInterface } from 'node:readline'
import { EtcdClient } from '../console/web/etcd-client.ts'
import { listChildren, listFlat } from '../console/web/key-listing.ts'

/**
 * The console opener of bench/console-open.ts, in a process of its own: on "start <ms>" it opens the console the
 * way the page does (the page and its files, the status document, the tree's first page and the flat view's first
 * page, through the page's own data client), again every <ms> (0: back to back), until "stop"; then it prints how
 * many opens it made and their latencies. "once [url]" opens once (the given server's console, or the main one).
 */

const base = process.argv[2]!
let running = false
let latencies: number[] = []

/** openConsole makes the requests the page makes when it opens on the Keys tab (of the server at `at`). */
export async function openConsole(at = base): Promise<void> {
  const client = new EtcdClient(at)
  for (const file of ['', 'app.js', 'app.css']) await (await fetch(`${at}/ui/${file}`)).arrayBuffer()
  await client.consoleStatus()
  await listChildren(client, new Uint8Array(0), new TextEncoder().encode('/'), { pageSize: 100 })
  await listFlat(client, new Uint8Array(0), { pageSize: 100 })
}

async function loop(pauseMs: number): Promise<void> {
  while (running) {
    const t0 = performance.now()
    await openConsole()
    latencies.push(performance.now() - t0)
    if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs))
  }
}

let done: Promise<void> = Promise.resolve()
for await (const line of createInterface({ input: process.stdin })) {
  const [command, arg] = line.trim().split(' ')
  if (command === 'once') {
    const t0 = performance.now()
    await openConsole(arg)
    process.stdout.write(`${JSON.stringify({ ms: performance.now() - t0 })}\n`)
  } else if (command === 'start') {
    running = true
    latencies = []
    done = loop(Number(arg ?? 0))
  } else if (command === 'stop') {
    running = false
    await done
    process.stdout.write(`${JSON.stringify({ opens: latencies.length, latencies })}\n`)
  } else if (command === 'exit') break
}
