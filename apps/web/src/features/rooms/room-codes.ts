import { ROOM_CODE_ALPHABET, ROOM_CODE_LENGTH } from '@repo/discord-integration/contracts'

/**
 * A new room code: ROOM_CODE_LENGTH characters drawn uniformly from ROOM_CODE_ALPHABET (29
 * characters without look-alikes: 29^6, about 595 million codes). `randomInt(n)` must return a
 * uniform integer in [0, n) from a cryptographic source (node:crypto's randomInt): a code is a
 * key to the room, like the invite link.
 */
export function newRoomCode(randomInt: (max: number) => number): string {
  let code = ''
  for (let i = 0; i < ROOM_CODE_LENGTH; i++)
    code += ROOM_CODE_ALPHABET[randomInt(ROOM_CODE_ALPHABET.length)]
  return code
}

/** A fresh code none of `taken` has (a clash is one in hundreds of thousands: try again). */
export function uniqueRoomCode(
  randomInt: (max: number) => number,
  taken: (code: string) => boolean,
): string {
  for (;;) {
    const code = newRoomCode(randomInt)
    if (!taken(code)) return code
  }
}
