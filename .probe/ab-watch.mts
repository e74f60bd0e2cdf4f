const builds = { base: '/work/wt-base/dist/index.js', this: '/work/main/dist/index.js' }
const mods: Record<string, any> = {}
for (const [k, p] of Object.entries(builds)) mods[k] = await import(p)
const tick = () => new Promise((r) => setImmediate(r))
const values = ['x'.repeat(64), 'y'.repeat(64)]
async function round(mod: any, watchers: number, writes: number): Promise<number> {
  const etcd = await mod.open()
  let delivered = 0
  const its = Array.from({ length: watchers }, () => etcd.watch('fan/', { prefix: true }))
  const consumers = its.map(async (it: any) => { let n = 0; for await (const r of it) { n += r.events.length; if (n >= writes) break }; delivered += n })
  await tick()
  const t0 = performance.now()
  for (let i = 0; i < writes; i++) { await etcd.put(`fan/${i % 100}`, values[Math.floor(i / 100) & 1]); if (i % 64 === 0) await tick() }
  await Promise.all(consumers)
  const rate = delivered / ((performance.now() - t0) / 1000)
  await etcd.close()
  return rate
}
for (const [watchers, writes] of [[1000, 2000], [100, 10000]] as const) {
  const rates: Record<string, number[]> = { base: [], this: [] }
  for (let r = 0; r < 6; r++) for (const k of r % 2 ? ['this', 'base'] : ['base', 'this']) { (globalThis as any).gc?.(); rates[k]!.push(await round(mods[k], watchers, writes)) }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
  console.log(`${watchers} watchers: base ${(med(rates.base!) / 1e6).toFixed(2)}M/s this ${(med(rates.this!) / 1e6).toFixed(2)}M/s ratio ${(med(rates.this!) / med(rates.base!)).toFixed(2)}`)
}
