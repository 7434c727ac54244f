/**
 * HMAC-SHA-256 (RFC 2104, FIPS 180-4) of many short strings under one key, byte for byte what
 * `createHmac('sha256', key)` gives. Every row hashes about a dozen identity values; Node's
 * createHmac builds a keyed object and hashes the two padded key blocks again for each one (~6 µs),
 * and neither Node nor @noble/hashes can start a hash from a saved state without allocating. Here
 * the states after the inner and outer key blocks are computed once, so a value ≤ 55 bytes costs two
 * compressions into preallocated memory (about 1 µs) and nothing for the garbage collector.
 * Checked against node:crypto in test/server/hmacSha256.test.ts, values of every length included.
 */

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);
const INITIAL_STATE = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);
const BLOCK = 64;
const BASE64URL = Array.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', (c) =>
  c.charCodeAt(0),
);

/** A keyed hash: the first `bytes` bytes of HMAC-SHA-256(key, UTF-8 of value), base64url. */
export type KeyedHash = (value: string) => string;

/** HMAC-SHA-256 under `key`, truncated to `bytes` (1–32) and written in base64url (no padding). */
export function hmacSha256(key: Uint8Array, bytes: number): KeyedHash {
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > 32) throw new RangeError('bytes must be 1–32');
  const w = new Int32Array(64);
  const state = new Int32Array(8);
  let message = new Uint8Array(4 * BLOCK);
  const digest = new Uint8Array(32);
  // The output's character codes, reused: exactly as many as base64url of `bytes` bytes needs.
  const codes = new Array<number>(Math.ceil((bytes * 4) / 3)).fill(0);

  // Keys longer than a block are hashed first (RFC 2104); shorter ones are padded with zeros.
  const blockKey = new Uint8Array(BLOCK);
  if (key.length > BLOCK) blockKey.set(sha256(key, w));
  else blockKey.set(key);
  const pad = new Uint8Array(BLOCK);
  const innerStart = INITIAL_STATE.slice();
  for (let i = 0; i < BLOCK; i++) pad[i] = blockKey[i]! ^ 0x36;
  compress(innerStart, pad, 0, w);
  const outerStart = INITIAL_STATE.slice();
  for (let i = 0; i < BLOCK; i++) pad[i] = blockKey[i]! ^ 0x5c;
  compress(outerStart, pad, 0, w);

  return (value) => {
    // UTF-8, as Buffer.from(value, 'utf8') writes it (a lone surrogate becomes U+FFFD).
    if (value.length * 3 + 2 * BLOCK > message.length) message = new Uint8Array(value.length * 3 + 2 * BLOCK);
    const length = encodeUtf8(value, message);
    state.set(innerStart);
    const blocks = finishMessage(message, length, BLOCK + length);
    for (let b = 0; b < blocks; b++) compress(state, message, b * BLOCK, w);
    writeState(state, digest);

    state.set(outerStart);
    message.set(digest, 0);
    const outerBlocks = finishMessage(message, 32, BLOCK + 32);
    for (let b = 0; b < outerBlocks; b++) compress(state, message, b * BLOCK, w);
    writeState(state, digest);
    return base64url(digest, bytes, codes);
  };
}

/** Plain SHA-256 of bytes (only for keys longer than a block). */
function sha256(data: Uint8Array, w: Int32Array): Uint8Array {
  const message = new Uint8Array(data.length + 2 * BLOCK);
  message.set(data);
  const state = INITIAL_STATE.slice();
  const blocks = finishMessage(message, data.length, data.length);
  for (let b = 0; b < blocks; b++) compress(state, message, b * BLOCK, w);
  const out = new Uint8Array(32);
  writeState(state, out);
  return out;
}

/** Appends the padding (0x80, zeros, the total length in bits) after `length` bytes; returns the blocks. */
function finishMessage(message: Uint8Array, length: number, totalBytes: number): number {
  const blocks = Math.ceil((length + 9) / BLOCK);
  const end = blocks * BLOCK;
  message[length] = 0x80;
  message.fill(0, length + 1, end - 8);
  // Messages here stay far below 2^32 bits: the high word of the 64-bit length is zero.
  const bits = totalBytes * 8;
  message[end - 8] = 0;
  message[end - 7] = 0;
  message[end - 6] = 0;
  message[end - 5] = Math.floor(bits / 2 ** 32) & 0xff;
  message[end - 4] = bits >>> 24;
  message[end - 3] = (bits >>> 16) & 0xff;
  message[end - 2] = (bits >>> 8) & 0xff;
  message[end - 1] = bits & 0xff;
  return blocks;
}

function encodeUtf8(text: string, out: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      out[n++] = c;
      continue;
    }
    if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 0x3f);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        out[n++] = 0xf0 | (cp >> 18);
        out[n++] = 0x80 | ((cp >> 12) & 0x3f);
        out[n++] = 0x80 | ((cp >> 6) & 0x3f);
        out[n++] = 0x80 | (cp & 0x3f);
        continue;
      }
      c = 0xfffd;
    }
    out[n++] = 0xe0 | (c >> 12);
    out[n++] = 0x80 | ((c >> 6) & 0x3f);
    out[n++] = 0x80 | (c & 0x3f);
  }
  return n;
}

function compress(state: Int32Array, m: Uint8Array, offset: number, w: Int32Array): void {
  for (let i = 0; i < 16; i++) {
    const j = offset + 4 * i;
    w[i] = (m[j]! << 24) | (m[j + 1]! << 16) | (m[j + 2]! << 8) | m[j + 3]!;
  }
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15]!;
    const y = w[i - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
  }
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  let e = state[4]!;
  let f = state[5]!;
  let g = state[6]!;
  let h = state[7]!;
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + s1 + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
  state[4] = (state[4]! + e) | 0;
  state[5] = (state[5]! + f) | 0;
  state[6] = (state[6]! + g) | 0;
  state[7] = (state[7]! + h) | 0;
}

function writeState(state: Int32Array, out: Uint8Array): void {
  for (let i = 0; i < 8; i++) {
    const v = state[i]!;
    out[4 * i] = v >>> 24;
    out[4 * i + 1] = (v >>> 16) & 0xff;
    out[4 * i + 2] = (v >>> 8) & 0xff;
    out[4 * i + 3] = v & 0xff;
  }
}

/** base64url (no padding) of the first `length` bytes, written as one flat string into `codes`. */
function base64url(bytes: Uint8Array, length: number, codes: number[]): string {
  let n = 0;
  let i = 0;
  for (; i + 3 <= length; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    codes[n++] = BASE64URL[v >> 18]!;
    codes[n++] = BASE64URL[(v >> 12) & 63]!;
    codes[n++] = BASE64URL[(v >> 6) & 63]!;
    codes[n++] = BASE64URL[v & 63]!;
  }
  const rest = length - i;
  if (rest > 0) {
    const v = (bytes[i]! << 16) | (rest === 2 ? bytes[i + 1]! << 8 : 0);
    codes[n++] = BASE64URL[v >> 18]!;
    codes[n++] = BASE64URL[(v >> 12) & 63]!;
    if (rest === 2) codes[n++] = BASE64URL[(v >> 6) & 63]!;
  }
  return String.fromCharCode.apply(null, codes);
}
