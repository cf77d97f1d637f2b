import { describe, expect, it } from 'vitest'
import { MemoryViewerPresence } from '../../src/server/viewer-presence'

const ROOM = 'room_viewers_1'
const [A, B] = ['500000000000000001', '500000000000000002']

describe('viewer presence (one node, in memory)', () => {
  it('counts a user’s sockets: here while any has the page open, told once per change', () => {
    const viewers = new MemoryViewerPresence()
    const changes: string[] = []
    viewers.onChange((roomId) => changes.push(roomId))
    viewers.open(ROOM, A)
    viewers.open(ROOM, A) // a second tab
    viewers.open(ROOM, B)
    expect(viewers.viewers(ROOM)).toEqual([A, B])
    expect(changes).toEqual([ROOM, ROOM])
    viewers.close(ROOM, A)
    expect(viewers.isViewing(ROOM, A)).toBe(true)
    viewers.close(ROOM, A)
    expect(viewers.isViewing(ROOM, A)).toBe(false)
    expect(viewers.viewers(ROOM)).toEqual([B])
    expect(changes).toHaveLength(3)
    // Closing what was never opened changes nothing.
    viewers.close(ROOM, A)
    expect(changes).toHaveLength(3)
    expect(viewers.synced).toBe(true)
  })
})
