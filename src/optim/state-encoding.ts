/**
 * Exact text encoding of float64 vectors for optimizer state.
 *
 * A buffer is stored as the base64 of its little-endian IEEE 754 bytes. Unlike a JSON number array this keeps
 * every bit pattern (−0, NaN, ±Infinity, which JSON.stringify turns into 0 or null), takes about 10.7
 * characters per value instead of up to 24, and survives any JSON round trip. `btoa`/`atob` exist in browsers
 * and in Node ≥ 16, so the encoding does not depend on Node's Buffer.
 */
const CHUNK = 0x8000;

/** base64 of the little-endian bytes of `values`. */
export function encodeFloat64Base64(values: Float64Array): string {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat64(8 * i, values[i], true);
  let binary = '';
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(binary);
}

/**
 * Decodes {@link encodeFloat64Base64} output into `out` (whose length fixes the expected size).
 * @returns null on success, or a description of what is wrong.
 */
export function decodeFloat64Base64(text: unknown, out: Float64Array): string | null {
  if (typeof text !== 'string') return `expected a base64 string, got ${typeof text}`;
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return 'not valid base64';
  }
  if (binary.length !== out.length * 8) {
    return `holds ${binary.length / 8} float64 values, expected ${out.length}`;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(8 * i, true);
  return null;
}
