/**
 * A hand-written SVG chart: latency percentiles per scenario and arm, log-scaled, one group of
 * bars per scenario, one bar per arm (height = p99), with p50 and p95 ticks on each bar and the
 * max as a dot. No dependencies.
 */

const COLORS = { ours: '#2563eb', raw: '#16a34a', sio: '#dc2626' }
const LABELS = { ours: 'ours (TanStack Start /api/ws)', raw: 'raw ws (floor)', sio: 'Socket.IO' }

function esc(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;')
}

/**
 * @param {{ title: string, groups: { label: string, bars: { arm: string, p50: number|null,
 *   p95: number|null, p99: number|null, max: number|null }[] }[] }} data
 */
export function latencyChart(data) {
  const W = 900
  const H = 420
  const m = { l: 70, r: 20, t: 50, b: 90 }
  const plotW = W - m.l - m.r
  const plotH = H - m.t - m.b
  const values = data.groups.flatMap((g) => g.bars.flatMap((b) => [b.p50, b.p99, b.max]))
  const finite = values.filter((v) => typeof v === 'number' && v > 0)
  const lo = 10 ** Math.floor(Math.log10(Math.max(Math.min(...finite, 1), 0.01)))
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...finite, 10)))
  const y = (v) =>
    m.t +
    plotH -
    ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotH
  const out = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12">`,
  )
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`)
  out.push(
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="15" font-weight="600">${esc(data.title)}</text>`,
  )
  for (let d = Math.log10(lo); d <= Math.log10(hi); d++) {
    const v = 10 ** d
    const yy = y(v)
    out.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${yy}" y2="${yy}" stroke="#e5e7eb"/>`)
    out.push(
      `<text x="${m.l - 8}" y="${yy + 4}" text-anchor="end" fill="#374151">${v >= 1 ? v : v.toFixed(2)} ms</text>`,
    )
  }
  const groupW = plotW / Math.max(data.groups.length, 1)
  data.groups.forEach((g, gi) => {
    const gx = m.l + gi * groupW
    const barW = Math.min(40, (groupW * 0.8) / Math.max(g.bars.length, 1))
    const start = gx + (groupW - barW * g.bars.length) / 2
    g.bars.forEach((b, bi) => {
      const x = start + bi * barW
      const color = COLORS[b.arm] ?? '#6b7280'
      if (b.p99 !== null && b.p99 > 0) {
        const top = y(b.p99)
        out.push(
          `<rect x="${x + 2}" y="${top}" width="${barW - 4}" height="${m.t + plotH - top}" fill="${color}" opacity="0.8"><title>${esc(`${b.arm} p99 ${b.p99} ms`)}</title></rect>`,
        )
      } else {
        out.push(
          `<text x="${x + barW / 2}" y="${m.t + plotH - 4}" text-anchor="middle" fill="#6b7280">n/a</text>`,
        )
      }
      for (const [k, v] of [
        ['p50', b.p50],
        ['p95', b.p95],
      ]) {
        if (v === null || !(v > 0)) continue
        out.push(
          `<line x1="${x + 2}" x2="${x + barW - 2}" y1="${y(v)}" y2="${y(v)}" stroke="#111827" stroke-width="2"><title>${esc(`${b.arm} ${k} ${v} ms`)}</title></line>`,
        )
      }
      if (b.max !== null && b.max > 0) {
        out.push(
          `<circle cx="${x + barW / 2}" cy="${y(b.max)}" r="3" fill="#111827"><title>${esc(`${b.arm} max ${b.max} ms`)}</title></circle>`,
        )
      }
    })
    out.push(
      `<text x="${gx + groupW / 2}" y="${m.t + plotH + 18}" text-anchor="middle" fill="#111827">${esc(g.label)}</text>`,
    )
  })
  out.push(
    `<line x1="${m.l}" x2="${W - m.r}" y1="${m.t + plotH}" y2="${m.t + plotH}" stroke="#111827"/>`,
  )
  const arms = [...new Set(data.groups.flatMap((g) => g.bars.map((b) => b.arm)))]
  arms.forEach((arm, i) => {
    const lx = m.l + i * 250
    const ly = H - 40
    out.push(
      `<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${COLORS[arm] ?? '#6b7280'}" opacity="0.8"/>`,
    )
    out.push(`<text x="${lx + 18}" y="${ly}" fill="#111827">${esc(LABELS[arm] ?? arm)}</text>`)
  })
  out.push(
    `<text x="${m.l}" y="${H - 14}" fill="#4b5563">bar = p99, lines = p50 and p95, dot = max; log scale; latency from the intended emulator send time to client receipt</text>`,
  )
  out.push('</svg>')
  return `${out.join('\n')}\n`
}
