/**
 * http-steps: HTTP requests sent in the same order to a real etcd 3.4 and to etcdlite, and their answers in a form
 * that can be compared byte for byte (the differential tests of the JSON gateway).
 */

/** b64 is text as the gateway's JSON carries bytes. */
export const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64')

/**
 * Step is one request: a path, a method and a body; `lines` reads that many lines of a streamed answer. `as` sends
 * the token saved under that name (or the text itself when none is saved) in the Authorization header; `saveAs`
 * saves the token an Authenticate answers with.
 */
export interface Step {
  readonly path: string
  readonly body?: string
  readonly method?: string
  readonly lines?: number
  readonly as?: string
  readonly saveAs?: string
}

export const post = (path: string, body: unknown): Step => ({ path, body: typeof body === 'string' ? body : JSON.stringify(body) })

/** normalise replaces what differs by design: the cluster and member ids and the raft term. */
export function normalise(body: string): string {
  return body
    .replace(/"token":"[A-Za-z]{16}\.\d+"/g, '"token":"TOKEN"')
    .replace(/"cluster_id":"\d+"/g, '"cluster_id":"C"')
    .replace(/"member_id":"\d+"/g, '"member_id":"M"')
    .replace(/"raft_term":"\d+"/g, '"raft_term":"T"')
}

export interface Answer {
  status: number
  contentType: string | null
  /** headers etcd's clients or browsers read, beside the Content-Type. */
  headers: Record<string, string | null>
  body: string
}

const HEADERS = ['grpc-metadata-content-type', 'access-control-allow-origin', 'x-content-type-options', 'allow', 'trailer']

export async function send(base: string, step: Step, tokens = new Map<string, string>()): Promise<Answer> {
  const controller = new AbortController()
  const headers: Record<string, string> = step.as === undefined ? {} : { Authorization: tokens.get(step.as) ?? step.as }
  const res = await fetch(base + step.path, {
    method: step.method ?? 'POST',
    ...(step.body === undefined ? {} : { body: step.body }),
    headers,
    signal: controller.signal,
  })
  let body: string
  if (step.lines === undefined) body = await res.text()
  else {
    body = ''
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    while (body.split('\n').length <= step.lines) {
      const { value, done } = await reader.read()
      if (done) break
      body += decoder.decode(value, { stream: true })
    }
    controller.abort()
    // Compare whole lines only: how the lines fall into chunks is the transport's business.
    body = body.split('\n').slice(0, step.lines).join('\n')
  }
  if (step.saveAs !== undefined) {
    const token = /"token":"([^"]+)"/.exec(body)?.[1]
    if (token !== undefined) tokens.set(step.saveAs, token)
  }
  const answerHeaders = Object.fromEntries(HEADERS.map((h) => [h, res.headers.get(h)]))
  return { status: res.status, contentType: res.headers.get('content-type'), headers: answerHeaders, body: normalise(body) }
}
