import { createRequire } from 'node:module'
import type * as SortedBtree from 'sorted-btree'

/** BTreeClass is sorted-btree's class type (under nodenext its CommonJS module sits one `default` deeper). */
type BTreeClass = typeof SortedBtree.default.default

/**
 * BTree is sorted-btree's class, loaded once here. sorted-btree is CommonJS with `exports.default`: under Node's ESM
 * loader a default import yields the module object, under Vitest the class; requiring it avoids the difference.
 */
export const BTree: BTreeClass = createRequire(import.meta.url)('sorted-btree').default
