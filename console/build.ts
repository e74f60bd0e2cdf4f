import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

/**
 * buildConsole bundles the web console (console/web) into dist/console-web: app.js (preact, uPlot and the page,
 * minified), app.css (uPlot's styles and the page's) and index.html. It runs in well under a second, so `npm start`
 * and `npm test` run it every time.
 */
export async function buildConsole(): Promise<string> {
  const web = fileURLToPath(new URL('./web/', import.meta.url))
  const out = fileURLToPath(new URL('../dist/console-web/', import.meta.url))
  await mkdir(out, { recursive: true })
  await build({
    entryPoints: [`${web}app.tsx`],
    outfile: `${out}app.js`,
    bundle: true,
    format: 'esm',
    minify: true,
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'warning',
  })
  await copyFile(`${web}index.html`, `${out}index.html`)
  // The page's own styles after uPlot's, in one stylesheet.
  const uplotCss = await readFile(createRequire(import.meta.url).resolve('uplot/dist/uPlot.min.css'), 'utf8')
  await writeFile(`${out}app.css`, `${uplotCss}\n${await readFile(`${web}app.css`, 'utf8')}`)
  return out
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildConsole()
}
