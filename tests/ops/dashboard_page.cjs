// Opens the status dashboard in Debian's Chromium (playwright-core from frontend/), saves a
// screenshot and prints the page's text as JSON. Usage: node dashboard_page.cjs URL PNG
// with the operators' token in OPS_TOKEN (sent as HTTP Basic, as a browser would).
const path = require("node:path");
const { chromium } = require(
  path.join(__dirname, "..", "..", "frontend", "node_modules", "playwright-core"),
);

async function main() {
  const [url, screenshot] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  try {
    const context = await browser.newContext({
      httpCredentials: { username: "ops", password: process.env.OPS_TOKEN },
      viewport: { width: 1400, height: 500 },
    });
    const page = await context.newPage();
    const response = await page.goto(url);
    await page.screenshot({ path: screenshot, fullPage: true });
    const refresh = await page.evaluate(
      () => document.querySelector('meta[http-equiv="refresh"]')?.getAttribute("content") ?? null,
    );
    const text = await page.innerText("body");
    console.log(JSON.stringify({ status: response.status(), refresh, text }));
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
