// Renders apps/web/public/icon.svg into the bitmap icons browsers and platforms ask for, with
// Debian's Chromium (the one the e2e tests use): favicon.ico (16, 32 and 48 px, PNG-compressed
// entries), apple-touch-icon.png (180 px) and icon-192.png / icon-512.png (web app manifest).
// The results are committed; run this after changing the SVG (from apps/web):
//   node scripts/make-icons.mjs
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { chromium } from 'playwright-core'

const dir = join(import.meta.dirname, '..', 'public')
const svg = await readFile(join(dir, 'icon.svg'), 'utf8')

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
})
const page = await browser.newPage()
/** The SVG drawn at `size` x `size` CSS pixels, as PNG bytes with a transparent background. */
async function png(size) {
  await page.setViewportSize({ width: size, height: size })
  await page.setContent(
    `<html><body style="margin:0;background:transparent">` +
      `<img src="data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}" width="${size}" height="${size}" style="display:block"></body></html>`,
  )
  await page.waitForFunction(() => document.images[0]?.complete)
  return page.screenshot({ omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } })
}

/**
 * An ICO file whose entries are PNG images (supported by every browser since Windows Vista era):
 * a 6-byte header, a 16-byte directory entry per image, then the images.
 */
function ico(images) {
  const header = Buffer.alloc(6)
  header.writeUInt16LE(0, 0) // reserved
  header.writeUInt16LE(1, 2) // type: icon
  header.writeUInt16LE(images.length, 4)
  let offset = 6 + 16 * images.length
  const entries = images.map(({ size, data }) => {
    const entry = Buffer.alloc(16)
    entry.writeUInt8(size >= 256 ? 0 : size, 0) // width (0 = 256)
    entry.writeUInt8(size >= 256 ? 0 : size, 1) // height
    entry.writeUInt8(0, 2) // no palette
    entry.writeUInt8(0, 3) // reserved
    entry.writeUInt16LE(1, 4) // colour planes
    entry.writeUInt16LE(32, 6) // bits per pixel
    entry.writeUInt32LE(data.length, 8)
    entry.writeUInt32LE(offset, 12)
    offset += data.length
    return entry
  })
  return Buffer.concat([header, ...entries, ...images.map((i) => i.data)])
}

const icoSizes = [16, 32, 48]
await writeFile(
  join(dir, 'favicon.ico'),
  ico(await Promise.all(icoSizes.map(async (size) => ({ size, data: await png(size) })))),
)
for (const [name, size] of [
  ['apple-touch-icon.png', 180],
  ['icon-192.png', 192],
  ['icon-512.png', 512],
]) {
  await writeFile(join(dir, name), await png(size))
}
await browser.close()
console.log(
  `wrote favicon.ico (${icoSizes.join(', ')} px), apple-touch-icon.png, icon-192.png, icon-512.png`,
)
