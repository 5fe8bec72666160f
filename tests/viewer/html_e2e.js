// Opens a page written by `leakscope html` in headless Chromium and reports,
// as one JSON line, what a reader would see: the flame graph's frames, the
// leaks table, and what clicking a frame does. Usage:
//   NODE_PATH=<node_modules> node html_e2e.js PAGE.html SCREENSHOT.png FRAME_NAME
'use strict';
const { chromium } = require('playwright-core');

async function main() {
  const [page_path, screenshot, frame_name] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const result = { requests: [] };
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('request', r => { if (!r.url().startsWith('file:')) result.requests.push(r.url()); });
    page.on('pageerror', e => { result.error = String(e); });
    await page.goto('file://' + page_path);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
    result.frames = await page.$$eval('#flame g.frame', gs => gs.map(g => g.getAttribute('name')));
    result.leak_rows = await page.$$eval('#leaks tbody tr',
      trs => trs.map(tr => Array.from(tr.cells).map(td => td.getAttribute('title') || td.textContent)));
    // Clicking a frame zooms into it: its callers below fade. The redraw
    // happens on the next animation frames: wait for it (or fail after 10 s).
    await page.locator(`#flame g.frame[name="${frame_name}"]`).first().click();
    await page.waitForFunction(() => document.querySelectorAll('#flame g.frame.fade').length > 0,
                               null, { timeout: 10000 });
    result.faded = await page.$$eval('#flame g.frame.fade', gs => gs.map(g => g.getAttribute('name')));
    await page.fill('#flame-search', 'Render');
    result.highlighted = await page.$$eval('#flame g.frame rect',
      rs => rs.filter(r => r.getAttribute('fill') === '#E600E6').length);
    await page.screenshot({ path: screenshot, fullPage: true });
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(result));
}

main().catch(e => { console.error(String(e)); process.exit(1); });
