/* FNV-1a, 64 bits: the stable hash of the command line's choices (the
 * settings hash of the manifest) and of input paths (--shard). Fed in
 * pieces: start from CLI_FNV1A_BASIS, pass the result back in. */
#ifndef RA_CLI_HASH_H
#define RA_CLI_HASH_H

#include <stddef.h>
#include <stdint.h>

#define CLI_FNV1A_BASIS 0xcbf29ce484222325u

static inline uint64_t cli_fnv1a(uint64_t h, const void *p, size_t len)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3u;
	}
	return h;
}

#endif
