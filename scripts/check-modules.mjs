// Fails on any import cycle between the folders of src/ (bounded contexts, platform, common),
// on any cycle between files, and on any import of a module's internals from another module,
// so the layering cannot regress (issue 11, item 4). A module's internals are how the outside
// reaches it and how it writes: its request DTOs (dto/*.dto.ts), controllers and projections.
// What others may use is everything else: its services, repositories (its read models),
// events, types, pure functions and response schemas (dto/*.response.ts: an invoice's answer
// shows the catalog's plan terms). The root files (app.module.ts, serve.ts, main.ts) assemble the
// modules and may import anything.
// Platform (with common and config, the layer under every module) imports no domain module,
// not even a type: the domains plug into it (billing event types by declaration merging,
// projections by discovery), never the other way.
// dependency-cruiser reads the imports, type-only ones included (a type is a dependency on
// what a module is, even if it vanishes at compile time); this script collapses them to
// folders and looks for strongly connected parts.
import { cruise } from 'dependency-cruiser';

const result = await cruise(['src'], {
  tsConfig: { fileName: 'tsconfig.json' },
  exclude: { path: '\\.spec\\.ts$' },
  doNotFollow: { path: 'node_modules' },
  tsPreCompilationDeps: true,
});
const modules = result.output.modules.filter((m) => m.source.startsWith('src/'));
const folder = (path) => {
  const parts = path.split('/');
  return parts[0] === 'src' && parts.length > 2 ? parts[1] : null;
};

/** Strongly connected components of a graph with more than one node (Tarjan). */
function cycles(edges) {
  let index = 0;
  const stack = [];
  const on = new Set();
  const idx = new Map();
  const low = new Map();
  const out = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const part = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        part.push(w);
      } while (w !== v);
      if (part.length > 1) out.push(part.sort());
    }
  };
  for (const v of edges.keys()) if (!idx.has(v)) visit(v);
  return out;
}

const FOUNDATION = new Set(['platform', 'common', 'config']);
const foundationImports = [];
const INTERNAL = /(^|\/)dto\/(?!.*\.response\.ts$)|\.controller\.ts$|\.projection\.ts$/;
const internals = [];

const folderEdges = new Map();
const fileEdges = new Map();
const example = new Map();
for (const m of modules) {
  for (const d of m.dependencies) {
    if (!d.resolved.startsWith('src/')) continue;
    fileEdges.set(m.source, [...(fileEdges.get(m.source) ?? []), d.resolved]);
    const [a, b] = [folder(m.source), folder(d.resolved)];
    if (a && b && FOUNDATION.has(a) && !FOUNDATION.has(b)) foundationImports.push(`${m.source} → ${d.resolved}`);
    if (a && b && a !== b && INTERNAL.test(d.resolved.slice(`src/${b}/`.length)))
      internals.push(`${m.source} → ${d.resolved}`);
    if (a && b && a !== b) {
      folderEdges.set(a, [...new Set([...(folderEdges.get(a) ?? []), b])]);
      if (!example.has(`${a}>${b}`)) example.set(`${a}>${b}`, `${m.source} → ${d.resolved}`);
    }
  }
}
const problems = [];
for (const part of cycles(folderEdges)) {
  const via = part.flatMap((a) =>
    part.filter((b) => example.has(`${a}>${b}`)).map((b) => example.get(`${a}>${b}`)),
  );
  problems.push(`folders import each other: ${part.join(' ↔ ')}\n    ${via.join('\n    ')}`);
}
for (const part of cycles(fileEdges)) problems.push(`files import each other: ${part.join(' ↔ ')}`);
for (const edge of foundationImports)
  problems.push(`platform, common or config imports a domain module: ${edge}`);
for (const edge of internals)
  problems.push(`imports another module's internals (dto/, a controller or projection): ${edge}`);
if (problems.length > 0) {
  console.error(`check-modules: ${problems.length} problem(s)\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(
  `check-modules: ${modules.length} files, ${folderEdges.size} folders, no cycle (type-only imports included), platform/common/config import no domain, no import of another module's internals`,
);
