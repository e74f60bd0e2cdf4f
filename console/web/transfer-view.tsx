import { useState } from 'preact/hooks'
import { escapeBytes, unescapeBytes } from './bytes.ts'
import type { EtcdClient } from './etcd-client.ts'
import { errorText } from './error-text.ts'
import { saveFile } from './save-file.ts'
import { applyImport, exportPrefix, parseDocument, planImport, type PlannedPut, type TransferFormat } from './transfer.ts'

/** TransferView exports a prefix as JSON or YAML, and imports such a document after a dry-run preview. */
export function TransferView(props: { client: EtcdClient }) {
  const { client } = props
  const [prefix, setPrefix] = useState('')
  const [format, setFormat] = useState<TransferFormat>('json')
  const [text, setText] = useState('')
  const [plan, setPlan] = useState<PlannedPut[] | undefined>(undefined)
  const [error, setError] = useState('')
  const [notice, setNotice] = useState('')

  const run = (what: () => Promise<void>) => {
    setError('')
    setNotice('')
    what().catch((err: unknown) => setError(errorText(err)))
  }
  const counts = plan === undefined ? undefined : (['create', 'update', 'unchanged'] as const).map((a) => `${plan.filter((p) => p.action === a).length} to ${a === 'unchanged' ? 'leave unchanged' : a}`)

  return (
    <section class="transfer" aria-label="Import and export">
      <div class="toolbar">
        <label>
          Export prefix <input value={prefix} placeholder="all keys" onInput={(e) => setPrefix(e.currentTarget.value)} />
        </label>
        <label>
          As{' '}
          <select value={format} onChange={(e) => setFormat(e.currentTarget.value as TransferFormat)}>
            <option value="json">JSON</option>
            <option value="yaml">YAML</option>
          </select>
        </label>
        <button
          onClick={() =>
            run(async () => {
              const r = await exportPrefix(client, unescapeBytes(prefix), format)
              setText(r.text)
              setPlan(undefined)
              setNotice(`Exported ${r.count} keys.`)
            })
          }
        >
          Export
        </button>
        <button
          disabled={text === ''}
          onClick={() => saveFile(`etcd-export.${format}`, text, format === 'json' ? 'application/json' : 'application/yaml')}
        >
          Download
        </button>
      </div>
      <label class="value">
        Document <textarea rows={14} value={text} onInput={(e) => (setText(e.currentTarget.value), setPlan(undefined))} />
      </label>
      <div class="toolbar">
        <button onClick={() => run(async () => setPlan(await planImport(client, parseDocument(text))))}>Preview import</button>
        {plan !== undefined && (
          <button
            onClick={() =>
              run(async () => {
                const r = await applyImport(client, plan)
                setPlan(undefined)
                setNotice(`Imported ${r.written} keys in ${r.txns} ${r.txns === 1 ? 'transaction' : 'transactions'}.`)
              })
            }
          >
            Apply import
          </button>
        )}
      </div>
      {error !== '' && <p role="alert">{error}</p>}
      {notice !== '' && <p role="status">{notice}</p>}
      {plan !== undefined && (
        <div aria-label="Import preview">
          <p>Dry run: {counts!.join(', ')}. Nothing is written until “Apply import”.</p>
          <table>
            <tbody>
              {plan.map((p) => (
                <tr>
                  <td>{p.action}</td>
                  <td>{escapeBytes(p.key)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  )
}
