/**
 * The simulator's gossip: a mesh of degree about D over the peers (gossipsub's target mesh degree,
 * spec §5), each link with its own latency drawn from the scenario's network. A message spreads
 * along the mesh from its publisher: a peer forwards it once, on first receipt, to its mesh
 * neighbours; a link drops a transmission with the scenario's loss (gossipsub's IHAVE/IWANT repair
 * is not modelled: a peer misses the message only when every path to it is lost or offline). The
 * arrival time at each peer is the shortest path's (Dijkstra), so delivery delays come from hops
 * and latencies, not from one assumed latency.
 */

import { TimeHeap } from '@openbatch/core'

/** gossipsub's D. */
export const MESH_DEGREE = 6

export class GossipMesh {
  /** CSR adjacency: neighbours of node i are `targets[offsets[i] .. offsets[i + 1])`. */
  private readonly offsets: Int32Array
  private readonly targets: Int32Array
  private readonly latencies: Float32Array

  /**
   * `nodes` peers; each opens D/2 links to random others (so degrees average D), each link's
   * latency drawn once from `latency()`.
   */
  constructor(
    readonly nodes: number,
    latency: () => number,
    random: () => number,
    degree = MESH_DEGREE
  ) {
    const half = Math.max(1, Math.floor(degree / 2))
    const from: number[] = []
    const to: number[] = []
    const lat: number[] = []
    if (nodes > 1) {
      for (let i = 0; i < nodes; i++) {
        for (let k = 0; k < half; k++) {
          let j = Math.floor(random() * (nodes - 1))
          if (j >= i) {
            j++
          }
          const l = latency()
          from.push(i, j)
          to.push(j, i)
          lat.push(l, l)
        }
      }
    }
    const counts = new Int32Array(nodes + 1)
    for (const f of from) {
      counts[f + 1] = (counts[f + 1] as number) + 1
    }
    for (let i = 0; i < nodes; i++) {
      counts[i + 1] = (counts[i + 1] as number) + (counts[i] as number)
    }
    this.offsets = counts
    this.targets = new Int32Array(from.length)
    this.latencies = new Float32Array(from.length)
    const fill = Int32Array.from(counts.subarray(0, nodes))
    for (let e = 0; e < from.length; e++) {
      const f = from[e] as number
      const slot = fill[f] as number
      fill[f] = slot + 1
      this.targets[slot] = to[e] as number
      this.latencies[slot] = lat[e] as number
    }
  }

  /** Mesh neighbours of `node`. */
  degree(node: number): number {
    return (this.offsets[node + 1] as number) - (this.offsets[node] as number)
  }

  /**
   * When a message published by `source` reaches each peer (ms after publishing; Infinity: never).
   * `relays(i)`: whether peer i is online to forward it; `lost()`: whether one transmission is lost.
   */
  spread(source: number, relays: (node: number) => boolean, lost: () => boolean): Float64Array {
    const arrival = new Float64Array(this.nodes).fill(Number.POSITIVE_INFINITY)
    const heap = new TimeHeap<number>()
    arrival[source] = 0
    heap.push(0, source, source)
    while (heap.size > 0) {
      const at = heap.peekTime() as number
      const node = heap.pop() as number
      if (at > (arrival[node] as number) || (node !== source && !relays(node))) {
        continue
      }
      for (let e = this.offsets[node] as number; e < (this.offsets[node + 1] as number); e++) {
        const next = this.targets[e] as number
        const t = at + (this.latencies[e] as number)
        if (t < (arrival[next] as number) && !lost()) {
          arrival[next] = t
          heap.push(t, next, next)
        }
      }
    }
    return arrival
  }
}
