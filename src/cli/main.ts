#!/usr/bin/env node
import { readFileSync, realpathSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Engine } from '../api/engine.ts'
import { isEtcdError } from '../util/errors.ts'
import type { Serving, TlsOptions } from '../server/serve.ts'
import { parseServeArgs, usage, UsageError, type ServeConfig } from './flags.ts'

/**
 * The etcdlite command. `etcdlite serve [flags]` (also `etcdlite [flags]`) serves etcd's v3 API on
 * 127.0.0.1:2379 from a store in ./etcdlite-data, taking etcd's own flags and ETCD_* variables; `npm start` runs it.
 * `etcdlite snapshot save | status | restore` handles etcd 3.4 snapshots (see snapshot-command.ts).
 * It prints where it listens, and on SIGINT or SIGTERM stops accepting calls, lets the ones in flight finish,
 * writes out what is queued and closes the store. A port or data directory in use is refused with one clear line.
 */

const VERSION = '0.1.0'

/** Out is where the command writes; tests hand in their own. */
export interface Out {
  log(line: string): void
  error(line: string): void
}

const console_: Out = { log: (l) => console.log(l), error: (l) => console.error(l) }

/** Running is a started `etcdlite serve`: its server, and the stop that signals call. */
export interface Running {
  readonly serving: Serving
  readonly engine: Engine
  stop(): Promise<void>
}

/** main runs the command line; it resolves with the exit code (or with the running server for `serve`). */
export async function main(argv: readonly string[], env = process.env, out: Out = console_): Promise<number | Running> {
  const [command, ...rest] = argv
  if (command === 'help' || command === '--help' || command === '-h') {
    out.log(usage())
    return 0
  }
  if (command === 'version' || command === '--version') {
    const { ETCD_VERSION } = await import('../maintenance/maintenance-service.ts')
    out.log(`etcdlite ${VERSION} (etcd API ${ETCD_VERSION})`)
    return 0
  }
  if (command === 'snapshot') {
    // Each command loads only its own modules: a snapshot restore starts without the server's (about 0.2 s).
    const { snapshotCommand } = await import('./snapshot-command.ts')
    // A progress bar only on a terminal: redrawn in place on stderr, never into a pipe.
    const progress = out === console_ && process.stderr.isTTY ? (line: string) => process.stderr.write(`\r\x1b[K${line}`) : undefined
    return snapshotCommand(rest, { ...out, ...(progress === undefined ? {} : { progress }) })
  }
  if (command !== undefined && command !== 'serve' && !command.startsWith('-')) {
    out.error(`etcdlite: unknown command ${JSON.stringify(command)}\n\n${usage()}`)
    return 2
  }
  return runServe(command === 'serve' ? rest : argv, env, out)
}

async function runServe(argv: readonly string[], env: NodeJS.ProcessEnv, out: Out): Promise<number | Running> {
  const [
    { open },
    { ETCD_VERSION },
    { assertPortFree, parseListenUrl, PortInUseError, serve },
    { createTap },
    { withDeadMember },
    { faultControl, FAULTS_PATH },
    { Faults },
  ] = await Promise.all([
    import('../api/engine.ts'),
    import('../maintenance/maintenance-service.ts'),
    import('../server/serve.ts'),
    import('../testing/call-tap.ts'),
    import('../testing/dead-member.ts'),
    import('../testing/fault-control.ts'),
    import('../testing/faults.ts'),
  ])
  let parsed
  try {
    parsed = parseServeArgs(argv, env)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    out.error(`etcdlite: ${err.message}\n\n${usage()}`)
    return 2
  }
  if (parsed.help) {
    out.log(usage())
    return 0
  }
  if (parsed.version) {
    out.log(`etcdlite ${VERSION} (etcd API ${ETCD_VERSION})`)
    return 0
  }
  const { config } = parsed
  for (const v of parsed.shadowed) out.log(`etcdlite: ${v} is shadowed by the corresponding command-line flag`)
  if (parsed.ignored.length > 0) {
    out.log(`etcdlite: ignoring etcd flags that do not apply to a single in-process member: ${parsed.ignored.map((f) => `--${f}`).join(', ')}`)
  }

  let tls: TlsOptions | undefined
  try {
    tls = readTls(config)
  } catch (err) {
    out.error(`etcdlite: ${(err as Error).message}`)
    return 1
  }

  // The ports first: a port in use is refused before the data directory is touched.
  try {
    for (const url of config.listenClientUrls) await assertPortFree(parseListenUrl(url))
  } catch (err) {
    out.error((err as Error).message)
    return 1
  }

  let engine: Engine
  const dir = config.dataDir === undefined ? undefined : resolve(config.dataDir)
  try {
    engine = await open({
      name: config.name,
      dir,
      durability: config.durability,
      maxTxnOps: config.maxTxnOps,
      maxRequestBytes: config.maxRequestBytes,
      authTokenTtl: config.authTokenTtl,
    })
  } catch (err) {
    const why = isEtcdError(err, 'ETCD_DATA_DIR_LOCKED') ? 'it is in use by another etcdlite' : (err as Error).message
    out.error(`etcdlite: cannot open the data directory ${dir}: ${why}`)
    return 1
  }

  let serving: Serving | undefined
  const current = () => serving?.engine ?? engine
  const faults = config.faultControl ? new Faults() : undefined
  const tap = faults === undefined ? undefined : withDeadMember(createTap({ faults, engine: current, http: faultControl(faults, current) }), faults)
  try {
    serving = await serve({
      tap,
      engine,
      listenUrls: config.listenClientUrls,
      advertiseUrls: config.advertiseClientUrls,
      tls,
      maxRequestBytes: config.maxRequestBytes,
      autoCompaction: config.autoCompaction,
      ui: config.ui,
    })
  } catch (err) {
    await engine.close()
    out.error(err instanceof PortInUseError ? err.message : `etcdlite: ${(err as Error).message}`)
    return 1
  }

  out.log(`etcdlite ${VERSION}: etcd ${ETCD_VERSION} API, member ${JSON.stringify(config.name)}`)
  out.log(
    dir === undefined
      ? 'etcdlite: data in memory (--in-memory): nothing is kept after exit'
      : `etcdlite: data in ${dir} (durability ${config.durability ?? 'fsync'}), at revision ${engine.revision}`,
  )
  if (config.autoCompaction !== undefined) {
    const a = config.autoCompaction
    out.log(`etcdlite: auto-compaction ${a.mode === 'revision' ? `keeps the last ${a.retention} revisions` : `keeps ${a.retentionMs / 1000} s of history`}`)
  }
  if (config.ui !== false) out.log(`etcdlite: web console at ${serving.urls[0]}/ui/${config.ui === true ? '' : ' (loopback listeners; TLS with auth elsewhere)'}`)
  for (const url of serving.urls) out.log(`etcdlite: serving client requests on ${url}`)
  if (faults !== undefined) out.log(`etcdlite: fault control on ${serving.urls[0]}${FAULTS_PATH} (loopback clients, or a root token)`)

  let stopping: Promise<void> | undefined
  const stop = () => {
    stopping ??= (async () => {
      await serving!.close()
      await engine.close()
    })()
    return stopping
  }
  return { serving, engine, stop }
}

function readTls(config: ServeConfig): TlsOptions | undefined {
  if (config.certFile === undefined || config.keyFile === undefined) return undefined
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file)
    } catch (err) {
      throw new Error(`cannot read the ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
  }
  return {
    cert: read(config.certFile, 'certificate (--cert-file)'),
    key: read(config.keyFile, 'key (--key-file)'),
    ca: config.trustedCaFile === undefined ? undefined : read(config.trustedCaFile, 'trusted CA (--trusted-ca-file)'),
    clientCertAuth: config.clientCertAuth,
  }
}

/** isEntryPoint tells whether this module is the program node started (not imported by a test). */
function isEntryPoint(): boolean {
  const script = process.argv[1]
  if (script === undefined) return false
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href
  } catch {
    return false
  }
}

if (isEntryPoint()) {
  const result = await main(process.argv.slice(2))
  if (typeof result === 'number') {
    process.exitCode = result
  } else {
    let firstSignal = 0
    const onSignal = (signal: NodeJS.Signals) => {
      // A second signal forces the exit; one arriving within half a second is the same request delivered twice
      // (to the process and to its group, as `timeout` and some supervisors send it).
      if (firstSignal !== 0) {
        if (Date.now() - firstSignal < 500) return
        console.error(`etcdlite: ${signal} again: exiting now`)
        process.exit(1)
      }
      firstSignal = Date.now()
      console.log(`etcdlite: ${signal}: shutting down (finishing calls in flight, closing the store)`)
      result.stop().then(
        () => {
          console.log('etcdlite: stopped')
          process.exit(0)
        },
        (err: unknown) => {
          console.error(`etcdlite: shutdown failed: ${(err as Error).message}`)
          process.exit(1)
        },
      )
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  }
}
