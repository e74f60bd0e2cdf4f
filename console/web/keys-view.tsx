import { useEffect, useRef, useState } from 'preact/hooks'
import { escapeBytes, prefixEnd, unescapeBytes } from './bytes.ts'
import type { EtcdClient } from './etcd-client.ts'
import { listChildren, listFlat, type Entry } from './key-listing.ts'
import { KeyEditor } from './key-editor.tsx'
import { NewKeyForm } from './new-key-form.tsx'
import { errorText } from './error-text.ts'
import { EtcdRequestError } from './etcd-client.ts'
import type { Permission } from './auth-client.ts'
import { permissionText } from './access-view.tsx'

/**
 * KeysView browses the store: a tree (split on a separator) or a flat list, paged on the server, searched by prefix,
 * live or at a past revision (the time-travel slider, down to the compact revision).
 */

const PAGE_SIZE = 100

export function KeysView(props: { client: EtcdClient; access?: { permissions: Permission[]; root: boolean } | undefined }) {
  const { client } = props
  const [mode, setMode] = useState<'tree' | 'flat'>('tree')
  const [separator, setSeparator] = useState('/')
  const [prefix, setPrefix] = useState('')
  const [search, setSearch] = useState('')
  const [entries, setEntries] = useState<Entry[]>([])
  const [next, setNext] = useState<Uint8Array | undefined>(undefined)
  const [count, setCount] = useState<number | undefined>(undefined)
  const [error, setError] = useState('')
  const [selected, setSelected] = useState<Uint8Array | undefined>(undefined)
  const [revision, setRevision] = useState(0)
  const [bounds, setBounds] = useState({ revision: 0, compactRevision: 0 })
  const [generation, setGeneration] = useState(0)
  const [deleting, setDeleting] = useState<{ count: number } | undefined>(undefined)
  const [notice, setNotice] = useState('')

  const sep = unescapeBytes(separator === '' ? '/' : separator)
  const parent = unescapeBytes(prefix)

  // loads counts listings asked for: an answer to one that a newer one replaced is dropped, not shown over it.
  const loads = useRef(0)
  const load = async (from: Uint8Array | undefined) => {
    setError('')
    const asked = ++loads.current
    try {
      const page =
        mode === 'tree'
          ? await listChildren(client, parent, sep, { from, revision, pageSize: PAGE_SIZE })
          : await listFlat(client, parent, { from, revision, pageSize: PAGE_SIZE })
      if (asked !== loads.current) return
      setEntries((old) => (from === undefined ? page.entries : [...old, ...page.entries]))
      setNext(page.next)
      if (from === undefined) setCount(undefined)
    } catch (err) {
      if (asked !== loads.current) return
      if (from === undefined) setEntries([])
      setNext(undefined)
      const denied = err instanceof EtcdRequestError && err.permissionDenied
      setError(denied ? `Permission denied: you may not read ${prefix === '' ? 'every key' : `all of “${prefix}”`} (${errorText(err)})` : errorText(err))
    }
  }
  const refreshBounds = () => client.consoleStatus().then((s) => setBounds(s), () => {})

  useEffect(() => {
    void load(undefined)
    void refreshBounds()
  }, [mode, separator, prefix, revision, generation])

  const changed = () => setGeneration((g) => g + 1)
  const crumbs = crumbsOf(prefix, separator === '' ? '/' : separator)

  return (
    <div class="keys">
      <section class="browser" aria-label="Key browser">
        <div class="toolbar">
          <div role="group" aria-label="View">
            <button aria-pressed={mode === 'tree'} onClick={() => setMode('tree')}>
              Tree
            </button>
            <button aria-pressed={mode === 'flat'} onClick={() => setMode('flat')}>
              Flat
            </button>
          </div>
          <label>
            Separator <input size={3} value={separator} onChange={(e) => setSeparator(e.currentTarget.value)} />
          </label>
          <form
            onSubmit={(e) => {
              e.preventDefault()
              setPrefix(search)
            }}
          >
            <label>
              Prefix <input value={search} placeholder="all keys" onInput={(e) => setSearch(e.currentTarget.value)} />
            </label>
            <button type="submit">Search</button>
          </form>
          <button onClick={changed}>Refresh</button>
        </div>
        <TimeTravel
          revision={revision}
          bounds={bounds}
          onChange={setRevision}
        />
        <nav class="crumbs" aria-label="Path">
          <button onClick={() => (setPrefix(''), setSearch(''))}>(all keys)</button>
          {crumbs.map((c) => (
            <button onClick={() => (setPrefix(c.prefix), setSearch(c.prefix))}>{c.label}</button>
          ))}
          {count !== undefined ? (
            <span class="count">{count} keys</span>
          ) : (
            // Counting reads every key under the prefix (etcd's count): only when asked.
            <button
              onClick={() =>
                client.countPrefix(parent, revision).then(
                  (n) => setCount(n),
                  (err) => setError(errorText(err)),
                )
              }
            >
              Count keys
            </button>
          )}
        </nav>
        {props.access !== undefined && !props.access.root && (
          <div class="access" role="group" aria-label="Your permissions">
            Your permissions:{' '}
            {props.access.permissions.map((p) => (
              <button onClick={() => (setPrefix(escapeBytes(p.key)), setSearch(escapeBytes(p.key)))}>
                {permissionText(p)}
              </button>
            ))}
            {props.access.permissions.length === 0 && 'none'}
          </div>
        )}
        {error !== '' && <p role="alert">{error}</p>}
        <ul class="entries" aria-label="Keys">
          {entries.map((e) => (
            <li>
              <button
                class={e.kind}
                aria-current={selected !== undefined && e.kind === 'key' && escapeBytes(selected) === escapeBytes(e.full)}
                onClick={() => {
                  if (e.kind === 'dir') {
                    const text = escapeBytes(e.full)
                    setPrefix(text)
                    setSearch(text)
                  } else setSelected(e.full)
                }}
              >
                {e.kind === 'dir' ? `${escapeBytes(e.name)} …` : e.name.length === 0 ? '(this key)' : escapeBytes(e.name)}
              </button>
            </li>
          ))}
        </ul>
        {entries.length === 0 && error === '' && <p>No keys here.</p>}
        {next !== undefined && <button onClick={() => void load(next)}>Load more</button>}
        <div class="prefix-actions">
          <NewKeyForm client={client} prefix={prefix} onCreated={(key) => (setSelected(key), changed())} />
          {prefix !== '' && revision === 0 && (
            <button
              onClick={() =>
                client.countPrefix(parent).then(
                  (n) => setDeleting({ count: n }),
                  (err) => setError(errorText(err)),
                )
              }
            >
              Delete prefix
            </button>
          )}
          {deleting !== undefined && (
            <div role="dialog" aria-label="Confirm delete">
              <p>
                Delete {deleting.count} keys under “{prefix}”?
              </p>
              <button
                onClick={() =>
                  client.deleteRange(parent, prefixEnd(parent)).then(
                    (n) => {
                      setDeleting(undefined)
                      setNotice(`Deleted ${n} keys under “${prefix}”.`)
                      changed()
                    },
                    (err) => {
                      setDeleting(undefined)
                      setError(errorText(err))
                    },
                  )
                }
              >
                Confirm delete
              </button>
              <button onClick={() => setDeleting(undefined)}>Cancel</button>
            </div>
          )}
          {notice !== '' && <p role="status">{notice}</p>}
        </div>
      </section>
      {selected !== undefined && <KeyEditor client={client} keyBytes={selected} revision={revision} onChanged={changed} />}
    </div>
  )
}

/** crumbsOf splits the current prefix at the separator into clickable parents. */
function crumbsOf(prefix: string, separator: string): { label: string; prefix: string }[] {
  const out: { label: string; prefix: string }[] = []
  let at = 0
  for (;;) {
    const i = prefix.indexOf(separator, at)
    if (i < 0) break
    out.push({ label: prefix.slice(at, i + separator.length), prefix: prefix.slice(0, i + separator.length) })
    at = i + separator.length
  }
  if (at < prefix.length) out.push({ label: prefix.slice(at), prefix })
  return out
}

/**
 * TimeTravel picks the revision the browser shows: live (the newest), or any retained revision on a slider whose low
 * end is the compact revision. A revision typed below it is asked for all the same, so etcd's own error shows.
 */
function TimeTravel(props: { revision: number; bounds: { revision: number; compactRevision: number }; onChange: (r: number) => void }) {
  const { revision, bounds } = props
  const low = Math.max(bounds.compactRevision, 1)
  const [typed, setTyped] = useState('')
  return (
    <div class="time-travel" role="group" aria-label="Time travel">
      <label>
        Revision{' '}
        <input
          type="range"
          min={low}
          max={bounds.revision}
          value={revision === 0 ? bounds.revision : revision}
          onChange={(e) => {
            const r = Number(e.currentTarget.value)
            props.onChange(r >= bounds.revision ? 0 : r)
          }}
        />
      </label>
      <form
        onSubmit={(e) => {
          e.preventDefault()
          if (/^\d+$/.test(typed)) props.onChange(Number(typed))
        }}
      >
        <label>
          Go to revision <input size={8} value={typed} onInput={(e) => setTyped(e.currentTarget.value)} />
        </label>
        <button type="submit">Go</button>
      </form>
      <button onClick={() => props.onChange(0)} aria-pressed={revision === 0}>
        Live
      </button>
      <span class="marks">
        {revision === 0 ? `live at revision ${bounds.revision}` : `viewing revision ${revision} of ${bounds.revision}`} · compact revision{' '}
        {bounds.compactRevision}
      </span>
    </div>
  )
}
