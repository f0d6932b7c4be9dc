// An inventory outage, the way every Part B experiment, benchmark and fault scenario makes one:
// inventory stopped (gracefully, or kill -9 with messages in hand) while the rest keeps running,
// then started again on the same port with the same env. Orders meanwhile wait in order.placed.q.
import {
  down,
  processName,
  restartService,
  type LabOptions,
  type RunningPart,
  type RunningService,
} from "../../harness/lifecycle.js";
import { crashProcess } from "../../harness/processes.js";

export interface InventoryOutage {
  /** How inventory went down. */
  how: "graceful" | "kill";
  /** Whether `end()` has brought it back. */
  readonly ended: boolean;
  /** Start inventory again and wait until it is healthy (subscribed); `running.services.inventory` is updated. */
  end(): Promise<RunningService>;
  /** In a `finally`: start inventory again unless it already is; never throws. */
  ensureEnded(): Promise<void>;
}

/** Take Part B's inventory down: a graceful stop (SIGTERM), or `kill` (kill -9, messages in hand). */
export async function stopInventory(
  running: RunningPart,
  opts: LabOptions,
  how: "graceful" | "kill" = "graceful",
): Promise<InventoryOutage> {
  if (how === "kill") crashProcess(processName(running.part, "inventory"), opts.home);
  else await down(running.part, { ...opts, only: ["inventory"] });
  let ended = false;
  const end = async () => {
    const service = await restartService(running, "inventory", opts);
    ended = true;
    return service;
  };
  return {
    how,
    get ended() {
      return ended;
    },
    end,
    ensureEnded: async () => {
      if (!ended)
        await end().then(
          () => {},
          () => {},
        );
    },
  };
}
