/**
 * Sequence accounting exactly as the edge agent applies it to the readings it stores,
 * here applied to the order in which the device received the first acknowledgement of
 * each seq (which is the agent's commit order on one connection): `gaps` counts seqs
 * skipped and not (yet) received; a late arrival below the highest seq is a reorder and
 * closes one gap.
 */
export class SequenceCounter {
  maxSeq: number | null = null;
  received = 0;
  gaps = 0;
  reorders = 0;

  add(seq: number): void {
    this.received++;
    if (this.maxSeq === null) {
      this.maxSeq = seq;
    } else if (seq > this.maxSeq) {
      this.gaps += seq - this.maxSeq - 1;
      this.maxSeq = seq;
    } else {
      this.reorders++;
      if (this.gaps > 0) this.gaps--;
    }
  }
}
