/** saveFile hands bytes or text to the browser as a download named `name`. */
export function saveFile(name: string, content: Uint8Array | string, type: string): void {
  const part = typeof content === 'string' ? content : (content as Uint8Array<ArrayBuffer>)
  const url = URL.createObjectURL(new Blob([part], { type }))
  const a = document.createElement('a')
  a.href = url
  a.download = name
  a.click()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}
