#version 450
/*
 * vision_embed: the vision tower's input sequence — the class embedding
 * (CLIP; has_cls) followed by the patch embeddings, each plus its position
 * embedding.
 *   X[b, 0, :]   = cls + pos[0]                      (has_cls)
 *   X[b, c+j, :] = E[b*np + j, :] + pos[c+j]         (c = has_cls)
 * SigLIP has no class token: the sequence is the patches alone.
 *
 * Buffers: 0 E [B*np, D] f32, 1 cls [D] f32 (unread without one),
 *          2 pos [np+c, D] f32, 3 X [B, np+c, D] f32.
 * Tiling:  one invocation per output element, WG (spec 0) per group.
 */
layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;

layout(std430, binding = 0) readonly buffer EBuf { float e[]; };
layout(std430, binding = 1) readonly buffer CBuf { float cls[]; };
layout(std430, binding = 2) readonly buffer PBuf { float pos[]; };
layout(std430, binding = 3) writeonly buffer XBuf { float x[]; };

layout(push_constant) uniform Push { uint batch, patches, dim, has_cls; } pc;

void main()
{
    uint i = (gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x) * WG + gl_LocalInvocationID.x;
    uint seq = pc.patches + pc.has_cls;
    if (i >= pc.batch * seq * pc.dim) return;
    uint d = i % pc.dim, t = (i / pc.dim) % seq, b = i / (pc.dim * seq);
    float v = t < pc.has_cls ? cls[d] : e[(b * pc.patches + t - pc.has_cls) * pc.dim + d];
    x[i] = v + pos[t * pc.dim + d];
}
