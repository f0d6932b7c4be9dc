// Every safeguard of the three parts, as notebooks and scripts use them: the catalogue, one run of a
// safeguard's lesson with and without it, and the results read back as a table and a plot.
export { safeguardNamed } from "../safeguards/index.js";
export {
  runSafeguard,
  readSafeguards,
  safeguardsTable,
  safeguardsSpec,
  type SafeguardResult,
} from "../harness/judge/safeguards.js";
