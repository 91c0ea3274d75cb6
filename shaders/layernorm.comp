#version 450
/*
 * layernorm: Y[r, :] = (X[r, :] - mean) / sqrt(var + eps) * gamma + beta
 * for each of `rows` rows of `n` floats. Statistics in fp32, two passes
 * (mean, then the mean of squared deviations) so rows with a large mean keep
 * their precision.
 *
 * Buffers: 0 X [rows, n] f32 (row stride x_stride), 1 gamma [n], 2 beta [n],
 *          3 Y [rows, n] f32 (row stride y_stride).
 * Tiling:  one workgroup per row (rows spread over x and y when there are
 *          more than 65535), WG invocations (spec 0)
 *          stride over the row; the partial sums meet in shared memory.
 */
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 128;

layout(std430, binding = 0) readonly buffer XBuf { float x[]; };
layout(std430, binding = 1) readonly buffer GBuf { float gamma[]; };
layout(std430, binding = 2) readonly buffer BBuf { float beta[]; };
layout(std430, binding = 3) writeonly buffer YBuf { float y[]; };

layout(push_constant) uniform Push {
    uint rows;
    uint n;
    uint x_stride;
    uint y_stride;
    float eps;
} pc;

shared float partial[WG];

float workgroup_sum(float v)
{
    partial[gl_LocalInvocationID.x] = v;
    barrier();
    for (uint s = WG / 2; s > 0; s >>= 1) {
        if (gl_LocalInvocationID.x < s) partial[gl_LocalInvocationID.x] += partial[gl_LocalInvocationID.x + s];
        barrier();
    }
    float total = partial[0];
    barrier(); /* partial[] is reused by the next call */
    return total;
}

void main()
{
    uint row = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    if (row >= pc.rows) return;
    uint xo = row * pc.x_stride, yo = row * pc.y_stride;
    uint t = gl_LocalInvocationID.x;

    float s = 0.0;
    for (uint i = t; i < pc.n; i += WG) s += x[xo + i];
    float mean = workgroup_sum(s) / float(pc.n);

    float q = 0.0;
    for (uint i = t; i < pc.n; i += WG) {
        float d = x[xo + i] - mean;
        q += d * d;
    }
    float rstd = inversesqrt(workgroup_sum(q) / float(pc.n) + pc.eps);

    for (uint i = t; i < pc.n; i += WG) y[yo + i] = (x[xo + i] - mean) * rstd * gamma[i] + beta[i];
}
