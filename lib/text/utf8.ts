/**
 * The length of `text` in UTF-8 bytes, as AWS counts document sizes. Pure: no `Buffer` or
 * `TextEncoder`, so the evaluation folders run wherever JavaScript does (the dashboard page).
 */
export function utf8ByteLength(text: string): number {
  // ASCII is one byte a character: let the regex engine skip it (a 1 MB policy is mostly
  // ASCII), and count only what is left, code unit by code unit.
  if (!NON_ASCII.test(text)) return text.length;
  const rest = text.replace(ASCII_RUNS, '');
  return text.length - rest.length + nonAsciiBytes(rest);
}

const NON_ASCII = /[\u0080-\uffff]/;
const ASCII_RUNS = /[^\u0080-\uffff]+/g;

/** UTF-8 bytes of text that holds no ASCII: two, three or four bytes a code point. */
function nonAsciiBytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        // A surrogate pair is one code point above U+FFFF: four bytes.
        bytes += 4;
        i += 1;
      } else bytes += 3;
    } else bytes += 3; // a lone surrogate is encoded as U+FFFD, three bytes
  }
  return bytes;
}
