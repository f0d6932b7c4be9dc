// The comparison in the lab library: the same workload through the three models.
export * from "./compare.js";
export * from "./summary.js";
