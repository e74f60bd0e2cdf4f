import { useEffect, useRef, useState } from 'preact/hooks'
import uPlot from 'uplot'

/**
 * MetricsCharts plots the member's Prometheus metrics (/metrics, etcd's own series) as live charts: request rates
 * from the counters, and the key and watcher gauges. It scrapes every POLL_MS while shown; nothing is kept on the
 * server for it.
 */

const POLL_MS = 1000
const WINDOW = 120

/** CHARTS are the charts: a title and how to read one point from two scrapes a second apart. */
const CHARTS = [
  { title: 'Requests per second', lines: [
    { label: 'puts/s', rateOf: 'etcd_mvcc_put_total' },
    { label: 'ranges/s', rateOf: 'etcd_mvcc_range_total' },
    { label: 'txns/s', rateOf: 'etcd_mvcc_txn_total' },
    { label: 'deletes/s', rateOf: 'etcd_mvcc_delete_total' },
  ] },
  { title: 'Keys and watchers', lines: [
    { label: 'keys', gauge: 'etcd_debugging_mvcc_keys_total' },
    { label: 'watchers', gauge: 'etcd_debugging_mvcc_watcher_total' },
  ] },
] as const

const COLORS = ['#1f6feb', '#d9480f', '#2b8a3e', '#862e9c']

/** parseMetrics reads Prometheus text: the value of every unlabelled series (labelled ones are summed by name). */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line)
    if (m === null) continue
    out.set(m[1]!, (out.get(m[1]!) ?? 0) + Number(m[3]))
  }
  return out
}

export function MetricsCharts() {
  const holders = useRef<(HTMLDivElement | null)[]>([])
  const [error, setError] = useState('')
  const [latest, setLatest] = useState('')

  useEffect(() => {
    const times: number[] = []
    const values: number[][][] = CHARTS.map((c) => c.lines.map(() => []))
    const plots = CHARTS.map(
      (c, i) =>
        new uPlot(
          {
            title: c.title,
            width: 520,
            height: 200,
            series: [{}, ...c.lines.map((l, j) => ({ label: l.label, stroke: COLORS[j % COLORS.length]!, width: 2 }))],
            axes: [{}, { size: 60 }],
          },
          [[], ...c.lines.map(() => [])],
          holders.current[i]!,
        ),
    )
    let previous: { at: number; metrics: Map<string, number> } | undefined
    let stopped = false
    const scrape = async () => {
      try {
        const res = await fetch('/metrics')
        const metrics = parseMetrics(await res.text())
        const at = Date.now() / 1000
        if (previous !== undefined) {
          const dt = Math.max(at - previous.at, 0.001)
          times.push(at)
          CHARTS.forEach((c, i) =>
            c.lines.forEach((l, j) => {
              const v = 'rateOf' in l ? ((metrics.get(l.rateOf) ?? 0) - (previous!.metrics.get(l.rateOf) ?? 0)) / dt : (metrics.get(l.gauge) ?? 0)
              values[i]![j]!.push(v)
            }),
          )
          if (times.length > WINDOW) {
            times.shift()
            for (const chart of values) for (const line of chart) line.shift()
          }
          plots.forEach((p, i) => p.setData([times, ...values[i]!]))
          setLatest(CHARTS.flatMap((c, i) => c.lines.map((l, j) => `${l.label} ${Math.round(values[i]![j]!.at(-1)!)}`)).join(' · '))
        }
        previous = { at, metrics }
        setError('')
      } catch (err) {
        setError(`metrics: ${(err as Error).message}`)
      }
      if (!stopped) timer = setTimeout(() => void scrape(), POLL_MS)
    }
    let timer = setTimeout(() => void scrape(), 0)
    return () => {
      stopped = true
      clearTimeout(timer)
      for (const p of plots) p.destroy()
    }
  }, [])

  return (
    <section class="metrics" aria-label="Metrics">
      <h3>Metrics</h3>
      <div class="charts">
        {CHARTS.map((c, i) => (
          <div aria-label={c.title} role="img" ref={(el) => {
              holders.current[i] = el
            }} />
        ))}
      </div>
      <p class="latest" aria-label="Latest metrics">
        {latest}
      </p>
      {error !== '' && <p role="alert">{error}</p>}
    </section>
  )
}
