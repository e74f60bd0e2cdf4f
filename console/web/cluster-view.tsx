import { useEffect, useState } from 'preact/hooks'
import type { EtcdClient } from './etcd-client.ts'
import { errorText } from './error-text.ts'
import { saveFile } from './save-file.ts'
import { MetricsCharts } from './metrics-charts.tsx'

/** ClusterView shows the member's status, compacts, and downloads a snapshot (etcd's snapshot file). */
export function ClusterView(props: { client: EtcdClient }) {
  const { client } = props
  const [rows, setRows] = useState<[string, string][]>([])
  const [compactAt, setCompactAt] = useState('')
  const [error, setError] = useState('')
  const [notice, setNotice] = useState('')
  const [generation, setGeneration] = useState(0)

  useEffect(() => {
    Promise.all([client.status(), client.consoleStatus()]).then(
      ([s, c]) =>
        setRows([
          ['revision', String(c.revision)],
          ['compact revision', String(c.compactRevision)],
          ['db size', `${s.dbSize ?? 0} bytes`],
          ['keys', String(c.keys)],
          ['watchers', String(c.watchers)],
          ['leases', String(c.leases)],
          ['leader', String(s.leader ?? '')],
          ['version', String(s.version ?? '')],
        ]),
      (err) => setError(errorText(err)),
    )
  }, [generation])

  const download = async () => {
    setError('')
    try {
      const bytes = await client.snapshot()
      saveFile('etcdlite.snapshot.db', bytes, 'application/octet-stream')
      setNotice(`Snapshot of ${bytes.length} bytes downloaded.`)
    } catch (err) {
      setError(errorText(err))
    }
  }

  return (
    <section class="cluster" aria-label="Cluster">
      <dl class="status" aria-label="Status">
        {rows.map(([k, v]) => [<dt>{k}</dt>, <dd>{v}</dd>])}
      </dl>
      <button onClick={() => setGeneration((g) => g + 1)}>Refresh</button>
      <form
        onSubmit={(e) => {
          e.preventDefault()
          setError('')
          client.compact(Number(compactAt)).then(
            () => (setNotice(`Compacted at revision ${compactAt}.`), setGeneration((g) => g + 1)),
            (err) => setError(errorText(err)),
          )
        }}
      >
        <label>
          Compact at revision <input size={8} value={compactAt} onInput={(e) => setCompactAt(e.currentTarget.value)} />
        </label>
        <button type="submit">Compact</button>
      </form>
      <button onClick={() => void download()}>Download snapshot</button>
      {error !== '' && <p role="alert">{error}</p>}
      {notice !== '' && <p role="status">{notice}</p>}
      <MetricsCharts />
    </section>
  )
}
