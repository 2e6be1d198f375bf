// Drives the operator's console in headless Chromium (Debian's, through playwright-core) the way
// an operator would, and prints what it saw as JSON: the dashboard, a search by IPP and by INS,
// a message's lineage, a replay and the new attempt, a bulk replay from a search with its
// progress bar, the French labels, and every request the
// pages made (all must stay on the gateway). Screenshots go to OUTDIR.
// Usage: node console.js BASE_URL IPP INS_SYSTEM|INS OUTDIR
const { chromium } = require('playwright-core');

(async () => {
  const [base, ipp, ins, out] = process.argv.slice(2);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  const seen = { requests: [] };
  try {
    const context = await browser.newContext({ locale: 'en-GB', viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.on('request', (r) => seen.requests.push(r.url()));
    await page.goto(base + '/');
    seen.dashboard = { title: await page.title(), listeners: await page.locator('#listeners tr').count(), text: await page.locator('#listeners').innerText() };
    seen.dashboard.sparklines = await page.locator('#listeners svg.spark polyline').count();
    await page.screenshot({ path: out + '/dashboard.png', fullPage: true });
    await page.click('#windows a[href="/?window=day"]');
    seen.dashboard.window = await page.locator('#windows b').getAttribute('data-window');
    seen.dashboard.dayReceived = await page.locator('#listeners tr[data-listener="mllp-in"] td.received').innerText();

    await page.click('header a[href="/messages"]');
    await page.fill('input[name=patient]', ipp);
    await page.click('#search button');
    await page.waitForSelector('#results');
    seen.byIpp = await page.locator('#results tr').count() - 1;
    await page.fill('input[name=patient]', '');
    await page.fill('input[name=identifier]', ins);
    await page.click('#search button');
    await page.waitForSelector('#results');
    seen.byIns = await page.locator('#results tr').count() - 1;
    seen.searchUrl = page.url();
    // Saved: the search comes back from the list above the form.
    await page.fill('#save-search input[name=name]', 'by INS');
    await page.click('#save-search button');
    await page.waitForSelector('#saved a.saved');
    seen.saved = await page.locator('#saved a.saved').allInnerTexts();
    await page.goto(base + '/messages');
    await page.click('#saved a.saved:has-text("by INS")');
    await page.waitForSelector('#results');
    seen.bySaved = await page.locator('#results tr').count() - 1;
    await page.screenshot({ path: out + '/search.png', fullPage: true });

    await page.locator('#results tr a').last().click();
    await page.waitForSelector('#deliveries');
    seen.lineage = {
      url: page.url(),
      pid3: await page.locator('#raw span[title="PID-3"]').first().innerText(),
      msh10: await page.locator('#raw span[title="MSH-10"]').first().innerText(),
      status: await page.locator('#deliveries .status').first().innerText(),
      attempts: await page.locator('#deliveries .attempts').first().innerText(),
      model: (await page.locator('#model').innerText()).length,
      routes: await page.locator('#routing tr.route[data-matched="true"] td').first().innerText(),
      atReception: await page.locator('#routed').getAttribute('data-routes'),
    };
    await page.screenshot({ path: out + '/lineage.png', fullPage: true });
    await page.click('#deliveries button:has-text("Replay")');
    // The replay is delivered by the worker: reload until the attempt shows.
    for (let i = 0; i < 50; i++) {
      await page.waitForSelector('#deliveries');
      const attempts = await page.locator('#deliveries .attempts').first().innerText();
      const status = await page.locator('#deliveries .status').first().innerText();
      seen.afterReplay = { attempts, status };
      if (attempts === '2' && status === 'delivered') break;
      await page.waitForTimeout(200);
      await page.reload();
    }
    seen.attemptRows = await page.locator('#attempts tr.attempt').count();
    seen.attemptAnswer = await page.locator('#attempts tr.attempt td code').first().innerText();
    await page.screenshot({ path: out + '/replayed.png', fullPage: true });

    // Bulk: a dry run over the destination's delivered rows says how many it would touch.
    await page.goto(base + '/outbox?destination=files&status=delivered');
    seen.outboxRows = await page.locator('#rows tr').count() - 1;
    await page.click('#bulk button:has-text("Dry run")');
    await page.waitForSelector('#bulk-outcome');
    seen.dryRun = { matched: await page.locator('#bulk-outcome').getAttribute('data-matched'), done: await page.locator('#bulk-outcome').getAttribute('data-done') };
    await page.screenshot({ path: out + '/bulk-dry-run.png', fullPage: true });

    // Bulk from a search: the IPP's messages replayed as a job, its progress bar to the end.
    await page.goto(base + '/messages?patient=' + encodeURIComponent(ipp));
    await page.selectOption('#search-bulk select[name=action]', 'replay');
    await page.click('#search-bulk button[value="true"]');
    await page.waitForSelector('#bulk-outcome');
    seen.searchDryRun = await page.locator('#bulk-outcome').getAttribute('data-matched');
    await page.goBack();
    await page.selectOption('#search-bulk select[name=action]', 'replay');
    await page.click('#search-bulk button[value="false"]');
    await page.waitForSelector('#job[data-finished="true"]', { timeout: 15000 });
    seen.job = {
      url: page.url(),
      value: await page.locator('#progress').getAttribute('value'),
      max: await page.locator('#progress').getAttribute('max'),
      done: await page.locator('#job').getAttribute('data-done'),
    };
    await page.screenshot({ path: out + '/bulk-job.png', fullPage: true });

    // Identity monitoring: the alert the diverging message raised, acknowledged from the page.
    await page.click('header a[href="/identity"]');
    await page.waitForSelector('#alerts');
    seen.alerts = await page.locator('#alerts tr.alert').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-kind')));
    await page.screenshot({ path: out + '/identity.png', fullPage: true });
    await page.locator('#alerts tr[data-kind="diverging-traits"] button').click();
    await page.waitForSelector('#alerts');
    seen.acknowledged = await page.locator('#alerts tr[data-kind="diverging-traits"] .ok').count();

    const fr = await browser.newContext({ locale: 'fr-FR' });
    const frPage = await fr.newPage();
    frPage.on('request', (r) => seen.requests.push(r.url()));
    await frPage.goto(base + '/');
    seen.french = await frPage.locator('h1').innerText();
    await frPage.screenshot({ path: out + '/tableau-de-bord.png', fullPage: true });
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(seen));
})().catch((e) => { console.error(e); process.exit(1); });
