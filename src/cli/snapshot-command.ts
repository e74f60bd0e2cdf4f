import { Buffer } from 'node:buffer'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { open as openFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { ChannelCredentials } from '@grpc/grpc-js'
import { readAll, restoreSnapshot } from '../api/snapshot.ts'
import { isBolt } from '../etcd-snapshot/read.ts'
import { snapshotStatus, type SnapshotStatus } from '../etcd-snapshot/status.ts'
import { isEtcdError } from '../util/errors.ts'

/**
 * `etcdlite snapshot save | status | restore`, in the shape of etcdctl 3.4 (and etcdutl after it):
 *
 *   etcdlite snapshot save FILE [--endpoints host:port] [--user name[:password]] [--password pw]
 *                                [--cacert f --cert f --key f]
 *   etcdlite snapshot status FILE [-w simple|table|json|fields]
 *   etcdlite snapshot restore FILE [--data-dir DIR] [--skip-hash-check]
 *
 * `save` asks any etcd-compatible server (etcdlite or a real etcd) for a snapshot and keeps it whole, SHA-256
 * included, as etcdctl does: into FILE.part, renamed to FILE once complete and checked. `status` prints etcdctl's
 * status (hash, revision, total keys, total size) in its formats. `restore` builds an etcdlite data directory from
 * a real etcd snapshot or an etcdlite one, for `etcdlite serve --data-dir DIR`; the flags etcdctl takes to lay out a
 * new etcd cluster (--name, --initial-cluster, ...) are accepted and have nothing to do for a single member.
 */

/** Out is where the command writes (tests hand in their own); `progress` is set only for a terminal. */
export interface SnapshotOut {
  log(line: string): void
  error(line: string): void
  progress?: (line: string) => void
}

const USAGE = [
  'Usage:',
  '  etcdlite snapshot save FILE [--endpoints host:port] [--user name[:password]] [--password pw] [--cacert file] [--cert file] [--key file]',
  '  etcdlite snapshot status FILE [-w simple|table|json|fields]',
  '  etcdlite snapshot restore FILE [--data-dir DIR] [--skip-hash-check]',
  '',
  "Snapshots are etcd 3.4's: a bbolt database and its SHA-256, which etcdctl and etcdutl read and write.",
].join('\n')

const VALUE_FLAGS = new Set([
  'endpoints', 'user', 'password', 'cacert', 'cert', 'key', 'write-out', 'w', 'data-dir', 'name', 'initial-cluster',
  'initial-cluster-token', 'initial-advertise-peer-urls', 'dial-timeout', 'command-timeout',
])
const BOOL_FLAGS = new Set(['skip-hash-check', 'insecure-transport', 'debug'])

/** snapshotCommand runs `etcdlite snapshot ...` and resolves with the exit code. */
export async function snapshotCommand(argv: readonly string[], out: SnapshotOut): Promise<number> {
  const [sub, ...rest] = argv
  let args: { positional: string[]; flags: Map<string, string> }
  try {
    args = parse(rest)
  } catch (err) {
    out.error(`Error: ${(err as Error).message}\n\n${USAGE}`)
    return 2
  }
  const file = args.positional[0]
  if (sub === undefined || sub === 'help' || args.flags.has('help')) {
    out.log(USAGE)
    return 0
  }
  if (!['save', 'status', 'restore'].includes(sub)) {
    out.error(`Error: unknown command ${JSON.stringify(sub)} for "etcdlite snapshot"\n\n${USAGE}`)
    return 2
  }
  if (file === undefined || args.positional.length !== 1) {
    out.error(`Error: snapshot ${sub} expects one argument\n\n${USAGE}`)
    return 2
  }
  try {
    if (sub === 'save') return await save(file, args.flags, out)
    if (sub === 'status') return status(file, args.flags, out)
    return await restore(file, args.flags, out)
  } catch (err) {
    out.error(`Error: ${isEtcdError(err) ? err.message : (err as Error).message}`)
    return 1
  }
}

function parse(argv: readonly string[]): { positional: string[]; flags: Map<string, string> } {
  const positional: string[] = []
  const flags = new Map<string, string>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const m = /^--?([a-z][a-z-]*)(?:=(.*))?$/s.exec(arg)
    if (m === null) {
      positional.push(arg)
      continue
    }
    const name = m[1]!
    if (name === 'h' || name === 'help') flags.set('help', 'true')
    else if (BOOL_FLAGS.has(name)) flags.set(name, m[2] ?? 'true')
    else if (VALUE_FLAGS.has(name)) {
      const value = m[2] ?? argv[++i]
      if (value === undefined) throw new Error(`flag needs an argument: --${name}`)
      flags.set(name === 'w' ? 'write-out' : name, value)
    } else throw new Error(`unknown flag: --${name}`)
  }
  return { positional, flags }
}

async function save(file: string, flags: Map<string, string>, out: SnapshotOut): Promise<number> {
  const endpoints = (flags.get('endpoints') ?? '127.0.0.1:2379').split(',').filter((e) => e !== '')
  if (endpoints.length !== 1) throw new Error(`snapshot must be requested to one selected node, not multiple ${JSON.stringify(endpoints)}`)
  const endpoint = endpoints[0]!.replace(/^https?:\/\//, '').replace(/\/$/, '')
  const secure = endpoints[0]!.startsWith('https://') || flags.has('cacert') || flags.has('cert')
  // gRPC is loaded for save alone: status and restore start without it.
  const [{ credentials: grpcCredentials }, { fetchSnapshot }] = await Promise.all([import('@grpc/grpc-js'), import('./snapshot-fetch.ts')])
  let credentials: ChannelCredentials | undefined
  if (secure) {
    const read = (f: string | undefined) => (f === undefined ? null : readFileSync(f))
    credentials = grpcCredentials.createSsl(read(flags.get('cacert')), read(flags.get('key')), read(flags.get('cert')))
  }
  let user = flags.get('user')
  let password = flags.get('password')
  if (user !== undefined && password === undefined && user.includes(':')) [user, password] = [user.slice(0, user.indexOf(':')), user.slice(user.indexOf(':') + 1)]

  const part = `${file}.part`
  const handle = await openFile(part, 'w')
  let size = 0
  let total = 0
  const hash = createHash('sha256')
  let tail = Buffer.alloc(0)
  try {
    for await (const { blob, remainingBytes } of fetchSnapshot({ endpoint, ...(credentials ? { credentials } : {}), ...(user ? { user, password } : {}) })) {
      await handle.write(blob)
      size += blob.length
      total = size + remainingBytes
      // The last 32 bytes are the SHA-256 of everything before them: hash all but a 32-byte tail held back.
      const joined = Buffer.concat([tail, blob])
      hash.update(joined.subarray(0, Math.max(0, joined.length - 32)))
      tail = joined.subarray(Math.max(0, joined.length - 32))
      out.progress?.(progressBar(size, total))
    }
    await handle.sync()
  } catch (err) {
    await handle.close()
    rmSync(part, { force: true })
    throw err
  }
  await handle.close()
  out.progress?.('')
  if (size % 512 !== 32 || !hash.digest().equals(tail)) {
    rmSync(part, { force: true })
    throw new Error(`the snapshot received from ${endpoint} is not whole: ${size} bytes without a matching SHA-256 at the end`)
  }
  renameSync(part, file)
  out.log(`Snapshot saved at ${file}`)
  return 0
}

/** progressBar draws one line: bytes done, total, and a bar. */
function progressBar(received: number, total: number): string {
  const width = 30
  const done = total === 0 ? width : Math.round((received / total) * width)
  return `${humanBytes(received)} / ${humanBytes(total)} [${'#'.repeat(done)}${' '.repeat(width - done)}] ${total === 0 ? 100 : Math.floor((received / total) * 100)}%`
}

/** STATUS_FORMATS: the output formats of `snapshot status`, etcdctl 3.4's (protobuf it names and refuses). */
const STATUS_FORMATS = ['simple', 'table', 'json', 'fields'] as const
type StatusFormat = (typeof STATUS_FORMATS)[number]
/** EXIT_BAD_FEATURE: etcdctl's exit code for an output format it does not support. */
const EXIT_BAD_FEATURE = 4

function status(file: string, flags: Map<string, string>, out: SnapshotOut): number {
  const format = flags.get('write-out') ?? 'simple'
  if (!(STATUS_FORMATS as readonly string[]).includes(format)) {
    out.error(format === 'protobuf' ? 'Error: protobuf not supported as output format' : 'Error: unsupported output format')
    return EXIT_BAD_FEATURE
  }
  const bytes = readFileSync(file)
  if (!isBolt(bytes)) throw new Error(`${file} is not an etcd snapshot (no bbolt database); an earlier etcdlite snapshot can be restored, then saved again`)
  out.log(formatStatus(snapshotStatus(bytes), format as StatusFormat))
  return 0
}

/** formatStatus prints a status as etcdctl 3.4 does in each of its formats. */
export function formatStatus(s: SnapshotStatus, format: StatusFormat): string {
  if (format === 'json') return JSON.stringify({ hash: s.hash, revision: s.revision, totalKey: s.totalKey, totalSize: s.totalSize })
  if (format === 'fields') return [`"Hash" : ${s.hash}`, `"Revision" : ${s.revision}`, `"Keys" : ${s.totalKey}`, `"Size" : ${s.totalSize}`].join('\n')
  const row = [s.hash.toString(16), String(s.revision), String(s.totalKey), humanBytes(s.totalSize)]
  if (format === 'simple') return row.join(', ')
  const head = ['HASH', 'REVISION', 'TOTAL KEYS', 'TOTAL SIZE']
  const widths = head.map((h, i) => Math.max(h.length, row[i]!.length) + 2)
  const line = `+${widths.map((w) => '-'.repeat(w)).join('+')}+`
  const center = (text: string, w: number) => {
    const left = Math.floor((w - text.length) / 2)
    return ' '.repeat(left) + text + ' '.repeat(w - text.length - left)
  }
  const right = (text: string, w: number) => `${' '.repeat(w - text.length - 1)}${text} `
  return [line, `|${head.map((h, i) => center(h, widths[i]!)).join('|')}|`, line, `|${row.map((c, i) => right(c, widths[i]!)).join('|')}|`, line].join('\n')
}

/**
 * humanBytes writes a size as Go's go-humanize Bytes does (SI units: "20 kB", "4.1 MB"), which etcdctl prints:
 * one decimal below 10, none from 10 on, rounding halves to even as Go's %f does.
 */
export function humanBytes(n: number): string {
  if (n < 10) return `${n} B`
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB']
  const e = Math.floor(Math.log(n) / Math.log(1000))
  const val = Math.floor((n / 1000 ** e) * 10 + 0.5) / 10
  if (val < 10) return `${val.toFixed(1)} ${units[e]}`
  const whole = Math.floor(val)
  const rounded = val - whole === 0.5 ? (whole % 2 === 0 ? whole : whole + 1) : Math.round(val)
  return `${rounded} ${units[e]}`
}

async function restore(file: string, flags: Map<string, string>, out: SnapshotOut): Promise<number> {
  const dir = resolve(flags.get('data-dir') ?? `${flags.get('name') ?? 'default'}.etcd`)
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new Error(`data-dir ${JSON.stringify(dir)} exists`)
  const skip = flags.get('skip-hash-check')
  const bytes = await readAll(file)
  const progress = out.progress
  const contents = await restoreSnapshot(bytes, dir, {
    verifyHash: skip === undefined || skip === 'false',
    ...(progress === undefined ? {} : { progress: (written: number, total: number) => progress(`writing ${progressBar(written, total)}`) }),
  })
  out.progress?.('')
  const compacted = contents.compactRev > 0 ? `, compacted at ${contents.compactRev}` : ''
  out.log(`Restored ${file} into ${dir}: revision ${contents.rev}${compacted}, ${contents.records} records of history, ${contents.leases} leases`)
  return 0
}
