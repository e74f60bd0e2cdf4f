import { createRequire } from 'node:module'
import type * as SortedBtree from 'sorted-btree'
import type * as BulkLoad from 'sorted-btree/extended/bulkLoad.js'

/** BTreeClass is sorted-btree's class type (under nodenext its CommonJS module sits one `default` deeper). */
type BTreeClass = typeof SortedBtree.default.default

const require = createRequire(import.meta.url)
const sortedBtree = require('sorted-btree') as typeof SortedBtree.default

/**
 * BTree is sorted-btree's class, loaded once here. sorted-btree is CommonJS with `exports.default`: under Node's ESM
 * loader a default import yields the module object, under Vitest the class; requiring it avoids the difference.
 */
export const BTree: BTreeClass = sortedBtree.default

/** MAX_NODE_SIZE is the node size every tree here uses (sorted-btree's default). */
export const MAX_NODE_SIZE = 32

/** defaultComparator is the order sorted-btree uses by default; for strings it is their JS order. */
export const defaultComparator = sortedBtree.defaultComparator

/** bulkLoad builds a tree from keys in strictly ascending order in O(n), several times faster than inserting them. */
export const bulkLoad: typeof BulkLoad.bulkLoad = (require('sorted-btree/extended/bulkLoad.js') as typeof BulkLoad).bulkLoad
