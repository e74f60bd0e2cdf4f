import { useEffect, useRef, useState } from 'preact/hooks'
import { escapeBytes, prefixEnd, unescapeBytes } from './bytes.ts'
import type { EtcdClient, WatchEvent } from './etcd-client.ts'
import { errorText } from './error-text.ts'

/**
 * WatchPanel follows changes under a prefix, from now or from a past revision. When the stream breaks it says so and
 * opens a new watch from the revision after the last one seen, so no change is missed or shown twice; it never stops
 * silently. A watch from a compacted revision ends with etcd's cancel reason.
 */

interface Line {
  readonly revision: number
  readonly text: string
}

const RETRY_MS = 500

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
    let startRevision = /^\d+$/.test(from.trim()) ? Number(from.trim()) : 0
    let resumes = 0
    const note = (text: string) => setLog((l) => [...l, text])

    const run = async () => {
      while (!abort.signal.aborted) {
        try {
          await props.client.watch(
            { key: watchKey, rangeEnd, startRevision },
            (m) => {
              if (m.created) {
                const at = startRevision === 0 ? `from now (revision ${m.revision})` : `from revision ${startRevision}`
                setState(`watching “${prefix}” ${at}`)
                if (resumes > 0) note(`resumed from revision ${startRevision}`)
              }
              if (m.canceled) {
                const why = m.compactRevision > 0 ? `etcdserver: mvcc: required revision has been compacted (compact revision ${m.compactRevision})` : m.cancelReason
                throw new Error(`watch canceled: ${why}`)
              }
              if (m.events.length > 0) {
                setLines((old) => [...old, ...m.events.map(lineOf)].slice(-500))
                startRevision = m.events[m.events.length - 1]!.kv.modRevision + 1
              } else if (startRevision === 0 && m.created) startRevision = m.revision + 1
            },
            abort.signal,
          )
          if (abort.signal.aborted) break
          throw new Error('the server ended the stream')
        } catch (err) {
          if (abort.signal.aborted) break
          const text = errorText(err)
          if (text.startsWith('watch canceled')) {
            setState(text)
            setRunning(false)
            return
          }
          resumes++
          setState(`connection lost (${text}); resuming from revision ${startRevision}`)
          note(`connection lost: ${text}`)
          await new Promise((r) => setTimeout(r, RETRY_MS))
        }
      }
      setState('not watching')
    }
    void run()
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
