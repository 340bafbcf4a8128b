/* C layouts of the native order book whose packing Cython cannot express (bitfields).
 *
 * OrderNode: one resting order, 32 bytes, two per cache line. The level index (a tick index below
 * 2**24), the side and the flag bits share one 32-bit word; the open size fits 32 bits because
 * max_size is capped below 2**32.
 * IdEntry: one bucket of the order-id hash table, 8 bytes: the top 32 bits of the id's hash (so
 * probes and deletions never touch the order pool) and the order's slot, -1 when empty.
 */
#ifndef PERPCORE_BOOK_H
#define PERPCORE_BOOK_H
#include <stdint.h>

typedef struct {
    int64_t order_id;
    int64_t account;
    uint32_t remaining;
    int32_t prev;  /* neighbours in the level's FIFO queue, -1 at the ends; next also chains free slots */
    int32_t next;
    uint32_t level : 24;
    uint32_t side : 1;
    uint32_t flags : 7;
} pc_order_node;

typedef struct {
    uint32_t tag;
    int32_t slot;
} pc_id_entry;

#endif
