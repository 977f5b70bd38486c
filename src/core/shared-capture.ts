/**
 * A checkpoint's capture that shares detectors' live typed arrays until it has been encoded.
 *
 * A periodic checkpoint is captured at one instant and encoded a slice at a time over the next
 * turns of the event loop. Copying every detector's rings and tables at the capture would hold the
 * event loop for the whole copy (and touch megabytes of fresh memory); instead a detector hands
 * its live arrays to the capture (`Detector.snapshotView`) and, while the capture is open, copies
 * them before it next changes them (copy on write): the capture keeps the arrays as they were,
 * and only the keys that change before their turn to be encoded are copied, spread over turns.
 */
export class SharedCapture {
  private openNow = true;

  /** Still being encoded: a detector that shares its arrays with it must copy them before a change. */
  get open(): boolean {
    return this.openNow;
  }

  /** Encoded (or given up): detectors may change their arrays in place again. */
  close(): void {
    this.openNow = false;
  }
}
