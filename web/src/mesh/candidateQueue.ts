// Holds remote ICE candidates until the pair's remote description is set.

/**
 * addIceCandidate() fails before setRemoteDescription(); candidates that
 * arrive early (or while a new offer is being applied, as in an ICE restart)
 * wait here and are released, in order, once the description is in place.
 */
export class CandidateQueue<T> {
  private pending: T[] = [];
  private open = false;

  /** True when the candidate may be applied now; false when it was queued. */
  push(candidate: T): boolean {
    if (this.open) return true;
    this.pending.push(candidate);
    return false;
  }

  /** A remote description is about to change: hold candidates until release(). */
  hold(): void {
    this.open = false;
  }

  /** The remote description is set: returns the queued candidates to apply, oldest first. */
  release(): T[] {
    this.open = true;
    const out = this.pending;
    this.pending = [];
    return out;
  }

  get size(): number {
    return this.pending.length;
  }

  clear(): void {
    this.pending = [];
    this.open = false;
  }
}
