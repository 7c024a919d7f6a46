/**
 * `waitsafe/inspect`: tools to find waiter leaks in a running process.
 *
 * The inspector (snapshots, diffs and a monitor) is being built; this entry point exists so
 * that the package layout is final.
 *
 * @module
 */

export {};
