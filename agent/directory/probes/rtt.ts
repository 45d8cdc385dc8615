/**
 * Smoothed round-trip time (RFC 6298's SRTT: the first sample as is, then 7/8 old + 1/8 new), so
 * one slow ping does not make the resolver move a step to another node.
 */
export class RttEstimator {
  #srtt: number | null = null;

  /** Add a measured round trip in ms; negative or non-finite samples are ignored. */
  add(sampleMs: number): void {
    if (!Number.isFinite(sampleMs) || sampleMs < 0) return;
    this.#srtt = this.#srtt === null ? sampleMs : this.#srtt + (sampleMs - this.#srtt) / 8;
  }

  /** The smoothed value in ms, rounded to 0.1; null before the first sample. */
  get value(): number | null {
    return this.#srtt === null ? null : Math.round(this.#srtt * 10) / 10;
  }
}
