import { useState } from 'preact/hooks'
import { unescapeBytes } from './bytes.ts'
import type { EtcdClient } from './etcd-client.ts'
import { errorText } from './error-text.ts'
import { CodeArea } from './code-area.tsx'
import { FORMATS, FORMAT_LABELS, read, type Format } from './value-formats.ts'

/** NewKeyForm creates a key that does not exist yet (a txn on mod_revision 0), optionally with a lease. */
export function NewKeyForm(props: { client: EtcdClient; prefix: string; onCreated: (key: Uint8Array) => void }) {
  const [open, setOpen] = useState(false)
  const [key, setKey] = useState('')
  const [value, setValue] = useState('')
  const [format, setFormat] = useState<Format>('text')
  const [lease, setLease] = useState('')
  const [error, setError] = useState('')
  if (!open) {
    return (
      <button
        onClick={() => {
          setKey(props.prefix)
          setOpen(true)
        }}
      >
        New key
      </button>
    )
  }
  const create = async (e: Event) => {
    e.preventDefault()
    setError('')
    try {
      const bytes = unescapeBytes(key)
      const r = await props.client.putIfUnchanged(bytes, read(value, format), 0, lease.trim() === '' ? '0' : lease.trim())
      if (!r.ok) throw new Error(`the key already exists (mod revision ${r.current?.modRevision ?? '?'}): open it to edit`)
      setOpen(false)
      props.onCreated(bytes)
    } catch (err) {
      setError(errorText(err))
    }
  }
  return (
    <form class="new-key" aria-label="New key" onSubmit={(e) => void create(e)}>
      <label>
        Key <input name="new-key" value={key} onInput={(e) => setKey(e.currentTarget.value)} />
      </label>
      <label>
        Format{' '}
        <select value={format} onChange={(e) => setFormat(e.currentTarget.value as Format)}>
          {FORMATS.map((f) => (
            <option value={f}>{FORMAT_LABELS[f]}</option>
          ))}
        </select>
      </label>
      <CodeArea label="New value" value={value} format={format} rows={4} onInput={setValue} />
      <label>
        Lease <input placeholder="none" value={lease} onInput={(e) => setLease(e.currentTarget.value)} />
      </label>
      <button type="submit">Create</button>
      <button type="button" onClick={() => setOpen(false)}>
        Cancel
      </button>
      {error !== '' && <p role="alert">{error}</p>}
    </form>
  )
}
