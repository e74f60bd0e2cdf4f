import { diffLines } from 'diff'
import { useEffect, useState } from 'preact/hooks'
import { escapeBytes } from './bytes.ts'
import type { EtcdClient } from './etcd-client.ts'
import { errorText } from './error-text.ts'
import { readKeyHistory, type Change } from './key-history-reader.ts'
import { guessFormat, show } from './value-formats.ts'

/** KeyHistory lists a key's versions, diffs any two, and restores one (a compare-and-swap on the current version). */
export function KeyHistory(props: { client: EtcdClient; keyBytes: Uint8Array; generation: number; onRestored: () => void }) {
  const { client, keyBytes } = props
  const [changes, setChanges] = useState<Change[] | undefined>(undefined)
  const [truncated, setTruncated] = useState(false)
  const [picked, setPicked] = useState<number[]>([])
  const [error, setError] = useState('')

  useEffect(() => {
    setError('')
    readKeyHistory(client, keyBytes).then(
      (h) => {
        setChanges(h.changes)
        setTruncated(h.truncated)
        setPicked([])
      },
      (err) => setError(errorText(err)),
    )
  }, [escapeBytes(keyBytes), props.generation])

  const restore = async (change: Change) => {
    setError('')
    try {
      const now = await client.get(keyBytes)
      const r = await client.putIfUnchanged(keyBytes, change.kv.value, now?.modRevision ?? 0)
      if (!r.ok) throw new Error('the key changed while restoring; nothing was written')
      props.onRestored()
    } catch (err) {
      setError(errorText(err))
    }
  }
  const toggle = (rev: number) => setPicked((p) => (p.includes(rev) ? p.filter((r) => r !== rev) : [...p.slice(-1), rev]))
  const pickedChanges = (changes ?? []).filter((c) => picked.includes(c.kv.modRevision))

  return (
    <section class="history" aria-label="History">
      <h3>History</h3>
      {error !== '' && <p role="alert">{error}</p>}
      {changes === undefined ? (
        <p>Loading…</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>revision</th>
              <th>version</th>
              <th>create revision</th>
              <th>mod revision</th>
              <th>lease</th>
              <th>value</th>
              <th>compare</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {changes.map((c) => (
              <tr>
                <td>{c.kv.modRevision}</td>
                <td>{c.type === 'DELETE' ? 'deleted' : c.kv.version}</td>
                <td>{c.type === 'DELETE' ? '' : c.kv.createRevision}</td>
                <td>{c.kv.modRevision}</td>
                <td>{c.kv.lease === '0' ? '' : c.kv.lease}</td>
                <td class="preview">{c.type === 'DELETE' ? '' : preview(c.kv.value)}</td>
                <td>
                  {c.type === 'PUT' && (
                    <input
                      type="checkbox"
                      aria-label={`compare revision ${c.kv.modRevision}`}
                      checked={picked.includes(c.kv.modRevision)}
                      onChange={() => toggle(c.kv.modRevision)}
                    />
                  )}
                </td>
                <td>{c.type === 'PUT' && <button onClick={() => void restore(c)}>Restore revision {c.kv.modRevision}</button>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {truncated && <p>Showing the oldest {changes?.length} changes only.</p>}
      {pickedChanges.length === 2 && <Diff older={pickedChanges[0]!} newer={pickedChanges[1]!} />}
    </section>
  )
}

function preview(value: Uint8Array): string {
  const text = escapeBytes(value)
  return text.length > 80 ? `${text.slice(0, 80)}…` : text
}

function Diff(props: { older: Change; newer: Change }) {
  // JSON and YAML are compared pretty-printed, so a change shows on its own line.
  const textOf = (c: Change) => show(c.kv.value, guessFormat(c.kv.value)) ?? ''
  const parts = diffLines(textOf(props.older), textOf(props.newer))
  return (
    <div class="diff" aria-label="Diff">
      <p>
        Diff from revision {props.older.kv.modRevision} to {props.newer.kv.modRevision}
      </p>
      <pre>
        {parts.map((p) => (
          <span class={p.added ? 'added' : p.removed ? 'removed' : ''}>
            {p.value
              .replace(/\n$/, '')
              .split('\n')
              .map((line) => `${p.added ? '+ ' : p.removed ? '- ' : '  '}${line}\n`)
              .join('')}
          </span>
        ))}
      </pre>
    </div>
  )
}
