import { spawn } from 'node:child_process';
import { chromium } from 'playwright-core';
const store = process.argv[2]; const out = process.argv[3] ?? '/tmp/shots';
const child = spawn('node', ['bin/s3scan.js', 'dashboard', '--store', store], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((r) => { let b=''; child.stdout.on('data', (d) => { b+=d; const m=/Dashboard: (\S+)/.exec(b); if (m) r(m[1]); }); });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const views = (process.argv[4] ?? ',#view=bucket&name=acme-cmk-no-rotation,#view=compliance,#view=scans').split(',');
for (const scheme of ['light','dark']) for (const [w,h] of [[1440,900],[390,844]]) {
  const ctx = await browser.newContext({ viewport: { width: w, height: h }, colorScheme: scheme });
  const page = await ctx.newPage();
  await page.goto(url); await page.waitForSelector('body[data-ready="true"],body[data-ready="error"]');
  for (const hash of views) {
    if (hash) { await page.goto(new URL(page.url()).origin + '/' + hash); await page.waitForSelector('body[data-ready="true"],body[data-ready="error"]'); }
    const name = `${out}/${(hash.replace(/\W+/g,'-')||'overview')}-${w}-${scheme}.png`;
    await page.screenshot({ path: name, fullPage: true });
    console.log(name, await page.evaluate('document.documentElement.scrollHeight'));
  }
  await ctx.close();
}
await browser.close(); child.kill();
