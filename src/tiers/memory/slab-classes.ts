// memcached-style size classes: the smallest chunk is 64 bytes, each class is
// `growthFactor` times the previous rounded up to 8 bytes, and the last class
// is a whole page (one item per page). Like memcached (MAX_NUMBER_OF_SLAB_CLASSES)
// we cap the count, so a tiny factor cannot make thousands of half-empty classes.

export const SMALLEST_CHUNK_BYTES = 64;
export const MAX_SLAB_CLASSES = 64;
const ALIGN = 8;

export function slabChunkSizes(pageSize: number, growthFactor: number): Uint32Array {
  const sizes: number[] = [];
  let size = SMALLEST_CHUNK_BYTES;
  while (size < pageSize && sizes.length < MAX_SLAB_CLASSES - 1) {
    sizes.push(size);
    const next = Math.ceil((size * growthFactor) / ALIGN) * ALIGN;
    size = next > size ? next : size + ALIGN;
  }
  sizes.push(pageSize);
  return Uint32Array.from(sizes);
}

/** Index of the smallest class whose chunk holds `bytes`, or -1 if none does. */
export function classForBytes(chunkSizes: Uint32Array, bytes: number): number {
  let low = 0;
  let high = chunkSizes.length - 1;
  if (bytes > chunkSizes[high]!) return -1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (chunkSizes[middle]! >= bytes) high = middle;
    else low = middle + 1;
  }
  return low;
}
