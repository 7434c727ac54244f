/**
 * Which row of a linked Google sheet is which, never by position (issue 11): a row holding a
 * registration number (报备编号) is that registration's row; any other row is known by its row key,
 * kept on the row as developer metadata (ROW location, PROJECT visibility) that Google moves with the
 * row when rows are inserted or deleted above it. A row the sync has never written has no metadata
 * yet: its key is derived from its input cells (their hash and its rank among identical rows), so a
 * sync that registered it and crashed before writing back finds the same key — and its claim — again.
 * Pure: the sync reads the grid, this module says which identity each row carries.
 */

/** The developer metadata key holding a row's key. */
export const ROW_KEY_METADATA = 'baobei.rowKey';

/** Starts the key of a row found carrying another row's registration number (a copied row). */
export const COPY_PREFIX = 'copy:';

export interface RowFacts {
  /** 1-based sheet row. */
  row: number;
  /** Its registration number, when the cell holds one. */
  no: string | null;
  /** The row key from the row's developer metadata, when it has one. */
  metadataKey: string | undefined;
  /** Hash of its input cells; absent when only the identity column was read. */
  hash: string | undefined;
}

export interface RowIdentity {
  row: number;
  /** The row key: from metadata, or derived (`hash#rank`); absent when neither is known. */
  key: string | undefined;
  /** The key came from the row's metadata (else the write-back creates it). */
  keyed: boolean;
  /** The row holds its number as the registration's own row (not a copy of another row). */
  owner: boolean;
  /** What the write-back finds the row by: `no:…` for an owner, else `key:…`. */
  identity: string | undefined;
}

/**
 * Every row's identity. `boundKeys` maps a registration number to the row key it was registered
 * under (or adopted with): when a number appears on several rows — a row copied with its number —
 * the row carrying that key keeps the number and the others are copies; without such a row the
 * first in sheet order not already known as a copy keeps it.
 */
export function identifyRows(
  rows: readonly RowFacts[],
  boundKeys: ReadonlyMap<string, string>,
): Map<number, RowIdentity> {
  // Metadata keys are unique per row; a second row with the same key (never written by us) is
  // treated as having none, so it cannot take the first one's results.
  const usedKeys = new Set<string>();
  const metadataKeyOf = new Map<number, string>();
  for (const r of rows) {
    if (r.metadataKey === undefined || usedKeys.has(r.metadataKey)) continue;
    usedKeys.add(r.metadataKey);
    metadataKeyOf.set(r.row, r.metadataKey);
  }

  const byNo = new Map<string, RowFacts[]>();
  for (const r of rows) if (r.no !== null) byNo.set(r.no, [...(byNo.get(r.no) ?? []), r]);
  const owners = new Set<number>();
  for (const [no, group] of byNo) {
    const bound = boundKeys.get(no);
    const holder =
      group.find((r) => bound !== undefined && metadataKeyOf.get(r.row) === bound) ??
      group.find((r) => metadataKeyOf.get(r.row)?.startsWith(COPY_PREFIX) !== true) ??
      group[0]!;
    owners.add(holder.row);
  }

  const out = new Map<number, RowIdentity>();
  const rank = new Map<string, number>();
  for (const r of rows) {
    const owner = owners.has(r.row);
    let key = metadataKeyOf.get(r.row);
    const keyed = key !== undefined;
    if (key === undefined && r.hash !== undefined && !owner) {
      // An owner is known by its number and needs no key. Identical rows are interchangeable; a rank already on another row's metadata (a row typed
      // again after the first was written back) is skipped, so the new row never takes its claim.
      // A copy's key says so, so that it never takes the number from the row it was copied from.
      const base = r.no === null ? r.hash : `${COPY_PREFIX}${r.hash}`;
      let n = rank.get(base) ?? 0;
      do n++;
      while (usedKeys.has(`${base}#${n}`));
      rank.set(base, n);
      key = `${base}#${n}`;
    }
    out.set(r.row, {
      row: r.row,
      key,
      keyed,
      owner,
      identity: owner ? `no:${r.no}` : key === undefined ? undefined : `key:${key}`,
    });
  }
  return out;
}

/** The row each identity is on now. */
export function rowsByIdentity(identities: ReadonlyMap<number, RowIdentity>): Map<string, RowIdentity> {
  const out = new Map<string, RowIdentity>();
  for (const id of identities.values()) if (id.identity !== undefined) out.set(id.identity, id);
  return out;
}
