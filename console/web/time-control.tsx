import { useEffect, useState } from 'preact/hooks'
import type { ClockStatus, EtcdClient } from './etcd-client.ts'
import { errorText } from './error-text.ts'

/**
 * TimeControl advances the served engine's ManualClock by a number of seconds: leases whose TTL runs out expire
 * then, their keys deleted as expiry deletes them. It is shown only when the clock is manual and the signed-in user
 * may move it (root while auth is on; a loopback caller while it is off); the server checks the same again.
 */
export function TimeControl(props: { client: EtcdClient; onAdvanced: () => void }) {
  const { client } = props
  const [clock, setClock] = useState<ClockStatus | undefined>(undefined)
  const [seconds, setSeconds] = useState('10')
  const [error, setError] = useState('')

  useEffect(() => {
    client.clock().then(setClock, (err) => setError(errorText(err)))
  }, [])

  if (clock === undefined || !clock.manual) return error === '' ? null : <p role="alert">{error}</p>
  if (!clock.allowed) {
    return <p class="clock">The engine runs on a manual clock; only root (or, while auth is off, a loopback caller) may advance it.</p>
  }
  return (
    <form
      class="clock"
      aria-label="Advance time"
      onSubmit={(e) => {
        e.preventDefault()
        setError('')
        const n = /^\s*\d+\s*$/.test(seconds) ? Number(seconds) : Number.NaN
        client.advanceTime(n).then(
          (now) => {
            setClock({ ...clock, now })
            props.onAdvanced()
          },
          (err) => setError(errorText(err)),
        )
      }}
    >
      <span>Manual clock at {new Date(clock.now).toISOString()}</span>
      <label>
        Advance time by <input size={8} value={seconds} onInput={(e) => setSeconds(e.currentTarget.value)} /> seconds
      </label>
      <button type="submit">Advance time</button>
      {error !== '' && <p role="alert">{error}</p>}
    </form>
  )
}
