/**
 * A wish's deadline is one instant, carried as a Date everywhere: parsed once where it enters (the createWish input,
 * the wish converter's Timestamp, the deadline task's payload) and compared only here. At the deadline itself the
 * wish is due (no donations; the task or the sweep expires it).
 */
export function deadlinePassed(deadline: Date, now: Date): boolean {
  return deadline.getTime() <= now.getTime();
}

/** The same deadline (a task of a moved deadline is stale). */
export function sameDeadline(a: Date, b: Date): boolean {
  return a.getTime() === b.getTime();
}
