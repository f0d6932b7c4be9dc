// Import rules for services/, checked by `npm run lint` (dependency-cruiser).
// Layers, bottom up:
//   common/      shared by the services
//   harness/     what the experiments share (uses common/)
//   part*/       a part: its services at the top level of the folder, then lab/, bench/, faults/
//   compare/, bench/, faults/, safeguards/   cross-part layers on top of the parts
//   lab/         the library for notebooks and scripts (top layer)
//   tests/       may import anything
// Type-only imports count as imports: a layer that names another layer's types depends on it.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "service-imports-common-and-own-part",
      comment:
        "A service (a top-level .ts file of a part folder) runs on its own: it imports only services/common/ and the " +
        "top-level files of its own part, never the part's lab/, bench/ or faults/, the harness, or another part.",
      severity: "error",
      from: { path: "^services/(part[ABC][^/]*)/[^/]+\\.ts$" },
      to: { path: "^services/", pathNot: ["^services/common/", "^services/$1/[^/]+\\.ts$"] },
    },
    {
      name: "common-imports-only-common",
      comment: "services/common/ is the bottom layer: it imports nothing else from services/.",
      severity: "error",
      from: { path: "^services/common/" },
      to: { path: "^services/", pathNot: "^services/common/" },
    },
    {
      name: "harness-imports-common-and-harness",
      comment:
        "The harness is shared by every part: it imports only common/ and harness/, never a part or a layer above.",
      severity: "error",
      from: { path: "^services/harness/" },
      to: { path: "^services/", pathNot: ["^services/common/", "^services/harness/"] },
    },
    {
      name: "part-not-to-other-part-or-above",
      comment:
        "A part folder never imports another part, nor the cross-part layers (compare/, bench/, faults/, safeguards/) or lab/ " +
        "that sit on top of it.",
      severity: "error",
      from: { path: "^services/(part[ABC][^/]*)/" },
      to: { path: "^services/(part[ABC][^/]*|compare|bench|faults|safeguards|lab)/", pathNot: "^services/$1/" },
    },
    {
      name: "cross-part-not-to-lab",
      comment:
        "compare/, bench/, faults/ and safeguards/ sit below lab/ (the notebooks' library): they never import it.",
      severity: "error",
      from: { path: "^services/(compare|bench|faults|safeguards)/" },
      to: { path: "^services/lab/" },
    },
    {
      name: "no-circular",
      comment: "No import cycles between modules of services/ (tests are exempt).",
      severity: "error",
      from: { path: "^services/", pathNot: "^services/tests/" },
      to: { circular: true },
    },
    {
      name: "not-to-unresolvable",
      comment: "An import that cannot be resolved would also slip past every rule above.",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // node_modules also where it is a symlink (a checkout sharing another one's), so the counts match everywhere.
    exclude: { path: "^dist/|(^|/)node_modules/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      mainFields: ["module", "main", "types", "typings"],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
