#version 450
/*
 * patchify: unfolds images into patch rows so that the vision tower's patch
 * embedding (a stride-p convolution without bias) becomes one matmul with the
 * convolution weight viewed as [width, C*p*p].
 *   P[(b*G + gy)*G + gx, (c*p + ky)*p + kx] = X[b, c, gy*p + ky, gx*p + kx]
 * with G = floor(H / p) patches per side (as the convolution, which drops a
 * remainder).
 *
 * Buffers: 0 X [B, C, H, W] f32 (NCHW), 1 P [B*G*G, C*p*p] f32.
 * Tiling:  one invocation per output element, WG (spec 0) per group, groups
 *          over x and y.
 */
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;

layout(std430, binding = 0) readonly buffer XBuf { float x[]; };
layout(std430, binding = 1) writeonly buffer PBuf { float p[]; };

layout(push_constant) uniform Push {
    uint batch, channels, height, width, psize, grid;
} pc;

void main()
{
    uint i = (gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x) * WG + gl_LocalInvocationID.x;
    uint pp = pc.psize * pc.psize;
    uint cols = pc.channels * pp;
    uint total = pc.batch * pc.grid * pc.grid * cols;
    if (i >= total) return;
    uint row = i / cols, col = i % cols;
    uint b = row / (pc.grid * pc.grid), cell = row % (pc.grid * pc.grid);
    uint gy = cell / pc.grid, gx = cell % pc.grid;
    uint c = col / pp, k = col % pp;
    uint yy = gy * pc.psize + k / pc.psize, xx = gx * pc.psize + k % pc.psize;
    p[i] = x[((b * pc.channels + c) * pc.height + yy) * pc.width + xx];
}
