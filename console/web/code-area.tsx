import { useRef } from 'preact/hooks'
import { tokenize, type SyntaxLanguage } from './syntax-tokens.ts'
import { describeProblem, parseProblem, type Format } from './value-formats.ts'

/**
 * CodeArea is a textarea for a value, highlighted as JSON or YAML when that is its format, with the value checked as
 * it is typed: a text that does not parse is marked where the parser stopped, and the line, column and the parser's
 * message are shown under it. The textarea stays a plain textarea (its text is transparent over a highlighted copy
 * that scrolls with it), so typing, selection, undo and the browser's accessibility work as in any text field.
 */

/** HIGHLIGHT_MAX_CHARS: above it a value is shown without highlighting, so typing in a huge value stays quick. */
const HIGHLIGHT_MAX_CHARS = 200_000

export function CodeArea(props: {
  label: string
  value: string
  format: Format
  rows: number
  readOnly?: boolean
  onInput?: (text: string) => void
}) {
  const { value, format } = props
  const backdrop = useRef<HTMLPreElement>(null)
  const language: SyntaxLanguage | undefined = format === 'json' || format === 'yaml' ? format : undefined
  const problem = language === undefined || value.length > HIGHLIGHT_MAX_CHARS ? undefined : parseProblem(value, format)
  return (
    <div class="code-area">
      <label class="value">
        {props.label}
        <span class="code">
          <pre ref={backdrop} aria-hidden="true">
            {highlighted(value, language, problem?.offset)}
          </pre>
          <textarea
            rows={props.rows}
            spellcheck={false}
            readOnly={props.readOnly === true}
            value={value}
            aria-invalid={problem !== undefined}
            onInput={(e) => props.onInput?.(e.currentTarget.value)}
            onScroll={(e) => {
              if (backdrop.current === null) return
              backdrop.current.scrollTop = e.currentTarget.scrollTop
              backdrop.current.scrollLeft = e.currentTarget.scrollLeft
            }}
          />
        </span>
      </label>
      {problem !== undefined && (
        <p class="problem" aria-label="Validation">
          {describeProblem(problem)}
        </p>
      )}
    </div>
  )
}

/**
 * highlighted renders the backdrop: the value's tokens as spans, the character where parsing stopped marked (a
 * space after the text when it stopped at the end), and a last newline given a line to sit on, as the textarea does.
 */
function highlighted(value: string, language: SyntaxLanguage | undefined, problemAt: number | undefined) {
  if (language === undefined || value.length > HIGHLIGHT_MAX_CHARS) return `${value}\n`
  const spans = []
  let at = 0
  for (const token of tokenize(value, language)) {
    const end = at + token.text.length
    if (problemAt !== undefined && problemAt >= at && problemAt < end) {
      const cut = problemAt - at
      spans.push(<span class={`t-${token.kind}`}>{token.text.slice(0, cut)}</span>)
      spans.push(<mark class="t-problem">{token.text.slice(cut, cut + 1)}</mark>)
      spans.push(<span class={`t-${token.kind}`}>{token.text.slice(cut + 1)}</span>)
    } else {
      spans.push(<span class={`t-${token.kind}`}>{token.text}</span>)
    }
    at = end
  }
  if (problemAt !== undefined && problemAt >= value.length) spans.push(<mark class="t-problem"> </mark>)
  spans.push('\n')
  return spans
}
