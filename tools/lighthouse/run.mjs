// Lighthouse 12 (its mobile profile: a mid-range phone, simulated slow 4G) on two pages of the
// app: the login page on a first visit, and the inbox once signed in (cookies and the service
// worker kept, as a phone that has used the app before has them).
// Usage: node run.mjs <app url> <login> <password>
// Prints one JSON object: per page the three scores (0-100), the main timings in ms, and the
// audits that did not pass, so that a score below 100 says why; and the login page's paints
// measured in a throttled Chromium (Lighthouse's own timings are simulated from an unthrottled
// load).
import lighthouse from "lighthouse";
import puppeteer from "puppeteer-core";

const [url, login, password] = process.argv.slice(2);
const browser = await puppeteer.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  // As root Chromium needs --no-sandbox; the network here is closed.
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
});
const categories = ["performance", "accessibility", "best-practices"];

async function audit(page, target) {
  const { lhr } = await lighthouse(
    target,
    { output: "json", logLevel: "error", onlyCategories: categories, disableStorageReset: true },
    undefined,
    page,
  );
  const scores = Object.fromEntries(categories.map((c) => [c, Math.round(lhr.categories[c].score * 100)]));
  const timing = (id) => Math.round(lhr.audits[id]?.numericValue ?? -1);
  const failed = categories.flatMap((c) =>
    lhr.categories[c].auditRefs
      .map((ref) => lhr.audits[ref.id])
      .filter((a) => a.score !== null && a.score < 1 && a.scoreDisplayMode !== "informative" && a.scoreDisplayMode !== "manual")
      .map((a) => `${c}: ${a.id} (${a.displayValue ?? a.score})`),
  );
  return {
    ...scores,
    fcp_ms: timing("first-contentful-paint"),
    lcp_ms: timing("largest-contentful-paint"),
    tbt_ms: timing("total-blocking-time"),
    cls: lhr.audits["cumulative-layout-shift"]?.numericValue ?? -1,
    failed,
  };
}

// What a phone user sees first, measured in Chromium itself rather than simulated: the login
// page on a first visit (a fresh profile), with the network and the CPU throttled as
// Lighthouse's mobile profile simulates them; when the largest paint came and what it was, and
// when the form could be used.
async function throttledLogin(target) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  const cdp = await page.createCDPSession();
  await cdp.send("Network.enable");
  // 150 ms round trips, 1.6 Mbit/s down, 750 kbit/s up, a CPU four times slower.
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 150,
    downloadThroughput: 1.6e6 / 8,
    uploadThroughput: 750e3 / 8,
  });
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
  await page.evaluateOnNewDocument(() => {
    window.paints = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const element = entry.element ? entry.element.outerHTML.slice(0, 60) : "(removed)";
        window.paints.push({ ms: Math.round(entry.startTime), element });
      }
    }).observe({ type: "largest-contentful-paint", buffered: true });
  });
  await page.goto(target);
  await page.waitForSelector("#email", { visible: true, timeout: 30000 });
  const formMs = await page.evaluate(() => Math.round(performance.now()));
  const paints = await page.evaluate(() => window.paints);
  await context.close();
  const largest = paints[paints.length - 1] ?? { ms: -1, element: "" };
  return { lcp_ms: largest.ms, lcp_element: largest.element, form_ms: formMs };
}

try {
  const throttled = await throttledLogin(url);
  const page = await browser.newPage();
  const loginPage = await audit(page, url);
  await page.goto(url);
  await page.waitForSelector("#email", { visible: true });
  await page.type("#email", login);
  await page.type("#password", password);
  await page.click("button[type=submit]");
  await page.waitForSelector(".rows .row:not(.placeholder)", { timeout: 20000 });
  const inbox = await audit(page, new URL("/?folder=INBOX", url).href);
  console.log(JSON.stringify({ login: loginPage, inbox, throttled }));
} finally {
  await browser.close();
}
