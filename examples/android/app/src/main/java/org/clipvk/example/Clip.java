package org.clipvk.example;

import android.content.Context;
import android.content.res.AssetManager;
import android.graphics.Bitmap;

/**
 * A CLIP model on the phone's GPU, through clipvk (libclipvk_jni.so).
 * Use one instance from one thread at a time (clipvk's rule for a context),
 * never the UI thread: loading and classifying take a while.
 */
public final class Clip implements AutoCloseable {
    static {
        System.loadLibrary("clipvk_jni");
    }

    private long handle;

    /**
     * Loads the model whose files (config.json, model.safetensors, vocab.json,
     * merges.txt, preprocessor_config.json) are the app's assets under folder.
     * Pipelines are cached in the app's cache folder. Throws RuntimeException
     * with clipvk's message when there is no Vulkan 1.1 device or a file is
     * missing or corrupt.
     */
    public Clip(Context context, String folder) {
        handle = nativeLoad(context.getAssets(), folder, context.getCacheDir().getAbsolutePath());
    }

    /** Zero-shot probabilities of each label ("a photo of a {label}.") for the picture. */
    public float[] classify(Bitmap bitmap, String[] labels) {
        Bitmap argb = bitmap.getConfig() == Bitmap.Config.ARGB_8888 ? bitmap : bitmap.copy(Bitmap.Config.ARGB_8888, false);
        return nativeClassify(handle, argb, labels);
    }

    @Override
    public void close() {
        nativeFree(handle);
        handle = 0;
    }

    private static native long nativeLoad(AssetManager assets, String folder, String cacheDir);
    private static native float[] nativeClassify(long handle, Bitmap bitmap, String[] labels);
    private static native void nativeFree(long handle);
}
