package org.clipvk.example;

import android.app.Activity;
import android.content.Intent;
import android.graphics.Bitmap;
import android.graphics.ImageDecoder;
import android.net.Uri;
import android.os.Bundle;
import android.widget.Button;
import android.widget.EditText;
import android.widget.ImageView;
import android.widget.LinearLayout;
import android.widget.TextView;

import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** Pick a photo from the gallery; see how CLIP rates the labels typed in. */
public final class MainActivity extends Activity {
    private static final int PICK = 1;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(); // one thread uses the Clip
    private Clip clip;
    private EditText labels;
    private ImageView image;
    private TextView result;

    @Override
    protected void onCreate(Bundle state) {
        super.onCreate(state);
        LinearLayout layout = new LinearLayout(this);
        layout.setOrientation(LinearLayout.VERTICAL);
        labels = new EditText(this);
        labels.setText("cat, dog, car, coffee");
        Button pick = new Button(this);
        pick.setText("Pick a photo");
        image = new ImageView(this);
        image.setAdjustViewBounds(true);
        image.setMaxHeight(800);
        result = new TextView(this);
        result.setText("Loading the model…");
        layout.addView(labels);
        layout.addView(pick);
        layout.addView(image);
        layout.addView(result);
        setContentView(layout);
        pick.setOnClickListener(v -> {
            Intent intent = new Intent(Intent.ACTION_GET_CONTENT);
            intent.setType("image/*");
            startActivityForResult(intent, PICK);
        });
        worker.execute(() -> {
            String status;
            try {
                clip = new Clip(this, "clip"); // assets/clip/: the model's files
                status = "Model loaded. Pick a photo.";
            } catch (RuntimeException e) {
                status = "Cannot load the model: " + e.getMessage();
            }
            String text = status;
            runOnUiThread(() -> result.setText(text));
        });
    }

    @Override
    protected void onActivityResult(int request, int code, Intent data) {
        super.onActivityResult(request, code, data);
        if (request != PICK || code != RESULT_OK || data == null) return;
        Uri uri = data.getData();
        String[] names = labels.getText().toString().split("\\s*,\\s*");
        worker.execute(() -> {
            String text;
            try {
                // A software ARGB_8888 bitmap: pixels the native side can lock.
                Bitmap bitmap = ImageDecoder.decodeBitmap(ImageDecoder.createSource(getContentResolver(), uri),
                        (decoder, info, source) -> decoder.setAllocator(ImageDecoder.ALLOCATOR_SOFTWARE));
                runOnUiThread(() -> image.setImageBitmap(bitmap));
                if (clip == null) throw new IllegalStateException("the model is not loaded");
                float[] probs = clip.classify(bitmap, names);
                StringBuilder sb = new StringBuilder();
                for (int i = 0; i < names.length; i++)
                    sb.append(String.format(Locale.ROOT, "%-12s %5.1f%%%n", names[i], 100 * probs[i]));
                text = sb.toString();
            } catch (Exception e) {
                text = "Failed: " + e.getMessage();
            }
            String shown = text;
            runOnUiThread(() -> result.setText(shown));
        });
    }

    @Override
    protected void onDestroy() {
        worker.execute(() -> {
            if (clip != null) clip.close();
        });
        worker.shutdown();
        super.onDestroy();
    }
}
