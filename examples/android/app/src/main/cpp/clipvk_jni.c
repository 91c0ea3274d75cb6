/*
 * JNI glue between the sample app (org.clipvk.example.Clip) and clipvk.h:
 * loads a CLIP model from the app's assets (AAssetManager buffers, through
 * clipvk_model_load_memory), classifies an ARGB_8888 Bitmap (its pixels
 * locked in place with AndroidBitmap_lockPixels, passed with their stride as
 * CLIPVK_PIXELS_RGBA8) against labels and returns their probabilities.
 * clipvk's messages go to logcat through the context's log callback.
 *
 * One Clip object is used by one thread at a time (clipvk's rule for a
 * context and its models); the activity runs it on a background thread.
 */
#include <android/asset_manager.h>
#include <android/asset_manager_jni.h>
#include <android/bitmap.h>
#include <android/log.h>
#include <jni.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clipvk.h"

#define TAG "clipvk"

typedef struct clip_handle {
    clipvk_context *ctx;
    clipvk_model *model;
} clip_handle;

static void on_log(void *user, clipvk_log_level level, const char *message)
{
    (void)user;
    int prio = level == CLIPVK_LOG_ERROR ? ANDROID_LOG_ERROR : level == CLIPVK_LOG_WARNING ? ANDROID_LOG_WARN
                                                                                          : ANDROID_LOG_INFO;
    __android_log_write(prio, TAG, message);
}

static void throw_error(JNIEnv *env, const char *what, const char *message)
{
    char line[768];
    snprintf(line, sizeof line, "%s: %s", what, message);
    __android_log_write(ANDROID_LOG_ERROR, TAG, line);
    jclass c = (*env)->FindClass(env, "java/lang/RuntimeException");
    if (c) (*env)->ThrowNew(env, c, line);
}

/* The model's files, as a folder of assets holds them. */
static const char *const model_files[] = {"config.json", "model.safetensors", "vocab.json", "merges.txt",
                                          "preprocessor_config.json"};
#define N_FILES (sizeof model_files / sizeof model_files[0])

JNIEXPORT jlong JNICALL Java_org_clipvk_example_Clip_nativeLoad(JNIEnv *env, jclass cls, jobject asset_manager,
                                                                jstring folder, jstring cache_dir)
{
    (void)cls;
    AAssetManager *am = AAssetManager_fromJava(env, asset_manager);
    const char *dir = (*env)->GetStringUTFChars(env, folder, NULL);
    const char *cache = (*env)->GetStringUTFChars(env, cache_dir, NULL);
    clip_handle *h = calloc(1, sizeof *h);
    AAsset *assets[N_FILES] = {0};
    clipvk_model_file files[N_FILES];
    uint32_t n = 0;
    jlong result = 0;
    if (!am || !dir || !cache || !h) {
        throw_error(env, "clipvk", "out of memory");
        goto done;
    }
    clipvk_context_options o;
    clipvk_context_options_init(&o);
    o.cache_dir = cache; /* Context.getCacheDir(): the pipeline cache lives there */
    o.log = on_log;
    if (clipvk_context_create(&o, &h->ctx)) {
        throw_error(env, "Vulkan", clipvk_context_last_error(h->ctx));
        goto done;
    }
    for (size_t i = 0; i < N_FILES; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, model_files[i]);
        /* AASSET_MODE_BUFFER: an uncompressed asset (build.gradle's
         * noCompress) is mapped from the APK, not copied. */
        AAsset *a = AAssetManager_open(am, path, AASSET_MODE_BUFFER);
        if (!a) continue; /* clipvk names what is missing */
        const void *data = AAsset_getBuffer(a);
        if (!data) {
            AAsset_close(a);
            throw_error(env, path, "cannot read the asset");
            goto done;
        }
        assets[n] = a;
        files[n++] = (clipvk_model_file){model_files[i], data, (size_t)AAsset_getLength64(a)};
    }
    if (clipvk_model_load_memory(h->ctx, files, n, NULL, &h->model)) {
        throw_error(env, "model", clipvk_context_last_error(h->ctx));
        goto done;
    }
    result = (jlong)(intptr_t)h;
    h = NULL;
done:
    for (uint32_t i = 0; i < n; i++) AAsset_close(assets[i]); /* clipvk keeps no pointer into them */
    if (h) {
        clipvk_model_free(h->model);
        clipvk_context_destroy(h->ctx);
        free(h);
    }
    if (dir) (*env)->ReleaseStringUTFChars(env, folder, dir);
    if (cache) (*env)->ReleaseStringUTFChars(env, cache_dir, cache);
    return result;
}

JNIEXPORT jfloatArray JNICALL Java_org_clipvk_example_Clip_nativeClassify(JNIEnv *env, jclass cls, jlong handle,
                                                                         jobject bitmap, jobjectArray labels)
{
    (void)cls;
    clip_handle *h = (clip_handle *)(intptr_t)handle;
    if (!h || !bitmap || !labels) {
        throw_error(env, "classify", "no model, bitmap or labels");
        return NULL;
    }
    AndroidBitmapInfo info;
    if (AndroidBitmap_getInfo(env, bitmap, &info) != ANDROID_BITMAP_RESULT_SUCCESS) {
        throw_error(env, "classify", "not a Bitmap");
        return NULL;
    }
    if (info.format != ANDROID_BITMAP_FORMAT_RGBA_8888) {
        throw_error(env, "classify", "the Bitmap must be ARGB_8888 (bitmap.copy(Bitmap.Config.ARGB_8888, false))");
        return NULL;
    }
    jsize n = (*env)->GetArrayLength(env, labels);
    uint32_t dim = clipvk_model_embedding_dim(h->model);
    char **text = calloc(n ? (size_t)n : 1, sizeof *text);
    float *image = malloc(dim * sizeof *image), *label = malloc((size_t)(n ? n : 1) * dim * sizeof *label);
    float *probs = malloc((size_t)(n ? n : 1) * sizeof *probs);
    jfloatArray result = NULL;
    if (!text || !image || !label || !probs) {
        throw_error(env, "classify", "out of memory");
        goto done;
    }
    /* Copied out one at a time: a local reference per label would run into
     * JNI's local reference limit with many labels. */
    for (jsize i = 0; i < n; i++) {
        jstring js = (jstring)(*env)->GetObjectArrayElement(env, labels, i);
        const char *utf = js ? (*env)->GetStringUTFChars(env, js, NULL) : NULL;
        text[i] = utf ? strdup(utf) : NULL;
        if (utf) (*env)->ReleaseStringUTFChars(env, js, utf);
        if (js) (*env)->DeleteLocalRef(env, js);
        if (!text[i]) {
            throw_error(env, "classify", js ? "out of memory" : "a label is null");
            goto done;
        }
    }
    void *pixels;
    if (AndroidBitmap_lockPixels(env, bitmap, &pixels) != ANDROID_BITMAP_RESULT_SUCCESS) {
        throw_error(env, "classify", "cannot lock the Bitmap's pixels");
        goto done;
    }
    /* ARGB_8888 lies in memory as R, G, B, A bytes, premultiplied: opaque
     * photos are unaffected (clipvk drops alpha, as PIL's convert("RGB")). */
    clipvk_image_view view = {pixels, info.width, info.height, info.stride, CLIPVK_PIXELS_RGBA8};
    clipvk_status s = clipvk_embed_images(h->model, &view, 1, 1, image);
    AndroidBitmap_unlockPixels(env, bitmap);
    if (!s) s = clipvk_label_embeddings(h->model, (const char *const *)text, (uint32_t)n, NULL, 0, label);
    if (!s) s = clipvk_classify(h->model, image, 1, label, (uint32_t)n, probs, NULL);
    if (s) {
        throw_error(env, "classify", clipvk_context_last_error(h->ctx));
        goto done;
    }
    result = (*env)->NewFloatArray(env, n);
    if (result) (*env)->SetFloatArrayRegion(env, result, 0, n, probs);
done:
    for (jsize i = 0; text && i < n; i++) free(text[i]);
    free(text), free(image), free(label), free(probs);
    return result;
}

JNIEXPORT void JNICALL Java_org_clipvk_example_Clip_nativeFree(JNIEnv *env, jclass cls, jlong handle)
{
    (void)env, (void)cls;
    clip_handle *h = (clip_handle *)(intptr_t)handle;
    if (!h) return;
    clipvk_model_free(h->model);
    clipvk_context_destroy(h->ctx);
    free(h);
}
