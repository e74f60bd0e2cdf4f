import { DEFAULT_TOKEN_TTL_SECONDS } from '../auth/simple-tokens.ts'

/**
 * Flags of `etcdlite serve`: etcd's own flag names and ETCD_* environment variables for everything that applies to
 * a single member, so that a script which starts etcd can start etcdlite. Parsing follows Go's flag package, as
 * etcd does: `-flag` or `--flag`, `--flag=value` or `--flag value`, booleans as `--flag` or `--flag=false`. A flag
 * given on the command line shadows its environment variable.
 */

/** ServeConfig is the parsed configuration of `etcdlite serve`. */
export interface ServeConfig {
  name: string
  /** dataDir holds the store; undefined with --in-memory. */
  dataDir: string | undefined
  listenClientUrls: string[]
  /** advertiseClientUrls: undefined means "the URLs listened on". */
  advertiseClientUrls: string[] | undefined
  certFile: string | undefined
  keyFile: string | undefined
  trustedCaFile: string | undefined
  clientCertAuth: boolean
  maxTxnOps: number | undefined
  maxRequestBytes: number | undefined
  durability: 'fsync' | 'os' | undefined
  autoCompaction: { mode: 'periodic'; retentionMs: number } | { mode: 'revision'; retention: number } | undefined
  /** authTokenTtl: seconds a simple token lives unused (--auth-token-ttl; etcd reads 0 as its default, 300). */
  authTokenTtl: number
  /** ui: serve the web console at /ui/ (--ui, --no-ui); undefined leaves serve()'s default (loopback listeners). */
  ui: boolean | undefined
  /** faultControl serves the testing kit's fault control at /etcdlite/faults (--fault-control). */
  faultControl: boolean
}

/** UsageError is a command line etcdlite cannot run with; the message says why. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

type Kind = 'string' | 'bool' | 'uint' | 'urls'

interface FlagSpec {
  readonly kind: Kind
  readonly help: string
  readonly default?: string
}

/** flags lists the flags etcdlite acts on, with etcd's names and defaults (where etcdlite's differ, it says so). */
export const flags: Record<string, FlagSpec> = {
  name: { kind: 'string', default: 'default', help: 'human-readable name for this member' },
  'data-dir': { kind: 'string', default: 'etcdlite-data', help: 'path to the data directory' },
  'listen-client-urls': { kind: 'urls', default: 'http://127.0.0.1:2379', help: 'list of URLs to listen on for client traffic' },
  'advertise-client-urls': { kind: 'urls', help: 'list of this member\'s client URLs to advertise (default: the listen URLs)' },
  'cert-file': { kind: 'string', help: 'path to the client server TLS cert file' },
  'key-file': { kind: 'string', help: 'path to the client server TLS key file' },
  'trusted-ca-file': { kind: 'string', help: 'path to the client server TLS trusted CA cert file' },
  'client-cert-auth': { kind: 'bool', default: 'false', help: 'enable client cert authentication' },
  'max-txn-ops': { kind: 'uint', default: '128', help: 'maximum number of operations permitted in a transaction' },
  'max-request-bytes': { kind: 'uint', default: '1572864', help: 'maximum client request size in bytes the server will accept' },
  'auto-compaction-mode': { kind: 'string', default: 'periodic', help: "interpret 'auto-compaction-retention' as 'periodic' (a duration) or 'revision' (a count)" },
  'auto-compaction-retention': { kind: 'string', default: '0', help: 'auto compaction retention: a duration (1h, 30m; a bare number is hours) or a revision count; 0 disables' },
  'auth-token': { kind: 'string', default: 'simple', help: "v3 auth token type: only 'simple' (etcdlite has no 'jwt' tokens); options after it (simple,key=value) are accepted and ignored, as etcd ignores them" },
  'auth-token-ttl': { kind: 'string', default: '300', help: 'seconds a simple auth token lives unused (every use starts it again); 0 means the default' },
  durability: { kind: 'string', default: 'fsync', help: "etcdlite: 'fsync' (a write survives power loss) or 'os' (it survives a crash of the process)" },
  'in-memory': { kind: 'bool', default: 'false', help: 'etcdlite: keep the store in memory, ignoring --data-dir' },
  ui: {
    kind: 'bool',
    help: 'etcdlite: serve the web console at /ui/ (--no-ui turns it off; default: on for loopback listeners, elsewhere only over TLS with auth enabled)',
  },
  'fault-control': {
    kind: 'bool',
    default: 'false',
    help: 'etcdlite: serve fault injection for tests as JSON at /etcdlite/faults (loopback clients, or a root token)',
  },
}

/**
 * ignoredFlags are etcd flags that make no sense for a single in-process member (peers, raft timing, logging,
 * v2, metrics); they are accepted, so etcd's command lines work, and reported as ignored.
 */
const ignoredFlags: Record<string, 'value' | 'bool'> = {
  'listen-peer-urls': 'value',
  'initial-advertise-peer-urls': 'value',
  'initial-cluster': 'value',
  'initial-cluster-state': 'value',
  'initial-cluster-token': 'value',
  'heartbeat-interval': 'value',
  'election-timeout': 'value',
  'snapshot-count': 'value',
  'quota-backend-bytes': 'value',
  'wal-dir': 'value',
  'max-snapshots': 'value',
  'max-wals': 'value',
  logger: 'value',
  'log-level': 'value',
  'log-outputs': 'value',
  metrics: 'value',
  'listen-metrics-urls': 'value',
  'peer-cert-file': 'value',
  'peer-key-file': 'value',
  'peer-trusted-ca-file': 'value',
  'cipher-suites': 'value',
  'grpc-keepalive-min-time': 'value',
  'grpc-keepalive-interval': 'value',
  'grpc-keepalive-timeout': 'value',
  'enable-v2': 'bool',
  debug: 'bool',
  'enable-pprof': 'bool',
  'strict-reconfig-check': 'bool',
  'auto-tls': 'bool',
  'peer-auto-tls': 'bool',
  'peer-client-cert-auth': 'bool',
  'force-new-cluster': 'bool',
}

/** envName is the environment variable etcd reads for a flag: ETCD_ and the name in capitals with underscores. */
export function envName(flag: string): string {
  return `ETCD_${flag.toUpperCase().replace(/-/g, '_')}`
}

/** ParsedArgs: the configuration, and what was accepted but ignored. */
export interface ParsedArgs {
  config: ServeConfig
  /** ignored lists the etcd flags given that etcdlite ignores. */
  ignored: string[]
  /** shadowed lists environment variables a command-line flag overrode, as etcd reports them. */
  shadowed: string[]
  help: boolean
  version: boolean
}

/** parseServeArgs reads `etcdlite serve` arguments and the environment. @throws UsageError */
export function parseServeArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParsedArgs {
  const given = new Map<string, string>()
  const ignored: string[] = []
  let help = false
  let version = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') {
      if (i + 1 < argv.length) throw new UsageError(`unexpected argument ${JSON.stringify(argv[i + 1])}`)
      break
    }
    const m = /^--?([a-z0-9][a-z0-9-]*)(?:=(.*))?$/s.exec(arg)
    if (m === null) throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`)
    let name = m[1]!
    let value = m[2]
    // --no-ui is the one negative flag: it reads as --ui=false.
    if (name === 'no-ui' && value === undefined) {
      name = 'ui'
      value = 'false'
    }
    if (name === 'h' || name === 'help') {
      help = true
      continue
    }
    if (name === 'version') {
      version = true
      continue
    }
    const spec = flags[name]
    const ignoredKind = ignoredFlags[name]
    if (spec === undefined && ignoredKind === undefined) throw new UsageError(`flag provided but not defined: -${name}`)
    const isBool = spec?.kind === 'bool' || ignoredKind === 'bool'
    if (value === undefined) {
      if (isBool) value = 'true'
      else {
        if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: -${name}`)
        value = argv[++i]!
      }
    }
    if (spec === undefined) ignored.push(name)
    else given.set(name, value)
  }

  const shadowed: string[] = []
  const raw = (name: string): string | undefined => {
    const fromEnv = env[envName(name)]
    if (given.has(name)) {
      if (fromEnv !== undefined) shadowed.push(envName(name))
      return given.get(name)
    }
    return fromEnv ?? flags[name]!.default
  }

  const name = raw('name')!
  const inMemory = bool(raw('in-memory')!, 'in-memory')
  const durability = raw('durability')
  if (durability !== 'fsync' && durability !== 'os') throw new UsageError(`--durability must be 'fsync' or 'os', got ${JSON.stringify(durability)}`)
  const listen = urls(raw('listen-client-urls')!, 'listen-client-urls')
  const advertiseRaw = raw('advertise-client-urls')
  const mode = raw('auto-compaction-mode')!
  const retention = raw('auto-compaction-retention')!
  const config: ServeConfig = {
    name,
    dataDir: inMemory ? undefined : raw('data-dir'),
    listenClientUrls: listen,
    advertiseClientUrls: advertiseRaw === undefined ? undefined : urls(advertiseRaw, 'advertise-client-urls'),
    certFile: raw('cert-file'),
    keyFile: raw('key-file'),
    trustedCaFile: raw('trusted-ca-file'),
    clientCertAuth: bool(raw('client-cert-auth')!, 'client-cert-auth'),
    maxTxnOps: uint(raw('max-txn-ops')!, 'max-txn-ops'),
    maxRequestBytes: uint(raw('max-request-bytes')!, 'max-request-bytes'),
    durability: inMemory ? undefined : durability,
    autoCompaction: autoCompaction(mode, retention),
    authTokenTtl: authTokenTtl(raw('auth-token-ttl')!),
    faultControl: bool(raw('fault-control')!, 'fault-control'),
    ui: raw('ui') === undefined ? undefined : bool(raw('ui')!, 'ui'),
  }
  authToken(raw('auth-token')!)
  if (config.dataDir === '') throw new UsageError('--data-dir must not be empty (use --in-memory to keep no data)')
  if (config.clientCertAuth && config.trustedCaFile === undefined) {
    throw new UsageError('--client-cert-auth needs --trusted-ca-file')
  }
  if ((config.certFile === undefined) !== (config.keyFile === undefined)) {
    throw new UsageError('--cert-file and --key-file go together')
  }
  const secure = listen.some((u) => u.startsWith('https://'))
  if (secure && config.certFile === undefined) throw new UsageError('an https listen URL needs --cert-file and --key-file')
  return { config, ignored, shadowed, help, version }
}

function bool(v: string, flag: string): boolean {
  // Go's strconv.ParseBool.
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false
  throw new UsageError(`invalid boolean value ${JSON.stringify(v)} for -${flag}`)
}

function uint(v: string, flag: string): number {
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v)) || Number(v) === 0) {
    throw new UsageError(`invalid value ${JSON.stringify(v)} for -${flag}: a positive integer`)
  }
  return Number(v)
}

function urls(v: string, flag: string): string[] {
  const list = v.split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (list.length === 0) throw new UsageError(`-${flag} needs at least one URL`)
  for (const u of list) {
    if (!/^https?:\/\/[^/]+:\d+\/?$/.test(u)) throw new UsageError(`-${flag}: ${JSON.stringify(u)} is not an http(s)://host:port URL`)
  }
  return list
}

/** autoCompaction reads etcd's --auto-compaction-mode and --auto-compaction-retention; undefined when off. */
function autoCompaction(mode: string, retention: string): ServeConfig['autoCompaction'] {
  if (mode !== 'periodic' && mode !== 'revision') {
    throw new UsageError(`--auto-compaction-mode must be 'periodic' or 'revision', got ${JSON.stringify(mode)}`)
  }
  if (mode === 'revision') {
    if (!/^\d+$/.test(retention)) throw new UsageError(`--auto-compaction-retention in revision mode is a number of revisions, got ${JSON.stringify(retention)}`)
    const n = Number(retention)
    return n === 0 ? undefined : { mode, retention: n }
  }
  // etcd: a bare number is hours; otherwise a Go duration.
  const ms = /^\d+$/.test(retention) ? Number(retention) * 3_600_000 : duration(retention)
  if (ms === undefined) throw new UsageError(`--auto-compaction-retention: ${JSON.stringify(retention)} is not a duration (like 1h or 30m) or a number of hours`)
  return ms === 0 ? undefined : { mode, retentionMs: ms }
}

/**
 * authToken checks --auth-token as etcd 3.4 does (auth.NewTokenProvider): a type, then comma-separated `key=value`
 * options, no key twice. etcdlite has only etcd's default, simple tokens, whose options etcd ignores; 'jwt' and ''
 * (etcd's "no tokens") are refused.
 */
function authToken(value: string): void {
  const [type, ...options] = value.split(',')
  if (type === 'jwt') throw new UsageError("--auth-token: etcdlite has no JWT tokens; it issues etcd's default simple tokens (--auth-token=simple)")
  if (type === '') throw new UsageError("--auth-token: an empty token type (no tokens, client certificates only) is not supported; use 'simple'")
  if (type !== 'simple') throw new UsageError(`--auth-token: unknown token type ${JSON.stringify(type)}; etcdlite supports 'simple'`)
  const seen = new Set<string>()
  for (const option of options) {
    const pair = option.split('=')
    if (pair.length !== 2) throw new UsageError(`--auth-token: invalid token option ${JSON.stringify(option)} in ${JSON.stringify(value)} (options are key=value)`)
    if (seen.has(pair[0]!)) throw new UsageError(`--auth-token: option ${JSON.stringify(pair[0])} is given twice in ${JSON.stringify(value)}`)
    seen.add(pair[0]!)
  }
}

/** authTokenTtl reads --auth-token-ttl, a count of seconds; etcd takes 0 as its default. */
function authTokenTtl(v: string): number {
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v) * 1000)) {
    throw new UsageError(`invalid value ${JSON.stringify(v)} for -auth-token-ttl: a whole number of seconds`)
  }
  return Number(v) === 0 ? DEFAULT_TOKEN_TTL_SECONDS : Number(v)
}

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }

/** duration parses a Go duration ("1h30m", "1.5h", "90s") into milliseconds. */
export function duration(text: string): number | undefined {
  if (text === '0') return 0
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy
  let total = 0
  let at = 0
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    total += Number(m[1]) * UNITS[m[2]!]!
    at = re.lastIndex
  }
  return at === text.length && at > 0 ? total : undefined
}

/** usage is the help text of `etcdlite serve`. */
export function usage(): string {
  const lines = [
    'Usage: etcdlite serve [flags]',
    '',
    "Serves etcd's v3 gRPC API from an etcdlite store, so etcdctl and every etcd client work against it.",
    'Each flag can also be set through its environment variable, e.g. --data-dir as ETCD_DATA_DIR.',
    "Snapshots: etcdlite snapshot save | status | restore (etcd 3.4's format; see etcdlite snapshot help).",
    '',
  ]
  for (const [name, spec] of Object.entries(flags)) {
    const def = spec.default === undefined ? '' : ` (default ${JSON.stringify(spec.default)})`
    lines.push(`  --${name}${spec.kind === 'bool' ? '' : ' <value>'}`, `        ${spec.help}${def}`)
  }
  lines.push('', `Accepted and ignored (they do not apply to a single in-process member): ${Object.keys(ignoredFlags).map((f) => `--${f}`).join(', ')}`)
  return lines.join('\n')
}
