/**
 * The open-loop schedule shared by the emulator process (which sends) and the load process (which
 * receives). Event `g` is due at `t0 + g * 1000 / rate` whatever the server does (no coordinated
 * omission): it goes to room `g % rooms`, and is that room's `floor(g / rooms)`-th event of the
 * schedule; within the room the players take turns.
 */

/**
 * @typedef {{ t0: number, rate: number, count: number, rooms: number, warmup: number, name: string,
 *   roomOffset: number }} Schedule roomOffset = index of the schedule's room 0 in the emulator's room list
 */

/** Intended send time (monotonic ms) of event g. */
export function dueAt(schedule, g) {
  return schedule.t0 + (g * 1000) / schedule.rate
}

/** Room index of event g. */
export function roomOf(schedule, g) {
  return g % schedule.rooms
}

/** The global index of a room's n-th event of the schedule. */
export function globalIndex(schedule, roomIndex, n) {
  return n * schedule.rooms + roomIndex
}

/** How many events of the schedule go to a room. */
export function eventsForRoom(schedule, roomIndex) {
  if (roomIndex >= schedule.count) return 0
  return Math.floor((schedule.count - 1 - roomIndex) / schedule.rooms) + 1
}

/** Which player (0..3) of a room acts in its n-th event. */
export function playerOf(n, playersPerRoom) {
  return n % playersPerRoom
}
