/* Image search with clipvk's C API: builds (or updates) an index of image
 * files, saves it, and ranks it against a text.
 *   search MODEL_DIR INDEX_FILE TEXT [IMAGE...]
 * Without images the index file must exist; with them it is created or
 * updated (only new and changed files are embedded). */
#include <clipvk.h>
#include <stdio.h>
#include <stdlib.h>

#define TOP 5

int main(int argc, char **argv)
{
    if (argc < 4) return fprintf(stderr, "usage: %s MODEL_DIR INDEX_FILE TEXT [IMAGE...]\n", argv[0]), 2;
    const char *model_dir = argv[1], *file = argv[2], *text = argv[3];
    const char *const *images = (const char *const *)argv + 4;
    uint32_t n_images = (uint32_t)(argc - 4), found = 0;
    clipvk_context *ctx;
    clipvk_model *model = NULL;
    clipvk_index *index = NULL;
    clipvk_index_stats stats = {0};
    clipvk_search_hit hits[TOP];
    int failed = clipvk_context_create(NULL, &ctx) || clipvk_model_load(ctx, model_dir, NULL, &model);
    if (!failed) /* an existing index is updated, else a new one made */
        failed = clipvk_index_open(ctx, file, &index) && (!n_images || clipvk_index_create(ctx, &index));
    if (!failed && n_images)
        failed = clipvk_index_update(index, model, images, n_images, NULL, &stats) || clipvk_index_save(index, file);
    if (!failed) failed = clipvk_index_search_text(index, model, text, TOP, hits, &found);
    if (failed) {
        fprintf(stderr, "error: %s\n", ctx ? clipvk_context_last_error(ctx) : "out of memory");
    } else {
        uint32_t n_bad;
        const clipvk_index_failure *bad = clipvk_index_failures(index, &n_bad);
        for (uint32_t i = 0; i < n_bad; i++) fprintf(stderr, "skipped %s\n", bad[i].message);
        if (n_images)
            printf("# %llu new, %llu changed, %llu unchanged, %llu failed: %llu images\n",
                   (unsigned long long)stats.added, (unsigned long long)stats.changed,
                   (unsigned long long)stats.unchanged, (unsigned long long)stats.failed,
                   (unsigned long long)clipvk_index_count(index));
        for (uint32_t i = 0; i < found; i++) printf("%u  %.4f  %s\n", i + 1, hits[i].score, hits[i].path);
    }
    clipvk_index_close(index);
    clipvk_model_free(model);
    clipvk_context_destroy(ctx);
    return failed ? 1 : 0;
}
