import { useEffect, useRef, useState } from 'preact/hooks'
import { escapeBytes, prefixEnd, unescapeBytes } from './bytes.ts'
import type { EtcdClient, WatchEvent } from './etcd-client.ts'
import { followWatch } from './resumable-watch.ts'

/**
 * WatchPanel follows changes under a prefix, from now or from a past revision. When the stream breaks it says so and
 * opens a new watch from the revision after the last one seen, so no change is missed or shown twice; it never stops
 * silently. A watch from a compacted revision ends with etcd's cancel reason.
 */

interface Line {
  readonly revision: number
  readonly text: string
}

export function WatchPanel(props: { client: EtcdClient }) {
  const [prefix, setPrefix] = useState('')
  const [from, setFrom] = useState('')
  const [running, setRunning] = useState(false)
  const [lines, setLines] = useState<Line[]>([])
  const [state, setState] = useState('not watching')
  const [log, setLog] = useState<string[]>([])
  const stop = useRef<AbortController | undefined>(undefined)

  useEffect(() => () => stop.current?.abort(), [])

  const start = () => {
    stop.current?.abort()
    const abort = new AbortController()
    stop.current = abort
    setLines([])
    setLog([])
    setRunning(true)
    const key = unescapeBytes(prefix)
    const rangeEnd = prefix === '' ? Uint8Array.of(0) : prefixEnd(key)
    const watchKey = prefix === '' ? Uint8Array.of(0) : key
    const startRevision = /^\d+$/.test(from.trim()) ? Number(from.trim()) : 0
    const note = (text: string) => setLog((l) => [...l, text])
    void followWatch(props.client, { key: watchKey, rangeEnd }, startRevision, abort.signal, {
      created: (at, revision, resumed) => {
        setState(`watching “${prefix}” ${at === 0 ? `from now (revision ${revision})` : `from revision ${at}`}`)
        if (resumed) note(`resumed from revision ${at}`)
      },
      events: (events) => setLines((old) => [...old, ...events.map(lineOf)].slice(-500)),
      lost: (reason, resumeFrom) => {
        setState(`connection lost (${reason}); resuming from revision ${resumeFrom}`)
        note(`connection lost: ${reason}`)
      },
      canceled: (reason) => {
        setState(reason)
        setRunning(false)
      },
    })
  }

  return (
    <section class="watch" aria-label="Watch">
      <form
        onSubmit={(e) => {
          e.preventDefault()
          start()
        }}
      >
        <label>
          Watch prefix <input value={prefix} placeholder="all keys" onInput={(e) => setPrefix(e.currentTarget.value)} />
        </label>
        <label>
          From revision <input size={8} value={from} placeholder="now" onInput={(e) => setFrom(e.currentTarget.value)} />
        </label>
        <button type="submit">{running ? 'Restart' : 'Start'}</button>
        {running && (
          <button
            type="button"
            onClick={() => {
              stop.current?.abort()
              setRunning(false)
              setState('not watching')
            }}
          >
            Stop
          </button>
        )}
      </form>
      <p role="status" class="watch-state">
        {state}
      </p>
      <ul aria-label="Watch log" class="watch-log">
        {log.map((l) => (
          <li>{l}</li>
        ))}
      </ul>
      <ol aria-label="Events" class="events">
        {lines.map((l) => (
          <li>{l.text}</li>
        ))}
      </ol>
    </section>
  )
}

function lineOf(e: WatchEvent): Line {
  const key = escapeBytes(e.kv.key)
  const text = e.type === 'PUT' ? `${e.kv.modRevision} PUT ${key} = ${escapeBytes(e.kv.value).slice(0, 120)}` : `${e.kv.modRevision} DELETE ${key}`
  return { revision: e.kv.modRevision, text }
}
