import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { EtcdClient, EtcdRequestError } from './etcd-client.ts'
import { KeysView } from './keys-view.tsx'
import { WatchPanel } from './watch-panel.tsx'
import { LatestChangesView } from './latest-changes-view.tsx'
import { LeasesView } from './leases-view.tsx'
import { ClusterView } from './cluster-view.tsx'
import { AccessView } from './access-view.tsx'
import { TransferView } from './transfer-view.tsx'
import { userAccess, type Permission } from './auth-client.ts'
import { errorText } from './error-text.ts'

/**
 * The console's shell: sign-in (when auth is on, as any etcd user), then one tab per area. Every tab talks to the
 * store through the one EtcdClient, so it sees exactly what the signed-in user may see.
 */

const TABS = ['Keys', 'Latest changes', 'Watch', 'Leases', 'Cluster', 'Users and roles', 'Import/export'] as const
type Tab = (typeof TABS)[number]

function App() {
  const [client] = useState(() => new EtcdClient())
  const [auth, setAuth] = useState<'checking' | 'off' | 'needed' | 'signed-in'>('checking')
  const [user, setUser] = useState('')
  const [tab, setTab] = useState<Tab>('Keys')
  const [error, setError] = useState('')
  const [access, setAccess] = useState<{ roles: string[]; permissions: Permission[]; root: boolean } | undefined>(undefined)

  useEffect(() => {
    client.onAuthLost = () => {
      client.token = undefined
      setError('Your session ended (etcdserver: invalid auth token): sign in again.')
      setAuth('needed')
    }
    client.authEnabled().then(
      (enabled) => setAuth(enabled ? 'needed' : 'off'),
      (err: Error) => setError(err.message),
    )
  }, [])

  if (auth === 'checking') return <p>{error === '' ? 'Connecting…' : <span role="alert">{error}</span>}</p>
  if (auth === 'needed') {
    return (
      <SignIn
        client={client}
        notice={error}
        onSignedIn={(name) => {
          setUser(name)
          setError('')
          setAuth('signed-in')
          userAccess(client, name).then(setAccess, (err) => setError(errorText(err)))
        }}
      />
    )
  }
  return (
    <div class="app">
      <header>
        <h1>etcdlite console</h1>
        <nav role="tablist">
          {TABS.map((t) => (
            <button role="tab" aria-selected={t === tab} onClick={() => setTab(t)}>
              {t}
            </button>
          ))}
        </nav>
        <span class="who">
          {auth === 'off' ? 'auth disabled' : `signed in as ${user}`}
          {auth === 'signed-in' && (
            <button
              onClick={() => {
                client.token = undefined
                setAccess(undefined)
                setAuth('needed')
              }}
            >
              Sign out
            </button>
          )}
        </span>
      </header>
      <main>
        {tab === 'Keys' && <KeysView client={client} access={auth === 'signed-in' ? access : undefined} />}
        {tab === 'Latest changes' && <LatestChangesView client={client} />}
        {/* The watch panel stays mounted on other tabs, so a watch goes on while you work elsewhere. */}
        <div hidden={tab !== 'Watch'}>
          <WatchPanel client={client} />
        </div>
        {tab === 'Leases' && <LeasesView client={client} />}
        {tab === 'Cluster' && <ClusterView client={client} />}
        {tab === 'Users and roles' && <AccessView client={client} />}
        {tab === 'Import/export' && <TransferView client={client} />}
      </main>
    </div>
  )
}

function SignIn(props: { client: EtcdClient; notice: string; onSignedIn: (user: string) => void }) {
  const [name, setName] = useState('')
  const [password, setPassword] = useState('')
  const [error, setError] = useState('')
  const submit = (e: Event) => {
    e.preventDefault()
    setError('')
    props.client.authenticate(name, password).then(
      () => props.onSignedIn(name),
      (err: unknown) => setError(err instanceof EtcdRequestError ? err.message : String(err)),
    )
  }
  return (
    <form class="sign-in" onSubmit={submit}>
      <h1>etcdlite console</h1>
      <p>Auth is enabled: sign in as an etcd user.</p>
      {props.notice !== '' && <p role="status">{props.notice}</p>}
      <label>
        User <input name="user" value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label>
        Password <input name="password" type="password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
      </label>
      <button type="submit">Sign in</button>
      {error !== '' && <p role="alert">{error}</p>}
    </form>
  )
}

render(<App />, document.getElementById('app')!)
