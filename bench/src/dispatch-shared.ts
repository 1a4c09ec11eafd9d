/** What both processes of `pnpm bench dispatch` agree on. */

/** Tasks (jobs) one worker holds at once: the openbatch worker's capacity, the BullMQ worker's concurrency. */
export const CAPACITY = 32
/** The BullMQ queue's name. */
export const QUEUE = 'openbatch-dispatch-bench'
/** The protocol of the transport ceiling's sink peers: streams read to their end, then closed. */
export const SINK_PROTOCOL = '/openbatch-bench/sink/1.0.0'
