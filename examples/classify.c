/* Classifies one image against three labels with clipvk's C API. */
#include <clipvk.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 3) return fprintf(stderr, "usage: %s MODEL_DIR IMAGE\n", argv[0]), 2;
    const char *labels[] = {"cat", "dog", "car"}, *image[] = {argv[2]};
    clipvk_context *ctx;
    clipvk_model *model = NULL;
    float *img = NULL, *lab = NULL, probs[3];
    if (clipvk_context_create(NULL, &ctx) || clipvk_model_load(ctx, argv[1], NULL, &model) ||
        !(img = malloc(clipvk_model_embedding_dim(model) * sizeof(float))) ||
        !(lab = malloc(3 * clipvk_model_embedding_dim(model) * sizeof(float))) ||
        clipvk_embed_files(model, image, 1, 1, img, NULL) ||            /* normalised image embedding */
        clipvk_label_embeddings(model, labels, 3, NULL, 0, lab) ||      /* "a photo of a {}." */
        clipvk_classify(model, img, 1, lab, 3, probs, NULL))
        return fprintf(stderr, "error: %s\n", clipvk_context_last_error(ctx)), 1;
    for (int i = 0; i < 3; i++) printf("%-4s %5.1f%%\n", labels[i], 100 * probs[i]);
    free(img), free(lab);
    clipvk_model_free(model);
    clipvk_context_destroy(ctx);
    return 0;
}
