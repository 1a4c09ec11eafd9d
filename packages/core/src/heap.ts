/**
 * A binary min-heap ordered by (time, sequence): what is due soonest first, and among equal
 * times what was pushed first — so a simulation built on it replays to the byte. The requester's
 * lease expiries and the testnet's event queue use it. (Hand-written: forty lines, and the order
 * rule is the point.)
 */
export class TimeHeap<T> {
  private readonly times: number[] = []
  private readonly seqs: number[] = []
  private readonly values: T[] = []

  get size(): number {
    return this.values.length
  }

  push(time: number, seq: number, value: T): void {
    let i = this.values.length
    this.times.push(time)
    this.seqs.push(seq)
    this.values.push(value)
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.less(time, seq, parent)) {
        break
      }
      this.move(parent, i)
      i = parent
    }
    this.set(i, time, seq, value)
  }

  /** The soonest entry's time, or undefined when empty. */
  peekTime(): number | undefined {
    return this.times[0]
  }

  peek(): T | undefined {
    return this.values[0]
  }

  pop(): T | undefined {
    if (this.values.length === 0) {
      return undefined
    }
    const top = this.values[0] as T
    const time = this.times.pop() as number
    const seq = this.seqs.pop() as number
    const value = this.values.pop() as T
    const n = this.values.length
    if (n > 0) {
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        if (l >= n) {
          break
        }
        const r = l + 1
        const c = r < n && this.less(this.times[r] as number, this.seqs[r] as number, l) ? r : l
        if (!this.lessThan(c, time, seq)) {
          break
        }
        this.move(c, i)
        i = c
      }
      this.set(i, time, seq, value)
    }
    return top
  }

  /** Whether (time, seq) comes before entry `j`. */
  private less(time: number, seq: number, j: number): boolean {
    const t = this.times[j] as number
    return time < t || (time === t && seq < (this.seqs[j] as number))
  }

  /** Whether entry `j` comes before (time, seq). */
  private lessThan(j: number, time: number, seq: number): boolean {
    const t = this.times[j] as number
    return t < time || (t === time && (this.seqs[j] as number) < seq)
  }

  private move(from: number, to: number): void {
    this.times[to] = this.times[from] as number
    this.seqs[to] = this.seqs[from] as number
    this.values[to] = this.values[from] as T
  }

  private set(i: number, time: number, seq: number, value: T): void {
    this.times[i] = time
    this.seqs[i] = seq
    this.values[i] = value
  }
}
