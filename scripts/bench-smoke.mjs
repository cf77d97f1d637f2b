#!/usr/bin/env node
/**
 * Checks the results of a quick benchmark run (`pnpm bench --quick`, bench/results/quick.json)
 * for the test command: the benchmark itself works end to end. Not a performance test: no
 * latency or memory figure is judged here (those are reported by the full run, see
 * docs/benchmarks.md), only that every arm ran every scenario and delivered what it should.
 *
 * - every arm (ours, raw ws, Socket.IO) ran, with receipts recorded in (a)-(e), latencies from
 *   both the intended and the actual send time, and (f) measured on every socket;
 * - no frame went to the wrong client or arrived twice, in any arm;
 * - ours lost nothing in any scenario (the stalled clients of (d) aside) and resynced every client
 *   after the storm of (e) with no gap;
 * - ours on three nodes (g) lost and doubled nothing through the kill of the gateway leader and of
 *   a web node, saw a handover, and resynced every socket of both killed nodes on the others;
 * - ours over several guilds (h) ran two gateway shards and lost and doubled nothing, and the pool
 *   creation created every room it was asked for.
 *
 * Usage: node scripts/bench-smoke.mjs [bench/results/quick.json]; exits 1 with the reasons.
 */
import { readFileSync } from 'node:fs'

const file = process.argv[2] ?? 'bench/results/quick.json'
const run = JSON.parse(readFileSync(file, 'utf8'))
const problems = []
const arms = run.config?.arms ?? []

for (const [arm, why] of Object.entries(run.skipped ?? {}))
  problems.push(`${arm} did not run: ${why}`)
for (const arm of ['ours', 'raw', 'sio']) {
  if (!arms.includes(arm)) problems.push(`${arm} was not among the arms`)
  for (const s of ['a', 'b', 'c', 'd', 'e']) {
    const r = run.results?.[s]?.[arm]
    if (!r) {
      problems.push(`(${s}) ${arm}: no result`)
      continue
    }
    if (!(r.latency?.count > 0)) problems.push(`(${s}) ${arm}: no receipt recorded`)
    if (!(r.fromSend?.latency?.count > 0)) problems.push(`(${s}) ${arm}: no send-time latency`)
    if (r.dups !== 0) problems.push(`(${s}) ${arm}: ${r.dups} duplicate frames`)
    if (r.mismatched !== 0)
      problems.push(`(${s}) ${arm}: ${r.mismatched} frames for the wrong event`)
    if (arm === 'ours' && r.lost !== 0) problems.push(`(${s}) ours: lost ${r.lost} frames`)
  }
  const f = run.results?.f?.[arm]
  if (!f || f.connections !== run.config?.large || typeof f.perConnectionKiB !== 'number')
    problems.push(`(f) ${arm}: not measured on all ${run.config?.large} sockets`)
}
const storm = run.results?.e?.ours?.action
if (storm?.notResynced !== 0 || storm?.gapsDuringStorm !== 0) {
  const seen = storm
    ? `${storm.notResynced} not resynced, ${storm.gapsDuringStorm} gaps`
    : 'no storm'
  problems.push(`(e) ours: ${seen}`)
}

const g = run.results?.g?.ours
if (!g) problems.push('(g) ours on three nodes: no result')
else {
  const a = g.action
  if (!(g.latency?.count > 0)) problems.push('(g): no receipt recorded')
  if (g.lost !== 0) problems.push(`(g): lost ${g.lost} frames`)
  if (g.dups !== 0) problems.push(`(g): ${g.dups} duplicate frames`)
  if (typeof a?.handover?.ms !== 'number') problems.push('(g): no handover seen')
  for (const fault of ['killedLeader', 'killedNode']) {
    const f = a?.[fault]
    if (!(f?.clients > 0) || f.notResynced !== 0)
      problems.push(
        `(g) ${fault}: ${f ? `${f.notResynced} of ${f.clients} not resynced` : 'no result'}`,
      )
  }
}

const h = run.results?.h?.ours
if (!h) problems.push('(h) ours over several guilds: no result')
else {
  if (!(h.latency?.count > 0)) problems.push('(h): no receipt recorded')
  if (h.lost !== 0) problems.push(`(h): lost ${h.lost} frames`)
  if (h.dups !== 0) problems.push(`(h): ${h.dups} duplicate frames`)
  if ((h.shards?.length ?? 0) < 2)
    problems.push(`(h): ${h.shards?.length ?? 0} gateway shards, not 2`)
}
const created = run.results?.h?.create
if (!created || created.created !== created.rooms) {
  problems.push(
    `(h) pool creation: ${created ? `${created.created} of ${created.rooms} created` : 'no result'}`,
  )
}

if (problems.length > 0) {
  console.error(`bench smoke: ${problems.length} problem(s) in ${file}`)
  for (const p of problems) console.error(`  - ${p}`)
  process.exit(1)
}
console.log(
  `bench smoke: every arm ran (a)-(f) on ${run.config.large} sockets, ours (g) on three nodes and (h) over guilds on two shards; ours lost nothing`,
)
