/**
 * A min-heap of timed events for the discrete-event simulation. Events at the same time come out
 * in the order they were pushed, so a run is reproducible.
 */

interface Entry<T> {
  at: number;
  order: number;
  event: T;
}

/** A priority queue ordered by time, then by insertion. */
export class EventQueue<T> {
  private readonly heap: Array<Entry<T>> = [];
  private counter = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Schedules `event` at time `at` (milliseconds of virtual time). */
  push(at: number, event: T): void {
    this.heap.push({ at, order: this.counter++, event });
    let index = this.heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.less(index, parent)) break;
      this.swap(index, parent);
      index = parent;
    }
  }

  /** Removes and returns the earliest event, or undefined when empty. */
  pop(): { at: number; event: T } | undefined {
    const top = this.heap[0];
    const last = this.heap.pop();
    if (top === undefined || last === undefined) return undefined;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      let index = 0;
      for (;;) {
        const left = 2 * index + 1;
        const right = left + 1;
        let smallest = index;
        if (left < this.heap.length && this.less(left, smallest)) smallest = left;
        if (right < this.heap.length && this.less(right, smallest)) smallest = right;
        if (smallest === index) break;
        this.swap(index, smallest);
        index = smallest;
      }
    }
    return { at: top.at, event: top.event };
  }

  private less(a: number, b: number): boolean {
    const x = this.heap[a] as Entry<T>;
    const y = this.heap[b] as Entry<T>;
    return x.at < y.at || (x.at === y.at && x.order < y.order);
  }

  private swap(a: number, b: number): void {
    const x = this.heap[a] as Entry<T>;
    this.heap[a] = this.heap[b] as Entry<T>;
    this.heap[b] = x;
  }
}
