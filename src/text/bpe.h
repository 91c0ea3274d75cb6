/*
 * Byte-pair encoding of one pre-token, exactly as OpenAI's SimpleTokenizer.bpe does it:
 * the word's bytes (as vocabulary symbols, the last one with "</w>") are merged by rank,
 * each round merging every non-overlapping occurrence of the lowest-ranked pair from left to
 * right. Implemented with a heap (O(k log k) for a k-byte word, so a 1 MB word is fine) and
 * a cache of recent words.
 */
#ifndef CLIPVK_TEXT_BPE_H
#define CLIPVK_TEXT_BPE_H

#include <stddef.h>
#include <stdint.h>

typedef struct clipvk_bpe clipvk_bpe;

/* A merge table for up to max_merges merges; NULL when out of memory. byte_id[b] and
 * byte_end_id[b] are the ids of byte b's symbol without and with "</w>". */
clipvk_bpe *clipvk_bpe_create(uint32_t max_merges, const int32_t byte_id[256], const int32_t byte_end_id[256]);
void clipvk_bpe_destroy(clipvk_bpe *bpe);

/* Adds merge (a, b) -> merged with the given rank. Returns 0, or 1 if the pair is already
 * there (a duplicate merge line), or -1 if the table is full. */
int clipvk_bpe_add(clipvk_bpe *bpe, int32_t a, int32_t b, int32_t merged, uint32_t rank);

/* Encodes word[0..n) (n >= 1) into ids, which needs room for n ids; returns the number of
 * ids, or (size_t)-1 when out of memory. Safe to call from several threads at once. */
size_t clipvk_bpe_word(clipvk_bpe *bpe, const unsigned char *word, size_t n, int32_t *ids);

#endif
