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
 *          more than 65535), WG invocations (spec 0, a power of two) stride
 *          over the row, four floats at a time when VEC4 (spec 1: n and both
 *          strides are multiples of 4). With SUBGROUP (a variant for devices
 *          with subgroup arithmetic) the partial sums meet through
 *          subgroupAdd, and shared memory only joins the subgroups when the
 *          workgroup has several (gl_NumSubgroups, whatever width the driver
 *          runs: nothing here assumes the reported one). GPUs get 128
 *          invocations; CPU devices one subgroup, so there is no barrier at
 *          all, which is what makes this fast there.
 *          With TEXEL (CPU devices, VEC4 only) X, gamma and beta are read as
 *          RGBA32F uniform texel buffers, which lavapipe fetches 8 lanes at
 *          a time where storage-buffer loads become a loop over the lanes.
 */
/* texelFetch on a textureBuffer (no sampler): a samplerBuffer is an
 * OpTypeSampledImage of Dim Buffer, which Mesa 25's SPIR-V front end rejects. */
#extension GL_EXT_samplerless_texture_functions : require
#ifdef SUBGROUP
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_KHR_shader_subgroup_basic : require
#endif
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 128;
layout(constant_id = 1) const bool VEC4 = false;

#ifdef TEXEL
layout(binding = 0) uniform textureBuffer xt;
layout(binding = 1) uniform textureBuffer gt;
layout(binding = 2) uniform textureBuffer bt;
#define X4(i) texelFetch(xt, int(i))
#define G4(i) texelFetch(gt, int(i))
#define B4(i) texelFetch(bt, int(i))
#define X1(i) texelFetch(xt, int((i) >> 2))[(i) & 3u]
#define G1(i) texelFetch(gt, int((i) >> 2))[(i) & 3u]
#define B1(i) texelFetch(bt, int((i) >> 2))[(i) & 3u]
#else
layout(std430, binding = 0) readonly buffer XBuf { float x[]; };
layout(std430, binding = 1) readonly buffer GBuf { float gamma[]; };
layout(std430, binding = 2) readonly buffer BBuf { float beta[]; };
#ifdef NO_ALIAS
/* One declaration a binding (Metal through MoltenVK and old Mali drivers
 * reject two): VEC4's vec4s gathered from the floats. */
#define GATHER4(a, i) vec4(a[4u * (i)], a[4u * (i) + 1u], a[4u * (i) + 2u], a[4u * (i) + 3u])
#define X4(i) GATHER4(x, i)
#define G4(i) GATHER4(gamma, i)
#define B4(i) GATHER4(beta, i)
#else
/* Each buffer is seen as floats and, for the VEC4 path, as vec4s. */
layout(std430, binding = 0) readonly buffer XBuf4 { vec4 x4[]; };
layout(std430, binding = 1) readonly buffer GBuf4 { vec4 gamma4[]; };
layout(std430, binding = 2) readonly buffer BBuf4 { vec4 beta4[]; };
#define X4(i) x4[i]
#define G4(i) gamma4[i]
#define B4(i) beta4[i]
#endif
#define X1(i) x[i]
#define G1(i) gamma[i]
#define B1(i) beta[i]
#endif
layout(std430, binding = 3) writeonly buffer YBuf { float y[]; };
#ifdef NO_ALIAS
#define STORE4(i, v)                                                        \
    {                                                                       \
        vec4 v_ = (v);                                                      \
        y[4u * (i)] = v_.x, y[4u * (i) + 1u] = v_.y, y[4u * (i) + 2u] = v_.z; \
        y[4u * (i) + 3u] = v_.w;                                            \
    }
#else
layout(std430, binding = 3) writeonly buffer YBuf4 { vec4 y4[]; };
#define STORE4(i, v) y4[i] = (v)
#endif

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
#ifdef SUBGROUP
    float s = subgroupAdd(v);
    if (gl_NumSubgroups == 1) return s;
    if (subgroupElect()) partial[gl_SubgroupID] = s;
    barrier();
    float total = 0.0;
    for (uint i = 0; i < gl_NumSubgroups; i++) total += partial[i];
    barrier(); /* partial[] is reused by the next call */
    return total;
#else
    partial[gl_LocalInvocationID.x] = v;
    barrier();
    for (uint s = WG / 2; s > 0; s >>= 1) {
        if (gl_LocalInvocationID.x < s) partial[gl_LocalInvocationID.x] += partial[gl_LocalInvocationID.x + s];
        barrier();
    }
    float total = partial[0];
    barrier();
    return total;
#endif
}

void main()
{
    uint row = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    if (row >= pc.rows) return;
    uint xo = row * pc.x_stride, yo = row * pc.y_stride;
    uint t = gl_LocalInvocationID.x;

    float s = 0.0;
    if (VEC4) {
        for (uint i = t; i < pc.n / 4; i += WG) s += dot(X4(xo / 4 + i), vec4(1.0));
    } else {
        for (uint i = t; i < pc.n; i += WG) s += X1(xo + i);
    }
    float mean = workgroup_sum(s) / float(pc.n);

    float q = 0.0;
    if (VEC4) {
        for (uint i = t; i < pc.n / 4; i += WG) {
            vec4 d = X4(xo / 4 + i) - mean;
            q += dot(d, d);
        }
    } else {
        for (uint i = t; i < pc.n; i += WG) {
            float d = X1(xo + i) - mean;
            q += d * d;
        }
    }
    float rstd = inversesqrt(workgroup_sum(q) / float(pc.n) + pc.eps);

    if (VEC4) {
        for (uint i = t; i < pc.n / 4; i += WG)
            STORE4(yo / 4 + i, (X4(xo / 4 + i) - mean) * rstd * G4(i) + B4(i));
    } else {
        for (uint i = t; i < pc.n; i += WG) y[yo + i] = (X1(xo + i) - mean) * rstd * G1(i) + B1(i);
    }
}
