// Import rules of src/ (issue 20, STYLE.md): the two sides of the protocol apart, pure pieces below, the core under
// the faces, the standalone gate on top. `npm run lint` runs this; a rule names the boundary it keeps.
/** Folders and files by layer. */
const PROTOCOL = "^src/(protocol|gauge-rpc)\\.ts$";
const PURE = "^src/(adaptive|responses|config)/|^src/log\\.ts$";
const OBJECT = "^src/object/";
const ISOLATE = "^src/isolate/";
const HOLD = "^src/hold/";
const CORE = "^src/core/";
const FACES = "^src/(index|hono|fetch)\\.ts$";
const GATE = "^src/gate/";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
	forbidden: [
		{ name: "no-cycles", severity: "error", comment: "An import cycle: the modules cannot be read (or loaded) one before the other.", from: {}, to: { circular: true } },
		{
			name: "object-stays-inside",
			severity: "error",
			comment: "src/object/ runs inside the Durable Object: it never imports the isolate's side, the holds, the core, a face or the gate.",
			from: { path: OBJECT },
			to: { path: [ISOLATE, HOLD, CORE, FACES, GATE] },
		},
		{
			name: "isolate-never-imports-object",
			severity: "error",
			comment: "src/isolate/ talks to the object through src/protocol.ts only (types named there), never by importing src/object/.",
			from: { path: ISOLATE },
			to: { path: [OBJECT, HOLD, CORE, FACES, GATE] },
		},
		{
			name: "protocol-is-the-bottom",
			severity: "error",
			comment: "protocol.ts and gauge-rpc.ts are what both sides share: they import neither side, nor anything above.",
			from: { path: PROTOCOL },
			to: { path: [OBJECT, ISOLATE, HOLD, CORE, FACES, GATE] },
		},
		{
			name: "hold-is-below-core",
			severity: "error",
			comment: "src/hold/ holds a permit around a response: it knows permits (src/isolate/ types), not who asked for them.",
			from: { path: HOLD },
			to: { path: [OBJECT, CORE, FACES, GATE] },
		},
		{
			name: "pure-pieces-stay-pure",
			severity: "error",
			comment: "adaptive/, responses/, config/ and log.ts are pure: they import nothing above them.",
			from: { path: PURE },
			to: { path: [OBJECT, ISOLATE, HOLD, CORE, FACES, GATE, PROTOCOL] },
		},
		{
			name: "core-never-imports-a-face",
			severity: "error",
			comment: "src/core/ is what every face shares: it never imports a face, the gate or the object's code.",
			from: { path: CORE },
			to: { path: [OBJECT, FACES, GATE] },
		},
		{
			name: "faces-never-import-the-gate",
			severity: "error",
			comment: "The library's faces never pull in the standalone gate (its config vars, admin surface, proxy).",
			from: { path: FACES },
			to: { path: [GATE] },
		},
		{
			name: "core-is-framework-free",
			severity: "error",
			comment: "hono is an optional peer dependency: only the Hono face and the gate may import it.",
			from: { path: [PURE, OBJECT, ISOLATE, HOLD, CORE, "^src/(index|fetch)\\.ts$", PROTOCOL] },
			to: { path: "^hono($|/)|node_modules/hono/" },
		},
	],
	options: {
		doNotFollow: { path: "node_modules" },
		exclude: { path: "^src/.*\\.d\\.ts$" },
		tsPreCompilationDeps: true,
		tsConfig: { fileName: "tsconfig.json" },
		enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default", "types"] },
	},
};
