/*
 * The output side of every matmul shader: R and Y bindings, the push
 * constants, and store(), the fused epilogue
 *   Y[m, n] = act(v + b[n]) + R[m, n]
 * Shared by matmul.comp and matmul_coop.comp so both compute the same
 * function; the including shader declares HAS_BIAS, ACT and HAS_RES as
 * specialization constants, binds X and W at 0 and 1, and defines
 * bias_at(n).
 *
 * Buffers: 1 (the including shader's W binding) also holds the bias [N] f32,
 *            at float bias_base, after the packed weights: a matmul binds 4
 *            storage buffers at most (X, W, R, Y), the spec minimum per
 *            stage that many Mali and older Android devices have.
 *          2 R [M, N] f32 at r_base + m * r_stride (only with HAS_RES; may be Y)
 *          3 Y [M, N] f32 at y_base + m * y_stride (a column slice when the
 *            stride is wider than N)
 */
layout(std430, binding = 2) readonly buffer RBuf { float res[]; };
layout(std430, binding = 3) writeonly buffer YBuf { float y[]; };

layout(push_constant) uniform Push {
    uint M, N, K, KP;
    uint x_base, x_stride;
    uint y_base, y_stride;
    uint r_base, r_stride;
    uint bias_base; /* float index of b[0] in the W binding */
} pc;

float bias_at(uint n); /* b[n], from the W binding */

/* erf by Abramowitz & Stegun 7.1.26: |error| <= 1.5e-7 (GLSL has no erf). */
float erf_as(float z)
{
    float a = abs(z);
    float t = 1.0 / (1.0 + 0.3275911 * a);
    float p = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    return sign(z) * (1.0 - p * exp(-a * a));
}

void store(uint m, uint n, float v)
{
    if (HAS_BIAS != 0) v += bias_at(n);
    if (ACT == 1) v = v / (1.0 + exp(-1.702 * v));                  /* QuickGELU: x * sigmoid(1.702 x) */
    else if (ACT == 2) v = 0.5 * v * (1.0 + erf_as(v * 0.70710678)); /* GELU */
    else if (ACT == 3) {
        /* GELU, tanh approximation (PyTorch's approximate="tanh", SigLIP):
         * 0.5 (1 + tanh(u)) is sigmoid(2u), which cannot overflow to NaN the
         * way a tanh built from exp(2u) can. */
        float u = 0.7978845608 * (v + 0.044715 * v * v * v);
        v = v / (1.0 + exp(-2.0 * u));
    }
    if (HAS_RES != 0) v += res[pc.r_base + m * pc.r_stride + n];
    y[pc.y_base + m * pc.y_stride + n] = v;
}
