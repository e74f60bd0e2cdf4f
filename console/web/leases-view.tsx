import { useEffect, useState } from 'preact/hooks'
import { escapeBytes } from './bytes.ts'
import type { EtcdClient, LeaseInfo } from './etcd-client.ts'
import { errorText } from './error-text.ts'
import { TimeControl } from './time-control.tsx'

/**
 * LeasesView lists leases with their remaining TTL (read again every second) and keys; grant, revoke, keep-alive; and,
 * on a ManualClock, advance time.
 */
export function LeasesView(props: { client: EtcdClient }) {
  const { client } = props
  const [leases, setLeases] = useState<LeaseInfo[]>([])
  const [ttl, setTtl] = useState('60')
  const [error, setError] = useState('')
  const [tick, setTick] = useState(0)

  useEffect(() => {
    const timer = setInterval(() => setTick((t) => t + 1), 1000)
    return () => clearInterval(timer)
  }, [])
  useEffect(() => {
    client
      .leases()
      .then((ids) => Promise.all(ids.map((id) => client.timeToLive(id))))
      .then(
        (infos) => setLeases(infos.filter((l) => l.ttl >= 0)),
        (err) => setError(errorText(err)),
      )
  }, [tick])

  const act = (p: Promise<unknown>) =>
    p.then(
      () => (setError(''), setTick((t) => t + 1)),
      (err) => setError(errorText(err)),
    )

  return (
    <section class="leases" aria-label="Leases">
      <TimeControl client={client} onAdvanced={() => setTick((t) => t + 1)} />
      <form
        onSubmit={(e) => {
          e.preventDefault()
          void act(client.grant(Number(ttl)))
        }}
      >
        <label>
          TTL (seconds) <input size={8} value={ttl} onInput={(e) => setTtl(e.currentTarget.value)} />
        </label>
        <button type="submit">Grant lease</button>
      </form>
      {error !== '' && <p role="alert">{error}</p>}
      <table>
        <thead>
          <tr>
            <th>lease</th>
            <th>TTL</th>
            <th>granted TTL</th>
            <th>keys</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {leases.map((l) => (
            <tr>
              <td>{l.id}</td>
              <td>{l.ttl} s</td>
              <td>{l.grantedTtl} s</td>
              <td>{l.keys.map(escapeBytes).join(', ')}</td>
              <td>
                <button onClick={() => void act(client.keepAliveOnce(l.id))}>Keep alive {l.id}</button>
                <button onClick={() => void act(client.revoke(l.id))}>Revoke {l.id}</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {leases.length === 0 && <p>No leases.</p>}
    </section>
  )
}
