/**
 * Turns a run's results into docs/benchmarks-results.json (everything, machine-readable),
 * docs/benchmarks-chart.svg and docs/benchmarks.md (method, machine, tables, targets, ratios).
 */
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { ROOT } from './lib/resolve.mjs'
import { latencyChart } from './lib/svg-chart.mjs'

const ARM_NAMES = { ours: 'ours', raw: 'raw ws', sio: 'Socket.IO' }
const SCENARIO_NAMES = {
  a: '(a) plan: 100 sockets, 100 ev/s',
  b: '(b) large sockets, steady rate',
  c: '(c) burst',
  d: '(d) 1 in 100 stalled',
  e: '(e) reconnect storm',
  f: '(f) idle memory',
  g: '(g) failover, 3 nodes',
  h: '(h) several guilds, two shards',
}

const fmt = (v, digits = 2) =>
  v === null || v === undefined || Number.isNaN(v)
    ? '–'
    : typeof v === 'number'
      ? String(+v.toFixed(digits))
      : String(v)

function ratio(a, b) {
  if (typeof a !== 'number' || typeof b !== 'number' || b === 0) return null
  return Math.round((a / b) * 100) / 100
}

/**
 * The latency summary a scenario is judged by: (d) counts only the clients that keep reading.
 * `r` is an arm's result, or its `fromSend` part.
 */
const judged = (s, r) => (s === 'd' ? r?.latencyExcludingStalled : r?.latency)

/** Every (c) burst's summary: the arm's result holds them beside the median one (one if older). */
const burstsOf = (r) => r.bursts ?? [r]

/** (c) over all bursts, as the no-loss target is judged: summed loss, latest last delivery. */
function burstTotals(r) {
  const bursts = burstsOf(r)
  return {
    lost: bursts.reduce((n, b) => n + b.lost, 0),
    lastDeliveryAfterLastDueMs: Math.max(
      ...bursts.map((b) => b.lastDeliveryAfterLastDueMs ?? Infinity),
    ),
  }
}

/** Ratios ours/raw and ours/sio of latency percentiles and throughput, per scenario. */
export function ratios(results) {
  const out = {}
  for (const s of ['a', 'b', 'c', 'd', 'e']) {
    const ours = results[s]?.ours
    if (!ours) continue
    out[s] = {}
    for (const base of ['raw', 'sio']) {
      const other = results[s]?.[base]
      if (!other) continue
      const r = {}
      for (const k of ['p50', 'p95', 'p99', 'p999', 'max'])
        r[k] = ratio(judged(s, ours)?.[k], judged(s, other)?.[k])
      r.deliveredPerSec = ratio(ours.deliveredPerSec, other.deliveredPerSec)
      out[s][`ours/${base}`] = r
    }
  }
  return out
}

/** The issue's targets, evaluated for our arm (reported, not asserted). */
export function targets(results, config) {
  const t = []
  const add = (id, text, value, pass) =>
    t.push({ id, text, value, pass: value === null ? null : pass })
  const a = results.a?.ours
  add(
    'a1',
    '(a) p95 <= 300 ms (the plan)',
    a?.latency?.p95 ?? null,
    (a?.latency?.p95 ?? Infinity) <= 300,
  )
  add(
    'a2',
    '(a) p99 <= 10 ms (our aim)',
    a?.latency?.p99 ?? null,
    (a?.latency?.p99 ?? Infinity) <= 10,
  )
  const b = results.b?.ours
  add(
    'b',
    `(b) p99 <= 50 ms with no loss at ${config.large} sockets`,
    b ? `p99 ${fmt(b.latency?.p99)} ms, lost ${b.lost}` : null,
    (b?.latency?.p99 ?? Infinity) <= 50 && b?.lost === 0,
  )
  // Judged on every burst: their summed loss and their latest last delivery.
  const c = results.c?.ours
  const cAll = c ? burstTotals(c) : null
  const cBursts = c ? burstsOf(c).length : 0
  add(
    'c',
    '(c) no loss, everything delivered within 1 s after the burst',
    c
      ? `lost ${cAll.lost}, last delivery ${cAll.lastDeliveryAfterLastDueMs} ms after the last send${cBursts > 1 ? ` (worst of ${cBursts} bursts)` : ''}`
      : null,
    cAll?.lost === 0 && (cAll?.lastDeliveryAfterLastDueMs ?? Infinity) <= 1000,
  )
  const d = results.d?.ours
  const dp99 = d?.latencyExcludingStalled?.p99
  add(
    'd',
    "(d) the other clients' p99 within 20% of (b)",
    d ? `p99 ${fmt(dp99)} ms vs ${fmt(b?.latency?.p99)} ms` : null,
    typeof dp99 === 'number' && typeof b?.latency?.p99 === 'number' && dp99 <= b.latency.p99 * 1.2,
  )
  const e = results.e?.ours
  const st = e?.action
  add(
    'e',
    '(e) every client resynced within 10 s, with no gap',
    st
      ? `${st.resynced}/${st.clients} resynced (${st.recovered} replayed, ${st.snapshot} snapshot), max ${fmt(st.resyncMs?.max)} ms, gaps ${st.gapsDuringStorm}, lost ${e.lost}`
      : null,
    !!st &&
      st.notResynced === 0 &&
      (st.resyncMs?.max ?? Infinity) <= 10_000 &&
      st.gapsDuringStorm === 0 &&
      e.lost === 0,
  )
  const f = results.f?.ours
  add(
    'f',
    '(f) at most 16 KiB per idle connection',
    f ? `${f.perConnectionKiB} KiB` : null,
    (f?.perConnectionKiB ?? Infinity) <= 16,
  )
  const g = results.g?.ours
  const ga = g?.action
  add(
    'g1',
    '(g) no event lost or doubled through the kill of the gateway leader and of a web node',
    g ? `lost ${g.lost}, doubled ${g.dups}` : null,
    g?.lost === 0 && g?.dups === 0,
  )
  add(
    'g2',
    '(g) handover within the lease + 2 s',
    ga?.handover
      ? `${ga.handover.ms} ms (${ga.handover.mode}; lease ${ga.leaseMs} ms)`
      : ga
        ? 'no handover seen'
        : null,
    typeof ga?.handover?.ms === 'number' && ga.handover.ms <= ga.leaseMs + 2000,
  )
  const resyncMax = (k) => ga?.[k]?.resyncMs?.max
  add(
    'g3',
    '(g) every socket of a killed node resynced on the others within 10 s',
    ga
      ? `leader's ${ga.killedLeader?.resynced}/${ga.killedLeader?.clients} in ${fmt(resyncMax('killedLeader'))} ms, other node's ${ga.killedNode?.resynced}/${ga.killedNode?.clients} in ${fmt(resyncMax('killedNode'))} ms`
      : null,
    !!ga &&
      ga.killedLeader?.notResynced === 0 &&
      ga.killedNode?.notResynced === 0 &&
      (resyncMax('killedLeader') ?? Infinity) <= 10_000 &&
      (resyncMax('killedNode') ?? Infinity) <= 10_000,
  )
  add(
    'g4',
    "(g) p99 outside the fault windows against (a)'s single node (reported)",
    g?.latencyOutsideFaults
      ? `${fmt(g.latencyOutsideFaults.p99)} ms vs ${fmt(results.a?.ours?.latency?.p99)} ms`
      : null,
    true,
  )
  const h = results.h?.ours
  add(
    'h1',
    '(h) rooms over several guilds on two shards: no event lost or doubled',
    h ? `lost ${h.lost}, doubled ${h.dups}, ${h.shards?.length ?? 0} shards` : null,
    h?.lost === 0 && h?.dups === 0 && (h?.shards?.length ?? 0) >= 2,
  )
  add(
    'h2',
    "(h) p99 against (b)'s one guild, same sockets and rate (reported)",
    h ? `${fmt(h.latency?.p99)} ms vs ${fmt(results.b?.ours?.latency?.p99)} ms` : null,
    true,
  )
  const hc = results.h?.create
  add(
    'h3',
    '(h) every room of the pool creation created, in every guild of the pool (time reported)',
    hc
      ? `${hc.created}/${hc.rooms} in ${fmt(hc.totalMs / 1000, 1)} s, per guild ${hc.perGuild.join('/')}`
      : null,
    !!hc && hc.created === hc.rooms && hc.perGuild.every((n) => n > 0),
  )
  // The comparison target names no scenario, so it is judged on every one with a latency:
  // (d) on the clients that keep reading, (e) on the events sent during the storm.
  const p99Of = (s, arm) => judged(s, results[s]?.[arm])?.p99
  for (const s of ['a', 'b', 'c', 'd', 'e']) {
    const o = p99Of(s, 'ours')
    const raw = p99Of(s, 'raw')
    const sio = p99Of(s, 'sio')
    add(
      `g-${s}`,
      `(${s}) ${s === 'd' ? 'non-stalled ' : ''}p99 no worse than 1.5x raw ws and better than Socket.IO`,
      typeof o === 'number' && (typeof raw === 'number' || typeof sio === 'number')
        ? `ours ${fmt(o)} / raw ${fmt(raw)} / Socket.IO ${fmt(sio)} ms`
        : null,
      typeof o === 'number' &&
        typeof raw === 'number' &&
        typeof sio === 'number' &&
        o <= raw * 1.5 &&
        o < sio,
    )
  }
  return t
}

/** The results of the latency scenarios (a)-(e), arm by arm, in table order. */
function* scenarioArms(results, arms) {
  for (const s of ['a', 'b', 'c', 'd', 'e']) {
    for (const arm of arms) {
      const r = results[s]?.[arm]
      if (r) yield { s, arm, r }
    }
  }
}

function latencyTable(results, arms) {
  const rows = [
    '| scenario | arm | samples | p50 | p95 | p99 | p99.9 | max | delivered/s | lost | dup | server CPU % | server RSS MiB (peak) | loop delay p99 / max ms | GC max ms | generator lag p99 ms | core 1 CPU % (generator / load) |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const { s, arm, r } of scenarioArms(results, arms)) {
    const l = judged(s, r)
    rows.push(
      `| ${SCENARIO_NAMES[s]}${s === 'd' ? ' (non-stalled)' : ''} | ${ARM_NAMES[arm]} | ${l?.count ?? 0} | ${fmt(l?.p50)} | ${fmt(l?.p95)} | ${fmt(l?.p99)} | ${fmt(l?.p999)} | ${fmt(l?.max)} | ${fmt(r.deliveredPerSec, 0)} | ${r.lost} | ${r.dups} | ${fmt(r.server?.cpuPercent, 1)} | ${fmt(r.server?.rssMiB, 1)} (${fmt(r.server?.peakRssMiB, 1)}) | ${fmt(r.server?.loopDelay?.p99)} / ${fmt(r.server?.loopDelay?.max)} | ${fmt(r.server?.gc?.maxMs, 1)} | ${fmt(r.generator?.lag?.p99)} | ${fmt(r.core1?.generator?.cpuPercent, 1)} / ${fmt(r.core1?.load?.cpuPercent, 1)} |`,
    )
  }
  return rows.join('\n')
}

/** Latency from the generator's actual send of each event: the same receipts, its lag left out. */
function fromSendTable(results, arms) {
  const rows = [
    '| scenario | arm | p50 | p95 | p99 | p99.9 | max | p99 from the intended time |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ]
  for (const { s, arm, r } of scenarioArms(results, arms)) {
    const l = judged(s, r.fromSend)
    if (!l) continue
    const due = judged(s, r)
    rows.push(
      `| ${SCENARIO_NAMES[s]}${s === 'd' ? ' (non-stalled)' : ''} | ${ARM_NAMES[arm]} | ${fmt(l.p50)} | ${fmt(l.p95)} | ${fmt(l.p99)} | ${fmt(l.p999)} | ${fmt(l.max)} | ${fmt(due?.p99)} |`,
    )
  }
  return rows.length > 2 ? rows.join('\n') : ''
}

function stormTable(results, arms) {
  const rows = [
    '| arm | sockets | resynced | by replay | by snapshot | resync p50 / p99 / max ms | gaps | lost | storm wall ms |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const arm of arms) {
    const r = results.e?.[arm]
    const st = r?.action
    if (!st) continue
    rows.push(
      `| ${ARM_NAMES[arm]} | ${st.clients} | ${st.resynced} | ${st.recovered} | ${st.snapshot} | ${fmt(st.resyncMs?.p50)} / ${fmt(st.resyncMs?.p99)} / ${fmt(st.resyncMs?.max)} | ${st.gapsDuringStorm} | ${r.lost} | ${st.wallMs} |`,
    )
  }
  return rows.join('\n')
}

function burstTable(results, arms) {
  const rows = [
    '| arm | p99 of each burst, ms | median | lost (all bursts) | latest last delivery after the last send, ms |',
    '|---|---|---:|---:|---:|',
  ]
  for (const arm of arms) {
    const r = results.c?.[arm]
    if (!r) continue
    const all = burstTotals(r)
    const each = burstsOf(r)
      .map((b) => fmt(b.p99 ?? b.latency?.p99))
      .join(', ')
    rows.push(
      `| ${ARM_NAMES[arm]} | ${each} | ${fmt(r.latency?.p99)} | ${all.lost} | ${fmt(all.lastDeliveryAfterLastDueMs)} |`,
    )
  }
  return rows.join('\n')
}

function stallTable(results, arms) {
  const rows = [
    '| arm | stalled sockets | non-stalled p99 ms | (b) p99 ms | ratio | closes seen by clients | server peak RSS MiB |',
    '|---|---:|---:|---:|---:|---|---:|',
  ]
  for (const arm of arms) {
    const r = results.d?.[arm]
    if (!r) continue
    const p = r.latencyExcludingStalled?.p99
    const b = results.b?.[arm]?.latency?.p99
    rows.push(
      `| ${ARM_NAMES[arm]} | ${r.stalledSockets} | ${fmt(p)} | ${fmt(b)} | ${fmt(ratio(p, b))} | ${JSON.stringify(r.closes)} | ${fmt(r.server?.peakRssMiB, 1)} |`,
    )
  }
  return rows.join('\n')
}

/** (g): ours on three nodes, through two kills. */
function failoverSection(results, config) {
  const g = results.g?.ours
  const P = config.scenarios.g
  if (!g || !P) return ''
  const a = g.action ?? {}
  const l = g.latency
  const out = g.latencyOutsideFaults
  const single = results.a?.ours?.latency
  const row = (what, f) =>
    `| ${what} | ${f?.node ?? '–'} | ${f?.clients ?? '–'} | ${f?.resynced ?? '–'} (${f?.recovered ?? '–'} replayed, ${f?.snapshot ?? '–'} snapshot) | ${fmt(f?.resyncMs?.p50)} | ${fmt(f?.resyncMs?.max)} | ${f?.gapsDuringFailover ?? '–'} |`
  return `## (g) Failover across three nodes (ours)

Three servers of ours (the production build) on one Redis, each a candidate for the gateway lease
(\`GATEWAY_MODE=in-process\`, \`GATEWAY_LEASE_MS=${P.leaseMs}\`), all pinned to core 0 with a
redis-server of the bench's own; (a)'s ${config.small} sockets spread over them (one in three on
each), (a)'s ${P.rate} ev/s for ${P.seconds} s. After ${P.killLeaderAfterSeconds} s the node
leading the gateway is killed (\`kill -9\`); its sockets reconnect at once to the two others,
resuming from their last seq, as browsers behind a load balancer would. After
${P.killNodeAfterSeconds} s one of the two left that does not lead is killed the same way, and its
sockets move to the last one. Lost and doubled are counted per client from the room sequence
numbers, as in every scenario. The handover is from the kill to the new leader's RESUMED (or READY),
as its \`/api/health\` reports it (\`lastHandover\`: when it took the lease, and how long from
there). A fault's window lasts from 1 s before the kill (events on their way through the killed
leader) to its last socket resynced and the handover, plus 2 s (the backlog Discord replays to the
new leader drains within about a second); the p99 outside them is over the events due elsewhere in
the window.

| | value |
|---|---|
| events lost | ${g.lost} (of ${g.expected}) |
| events doubled | ${g.dups} |
| handover | ${a.handover ? `${a.handover.ms} ms, ${a.handover.mode}, to ${a.handover.holderId} (token ${a.handover.token})` : 'not seen'} |
| p50 / p99 / max, all events | ${fmt(l?.p50)} / ${fmt(l?.p99)} / ${fmt(l?.max)} ms |
| p50 / p99 / max, outside the fault windows | ${fmt(out?.p50)} / ${fmt(out?.p99)} / ${fmt(out?.max)} ms (${out?.count ?? 0} receipts) |
| (a), one node, same run: p50 / p99 / max | ${fmt(single?.p50)} / ${fmt(single?.p99)} / ${fmt(single?.max)} ms |
| kills at (s into the window) | ${(a.faultsAt ?? []).map((ms) => (ms / 1000).toFixed(1)).join(', ') || '–'} |

| fault | node | its sockets | resynced | p50 ms | max ms | gaps seen |
|---|---|---|---|---|---|---|
${row('gateway leader killed', a.killedLeader)}
${row('then a web node killed', a.killedNode)}
`
}

/** (h): ours over several guilds and two gateway shards; then room creation across a pool. */
function guildsSection(results, config) {
  const h = results.h?.ours
  const c = results.h?.create
  const P = config.scenarios.h
  if ((!h && !c) || !P) return ''
  const l = h?.latency
  const b = results.b?.ours?.latency
  const shardRows = (h?.shards ?? [])
    .map((s) => `| shard ${s.id} of ${s.count} | ${s.state} | ${s.guilds ?? '–'} |`)
    .join('\n')
  return `## (h) Several guilds on two shards, and a pool filling up (ours)

One server of ours serves ${config.large} sockets in rooms spread round robin over ${P.guilds}
guilds (\`DISCORD_GUILD_IDS\`), seeded in a second emulator process that allows two guilds per
shard, so \`GET /gateway/bot\` recommends two shards and the server runs one gateway connection per
shard (IDENTIFY within the \`max_concurrency\` bucket). (b)'s ${P.rate} ev/s for ${P.seconds} s,
measured as (b): every event goes to the guild's shard, then to its room's sockets only.

| | value |
|---|---|
| events lost / doubled | ${h ? `${h.lost} / ${h.dups} (of ${h.expected})` : '–'} |
| p50 / p99 / max | ${fmt(l?.p50)} / ${fmt(l?.p99)} / ${fmt(l?.max)} ms |
| (b), one guild, same run: p50 / p99 / max | ${fmt(b?.p50)} / ${fmt(b?.p99)} / ${fmt(b?.max)} ms |
| rooms per guild | ${h?.roomsPerGuild?.join(' / ') ?? '–'} |

| gateway shard | state | guilds |
|---|---|---|
${shardRows}

Then \`bench/pool-create.ts\` creates ${c?.rooms ?? P.create} rooms across a pool of ${P.guilds}
guilds through the app's own room commands (pool placement, a category every 50 rooms, the voice
channel with its overwrites, the host added with \`guilds.join\`), ${c?.concurrency ?? '–'} creators
at once, each a different player, with the emulator's REST rate limits on (Discord's shape: 10
requests a second per route bucket, 50 a second in all). The emulator runs in the same process;
the time is bound by the rate limits, which @discordjs/rest queues for.

| | value |
|---|---|
| rooms created | ${c ? `${c.created} of ${c.rooms}` : '–'} |
| time for all | ${c ? `${fmt(c.totalMs / 1000, 1)} s (${c.roomsPerSecond} rooms/s)` : '–'} |
| one room, p50 / p95 / p99 / max | ${c ? `${c.latencyMs.p50} / ${c.latencyMs.p95} / ${c.latencyMs.p99} / ${c.latencyMs.max} ms` : '–'} |
| rooms per guild | ${c?.perGuild?.join(' / ') ?? '–'} |
| REST requests / answered 429 | ${c ? `${c.restRequests} / ${c.rateLimited}` : '–'} |
`
}

function memoryTable(results, arms) {
  const rows = [
    '| arm | idle sockets | RSS before MiB | RSS after MiB | RSS per socket KiB | JS heap per socket KiB | connect time ms |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ]
  for (const arm of arms) {
    const f = results.f?.[arm]
    if (!f) continue
    rows.push(
      `| ${ARM_NAMES[arm]} | ${f.connections} | ${fmt(f.rssBeforeMiB, 1)} | ${fmt(f.rssAfterMiB, 1)} | ${fmt(f.perConnectionKiB, 1)} | ${fmt(f.heapPerConnectionKiB, 1)} | ${f.connect?.ms ?? '–'} |`,
    )
  }
  return rows.join('\n')
}

function ratioTable(r) {
  const rows = [
    '| scenario | ratio | p50 | p95 | p99 | p99.9 | max | delivered/s |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ]
  for (const [s, byBase] of Object.entries(r)) {
    for (const [name, v] of Object.entries(byBase)) {
      rows.push(
        `| ${SCENARIO_NAMES[s]} | ${name} | ${fmt(v.p50)} | ${fmt(v.p95)} | ${fmt(v.p99)} | ${fmt(v.p999)} | ${fmt(v.max)} | ${fmt(v.deliveredPerSec)} |`,
      )
    }
  }
  return rows.join('\n')
}

/**
 * Writes the three output files; returns their paths. The committed reference files in docs/
 * are written only for a full run (`output` unset); quick and partial runs name their own
 * files (e.g. bench/results/quick.*), so they never overwrite the reference results.
 *
 * @param {{ meta: object, config: object, results: object, skipped: object,
 *   output?: { dir: string, base: string } }} run
 */
export async function writeReport({ meta, config, results, skipped, output }) {
  const arms = config.arms
  const r = ratios(results)
  const t = targets(results, config)
  const json = { meta, config, skipped, targets: t, ratios: r, results }
  const dir = output?.dir ?? path.join(ROOT, 'docs')
  const base = output?.base ?? 'benchmarks'
  const jsonPath = path.join(dir, output ? `${base}.json` : `${base}-results.json`)
  const svgPath = path.join(dir, output ? `${base}.svg` : `${base}-chart.svg`)
  const mdPath = path.join(dir, `${base}.md`)
  await writeFile(jsonPath, `${JSON.stringify(json, null, 2)}\n`)
  const groups = ['a', 'b', 'c', 'd', 'e']
    .filter((s) => arms.some((a) => results[s]?.[a]))
    .map((s) => ({
      label: SCENARIO_NAMES[s].replace(/:.*/, '').replace('large sockets, ', ''),
      bars: arms
        .filter((a) => results[s]?.[a])
        .map((a) => {
          const l = judged(s, results[s][a])
          return {
            arm: a,
            p50: l?.p50 ?? null,
            p95: l?.p95 ?? null,
            p99: l?.p99 ?? null,
            max: l?.max ?? null,
          }
        }),
    }))
  await writeFile(
    svgPath,
    latencyChart({
      title: `Emulator send -> browser socket receipt latency${config.quick ? ' (quick run)' : ''}`,
      groups,
    }),
  )
  // The analysis of misses is written by a person after looking at a full run and its profiles.
  const analysis = await readFile(path.join(ROOT, 'bench', 'analysis.md'), 'utf8').catch(() => '')
  await writeFile(
    mdPath,
    markdown({
      meta,
      config,
      results,
      skipped,
      ratios: r,
      targets: t,
      analysis: output ? '' : analysis,
      files: { svg: path.basename(svgPath), json: path.basename(jsonPath) },
    }),
  )
  for (const line of summaryLines(t, r)) console.log(line)
  return [mdPath, jsonPath, svgPath].map((p) => path.relative(ROOT, p))
}

function summaryLines(t, r) {
  const lines = ['', 'targets (ours):']
  for (const x of t)
    lines.push(
      `  ${x.pass === null ? 'n/a ' : x.pass ? 'MET ' : 'MISS'} ${x.text}: ${x.value ?? 'not measured'}`,
    )
  lines.push('ratios (ours / baseline, <1 is better for latency, >1 for throughput):')
  for (const [s, byBase] of Object.entries(r)) {
    for (const [name, v] of Object.entries(byBase)) {
      lines.push(
        `  (${s}) ${name}: p50 ${fmt(v.p50)} p95 ${fmt(v.p95)} p99 ${fmt(v.p99)} p99.9 ${fmt(v.p999)} max ${fmt(v.max)} throughput ${fmt(v.deliveredPerSec)}`,
      )
    }
  }
  return lines
}

function markdown({ meta, config, results, skipped, ratios: r, targets: t, analysis, files }) {
  const P = config.scenarios
  const arms = config.arms
  const skippedLines = Object.entries(skipped).map(
    ([arm, why]) => `- **${ARM_NAMES[arm] ?? arm} did not run**: ${why.replace(/\n/g, ' ')}`,
  )
  return `# Benchmarks

Generated by \`pnpm bench${config.quick ? ' --quick' : ''}\` on ${meta.date} (commit \`${meta.commit}\`).
${config.quick ? '\n> **This is a quick smoke run** (small sizes, seconds-long windows). Its numbers are not the\n> reference results; run `pnpm bench` for those.\n' : ''}
Reproduce: \`pnpm bench\` (full, ~20 min on 2 cores) or \`pnpm bench --quick\` (< 1 min smoke run).
Options: \`--cpu-prof\` (writes a V8 CPU profile of each server arm to \`bench/results/\`),
\`--arms=ours,raw,sio\`, \`--scenarios=a,b,c,d,e,f,g\`, \`--large=N\` (sockets in the large phase),
\`--no-build\` (reuse \`apps/web/.output\`), \`--write-docs\` (let a partial run replace these files).
Quick runs write \`bench/results/quick.md\` (+ \`.json\`, \`.svg\`), other partial runs
\`bench/results/partial.*\`; only a full default run writes docs/. With \`BENCH_STALLS=1 BENCH_VERBOSE=1\`
every process (server, emulator, load) prints its event-loop stalls over 15 ms, GC pauses over 5 ms
and heap size every 5 s on one wall-clock timeline: how the stalls below were traced;
\`BENCH_HEAP_SNAPSHOT=<dir>\` writes heap snapshots of each server arm before (a)
(\`<pid>-a.heapsnapshot\`), before its idle sockets connect (\`<pid>-before.heapsnapshot\`),
with them (\`<pid>.heapsnapshot\`) and after (b) (\`<pid>-after-b.heapsnapshot\`);
\`BENCH_ALLOC_PROFILE=<dir>\` writes a V8 sampling heap profile of each measured window,
objects freed since included (\`<pid>-window<n>.heapprofile\`, open in Chrome DevTools): where the allocation, and so the young collections, comes from;
with \`BENCH_ALLOC_PROFILE_PROMOTED=1\` as well, what young collections freed is left out, so the
profile leans to what was promoted (plus the young garbage each major collection frees, about
5% of a site's allocation here: compare with a full profile of the same window);
\`BENCH_SAMPLES=<dir>\` writes every recorded receipt of each scenario and arm (event index,
intended time, send time, receipt time) as a TSV file, to see when the slow ones happened;
\`BENCH_SERVER_FLAGS\` adds Node flags to every server arm (e.g. \`--trace-gc\`).

![latency chart](${files.svg})

${skippedLines.length ? `## What did not run\n\n${skippedLines.join('\n')}\n` : ''}
## Targets (ours)

Reported, not asserted.

| target | measured | met |
|---|---|---|
${t.map((x) => `| ${x.text} | ${x.value ?? 'not measured'} | ${x.pass === null ? '–' : x.pass ? 'yes' : '**no**'} |`).join('\n')}

${analysis ? `## Analysis (hand-written for the committed full run)\n\n${analysis.trim()}\n` : ''}
## Latency and throughput

Latency is measured per recipient, in ms, from the **intended** send time of the event on the
open-loop schedule to the moment the client's \`message\` callback runs. (d) counts only the
clients that keep reading.

${latencyTable(results, arms)}

${
  fromSendTable(results, arms)
    ? `### From the actual send

The same receipts measured from the moment the generator handed each event to the emulator
(\`sentAt\`, taken just before \`world.setVoice\`), which leaves out the generator's lag
behind the schedule (its timer's slack and the other work on core 1). The targets and the
ratios use the intended time above.

${fromSendTable(results, arms)}
`
    : ''
}
## Ratios

ours / baseline: below 1 means we are faster (latency) or, for delivered/s, above 1 means we deliver more.

${ratioTable(r)}

## (c) Bursts

${P.c.repeats ?? 1} burst(s) of ${P.c.events} events spread evenly over one second, each its own window
(with the full collections before it). The latency tables and ratios show the burst with the
median p99; the no-loss target is judged on every burst.

${burstTable(results, arms)}

## (d) Stalled clients

One socket in ${P.d.every} stops reading (its TCP socket is paused in the load process) while
${P.d.rate} ev/s flow across the rooms; the other clients' latency is the one compared with (b). Ours and
Socket.IO close a stalled socket once it misses their ping timeout (the raw ws arm has no
heartbeat and keeps it). Spread over ${Math.floor(config.large / config.playersPerRoom)} rooms, a
stalled socket is sent about ${Math.round((P.d.rate / Math.floor(config.large / config.playersPerRoom)) * (P.d.seconds - P.d.warmupSeconds))} frames in the window (tens of KB at most), which the kernel's socket
buffers hold: what this scenario checks is that the stalled sockets cost the others nothing,
not a server queue.

${stallTable(results, arms)}

## (e) Reconnect storm

Every socket drops at once (\`terminate()\`: no close handshake) ${P.e.stormAfterSeconds} s into a
${P.e.seconds} s schedule at ${P.e.rate} ev/s and reconnects immediately, resuming from the last
sequence number it applied. "Resynced" = the client has everything up to the position the server
announced on resubscribe. The load generator creates the new
sockets in batches of 250 with a turn of its event loop between batches, so requests leave while
it is still creating the rest (one synchronous loop over 10,000 sockets held every request back
for ~2 s); nothing is throttled, and all reconnects are in flight within 3-4 s. Socket.IO clients
reconnect by themselves. Time counts from the drop, so the generator's own work weighs on every
arm alike.

${stormTable(results, arms)}

## (f) Memory per idle connection

Server RSS after a forced GC (\`--expose-gc\`), before and after ${config.large} sockets connected
and subscribed (idle), divided by the number of sockets.

${memoryTable(results, arms)}

${failoverSection(results, config)}
${guildsSection(results, config)}
## Method

**Measured segment.** Emulator gateway dispatch -> the server's Discord gateway client ->
(ours: voice feed -> voice router -> event bus -> \`/api/ws\` crossws peer) -> a WebSocket client
in a separate load process. t0 is the intended send time of the event on a fixed schedule;
tn is the client's receipt. All bench processes read the same clock, \`process.hrtime.bigint()\`
(CLOCK_MONOTONIC, shared by every process on a Linux host), so no clock skew is involved.

**Processes and pinning** (2 cores): server arm \`taskset -c 0\`; emulator + generator and the
load process \`taskset -c 1\`; the orchestrator is unpinned and idle while measuring. The server's
CPU % and RSS come from \`/proc/<pid>\`; event-loop delay (\`monitorEventLoopDelay\`, 10 ms
resolution) and GC pauses (\`PerformanceObserver('gc')\`) from \`bench/probe.mjs\`, preloaded into
every arm with \`--import\` (same cost everywhere). Each server arm runs with the Node flags
\`pnpm start\` uses on a one-core host (\`scripts/lib/server-flags.mjs\`:
\`--experimental-async-context-frame --single-threaded-gc\`), the baselines included, so no arm
has a GC or runtime setting the others lack (the baselines use no AsyncLocalStorage, so the first
flag changes nothing for them).

**Events.** The emulator process toggles one player's \`selfMute\` per event
(\`world.setVoice\`), which makes the gateway dispatch VOICE_STATE_UPDATE and our server publish
\`voice.updated\` to that room. Event g is due at t0 + g/rate and goes to room g mod R, the room's
players taking turns. The generator is **open loop**: a late server never delays the next send,
and a late send is charged to the latency (measured from the intended time, avoiding coordinated
omission). The generator's own lag against the schedule is reported (generator lag). It is
**timer-driven**: it sleeps with \`setTimeout\` until the next intended send time (Node timers
have ~1 ms granularity) and then sends, in order, every event whose time has passed; it never
spins, so the load process on the same core is not starved. (Up to commit 8223bc3 it
busy-looped on \`setImmediate\` whenever the next event was under 1.5 ms away, i.e. all the time
at 1,000 ev/s, and took ~85% of core 1.) The timer's slack (up to ~1 ms) is in the generator lag
and in every arm's latency alike.

**Matching, loss and duplicates.** Each client knows the room's sequence number before the
schedule starts; the n-th frame after it is the room's n-th scheduled event, checked against the
expected player. A sequence number seen twice is a duplicate, a jump is a gap, and at the end
every client's last sequence number is compared with the number of events sent to its room
(lost = expected - received, stalled clients excluded).

**Warm-up and samples.** Before any arm is measured, the raw ws arm and a load process take
${config.warmupSeconds ?? 0} s of (a)'s schedule, unrecorded, so that the emulator process is compiled and past the
collections that follow seeding its world (without it, whichever arm went first had a
generator lag p99 0.5-1 ms higher than the others, and its (a) p99 with it). The generator
then sends (b)'s rate for ${config.warmupLargeSeconds ?? 5} s and (c)'s burst to the large phase's rooms, also unrecorded:
the first burst the emulator ever sent ran 10-14 ms behind its schedule at its start, and the
first arm's (c) p99 was 2-3x the next arm's. Before every window each process on the path
(the server arm, the generator, the load process) gets a full GC (\`--expose-gc\`), so the
windows measure the steady state: not a server's start-up garbage (V8's memory reducer compacted
ours' 25 s after start, a 31 ms pause in (a)), not the previous scenario's (the storm leaves
10,000 closed connections' worth before (d)), and not a major collection of the instruments
that happened to fall in one arm's window.
Within each scenario, the first ${P.a.warmupSeconds} s (a) / ${P.b.warmupSeconds} s (b) / ${P.d.warmupSeconds} s (d)
of events are sent and counted but not recorded (in (a), long enough for V8 to settle the
server's optimised code: each arm's (a) runs on a server process of its own, and at 100 ev/s its
JIT compiles for about half a minute, on the server's one core; in (b), long enough to fill the
two-minute resume history that every arm keeps, so (b) and (d) both run with it full); (c) and (e) record every event (the burst and
the storm are what they measure). Every event reaches the ${config.playersPerRoom} sockets of its room, so a
scenario's sample count (the "samples" column) is recorded events x ${config.playersPerRoom}, e.g. (b)
${(P.b.seconds - P.b.warmupSeconds) * P.b.rate} events -> ${(P.b.seconds - P.b.warmupSeconds) * P.b.rate * config.playersPerRoom} samples; (d) excludes the stalled sockets' receipts. Histograms are HdrHistogram
(\`hdr-histogram-js\`, 3 significant digits, microsecond resolution); p99.9 is left blank below
10,000 samples.

**Sizes.** (a) ${config.small} sockets (${config.small / config.playersPerRoom} rooms of ${config.playersPerRoom}), ${P.a.rate} ev/s for ${P.a.seconds} s.
(b)-(f) ${config.large} sockets (${Math.floor(config.large / config.playersPerRoom)} rooms of ${config.playersPerRoom}, the
emulator's per-guild/per-category channel limits lifted): (b) ${P.b.rate} ev/s for ${P.b.seconds} s;
(c) ${P.c.repeats ?? 1} x ${P.c.events} events spread evenly over one second (the median burst shown); (d) as (b) for ${P.d.seconds} s with one socket in
${P.d.every} stalled; (e) as described above; (f) idle. Every client is a distinct user holding one
socket (the per-user socket limit applies) subscribed to its own room.

### The three arms

| | ours | raw ws (floor) | Socket.IO |
|---|---|---|---|
| process | \`apps/web/.output/server/index.mjs\` (production build, Nitro + crossws) | \`bench/arms/raw-ws-server.mjs\` | \`bench/arms/socketio-server.mjs\` |
| gateway client | \`@repo/discord-gateway\` (supervised @discordjs/ws 2.x) | @discordjs/ws 2.x, bare | @discordjs/ws 2.x, bare |
| event source | the same emulator process, the same VOICE_STATE_UPDATE dispatches | same | same |
| voice state | reducer, voice feed, voice router (validation, persistence, metrics) | a Map, flags diffed | same as raw |
| fan-out | event bus (per-room seq, history) -> subscribed crossws peers, buffer cap 1 MiB -> close 4009 | per-room seq + 500-frame history, one Buffer written to each \`ws\` | \`io.to(room).emit('frame', text)\` (encoded once by the adapter) |
| auth | signed session cookie looked up in the server-side session store (a local cache first) + Origin check on every upgrade | none | none |
| client protocol | \`subscribe {room, since?, epoch?}\` -> \`subscribed\` + snapshot or replay | \`subscribe {room, since?}\` -> \`subscribed\` + replay | \`subscribe\` event with ack |
| resume after a drop | \`since\` + epoch, replay from the bus history | \`since\`, replay from the history | Socket.IO connection state recovery (2 min) |
| slow consumers | closed at 1 MiB buffered (4009) | unbounded buffering | unbounded buffering (until the 45 s ping timeout) |

All arms: WebSocket transport only, per-message deflate off, loopback TCP. Socket.IO's receipt
time is taken in its event handler, after socket.io-client decoded the packet (one extra
\`JSON.parse\` compared with the ws arms); the difference is microseconds.

## Machine

| | |
|---|---|
| CPU | ${meta.cpuModel} (${meta.cores} cores) |
| memory | ${meta.memGiB} GiB |
| kernel | ${meta.kernel} |
| Node | ${meta.node} |
| open files limit | ${meta.fdLimit} |
| pinning | ${meta.pinning} |
| server Node flags | ${meta.serverFlags ?? '(none)'} (every arm) |
| clients | Node WebSocket clients (\`ws\`, \`socket.io-client\`) in the load process; no browser, Chromium is not involved |
| build | ${meta.build?.built ? `vite build in ${meta.build.ms} ms` : 'existing apps/web/.output reused'} |

Raw data: [${files.json}](${files.json}) (every number above plus the encoded
HdrHistograms per scenario and arm).
`
}

// `node bench/report.mjs`: re-renders docs/benchmarks.md and the chart from the committed
// results file (e.g. after editing bench/analysis.md), without running the benchmark again.
if (process.argv[1] && path.resolve(process.argv[1]) === path.join(ROOT, 'bench', 'report.mjs')) {
  const saved = JSON.parse(
    await readFile(path.join(ROOT, 'docs', 'benchmarks-results.json'), 'utf8'),
  )
  await writeReport({
    meta: saved.meta,
    config: saved.config,
    results: saved.results,
    skipped: saved.skipped,
  })
}
