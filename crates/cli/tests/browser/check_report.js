// Opens an HTML report of `passerelle validate` in headless Chromium (Debian's, driven by
// playwright-core), and prints what a person would see, as JSON: whether the summary is visible
// in the first screen, its verdict and text, the requests the page made (a self-contained report
// makes none), and, read back from a real screenshot of the summary, how many of its pixels have
// the verdict's colour. Usage: node check_report.js REPORT.html SCREENSHOT.png
const { chromium } = require('playwright-core');

(async () => {
  const [report, screenshot] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const requests = [];
    page.on('request', (r) => { if (!r.url().startsWith('file:')) requests.push(r.url()); });
    await page.goto('file://' + report);
    const summary = page.locator('#summary');
    const box = await summary.boundingBox();
    await page.screenshot({ path: screenshot.replace(/\.png$/, '-page.png') });
    const png = await summary.screenshot({ path: screenshot });
    const verdictColour = await page.locator('#summary .verdict').evaluate((e) => getComputedStyle(e).color);
    // Count the screenshot's pixels of the verdict's colour, decoding the PNG in the page itself.
    const counted = await page.evaluate(async ({ data, colour }) => {
      const [r, g, b] = colour.match(/\d+/g).map(Number);
      const img = new Image();
      img.src = 'data:image/png;base64,' + data;
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = img.width; canvas.height = img.height;
      const ctx = canvas.getContext('2d');
      ctx.drawImage(img, 0, 0);
      const px = ctx.getImageData(0, 0, img.width, img.height).data;
      let hits = 0;
      for (let i = 0; i < px.length; i += 4) {
        if (Math.abs(px[i] - r) < 8 && Math.abs(px[i + 1] - g) < 8 && Math.abs(px[i + 2] - b) < 8) hits++;
      }
      return { hits, width: img.width, height: img.height };
    }, { data: png.toString('base64'), colour: verdictColour });
    console.log(JSON.stringify({
      visible: await summary.isVisible(),
      inFirstScreen: box !== null && box.y >= 0 && box.y + Math.min(box.height, 200) <= 800,
      verdict: (await page.locator('#summary .verdict').innerText()).trim(),
      text: await summary.innerText(),
      title: await page.title(),
      requests,
      verdictColour,
      verdictPixels: counted.hits,
      screenshot: { width: counted.width, height: counted.height, bytes: png.length },
    }));
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(e); process.exit(1); });
