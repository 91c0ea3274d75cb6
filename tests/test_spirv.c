/*
 * Every SPIR-V module embedded in the library (clipvk_shaders[]) through
 * spirv-val, for Vulkan 1.1 as glslangValidator compiles them. The other
 * tests create each shader module they use under the validation layer, but
 * some variants are never created on the CI device because they need
 * features lavapipe lacks (matmul_coop_nv: VK_NV_cooperative_matrix, NVIDIA
 * only): spirv-val is the only check those get before they reach a GPU.
 *
 * A copy of the first module with a deliberately invalid instruction must
 * be rejected, so a spirv-val that accepts anything, or a test that never
 * really runs it, cannot pass. Needs no Vulkan device. Skips (77) when
 * spirv-val is not on PATH (Debian package spirv-tools).
 */
#include "core/pipeline.h"
#include "core/shaders.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "check.h"

#ifdef _WIN32
/* spirv-val is a program of the build machine; the modules embedded in the
 * Windows build are the same files, checked by the build machine's own run
 * of this test. */
int main(void)
{
    printf("SKIP: test_spirv runs spirv-val through popen, which the Windows build does not do; "
           "the same SPIR-V is checked by the build machine's test_spirv\n");
    return 77;
}
#else

int test_failures;

#define SPIRV_MAGIC 0x07230203u
#define SPIRV_HEADER_WORDS 5
#define SPIRV_OP_MEMORY_MODEL 14
#define SPIRV_ADDRESSING_PHYSICAL64 2
#define SPIRV_OP_TYPE_IMAGE 25
#define SPIRV_OP_TYPE_SAMPLED_IMAGE 27
#define SPIRV_DIM_BUFFER 5

/* The first executable called name in $PATH, as execvp would find it (an
 * empty entry is the current folder). 1 when found. */
static int find_on_path(const char *name, char *out, size_t cap)
{
    const char *path = getenv("PATH");
    if (!path)
        return 0;
    for (const char *p = path;;) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        int n = len ? snprintf(out, cap, "%.*s/%s", (int)len, p, name) : snprintf(out, cap, "./%s", name);
        struct stat st;
        if (n > 0 && (size_t)n < cap && stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
            return 1;
        if (!end)
            return 0;
        p = end + 1;
    }
}

/* s in single quotes for sh (TMPDIR may hold anything). 0 when it does not fit. */
static int sh_quote(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    if (cap < 3)
        return 0;
    out[o++] = '\'';
    for (; *s; s++) {
        const char *piece = *s == '\'' ? "'\\''" : NULL;
        size_t len = piece ? 4 : 1;
        if (o + len + 2 > cap)
            return 0;
        if (piece)
            memcpy(out + o, piece, len);
        else
            out[o] = *s;
        o += len;
    }
    out[o++] = '\'';
    out[o] = 0;
    return 1;
}

/* Writes the module to file and runs spirv-val on it. Returns spirv-val's
 * exit status (-1 when it could not be run or did not exit), and its
 * output, stdout and stderr together, in msg. */
static int validate(const char *spirv_val, const char *file, const uint32_t *code, size_t size, char *msg,
                    size_t msg_cap)
{
    msg[0] = 0;
    FILE *f = fopen(file, "wb");
    if (!f || fwrite(code, 1, size, f) != size || fclose(f) != 0) {
        snprintf(msg, msg_cap, "cannot write %s", file);
        return -1;
    }
    char qval[2048], qfile[2048], cmd[4200];
    if (!sh_quote(spirv_val, qval, sizeof qval) || !sh_quote(file, qfile, sizeof qfile)) {
        snprintf(msg, msg_cap, "path too long");
        return -1;
    }
    snprintf(cmd, sizeof cmd, "%s --target-env vulkan1.1 %s 2>&1", qval, qfile);
    FILE *p = popen(cmd, "r");
    if (!p) {
        snprintf(msg, msg_cap, "cannot run %s", cmd);
        return -1;
    }
    /* Read all of it (spirv-val must not block on a full pipe); keep what fits. */
    size_t n = 0;
    char buf[4096];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, p)) > 0) {
        size_t keep = n + 1 < msg_cap ? msg_cap - 1 - n : 0;
        if (keep > got)
            keep = got;
        memcpy(msg + n, buf, keep);
        n += keep;
    }
    msg[n] = 0;
    int st = pclose(p);
    return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The offset of the OpMemoryModel instruction, or 0 when there is none. */
static size_t find_memory_model(const uint32_t *w, size_t nwords)
{
    for (size_t i = SPIRV_HEADER_WORDS; i < nwords;) {
        uint32_t count = w[i] >> 16;
        if (count == 0)
            return 0;
        if ((w[i] & 0xffff) == SPIRV_OP_MEMORY_MODEL && count >= 3 && i + count <= nwords)
            return i;
        i += count;
    }
    return 0;
}

/* The id of an OpTypeSampledImage whose image has Dim Buffer (a GLSL
 * samplerBuffer), or 0. spirv-val 2022 accepts it, but Mesa 25's SPIR-V
 * front end rejects it (warns under validation): texel buffers must be
 * textureBuffer, read with GL_EXT_samplerless_texture_functions. */
static uint32_t find_sampled_buffer(const uint32_t *w, size_t nwords)
{
    uint32_t buffer_images[64], n = 0;
    for (size_t i = SPIRV_HEADER_WORDS; i < nwords;) {
        uint32_t count = w[i] >> 16, op = w[i] & 0xffff;
        if (count == 0 || i + count > nwords)
            return 0;
        if (op == SPIRV_OP_TYPE_IMAGE && count >= 4 && w[i + 3] == SPIRV_DIM_BUFFER && n < 64)
            buffer_images[n++] = w[i + 1];
        if (op == SPIRV_OP_TYPE_SAMPLED_IMAGE && count >= 3)
            for (uint32_t k = 0; k < n; k++)
                if (buffer_images[k] == w[i + 2])
                    return w[i + 1];
        i += count;
    }
    return 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && !strcmp(s + ls - lx, suffix);
}

int main(void)
{
    char spirv_val[1024];
    if (!find_on_path("spirv-val", spirv_val, sizeof spirv_val)) {
        printf("skipped: spirv-val not found on PATH (install the Debian package spirv-tools)\n");
        return 77;
    }

    /* The table itself: what the shader loader assumes of every entry. */
    CHECK(clipvk_shader_count > 0, "no embedded shaders");
    for (unsigned i = 0; i < clipvk_shader_count; i++) {
        const clipvk_shader_code *s = &clipvk_shaders[i];
        CHECK(s->name && s->name[0], "shader %u has no name", i);
        CHECK(s->code && s->size % 4 == 0 && s->size >= SPIRV_HEADER_WORDS * 4,
              "%s: size %zu is not a whole SPIR-V header plus words", s->name, s->size);
        if (s->code && s->size >= 4)
            CHECK(s->code[0] == SPIRV_MAGIC, "%s: first word 0x%08x, not the SPIR-V magic number", s->name,
                  (unsigned)s->code[0]);
    }
    if (test_failures)
        return test_report();

    const char *tmp = getenv("TMPDIR");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/clipvk_spirv_XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "FAIL: cannot create a folder like %s\n", dir);
        return 1;
    }

    static char msg[65536];
    char file[1200];
    unsigned valid = 0;
    for (unsigned i = 0; i < clipvk_shader_count; i++) {
        const clipvk_shader_code *s = &clipvk_shaders[i];
        snprintf(file, sizeof file, "%s/%s.spv", dir, s->name);
        int rc = validate(spirv_val, file, s->code, s->size, msg, sizeof msg);
        CHECK(rc == 0, "%s does not validate (spirv-val exit %d):\n%s", s->name, rc, msg);
        uint32_t sb = find_sampled_buffer(s->code, s->size / 4);
        CHECK(!sb, "%s: %%%u is a sampled image of Dim Buffer (samplerBuffer), which Mesa 25 rejects: use textureBuffer",
              s->name, sb);
        valid += rc == 0;
        remove(file);
        unsigned aliased = clipvk_spirv_aliased_bindings(s->code, s->size / 4);
        if (ends_with(s->name, "_na"))
            CHECK(aliased == 0, "%s: %u aliased binding(s) in a variant meant to have none", s->name, aliased);
        if (!strcmp(s->name, "attention") || !strcmp(s->name, "layernorm_sg"))
            CHECK(aliased > 0, "%s: the alias check finds no alias where the shader has two (is it live?)", s->name);
    }

    /* The check is live: the first module with its addressing model made
     * Physical64, which needs the Addresses capability that no Vulkan
     * module may declare. The binary still parses, so spirv-val has to get
     * as far as validating instructions to reject it. */
    const clipvk_shader_code *s = &clipvk_shaders[0];
    size_t nwords = s->size / 4;
    uint32_t *bad = malloc(s->size);
    if (!bad) {
        fprintf(stderr, "FAIL: out of memory\n");
        return 1;
    }
    memcpy(bad, s->code, s->size);
    size_t at = find_memory_model(bad, nwords);
    CHECK(at, "%s: no OpMemoryModel instruction", s->name);
    if (at) {
        bad[at + 1] = SPIRV_ADDRESSING_PHYSICAL64;
        snprintf(file, sizeof file, "%s/%s_corrupted.spv", dir, s->name);
        int rc = validate(spirv_val, file, bad, s->size, msg, sizeof msg);
        CHECK(rc > 0 && strstr(msg, "MemoryModel"),
              "spirv-val did not reject %s with a Physical64 memory model (exit %d):\n%s", s->name, rc, msg);
        remove(file);
    }
    free(bad);
    rmdir(dir);

    printf("%u of %u embedded shaders validate (%s --target-env vulkan1.1)\n", valid, clipvk_shader_count,
           spirv_val);
    return test_report();
}
#endif /* _WIN32 */
