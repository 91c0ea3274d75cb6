/*
 * clipvk classify: zero-shot classification of images against labels.
 * Labels are encoded once (and cached on disk); images are decoded in
 * batches on other threads while the device embeds the previous batch;
 * results stream out one line per image.
 */
#include "cli/cli.h"
#include "cli/inputs.h"
#include "cli/label_cache.h"
#include "platform/platform.h"

#include <stdlib.h>
#include <string.h>

#define IMAGE_CHUNK 64 /* images per step of the output stream */

typedef struct list {
    char **v;
    uint32_t n;
    char *storage; /* one buffer the strings point into */
} list;

static void list_free(list *l)
{
    free(l->v);
    free(l->storage);
    memset(l, 0, sizeof *l);
}

/* Splits text at `sep` (and at '\n' for files), trimming spaces and
 * dropping empty items. Takes ownership of text. */
static int list_split(list *l, char *text, char sep)
{
    l->storage = text;
    size_t cap = 1;
    for (const char *p = text; *p; p++) cap += *p == sep || *p == '\n';
    if (!(l->v = malloc(cap * sizeof *l->v))) return cli_error(CLI_FAIL, "out of host memory");
    for (char *p = text; *p;) {
        char *e = p + strcspn(p, sep == '\n' ? "\n" : (char[]){sep, '\n', 0});
        char end = *e;
        *e = '\0';
        char *a = p, *b = e;
        while (*a == ' ' || *a == '\t' || *a == '\r') a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r')) *--b = '\0';
        if (*a) l->v[l->n++] = a;
        p = end ? e + 1 : e;
    }
    return CLI_OK;
}

/* s for a message: printable ASCII as is, other bytes as \xNN, at most ~60 bytes. */
static const char *escaped(const char *s, char *buf, size_t cap)
{
    size_t o = 0;
    for (; *s && o + 8 < cap && o < 60; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c < 0x7f && c != '\\') buf[o++] = (char)c;
        else o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
    }
    if (*s) o += (size_t)snprintf(buf + o, cap - o, "...");
    buf[o] = '\0';
    return buf;
}

/* Labels and templates are text: a NUL byte (which would silently end a
 * label and hide the rest of the file) or invalid UTF-8 is an error that
 * names the file and line before anything is loaded. */
static int check_text_file(const char *path, const char *text, size_t size)
{
    size_t line = 1, start = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i < size && text[i] == '\0')
            return cli_error(CLI_FAIL, "%s: line %zu: NUL byte in the file (binary, or UTF-16 text?)", path, line);
        if (i == size || text[i] == '\n') {
            size_t bad;
            const char *why;
            if (!clipvk_utf8_valid(text + start, i - start, &bad, &why))
                return cli_error(CLI_FAIL, "%s: line %zu: invalid UTF-8 at byte %zu of the line (%s)", path, line,
                                 bad, why);
            line++;
            start = i + 1;
        }
    }
    return CLI_OK;
}

static int list_from_file(list *l, const char *path, const char *what)
{
    char *text;
    size_t size;
    if (cli_read_file(path, 256u << 20, &text, &size)) return CLI_FAIL;
    if (check_text_file(path, text, size)) {
        free(text);
        return CLI_FAIL;
    }
    int r = list_split(l, text, '\n');
    if (!r && !l->n) r = cli_error(CLI_FAIL, "%s: no %s in the file", path, what);
    return r;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: clipvk classify [--model DIR] (--labels \"cat,dog,...\" | --labels-file F) [options] IMAGE... | DIR/ | -\n\n"
            "Zero-shot classification: which labels fit each image. A label's text embedding is the mean of\n"
            "its prompts' normalised embeddings (one prompt per template), renormalised. Probabilities are\n"
            "the model family's: CLIP's are softmax(exp(logit_scale) * cosine) over the labels (they sum to\n"
            "1, as the reference's logits_per_image.softmax); SigLIP's are sigmoid(exp(logit_scale) * cosine\n"
            "+ logit_bias) for each label on its own: independent, they need not sum to 1.\n"
            "  IMAGE... | DIR/ | -   image files, folders (searched recursively), or '-': paths on stdin\n"
            "  --labels L1,L2,...    the labels, comma-separated\n"
            "  --labels-file F       one label per line\n"
            "  --template T          one prompt template, '{}' standing for the label\n"
            "                        (default: the family's, \"%s\" for CLIP and SigLIP, \"一张{}的照片。\" for Chinese-CLIP)\n"
            "  --templates F         templates, one per line; 'imagenet': the CLIP authors' 80 ImageNet templates;\n"
            "                        'zh': clipvk's 12 Chinese prompts (for Chinese-CLIP)\n"
            "  --top K               labels shown per image (default 5)\n"
            "  --json                JSON Lines: {\"path\", \"scoring\": \"softmax\"|\"sigmoid\",\n"
            "                        \"top\": [{\"label\", \"probability\", \"logit\"}]}\n"
            "  --no-cache            do not read or write the label-embedding cache\n"
            "  --verbose             say how many labels came from the cache\n"
            "Images that cannot be decoded are reported on stderr and skipped; the exit code is then 1.\n",
            clipvk_templates("default", NULL)[0]);
    cli_model_usage(f, NULL);
}

typedef struct classify_opts {
    cli_model_opts model;
    const char *labels, *labels_file, *tmpl, *templates;
    uint32_t top;
    int json, no_cache, verbose;
    char **args;
    int nargs;
} classify_opts;

static int parse(int argc, char **argv, classify_opts *o)
{
    memset(o, 0, sizeof *o);
    o->top = 5;
    if (!(o->args = malloc(argc * sizeof *o->args))) return cli_error(CLI_FAIL, "out of host memory");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = cli_model_option(&o->model, argc, argv, &i);
        if (r < 0) return CLI_USAGE;
        if (r > 0) continue;
        const char **slot = !strcmp(a, "--labels") ? &o->labels
                            : !strcmp(a, "--labels-file") ? &o->labels_file
                            : !strcmp(a, "--template") ? &o->tmpl
                            : !strcmp(a, "--templates") ? &o->templates
                                                         : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return -1;
        } else if (slot || !strcmp(a, "--top")) {
            if (i + 1 >= argc) return cli_error(CLI_USAGE, "%s needs a value", a);
            if (slot) {
                *slot = argv[++i];
                continue;
            }
            char *end;
            long k = strtol(argv[++i], &end, 10);
            if (*end || k < 1 || k > 1000000) return cli_error(CLI_USAGE, "--top needs a positive number, not '%s'", argv[i]);
            o->top = (uint32_t)k;
        } else if (!strcmp(a, "--json")) {
            o->json = 1;
        } else if (!strcmp(a, "--no-cache")) {
            o->no_cache = 1;
        } else if (!strcmp(a, "--verbose")) {
            o->verbose = 1;
        } else if (a[0] == '-' && a[1]) {
            return cli_error(CLI_USAGE, "classify: unknown option '%s' (see `clipvk classify --help`)", a);
        } else {
            o->args[o->nargs++] = argv[i];
        }
    }
    if (!o->labels == !o->labels_file) return cli_error(CLI_USAGE, "classify: give --labels or --labels-file");
    if (o->tmpl && o->templates) return cli_error(CLI_USAGE, "classify: give --template or --templates, not both");
    if (!o->nargs) return cli_error(CLI_USAGE, "classify: no images given");
    return 0;
}

static void print_result(const classify_opts *o, const char *path, const list *labels, const float *p,
                         const float *logit, clipvk_scoring scoring, uint32_t *order)
{
    uint32_t n = labels->n, k = o->top < n ? o->top : n;
    /* partial selection sort: the k best, best first */
    for (uint32_t i = 0; i < n; i++) order[i] = i;
    for (uint32_t i = 0; i < k; i++)
        for (uint32_t j = i + 1; j < n; j++)
            if (p[order[j]] > p[order[i]]) {
                uint32_t t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
    if (o->json) {
        fputs("{\"path\": ", stdout);
        cli_json_write_string(stdout, path);
        printf(", \"scoring\": \"%s\", \"top\": [", scoring == CLIPVK_SCORING_SIGMOID ? "sigmoid" : "softmax");
        for (uint32_t i = 0; i < k; i++) {
            fputs(i ? ", {\"label\": " : "{\"label\": ", stdout);
            cli_json_write_string(stdout, labels->v[order[i]]);
            printf(", \"probability\": %.6g, \"logit\": %.6g}", p[order[i]], logit[order[i]]);
        }
        fputs("]}\n", stdout);
    } else {
        printf("%s:", path);
        for (uint32_t i = 0; i < k; i++) printf("%s %s %.1f%%", i ? "," : "", labels->v[order[i]], 100.0 * p[order[i]]);
        putchar('\n');
    }
    fflush(stdout);
}

static void progress(size_t done, size_t total)
{
    int width = 30, fill = total ? (int)(width * done / total) : width;
    fprintf(stderr, "\r[%.*s%*s] %zu/%zu images", fill, "##############################", width - fill, "", done, total);
    if (done == total) fputc('\n', stderr);
}

int cli_classify(int argc, char **argv)
{
    classify_opts o;
    int code = parse(argc, argv, &o);
    if (code) {
        free(o.args);
        return code < 0 ? CLI_OK : code;
    }
    list labels = {0}, templates = {0};
    cli_paths paths = {0};
    clipvk_context *ctx = NULL;
    clipvk_model *m = NULL;
    float *label_emb = NULL, *img = NULL, *probs = NULL, *logits = NULL;
    clipvk_status *status = NULL;
    uint32_t *order = NULL;
    int failed = 0;
    char *text;
    if (o.labels) {
        if (!(text = strdup(o.labels))) code = cli_error(CLI_FAIL, "out of host memory");
        else if (!(code = list_split(&labels, text, ',')) && !labels.n) code = cli_error(CLI_USAGE, "--labels is empty");
        for (uint32_t i = 0; !code && i < labels.n; i++) {
            size_t bad;
            const char *why;
            char buf[128];
            if (!clipvk_utf8_valid(labels.v[i], strlen(labels.v[i]), &bad, &why))
                code = cli_error(CLI_FAIL, "--labels: label %u (\"%s\"): invalid UTF-8 at byte %zu (%s)", i + 1,
                                 escaped(labels.v[i], buf, sizeof buf), bad, why);
        }
    } else {
        code = list_from_file(&labels, o.labels_file, "labels");
    }
    const char *const *tmpl = (const char *const *)&o.tmpl;
    uint32_t ntmpl = o.tmpl ? 1 : 0;
    if (!code && o.templates && clipvk_templates(o.templates, NULL) && strcmp(o.templates, "default")) {
        tmpl = clipvk_templates(o.templates, &ntmpl); /* a named set */
    } else if (!code && o.templates) {
        if (!(code = list_from_file(&templates, o.templates, "templates"))) {
            tmpl = (const char *const *)templates.v;
            ntmpl = templates.n;
        }
    }
    if (code || (code = cli_paths_collect(&paths, o.args, o.nargs, NULL)) ||
        (code = cli_open_model(&o.model, CLIPVK_TOWERS_BOTH, &ctx, &m)))
        goto done;
    const char *model_template[1] = {clipvk_model_default_template(m)}; /* the family's own prompt */
    if (!ntmpl) tmpl = model_template, ntmpl = 1;
    uint32_t dim = clipvk_model_embedding_dim(m), L = labels.n;
    label_emb = malloc((size_t)L * dim * sizeof *label_emb);
    img = malloc((size_t)IMAGE_CHUNK * dim * sizeof *img);
    probs = malloc((size_t)IMAGE_CHUNK * L * sizeof *probs);
    logits = malloc((size_t)IMAGE_CHUNK * L * sizeof *logits);
    status = malloc(IMAGE_CHUNK * sizeof *status);
    order = malloc(L * sizeof *order);
    if (!label_emb || !img || !probs || !logits || !status || !order) {
        code = cli_error(CLI_FAIL, "out of host memory");
        goto done;
    }
    uint32_t hits, misses;
    if ((code = cli_label_embeddings(ctx, m, (const char *const *)labels.v, L, tmpl, ntmpl, !o.no_cache, label_emb,
                                     &hits, &misses)))
        goto done;
    if (o.verbose) fprintf(stderr, "clipvk: labels: %u from the cache, %u encoded\n", hits, misses);
    if (clipvk_model_scoring(m) == CLIPVK_SCORING_SIGMOID && !o.json)
        fprintf(stderr, "clipvk: %s scores each label on its own (sigmoid): the probabilities need not sum to 100%%\n",
                clipvk_model_family(m));
    int tty = clipvk_isatty(stderr);
    for (size_t done = 0; done < paths.n; done += IMAGE_CHUNK) {
        uint32_t k = paths.n - done < IMAGE_CHUNK ? (uint32_t)(paths.n - done) : IMAGE_CHUNK;
        if (clipvk_embed_files(m, (const char *const *)paths.v + done, k, 1, img, status)) {
            code = cli_error(CLI_FAIL, "%s", clipvk_context_last_error(ctx)); /* the device or model failed */
            goto done;
        }
        if (tty) fputc('\r', stderr), fprintf(stderr, "%*s\r", 60, "");
        for (uint32_t i = 0; i < k; i++) {
            if (status[i]) {
                /* decoding it again (it fails fast) gives the reason in words */
                size_t S = clipvk_model_image_size(m);
                float *px = malloc(3 * S * S * sizeof *px);
                if (px && clipvk_preprocess_file(m, paths.v[done + i], px))
                    cli_error(CLI_FAIL, "skipped: %s", clipvk_context_last_error(ctx));
                else
                    cli_error(CLI_FAIL, "%s: skipped: %s", paths.v[done + i], clipvk_status_string(status[i]));
                free(px);
                failed++;
                continue;
            }
            clipvk_classify(m, img + (size_t)i * dim, 1, label_emb, L, probs, logits);
            print_result(&o, paths.v[done + i], &labels, probs, logits, clipvk_model_scoring(m), order);
        }
        if (tty) progress(done + k, paths.n);
    }
    /* one line per bad image; the count only adds to it when there were several images */
    if (failed && paths.n == 1) code = CLI_FAIL;
    else if (failed) code = cli_error(CLI_FAIL, "%d of %zu images could not be classified", failed, paths.n);
done:
    free(label_emb), free(img), free(probs), free(logits), free(status), free(order), free(o.args);
    list_free(&labels);
    list_free(&templates);
    cli_paths_free(&paths);
    return cli_close_model(ctx, m, code);
}
