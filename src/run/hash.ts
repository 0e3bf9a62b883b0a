/**
 * Canonical JSON and hashing: a config hash must not depend on the order in which keys were inserted, so
 * objects are serialized with sorted keys before hashing.
 */
import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level; `undefined` members are dropped as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** Lower-case hexadecimal SHA-256 of a string or bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Config keys that do not change what a run computes: where it writes, how it reports, whether it resumes,
 * how often it checkpoints and how many iterations it runs in total (a run may be resumed with a larger
 * budget). They are left out of the config hash so that resuming with a different `--out` or `--iters` is
 * allowed.
 */
export const CONFIG_KEYS_NOT_HASHED: readonly string[] = Object.freeze([
  'out',
  'resume',
  'json',
  'iters',
  'progress',
  'checkpointEvery',
]);

/** The config that decides a run's result, i.e. `config` without {@link CONFIG_KEYS_NOT_HASHED}. */
export function hashedConfig(
  config: Record<string, unknown>,
  ignore: readonly string[] = CONFIG_KEYS_NOT_HASHED,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) if (!ignore.includes(k)) out[k] = v;
  return out;
}

/** SHA-256 of the canonical JSON of {@link hashedConfig}. */
export function configHash(config: Record<string, unknown>, ignore?: readonly string[]): string {
  return sha256Hex(canonicalJson(hashedConfig(config, ignore)));
}

/** Keys whose values differ between two configs (after dropping the keys not hashed), sorted. */
export function configDifferences(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
  ignore?: readonly string[],
): string[] {
  const ha = hashedConfig(a, ignore);
  const hb = hashedConfig(b, ignore);
  const keys = new Set([...Object.keys(ha), ...Object.keys(hb)]);
  return [...keys].filter((k) => canonicalJson(ha[k]) !== canonicalJson(hb[k])).sort();
}
