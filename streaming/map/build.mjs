// Builds the page into site/ (committed: `wildrydes map` and `make up` serve it without a build step).
//   node build.mjs           build into site/
//   node build.mjs --check   build into a temporary directory and fail if site/ differs (stale bundle)
import * as esbuild from "esbuild";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const SITE = join(HERE, "site");
const check = process.argv.includes("--check");
const out = check ? mkdtempSync(join(tmpdir(), "wildrydes-map-")) : SITE;

if (!check) rmSync(SITE, { recursive: true, force: true });
cpSync(join(HERE, "static"), out, { recursive: true });
const result = await esbuild.build({
  metafile: true,
  entryPoints: { app: join(HERE, "src", "main.js") },
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022", "chrome110", "firefox115", "safari16"],
  minify: true,
  legalComments: "linked",
  outdir: out,
  assetNames: "assets/[name]-[hash]",
  loader: { ".png": "file", ".svg": "file" },
  logLevel: "warning",
  absWorkingDir: HERE,
});

// Licences of everything bundled into app.js / app.css, next to them.
const packages = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
  const match = /^(?:\(disabled\):)?(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input); // "(disabled):": a browser-field stub
  if (match && !packages.has(match[1])) packages.set(match[1], JSON.parse(readFileSync(join(HERE, match[1], "package.json"), "utf8")));
}
const notices = [...packages].sort(([, a], [, b]) => a.name.localeCompare(b.name)).map(([dir, pkg]) => {
  const file = readdirSync(join(HERE, dir)).find((name) => /^(licen[cs]e|copying)(\.|$)/i.test(name));
  const text = file ? readFileSync(join(HERE, dir, file), "utf8").trim() : `(${pkg.license}; no licence file in the package)`;
  return `${pkg.name} ${pkg.version} — ${pkg.license}\n\n${text}\n`;
});
writeFileSync(join(out, "THIRD_PARTY_LICENSES.txt"),
  "Third-party software bundled into this page (app.js, app.css).\n"
  + "The basemap data's sources and licences: basemap/README.txt.\n\n"
  + notices.join("\n" + "-".repeat(78) + "\n\n"));

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

if (check) {
  const built = new Map(files(out).map((p) => [relative(out, p), readFileSync(p)]));
  const committed = new Map(files(SITE).map((p) => [relative(SITE, p), readFileSync(p)]));
  const stale = [...new Set([...built.keys(), ...committed.keys()])]
    .filter((name) => !built.get(name) || !committed.get(name) || !built.get(name).equals(committed.get(name)));
  rmSync(out, { recursive: true, force: true });
  if (stale.length) {
    console.error(`site/ is stale (run \`npm run build\` in streaming/map): ${stale.sort().join(", ")}`);
    process.exit(1);
  }
  console.log("site/ is up to date");
} else {
  for (const path of files(SITE).sort()) console.log(`${relative(HERE, path)}  ${statSync(path).size} bytes`);
}
