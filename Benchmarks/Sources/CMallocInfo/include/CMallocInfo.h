#ifndef CARRIAGE_MALLOC_INFO_H
#define CARRIAGE_MALLOC_INFO_H
#include <malloc.h>
#include <stddef.h>

/// Heap bytes in use: small chunks plus mmapped ones (glibc's mallinfo2).
static inline size_t carriage_heap_bytes_in_use(void) {
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}
#endif
