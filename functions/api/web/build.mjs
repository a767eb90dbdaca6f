// The dashboard as the api function serves it: page.html with src/main.js and its modules
// bundled by esbuild into one inline script (the page loads nothing else). `--check` fails
// when the checked-in page is not what the sources build (CI runs it; `make dashboard` writes).
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "../assets/dashboard.html");

const bundle = await build({
  entryPoints: [join(here, "src/main.js")],
  bundle: true,
  format: "iife",
  target: "es2020",
  write: false,
  charset: "utf8",
  legalComments: "none",
});
const script = bundle.outputFiles[0].text.replaceAll("</script", "<\\/script");
const page = readFileSync(join(here, "page.html"), "utf8");
const marker = "<!-- script -->";
if (!page.includes(marker)) throw new Error(`page.html has no ${marker}`);
const html = page.replace(marker, () => script.trimEnd());

if (process.argv.includes("--check")) {
  if (readFileSync(out, "utf8") !== html) {
    console.error("functions/api/assets/dashboard.html is not what functions/api/web builds: run `make dashboard`");
    process.exit(1);
  }
  console.log("dashboard: the built page is up to date");
} else {
  writeFileSync(out, html);
  console.log(`dashboard: wrote ${out} (${html.length} bytes)`);
}
