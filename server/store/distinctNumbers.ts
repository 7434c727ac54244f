/**
 * Record numbers without repeats, for the embedded store's look-up by identity keys (one list per
 * row, from the key index and the transaction's staged keys).
 */

/** Lists this short or shorter are deduplicated by scanning them: a row meets ~3 records (p99 ~10). */
const SCANNED_DISTINCT_MAX = 16;

/**
 * `numbers` without repeats, each where it first occurs (as a Set built from them iterates). A look-up
 * meets ~3 record numbers: scanning so few is cheaper than a Set per row, which cost ~2 µs a row
 * (docs/architecture.md, "Round rowcost 3"). A short list is compacted in place and returned: the
 * caller hands over a list it no longer needs.
 */
export function distinctNumbers(numbers: string[]): readonly string[] {
  if (numbers.length > SCANNED_DISTINCT_MAX) return [...new Set(numbers)];
  let kept = 0;
  for (let i = 0; i < numbers.length; i++) {
    const no = numbers[i]!;
    let seen = false;
    for (let j = 0; j < kept; j++) {
      if (numbers[j] === no) {
        seen = true;
        break;
      }
    }
    if (!seen) numbers[kept++] = no;
  }
  numbers.length = kept;
  return numbers;
}
