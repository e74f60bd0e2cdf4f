import { copyFile, mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

/**
 * buildConsole bundles the web console (console/web) into dist/console-web: app.js (preact and the page, minified),
 * app.css and index.html. It runs in well under a second, so `npm start` and `npm test` run it every time.
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
  await copyFile(`${web}app.css`, `${out}app.css`)
  return out
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildConsole()
}
