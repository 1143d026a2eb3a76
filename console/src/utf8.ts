// The audit's offsets (sentence begin / end in the answer, matched spans in
// a chunk's text) are UTF-8 byte offsets; JavaScript strings index UTF-16
// code units. These split a string at byte offsets.

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

/**
 * Splits `text` into pieces at the byte offsets `cuts` (ascending, clamped
 * to the text). An offset inside a multi-byte character is moved back to the
 * character's start, so every piece is whole characters.
 */
export function splitAtBytes(text: string, cuts: number[]): string[] {
  const bytes = encoder.encode(text);
  const out: string[] = [];
  let prev = 0;
  for (const raw of cuts) {
    let c = Math.max(prev, Math.min(bytes.length, Math.floor(raw)));
    while (c > prev && c < bytes.length && (bytes[c] & 0xc0) === 0x80) c--;
    out.push(decoder.decode(bytes.subarray(prev, c)));
    prev = c;
  }
  out.push(decoder.decode(bytes.subarray(prev)));
  return out;
}

export function byteLength(text: string): number {
  return encoder.encode(text).length;
}
