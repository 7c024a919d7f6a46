/**
 * Intrusive doubly linked lists: the one data structure of the engine.
 *
 * "Intrusive" means the list's links live in the nodes themselves (`prev`, `next`), and a node
 * is its own membership: whoever holds the node can unlink it in O(1), without searching and
 * without hashing, and joining a list allocates nothing beyond the node. That is what lets a
 * wait leave its primitive's queue, its signal's list and its timer's list in the same
 * synchronous step at any queue length (a `Set` is O(1) too, but hashes on every add and remove
 * and costs about twice the memory per entry; an array is O(n) to remove from the middle).
 *
 * Three kinds of list use these two functions: a primitive's waiters (`waiters.ts`), the waits
 * on one signal (`signals.ts`) and the waits with one timeout duration (`timers.ts`).
 *
 * @module
 */

/** A node: its neighbours in the one list it belongs to, `null` at the ends and once unlinked. */
export interface Linked<N> {
  prev: N | null;
  next: N | null;
}

/** A list: its first and last node, `null` when empty. */
export interface List<N> {
  head: N | null;
  tail: N | null;
}

/** Adds `node` (not in any list) at the tail of `list`. */
export function append<N extends Linked<N>>(list: List<N>, node: N): void {
  const tail = list.tail;
  if (tail === null) list.head = node;
  else {
    tail.next = node;
    node.prev = tail;
  }
  list.tail = node;
}

/** Removes `node` from `list`, which it is in, and clears its links. */
export function unlink<N extends Linked<N>>(list: List<N>, node: N): void {
  const { prev, next } = node;
  if (prev === null) list.head = next;
  else prev.next = next;
  if (next === null) list.tail = prev;
  else next.prev = prev;
  node.prev = null;
  node.next = null;
}
