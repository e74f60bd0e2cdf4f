import { useEffect, useRef, useState } from 'preact/hooks'
import { escapeBytes, prefixEnd, unescapeBytes } from './bytes.ts'
import type { EtcdClient, WatchEvent } from './etcd-client.ts'
import { errorText } from './error-text.ts'
import { followWatch } from './resumable-watch.ts'

/**
 * LatestChangesView is a feed of the latest changes under a prefix: the N most recent events from the store's
 * history, newest first (revision, type, key, the start of the value), then kept live by a watch from the revision
 * they were read at, so a change is never missed or shown twice, across reconnects too.
 */

const PREVIEW_CHARS = 80

export function LatestChangesView(props: { client: EtcdClient }) {
  const { client } = props
  const [prefix, setPrefix] = useState('')
  const [count, setCount] = useState('20')
  const [events, setEvents] = useState<WatchEvent[] | undefined>(undefined)
  const [state, setState] = useState('')
  const [error, setError] = useState('')
  const stop = useRef<AbortController | undefined>(undefined)

  useEffect(() => () => stop.current?.abort(), [])

  const show = async () => {
    stop.current?.abort()
    const abort = new AbortController()
    stop.current = abort
    setError('')
    const n = /^\s*\d+\s*$/.test(count) ? Number(count) : Number.NaN
    const key = prefix === '' ? Uint8Array.of(0) : unescapeBytes(prefix)
    const rangeEnd = prefix === '' ? Uint8Array.of(0) : prefixEnd(key)
    const where = prefix === '' ? 'every key' : `“${prefix}”`
    try {
      const latest = await client.latestChanges(key, rangeEnd, n)
      if (abort.signal.aborted) return
      setEvents(latest.events)
      setState(`the latest ${n} changes under ${where} as of revision ${latest.revision}`)
      void followWatch(client, { key, rangeEnd }, latest.revision + 1, abort.signal, {
        created: (_from, _revision, resumed) => setState(`the latest ${n} changes under ${where}, live${resumed ? ' (resumed)' : ''}`),
        events: (arrived) => setEvents((old) => [...arrived.slice().reverse(), ...(old ?? [])].slice(0, n)),
        lost: (reason, resumeFrom) => setState(`connection lost (${reason}); resuming from revision ${resumeFrom}`),
        canceled: (reason) => setState(reason),
      })
    } catch (err) {
      setEvents(undefined)
      setState('')
      setError(errorText(err))
    }
  }

  return (
    <section class="latest" aria-label="Latest changes">
      <form
        onSubmit={(e) => {
          e.preventDefault()
          void show()
        }}
      >
        <label>
          Changes under <input value={prefix} placeholder="all keys" onInput={(e) => setPrefix(e.currentTarget.value)} />
        </label>
        <label>
          How many <input size={5} value={count} onInput={(e) => setCount(e.currentTarget.value)} />
        </label>
        <button type="submit">Show</button>
      </form>
      {error !== '' && <p role="alert">{error}</p>}
      {state !== '' && <p role="status">{state}</p>}
      {events !== undefined && (
        <table aria-label="Feed">
          <thead>
            <tr>
              <th>revision</th>
              <th>type</th>
              <th>key</th>
              <th>value</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr>
                <td>{e.kv.modRevision}</td>
                <td>{e.type}</td>
                <td class="preview">{escapeBytes(e.kv.key)}</td>
                <td class="preview">{e.type === 'PUT' ? preview(e.kv.value) : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {events?.length === 0 && <p>No changes in the retained history.</p>}
    </section>
  )
}

/** preview is the start of a value, escaped as keys are (binary bytes as \xNN). */
function preview(value: Uint8Array): string {
  const text = escapeBytes(value.subarray(0, PREVIEW_CHARS * 4))
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text
}
