import { useEffect, useState } from 'preact/hooks'
import { escapeBytes } from './bytes.ts'
import type { EtcdClient, KeyValue } from './etcd-client.ts'
import { errorText } from './error-text.ts'
import { KeyHistory } from './key-history.tsx'
import { CodeArea } from './code-area.tsx'
import { FORMATS, FORMAT_LABELS, guessFormat, read, show, type Format } from './value-formats.ts'

/**
 * KeyEditor shows one key (at the browser's revision) and edits it. A save is a compare-and-swap on the mod_revision
 * the editor loaded: if someone changed the key meanwhile, nothing is written and both versions are shown.
 */
export function KeyEditor(props: { client: EtcdClient; keyBytes: Uint8Array; revision: number; onChanged: () => void }) {
  const { client, keyBytes, revision } = props
  const [kv, setKv] = useState<KeyValue | undefined>(undefined)
  const [format, setFormat] = useState<Format>('text')
  const [text, setText] = useState('')
  const [shown, setShown] = useState('')
  const [lease, setLease] = useState('0')
  const [error, setError] = useState('')
  const [notice, setNotice] = useState('')
  const [conflict, setConflict] = useState<{ mine: string; theirs: KeyValue | undefined } | undefined>(undefined)
  const [history, setHistory] = useState(false)
  const [generation, setGeneration] = useState(0)

  const showKv = (next: KeyValue | undefined, keepFormat = false) => {
    setKv(next)
    const value = next?.value ?? new Uint8Array(0)
    const f = keepFormat ? format : guessFormat(value)
    setFormat(f)
    setText(show(value, f) ?? '')
    setShown(show(value, f) ?? '')
    setLease(next?.lease ?? '0')
  }

  useEffect(() => {
    setError('')
    setNotice('')
    setConflict(undefined)
  }, [escapeBytes(keyBytes), revision])
  useEffect(() => {
    client.get(keyBytes, revision).then(
      (r) => showKv(r),
      (err) => {
        setKv(undefined)
        setError(errorText(err))
      },
    )
  }, [escapeBytes(keyBytes), revision, generation])

  const readOnly = revision !== 0
  const save = async (expected: number) => {
    setError('')
    setNotice('')
    let bytes: Uint8Array
    const leaseId = lease.trim() === '' ? '0' : lease.trim()
    try {
      // An untouched value keeps its bytes (the editor shows JSON and YAML reformatted).
      bytes = kv !== undefined && text === shown ? kv.value : read(text, format)
    } catch (err) {
      setError(errorText(err))
      return
    }
    try {
      const r = await client.putIfUnchanged(keyBytes, bytes, expected, leaseId)
      if (!r.ok) {
        setConflict({ mine: text, theirs: r.current })
        return
      }
      setConflict(undefined)
      setNotice('Saved.')
      setGeneration((g) => g + 1)
      props.onChanged()
    } catch (err) {
      setError(errorText(err))
    }
  }
  const remove = async () => {
    setError('')
    try {
      await client.deleteRange(keyBytes)
      setNotice('Deleted.')
      setGeneration((g) => g + 1)
      props.onChanged()
    } catch (err) {
      setError(errorText(err))
    }
  }

  return (
    <section class="editor" aria-label="Key">
      <h2>{escapeBytes(keyBytes)}</h2>
      {kv === undefined ? (
        <p>{readOnly ? `This key does not exist at revision ${revision}.` : 'This key does not exist.'}</p>
      ) : (
        <dl class="meta">
          <dt>version</dt>
          <dd>{kv.version}</dd>
          <dt>create revision</dt>
          <dd>{kv.createRevision}</dd>
          <dt>mod revision</dt>
          <dd>{kv.modRevision}</dd>
          <dt>lease</dt>
          <dd>{kv.lease === '0' ? 'none' : kv.lease}</dd>
          <dt>size</dt>
          <dd>{kv.value.length} bytes</dd>
        </dl>
      )}
      <label>
        Format{' '}
        <select
          value={format}
          onChange={(e) => {
            const f = e.currentTarget.value as Format
            const select = e.currentTarget
            // An edit in progress goes along into the new format; an untouched value is shown afresh.
            let bytes: Uint8Array
            try {
              bytes = text === shown ? (kv?.value ?? new Uint8Array(0)) : read(text, format)
            } catch (err) {
              select.value = format
              setError(errorText(err))
              return
            }
            const next = show(bytes, f)
            if (next === undefined) {
              select.value = format
              setError(`this value is not ${FORMAT_LABELS[f]}`)
              return
            }
            setError('')
            setFormat(f)
            setText(next)
            setShown(show(kv?.value ?? new Uint8Array(0), f) ?? '')
          }}
        >
          {FORMATS.map((f) => (
            <option value={f}>{FORMAT_LABELS[f]}</option>
          ))}
        </select>
      </label>
      <CodeArea label="Value" value={text} format={format} rows={12} readOnly={readOnly} onInput={setText} />
      {!readOnly && (
        <div class="actions">
          <label>
            Lease <input size={20} value={lease === '0' ? '' : lease} placeholder="none" onInput={(e) => setLease(e.currentTarget.value)} />
          </label>
          <button onClick={() => void save(kv?.modRevision ?? 0)}>Save</button>
          {kv !== undefined && <button onClick={() => void remove()}>Delete</button>}
        </div>
      )}
      <button aria-pressed={history} onClick={() => setHistory(!history)}>
        History
      </button>
      {error !== '' && <p role="alert">{error}</p>}
      {notice !== '' && <p role="status">{notice}</p>}
      {conflict !== undefined && (
        <div class="conflict" role="alert" aria-label="Conflict">
          <p>
            Conflict: the key changed since it was loaded (mod revision {kv?.modRevision ?? 0}, now{' '}
            {conflict.theirs === undefined ? 'deleted' : conflict.theirs.modRevision}). Nothing was written.
          </p>
          <div class="both">
            <label>
              Your version <textarea readOnly rows={6} value={conflict.mine} />
            </label>
            <label>
              Current version <textarea readOnly rows={6} value={conflict.theirs === undefined ? '' : show(conflict.theirs.value, format) ?? escapeBytes(conflict.theirs.value)} />
            </label>
          </div>
          <button onClick={() => void save(conflict.theirs?.modRevision ?? 0)}>Overwrite with mine</button>
          <button onClick={() => setGeneration((g) => g + 1)}>Discard mine</button>
        </div>
      )}
      {history && (
        <KeyHistory
          client={client}
          keyBytes={keyBytes}
          generation={generation}
          onRestored={() => {
            setGeneration((g) => g + 1)
            props.onChanged()
          }}
        />
      )}
    </section>
  )
}
