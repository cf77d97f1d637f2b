import { describe, expect, it } from 'vitest'
import {
  CreateRoomInputSchema,
  MAX_ROOM_NAME_LENGTH,
  normaliseRoomName,
  RoomNameSchema,
} from '../src/contracts'

describe('room names', () => {
  it.each([
    ['\u200B', 'a zero-width space'],
    ['\u200B\u200C\u200D\u2060\uFEFF', 'zero-width characters'],
    ['\u0000\u0007\u001B\u007F', 'control characters'],
    ['\u202E\u202D\u2066\u2069', 'bidi controls'],
    ['\u00AD\u180E', 'a soft hyphen and the Mongolian vowel separator'],
    ['\u3164\u3164', 'Hangul fillers'],
    ['\u2800', 'the braille blank'],
    ['  \t\n\u00A0\u3000 ', 'whitespace only'],
    ['\uD800', 'a lone surrogate'],
    ['', 'nothing'],
  ])('rejects a name of only %j (%s)', (name) => {
    expect(RoomNameSchema.safeParse(name).success).toBe(false)
    expect(CreateRoomInputSchema.safeParse({ name }).success).toBe(false)
  })

  it('keeps visible text, normalised', () => {
    expect(RoomNameSchema.parse('  Game   night  ')).toBe('Game night')
    expect(RoomNameSchema.parse('Game\u200B night\u0007')).toBe('Game night')
    expect(RoomNameSchema.parse('Game \u200B night')).toBe('Game night')
    expect(RoomNameSchema.parse('Game\tnight\n2')).toBe('Game night 2')
    expect(RoomNameSchema.parse('Game\u3164night')).toBe('Game night')
    expect(RoomNameSchema.parse('\u202Eevil')).toBe('evil')
    // NFC: "e" + combining acute becomes "é" (one code point)
    expect(RoomNameSchema.parse('Caf\u0065\u0301')).toBe('Caf\u00E9')
    expect(RoomNameSchema.parse('Magic 🃏 ♠️')).toBe('Magic 🃏 ♠️')
    expect(RoomNameSchema.parse('日本語の部屋')).toBe('日本語の部屋')
  })

  it('limits the normalised length, so invisible padding does not count', () => {
    const longest = 'x'.repeat(MAX_ROOM_NAME_LENGTH)
    expect(RoomNameSchema.parse(`${longest}\u200B\u200B`)).toBe(longest)
    expect(RoomNameSchema.safeParse(`${longest}y`).success).toBe(false)
  })

  it('is idempotent (the browser normalises, then the server again)', () => {
    for (const raw of ['  a \u200B b  ', 'Caf\u0065\u0301', 'x\u3164\u3164y']) {
      const once = normaliseRoomName(raw)
      expect(normaliseRoomName(once)).toBe(once)
    }
  })
})
