/*
 * The restricted unpickler (see torch_pickle.h). What torch.save writes for
 * a state dict, protocol 2:
 *
 *   GLOBAL 'collections OrderedDict' EMPTY_TUPLE REDUCE     -> the dict
 *   MARK  key  GLOBAL 'torch._utils _rebuild_tensor_v2'
 *         (MARK 'storage' GLOBAL 'torch FloatStorage' '0' 'cpu' numel TUPLE
 *          BINPERSID  offset  (size..)  (stride..)  False  OrderedDict() TUPLE)
 *         REDUCE  ...  SETITEMS                              -> its items
 *   [EMPTY_DICT ... BUILD]  (a state_dict()'s _metadata: read and dropped)
 *   STOP
 *
 * Values live in one array and are referred to by index: the stack, the
 * memo, tuples' items and dicts' items hold indices, so sharing (BINGET)
 * copies nothing and a freed VM frees everything at once.
 */
#include "model/torch_pickle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_VALUES (1u << 26) /* far above any state dict: bounds a hostile pickle's memory */
#define MAX_KEY 64

enum { V_NONE, V_BOOL, V_INT, V_FLOAT, V_STR, V_TUPLE, V_DICT, V_GLOBAL, V_STORAGE, V_TENSOR };
enum { G_ORDERED_DICT, G_REBUILD_TENSOR_V2, G_REBUILD_PARAMETER, G_STORAGE };

typedef struct value {
    uint8_t kind;
    uint8_t global;    /* V_GLOBAL: G_* */
    uint8_t dtype;     /* V_GLOBAL G_STORAGE, V_STORAGE */
    int64_t a;         /* V_INT, V_BOOL: the value; V_STR: offset in the pickle; V_TUPLE: first item;
                        * V_STORAGE: numel; V_TENSOR: index in vm.tensors */
    uint64_t b;        /* V_STR, V_TUPLE: length; V_STORAGE: the key (a V_STR value) */
} value;

typedef struct tensor {
    uint32_t storage; /* a V_STORAGE value */
    uint64_t offset;
    uint32_t ndim;
    uint64_t size[CLIPVK_MAX_DIMS], stride[CLIPVK_MAX_DIMS];
} tensor;

typedef struct dict_item {
    uint32_t dict, key, val;
} dict_item;

typedef struct vm {
    const uint8_t *p;
    size_t n, pos, op_at;
    const char *fn;
    clipvk_error *err;
    value *vals;
    uint32_t nvals, cvals;
    uint32_t *stack, nstack, cstack;
    uint32_t *marks, nmarks, cmarks;
    uint32_t *memo, nmemo, cmemo;
    uint32_t *items, nitems, citems;
    dict_item *ditems;
    uint32_t nditems, cditems;
    tensor *tensors;
    uint32_t ntensors, ctensors;
} vm;

static clipvk_status fail(vm *v, const char *fmt, ...)
{
    char what[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return clipvk_fail(v->err, CLIPVK_ERROR_FORMAT, "%s: %s (pickle byte %zu)", v->fn, what, v->op_at);
}

/* Makes room for one more element of a growing array (capacity doubling,
 * never past MAX_VALUES elements). */
static int grow(void **arr, uint32_t *cap, uint32_t used, size_t elem)
{
    if (used < *cap) return 1;
    if (used >= MAX_VALUES) return 0;
    uint32_t c = *cap ? *cap * 2 : 64;
    void *n = realloc(*arr, (size_t)c * elem);
    if (!n) return 0;
    *arr = n;
    *cap = c;
    return 1;
}

static clipvk_status oom(vm *v) { return fail(v, "out of host memory (or more than %u values)", MAX_VALUES); }

/* A new value; its index in *idx. */
static clipvk_status new_value(vm *v, uint8_t kind, int64_t a, uint64_t b, uint32_t *idx)
{
    if (!grow((void **)&v->vals, &v->cvals, v->nvals, sizeof *v->vals)) return oom(v);
    v->vals[v->nvals] = (value){.kind = kind, .a = a, .b = b};
    *idx = v->nvals++;
    return CLIPVK_OK;
}

static clipvk_status push(vm *v, uint32_t idx)
{
    if (!grow((void **)&v->stack, &v->cstack, v->nstack, sizeof *v->stack)) return oom(v);
    v->stack[v->nstack++] = idx;
    return CLIPVK_OK;
}

static clipvk_status push_new(vm *v, uint8_t kind, int64_t a, uint64_t b)
{
    uint32_t idx = 0;
    clipvk_status s = new_value(v, kind, a, b, &idx);
    return s ? s : push(v, idx);
}

/* Where the items above the topmost MARK start; pops the mark. */
static clipvk_status pop_mark(vm *v, uint32_t *base)
{
    if (!v->nmarks) return fail(v, "an opcode needs a MARK and there is none");
    *base = v->marks[--v->nmarks];
    return CLIPVK_OK;
}

/* Values above the topmost mark can only be popped down to it. */
static uint32_t floor_of(const vm *v) { return v->nmarks ? v->marks[v->nmarks - 1] : 0; }

static clipvk_status pop(vm *v, uint32_t *idx)
{
    if (v->nstack <= floor_of(v)) return fail(v, "the stack is empty where a value is needed");
    *idx = v->stack[--v->nstack];
    return CLIPVK_OK;
}

/* A tuple of the k values at stack[base..base+k) (popped). */
static clipvk_status make_tuple(vm *v, uint32_t base, uint32_t k)
{
    uint32_t first = v->nitems;
    for (uint32_t i = 0; i < k; i++) {
        if (!grow((void **)&v->items, &v->citems, v->nitems, sizeof *v->items)) return oom(v);
        v->items[v->nitems++] = v->stack[base + i];
    }
    v->nstack = base;
    return push_new(v, V_TUPLE, first, k);
}

static clipvk_status take(vm *v, size_t k, const uint8_t **at)
{
    if (k > v->n - v->pos) return fail(v, "the pickle ends inside an opcode's argument (truncated?)");
    *at = v->p + v->pos;
    v->pos += k;
    return CLIPVK_OK;
}

static uint32_t le(const uint8_t *p, int k)
{
    uint32_t x = 0;
    for (int i = k - 1; i >= 0; i--) x = x << 8 | p[i];
    return x;
}

static int str_is(const vm *v, const value *s, const char *lit)
{
    return s->kind == V_STR && s->b == strlen(lit) && !memcmp(v->p + s->a, lit, s->b);
}

/* Printable for a message: at most 60 bytes, anything odd as '?'. */
static void printable(char *out, const uint8_t *s, size_t n)
{
    size_t k = n < 60 ? n : 60;
    for (size_t i = 0; i < k; i++) out[i] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
    out[k] = '\0';
}

static const struct {
    const char *name;
    clipvk_dtype dtype;
} storages[] = {
    {"FloatStorage", CLIPVK_DTYPE_F32}, {"HalfStorage", CLIPVK_DTYPE_F16},  {"BFloat16Storage", CLIPVK_DTYPE_BF16},
    {"DoubleStorage", CLIPVK_DTYPE_F64}, {"LongStorage", CLIPVK_DTYPE_I64}, {"IntStorage", CLIPVK_DTYPE_I32},
    {"ShortStorage", CLIPVK_DTYPE_I16},  {"CharStorage", CLIPVK_DTYPE_I8},  {"ByteStorage", CLIPVK_DTYPE_U8},
    {"BoolStorage", CLIPVK_DTYPE_BOOL},
};

/* GLOBAL "module\nname\n": only the callables and types a state dict names. */
static clipvk_status op_global(vm *v)
{
    const uint8_t *line[2];
    size_t len[2];
    for (int i = 0; i < 2; i++) {
        const uint8_t *nl = memchr(v->p + v->pos, '\n', v->n - v->pos);
        if (!nl) return fail(v, "the pickle ends inside a GLOBAL (truncated?)");
        line[i] = v->p + v->pos;
        len[i] = (size_t)(nl - line[i]);
        v->pos += len[i] + 1;
    }
#define IS(i, lit) (len[i] == sizeof(lit) - 1 && !memcmp(line[i], lit, sizeof(lit) - 1))
    int g = -1;
    uint8_t dt = 0;
    if (IS(0, "collections") && IS(1, "OrderedDict")) g = G_ORDERED_DICT;
    else if (IS(0, "torch._utils") && IS(1, "_rebuild_tensor_v2")) g = G_REBUILD_TENSOR_V2;
    else if (IS(0, "torch._utils") && IS(1, "_rebuild_parameter")) g = G_REBUILD_PARAMETER;
    else if (IS(0, "torch"))
        for (size_t i = 0; i < sizeof storages / sizeof storages[0]; i++)
            if (len[1] == strlen(storages[i].name) && !memcmp(line[1], storages[i].name, len[1])) {
                g = G_STORAGE;
                dt = (uint8_t)storages[i].dtype;
            }
#undef IS
    if (g < 0) {
        char m[64], n[64];
        printable(m, line[0], len[0]);
        printable(n, line[1], len[1]);
        return fail(v, "refused the global '%s.%s' (a state dict names only collections.OrderedDict, "
                       "torch._utils._rebuild_* and torch.*Storage; nothing is executed)", m, n);
    }
    clipvk_status s = push_new(v, V_GLOBAL, 0, 0);
    if (!s) {
        v->vals[v->nvals - 1].global = (uint8_t)g;
        v->vals[v->nvals - 1].dtype = dt;
    }
    return s;
}

/* BINPERSID: ('storage', torch.XStorage, key, location, numel) -> a storage. */
static clipvk_status op_persid(vm *v)
{
    uint32_t t = 0;
    clipvk_status s = pop(v, &t);
    if (s) return s;
    const value *pid = &v->vals[t];
    if (pid->kind != V_TUPLE || pid->b != 5 || !str_is(v, &v->vals[v->items[pid->a]], "storage"))
        return fail(v, "a persistent id that is not ('storage', type, key, location, numel)");
    const uint32_t *it = &v->items[pid->a];
    const value *type = &v->vals[it[1]], *key = &v->vals[it[2]], *loc = &v->vals[it[3]], *numel = &v->vals[it[4]];
    if (type->kind != V_GLOBAL || type->global != G_STORAGE) return fail(v, "a persistent id whose type is not a torch.*Storage");
    if (key->kind != V_STR || key->b == 0 || key->b > MAX_KEY || loc->kind != V_STR)
        return fail(v, "a persistent id with a bad storage key or location");
    for (uint64_t i = 0; i < key->b; i++) {
        uint8_t c = v->p[key->a + i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'))
            return fail(v, "a storage key that is not a plain name");
    }
    if (numel->kind != V_INT || numel->a < 0) return fail(v, "a persistent id whose numel is not a count");
    uint8_t dtype = type->dtype; /* read now: push_new may move the values */
    if ((s = push_new(v, V_STORAGE, numel->a, it[2]))) return s;
    v->vals[v->nvals - 1].dtype = dtype;
    return CLIPVK_OK;
}

/* A tuple of non-negative ints into out[] (at most CLIPVK_MAX_DIMS). */
static int int_tuple(const vm *v, const value *t, uint64_t *out, uint32_t *k)
{
    if (t->kind != V_TUPLE || t->b > CLIPVK_MAX_DIMS) return 0;
    for (uint64_t i = 0; i < t->b; i++) {
        const value *x = &v->vals[v->items[t->a + i]];
        if (x->kind != V_INT || x->a < 0) return 0;
        out[i] = (uint64_t)x->a;
    }
    *k = (uint32_t)t->b;
    return 1;
}

/* _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata]) */
static clipvk_status rebuild_tensor(vm *v, const value *args)
{
    if (args->b != 6 && args->b != 7) return fail(v, "_rebuild_tensor_v2 with %llu arguments (6 or 7 expected)",
                                                  (unsigned long long)args->b);
    const uint32_t *it = &v->items[args->a];
    const value *st = &v->vals[it[0]], *off = &v->vals[it[1]], *grad = &v->vals[it[4]], *hooks = &v->vals[it[5]];
    tensor t = {.storage = it[0]};
    uint32_t nstride = 0;
    if (st->kind != V_STORAGE) return fail(v, "_rebuild_tensor_v2 of something that is not a storage");
    if (off->kind != V_INT || off->a < 0) return fail(v, "_rebuild_tensor_v2 with a bad storage offset");
    if (!int_tuple(v, &v->vals[it[2]], t.size, &t.ndim) || !int_tuple(v, &v->vals[it[3]], t.stride, &nstride) ||
        nstride != t.ndim)
        return fail(v, "_rebuild_tensor_v2 with a bad size or stride (non-negative ints, same length, at most %d)",
                    CLIPVK_MAX_DIMS);
    if (grad->kind != V_BOOL || hooks->kind != V_DICT ||
        (args->b == 7 && v->vals[it[6]].kind != V_NONE && v->vals[it[6]].kind != V_DICT))
        return fail(v, "_rebuild_tensor_v2 with bad requires_grad, hooks or metadata arguments");
    t.offset = (uint64_t)off->a;
    if (!grow((void **)&v->tensors, &v->ctensors, v->ntensors, sizeof *v->tensors)) return oom(v);
    v->tensors[v->ntensors] = t;
    return push_new(v, V_TENSOR, v->ntensors++, 0);
}

/* REDUCE: "call" one of the two callables by building what it returns. */
static clipvk_status op_reduce(vm *v)
{
    uint32_t a = 0, f = 0;
    clipvk_status s;
    if ((s = pop(v, &a)) || (s = pop(v, &f))) return s;
    const value *fn = &v->vals[f], *args = &v->vals[a];
    if (args->kind != V_TUPLE) return fail(v, "REDUCE with arguments that are not a tuple");
    if (fn->kind != V_GLOBAL || fn->global == G_STORAGE)
        return fail(v, "REDUCE of something other than OrderedDict, _rebuild_tensor_v2 or _rebuild_parameter: refused");
    if (fn->global == G_ORDERED_DICT) {
        if (args->b) return fail(v, "OrderedDict called with arguments");
        return push_new(v, V_DICT, 0, 0);
    }
    if (fn->global == G_REBUILD_TENSOR_V2) return rebuild_tensor(v, args);
    /* _rebuild_parameter(data, requires_grad, hooks): the parameter is its data */
    if (args->b != 3) return fail(v, "_rebuild_parameter with %llu arguments (3 expected)", (unsigned long long)args->b);
    const uint32_t *it = &v->items[args->a];
    if (v->vals[it[0]].kind != V_TENSOR || v->vals[it[1]].kind != V_BOOL || v->vals[it[2]].kind != V_DICT)
        return fail(v, "_rebuild_parameter with bad arguments");
    return push(v, it[0]);
}

/* The dict below stack[base] receives the pairs stack[base..top). */
static clipvk_status set_items(vm *v, uint32_t base)
{
    if ((v->nstack - base) % 2) return fail(v, "SETITEMS with an odd number of values");
    if (base == 0 || base <= floor_of(v) || v->vals[v->stack[base - 1]].kind != V_DICT)
        return fail(v, "SETITEM(S) on something that is not a dict");
    uint32_t d = v->stack[base - 1];
    for (uint32_t i = base; i < v->nstack; i += 2) {
        if (!grow((void **)&v->ditems, &v->cditems, v->nditems, sizeof *v->ditems)) return oom(v);
        v->ditems[v->nditems++] = (dict_item){d, v->stack[i], v->stack[i + 1]};
    }
    v->nstack = base;
    return CLIPVK_OK;
}

static clipvk_status memo_put(vm *v, uint32_t i)
{
    if (v->nstack <= floor_of(v)) return fail(v, "BINPUT with nothing on the stack");
    if (i > v->nmemo) return fail(v, "memo index %u skips ahead (pickle writes them in order)", i);
    if (i == v->nmemo) {
        if (!grow((void **)&v->memo, &v->cmemo, v->nmemo, sizeof *v->memo)) return oom(v);
        v->nmemo++;
    }
    v->memo[i] = v->stack[v->nstack - 1];
    return CLIPVK_OK;
}

static clipvk_status memo_get(vm *v, uint32_t i)
{
    if (i >= v->nmemo) return fail(v, "BINGET of memo entry %u, which was never stored", i);
    return push(v, v->memo[i]);
}

/* One opcode; *stop set at STOP. */
static clipvk_status step(vm *v, int *stop)
{
    const uint8_t *a = NULL;
    uint32_t x = 0, y = 0, base = 0;
    clipvk_status s;
    v->op_at = v->pos;
    if (v->pos >= v->n) return fail(v, "the pickle ends without STOP (truncated?)");
    uint8_t op = v->p[v->pos++];
    switch (op) {
    case 0x80: /* PROTO */
        if ((s = take(v, 1, &a))) return s;
        if (*a != 2) return fail(v, "pickle protocol %u: only 2, what torch.save writes, is read", *a);
        return CLIPVK_OK;
    case '.': /* STOP */
        *stop = 1;
        return CLIPVK_OK;
    case '(': /* MARK */
        if (!grow((void **)&v->marks, &v->cmarks, v->nmarks, sizeof *v->marks)) return oom(v);
        v->marks[v->nmarks++] = v->nstack;
        return CLIPVK_OK;
    case '}': return push_new(v, V_DICT, 0, 0);   /* EMPTY_DICT */
    case ')': return push_new(v, V_TUPLE, 0, 0);  /* EMPTY_TUPLE */
    case 'N': return push_new(v, V_NONE, 0, 0);   /* NONE */
    case 0x88: return push_new(v, V_BOOL, 1, 0);  /* NEWTRUE */
    case 0x89: return push_new(v, V_BOOL, 0, 0);  /* NEWFALSE */
    case 'K': /* BININT1 */
        if ((s = take(v, 1, &a))) return s;
        return push_new(v, V_INT, *a, 0);
    case 'M': /* BININT2 */
        if ((s = take(v, 2, &a))) return s;
        return push_new(v, V_INT, le(a, 2), 0);
    case 'J': /* BININT: signed 32 bits */
        if ((s = take(v, 4, &a))) return s;
        return push_new(v, V_INT, (int32_t)le(a, 4), 0);
    case 0x8a: { /* LONG1: n bytes, little-endian two's complement */
        if ((s = take(v, 1, &a))) return s;
        uint8_t k = *a;
        if (k > 8) return fail(v, "an integer of %u bytes (more than 64 bits)", k);
        if ((s = take(v, k, &a))) return s;
        uint64_t u = 0;
        for (int i = k - 1; i >= 0; i--) u = u << 8 | a[i];
        if (k && k < 8 && (a[k - 1] & 0x80)) u |= ~(uint64_t)0 << (8 * k); /* sign-extend */
        int64_t iv;
        memcpy(&iv, &u, sizeof iv);
        return push_new(v, V_INT, iv, 0);
    }
    case 'G': { /* BINFLOAT: big-endian double; kept only as "a number" */
        if ((s = take(v, 8, &a))) return s;
        return push_new(v, V_FLOAT, 0, 0);
    }
    case 'X': /* BINUNICODE */
    case 0x8c: /* SHORT_BINUNICODE */
        if ((s = take(v, op == 'X' ? 4 : 1, &a))) return s;
        x = op == 'X' ? le(a, 4) : *a;
        if ((s = take(v, x, &a))) return s;
        return push_new(v, V_STR, (int64_t)(a - v->p), x);
    case 'q': /* BINPUT */
    case 'r': /* LONG_BINPUT */
        if ((s = take(v, op == 'q' ? 1 : 4, &a))) return s;
        return memo_put(v, op == 'q' ? *a : le(a, 4));
    case 'h': /* BINGET */
    case 'j': /* LONG_BINGET */
        if ((s = take(v, op == 'h' ? 1 : 4, &a))) return s;
        return memo_get(v, op == 'h' ? *a : le(a, 4));
    case 'c': return op_global(v);
    case 't': /* TUPLE */
        if ((s = pop_mark(v, &base))) return s;
        return make_tuple(v, base, v->nstack - base);
    case 0x85: /* TUPLE1..3 */
    case 0x86:
    case 0x87:
        x = op - 0x84u;
        if (v->nstack - floor_of(v) < x) return fail(v, "TUPLE%u with fewer values on the stack", x);
        return make_tuple(v, v->nstack - x, x);
    case 'Q': return op_persid(v);
    case 'R': return op_reduce(v);
    case 's': /* SETITEM */
        if (v->nstack - floor_of(v) < 3) return fail(v, "SETITEM with fewer than a dict, a key and a value");
        return set_items(v, v->nstack - 2);
    case 'u': /* SETITEMS */
        if ((s = pop_mark(v, &base))) return s;
        return set_items(v, base);
    case 'b': /* BUILD: only a dict's state (a state_dict()'s _metadata), dropped */
        if ((s = pop(v, &x)) || (s = pop(v, &y))) return s;
        if (v->vals[y].kind != V_DICT || (v->vals[x].kind != V_DICT && v->vals[x].kind != V_NONE))
            return fail(v, "BUILD of something other than a dict's state: refused");
        return push(v, y);
    default: {
        char c = op >= 0x20 && op < 0x7f ? (char)op : '?';
        return fail(v, "opcode 0x%02x ('%c') is not one a state dict is written with: refused", op, c);
    }
    }
}

static void vm_free(vm *v)
{
    free(v->vals);
    free(v->stack);
    free(v->marks);
    free(v->memo);
    free(v->items);
    free(v->ditems);
    free(v->tensors);
}

static char *dup_str(const vm *v, const value *s)
{
    char *c = malloc(s->b + 1);
    if (c) {
        memcpy(c, v->p + s->a, s->b);
        c[s->b] = '\0';
    }
    return c;
}

void clipvk_torch_views_free(clipvk_torch_view *views, uint32_t n)
{
    if (!views) return;
    for (uint32_t i = 0; i < n; i++) {
        free(views[i].name);
        free(views[i].key);
    }
    free(views);
}

/* The result: a dict of name -> tensor, as views. */
static clipvk_status collect(vm *v, uint32_t root, clipvk_torch_view **out, uint32_t *n_out)
{
    if (v->vals[root].kind != V_DICT) return fail(v, "the pickle's result is not a dict (a state dict is)");
    uint32_t n = 0;
    for (uint32_t i = 0; i < v->nditems; i++) n += v->ditems[i].dict == root;
    clipvk_torch_view *views = n ? calloc(n, sizeof *views) : NULL;
    if (n && !views) return oom(v);
    uint32_t k = 0;
    clipvk_status s = CLIPVK_OK;
    for (uint32_t i = 0; i < v->nditems && !s; i++) {
        const dict_item *d = &v->ditems[i];
        if (d->dict != root) continue;
        const value *key = &v->vals[d->key], *val = &v->vals[d->val];
        if (key->kind != V_STR || !key->b || memchr(v->p + key->a, 0, key->b)) {
            s = fail(v, "a state dict key that is not a name");
            break;
        }
        if (val->kind != V_TENSOR) {
            char name[64];
            printable(name, v->p + key->a, key->b);
            s = fail(v, "the state dict's '%s' is not a tensor", name);
            break;
        }
        const tensor *t = &v->tensors[val->a];
        const value *st = &v->vals[t->storage];
        clipvk_torch_view *w = &views[k++];
        w->dtype = (clipvk_dtype)st->dtype;
        w->numel = (uint64_t)st->a;
        w->offset = t->offset;
        w->ndim = t->ndim;
        memcpy(w->size, t->size, sizeof w->size);
        memcpy(w->stride, t->stride, sizeof w->stride);
        if (!(w->name = dup_str(v, key)) || !(w->key = dup_str(v, &v->vals[st->b]))) s = oom(v);
    }
    if (s) {
        clipvk_torch_views_free(views, k);
        return s;
    }
    *out = views;
    *n_out = n;
    return CLIPVK_OK;
}

clipvk_status clipvk_torch_unpickle(const uint8_t *pkl, size_t n, const char *fn, clipvk_torch_view **views,
                                    uint32_t *n_views, clipvk_error *err)
{
    *views = NULL;
    *n_views = 0;
    vm v = {.p = pkl, .n = n, .fn = fn, .err = err};
    clipvk_status s = CLIPVK_OK;
    int stop = 0;
    while (!s && !stop) s = step(&v, &stop);
    if (!s && (v.nmarks || v.nstack != 1)) s = fail(&v, "STOP with %u values and %u marks left (1 and 0 expected)", v.nstack, v.nmarks);
    if (!s) s = collect(&v, v.stack[0], views, n_views);
    vm_free(&v);
    return s;
}
