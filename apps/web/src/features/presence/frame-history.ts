import type { ReplayFrame } from './event-bus'

/**
 * One room's recent frames, for resume, as parallel arrays: each frame costs one heap object (its
 * text) and three array slots (the stamp times are unboxed doubles), where a record per frame
 * cost three objects (the record, its boxed timestamp and the text). The history holds up to two
 * minutes of every room, which under 1,000 events/s is most of what a major GC marks beyond the
 * sockets. Seqs are consecutive, so only the oldest is kept.
 */
export class FrameHistory {
  /** The seq of the oldest retained frame (meaningless while empty). */
  #firstSeq = 0
  readonly #texts: string[] = []
  readonly #types: ReplayFrame['type'][] = []
  readonly #stamps: number[] = []

  get length(): number {
    return this.#texts.length
  }

  /** The seq of the oldest retained frame, or 0 when there is none. */
  get oldestSeq(): number {
    return this.#texts.length === 0 ? 0 : this.#firstSeq
  }

  /**
   * Appends the frame `seq`. A seq that does not follow the newest retained one starts the
   * history over from it (a replay must never skip a frame).
   */
  push(seq: number, type: ReplayFrame['type'], ts: number, text: string): void {
    if (this.#texts.length > 0 && seq !== this.#firstSeq + this.#texts.length) this.#drop(Infinity)
    if (this.#texts.length === 0) this.#firstSeq = seq
    this.#texts.push(text)
    this.#types.push(type)
    this.#stamps.push(ts)
  }

  /** Drops the oldest frames beyond `maxFrames`, then those stamped before `minTs`. */
  prune(maxFrames: number, minTs: number): void {
    const length = this.#texts.length
    let drop = Math.max(0, length - maxFrames)
    while (drop < length && (this.#stamps[drop] ?? 0) < minTs) drop++
    if (drop > 0) this.#drop(drop)
  }

  /** The retained frames after `seq`, oldest first. */
  since(seq: number): ReplayFrame[] {
    const frames: ReplayFrame[] = []
    for (let i = Math.max(0, seq + 1 - this.#firstSeq); i < this.#texts.length; i++) {
      frames.push({
        seq: this.#firstSeq + i,
        type: this.#types[i] as ReplayFrame['type'],
        text: this.#texts[i] as string,
      })
    }
    return frames
  }

  #drop(count: number): void {
    const n = Math.min(count, this.#texts.length)
    this.#texts.splice(0, n)
    this.#types.splice(0, n)
    this.#stamps.splice(0, n)
    this.#firstSeq += n
  }
}
