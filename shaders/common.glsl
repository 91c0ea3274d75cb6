/*
 * Shared by the shaders that read weights: W_LOAD(buf, i) gives element i of
 * a weight array as a float, whatever the storage precision. With WEIGHT_F16
 * the array is declared as uint and holds two IEEE halves per word (element
 * 2k in the low half), decoded with unpackHalf2x16 — this needs no 16-bit
 * storage feature, so fp16 weights work on every Vulkan 1.1 device.
 */
#ifdef WEIGHT_F16
#define WEIGHT_T uint
#define W_LOAD(buf, i) (unpackHalf2x16(buf[(i) >> 1])[(i) & 1u])
#else
#define WEIGHT_T float
#define W_LOAD(buf, i) (buf[i])
#endif
