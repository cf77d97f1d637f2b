import { describe, expect, it } from 'vitest'
import { FrameHistory } from '../../src/features/presence/frame-history'

const text = (seq: number) => `{"seq":${seq}}`

function filled(from: number, to: number, tsOf = (seq: number) => 1_000 * seq) {
  const history = new FrameHistory()
  for (let seq = from; seq <= to; seq++) history.push(seq, 'voice.updated', tsOf(seq), text(seq))
  return history
}

describe('FrameHistory', () => {
  it('replays the frames after a seq, with their seq, type and text', () => {
    const history = new FrameHistory()
    history.push(7, 'voice.joined', 1, text(7))
    history.push(8, 'voice.updated', 2, text(8))
    history.push(9, 'voice.left', 3, text(9))
    expect(history.oldestSeq).toBe(7)
    expect(history.since(7)).toEqual([
      { seq: 8, type: 'voice.updated', text: text(8) },
      { seq: 9, type: 'voice.left', text: text(9) },
    ])
    expect(history.since(0).map((f) => f.seq)).toEqual([7, 8, 9])
    expect(history.since(9)).toEqual([])
  })

  it('is empty with oldest seq 0 until a frame is pushed', () => {
    const history = new FrameHistory()
    expect(history.length).toBe(0)
    expect(history.oldestSeq).toBe(0)
    expect(history.since(0)).toEqual([])
  })

  it('prunes to the newest maxFrames, then drops frames stamped before minTs', () => {
    const history = filled(1, 10)
    history.prune(6, 0)
    expect(history.oldestSeq).toBe(5)
    expect(history.since(0).map((f) => f.seq)).toEqual([5, 6, 7, 8, 9, 10])
    history.prune(100, 8_000)
    expect(history.oldestSeq).toBe(8)
    expect(history.since(7).map((f) => f.text)).toEqual([text(8), text(9), text(10)])
    history.prune(100, 11_000)
    expect(history.length).toBe(0)
    expect(history.oldestSeq).toBe(0)
  })

  it('keeps counting after a prune emptied it', () => {
    const history = filled(1, 3)
    history.prune(0, 0)
    history.push(4, 'voice.updated', 4_000, text(4))
    expect(history.oldestSeq).toBe(4)
    expect(history.since(3)).toEqual([{ seq: 4, type: 'voice.updated', text: text(4) }])
  })

  it('starts over rather than skip when a seq does not follow the newest', () => {
    const history = filled(1, 3)
    history.push(6, 'voice.updated', 6_000, text(6))
    expect(history.oldestSeq).toBe(6)
    expect(history.since(0)).toEqual([{ seq: 6, type: 'voice.updated', text: text(6) }])
  })
})
