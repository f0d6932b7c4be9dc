// A series taken in the background while an experiment acts: queue depth, lag, counts. One
// sample every `everyMs` (the time a sample takes counts toward the period), until stopped.
import { sleep } from "../../common/wait.js";

export interface Sampler {
  /** Stop sampling; resolves once the sample in progress (if any) is done, so the series is complete. */
  stop(): Promise<void>;
}

/**
 * Call `sample` every `everyMs` until `stop()`. A sample that fails (a busy broker, a service
 * restarting) is a gap in the series, not the end of the experiment: the next one comes shortly.
 */
export function sampleEvery(everyMs: number, sample: () => Promise<unknown>): Sampler {
  let running = true;
  const loop = (async () => {
    while (running) {
      const tick = performance.now();
      try {
        await sample();
      } catch {
        // a gap; see above
      }
      await sleep(Math.max(0, everyMs - (performance.now() - tick)));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}
