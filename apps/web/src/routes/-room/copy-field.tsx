import { useId, useState } from 'react'

/** A read-only field with its label and a copy button (invite link, room code, watch link). */
export function CopyField({
  label,
  value,
  copyLabel,
  testId,
  wide = true,
}: {
  label: string
  value: string
  copyLabel: string
  testId?: string
  wide?: boolean
}) {
  const inputId = useId()
  const [copied, setCopied] = useState(false)
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value)
    } catch {
      const input = document.getElementById(inputId) as HTMLInputElement | null
      input?.select()
      document.execCommand?.('copy')
    }
    setCopied(true)
    setTimeout(() => setCopied(false), 2000)
  }
  return (
    <div className="copy-field">
      <label htmlFor={inputId}>{label}</label>
      <div className="row">
        <input
          id={inputId}
          readOnly
          value={value}
          className={wide ? undefined : 'code-input'}
          onFocus={(e) => e.currentTarget.select()}
          data-testid={testId}
        />
        <button type="button" className="button" onClick={copy}>
          {copyLabel}
        </button>
      </div>
      <span className="visually-hidden" aria-live="polite">
        {copied ? 'Copied.' : ''}
      </span>
    </div>
  )
}
