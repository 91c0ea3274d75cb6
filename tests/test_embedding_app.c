/*
 * clipvk inside an application that uses Vulkan itself, as an embedding
 * developer would test it. Built twice, against the static library
 * (test_embedding_app) and the shared one (test_embedding_app_shared), and
 * linked with the system's Vulkan loader, whose vk* functions this program
 * calls directly: a library that defined vk* symbols would capture those
 * calls (with the static library, a pointer variable called as a function).
 *  - The application creates its own instance (validation layer on, its own
 *    messenger: every validation message fails the test, the loader's are
 *    printed, not counted), device and queue, and clears a buffer with
 *    vkCmdFillBuffer before, between and after clipvk's work.
 *  - clipvk on its own device gives the reference embeddings.
 *  - clipvk on the application's device (clipvk_context_create_vulkan),
 *    sharing its queue with an application thread that keeps submitting
 *    clears, under the application's lock: the same embeddings, and no
 *    validation message on the application's instance.
 *  - What clipvk_context_create_vulkan refuses, each with a message.
 *  - Two contexts on differently configured instances (validation on and
 *    off) used from two threads at once: the same embeddings.
 * Skips (77) without the golden model.
 */
#include "check.h"
#include "clipvk_vulkan.h"
#include "golden.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int test_failures;

static const char *texts[] = {"a photo of a cat.", "a photo of a dog.", "a diagram", "naïve café ☕"};
#define NT (sizeof texts / sizeof texts[0])
#define DIM 1024

/* ---- The application's own Vulkan ---- */

static atomic_uint app_messages;

static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                 VkDebugUtilsMessageTypeFlagsEXT type,
                                                 const VkDebugUtilsMessengerCallbackDataEXT *data, void *user)
{
    (void)severity, (void)user;
    const char *msg = data && data->pMessage ? data->pMessage : "(no message)";
    if (type == VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT && data && data->pMessageIdName &&
        !strcmp(data->pMessageIdName, "Loader Message")) {
        fprintf(stderr, "app: Vulkan loader: %s\n", msg);
        return VK_FALSE;
    }
    atomic_fetch_add(&app_messages, 1);
    fprintf(stderr, "app: validation: %s\n", msg);
    return VK_FALSE;
}

typedef struct app {
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDevice physical;
    VkDevice device;
    VkDeviceQueueCreateInfo qci;
    VkPhysicalDevice16BitStorageFeatures s16;
    VkDeviceCreateInfo dci;
    float priority;
    uint32_t family;
    VkQueue queue;
    pthread_mutex_t queue_mutex;
    VkBuffer buffer;
    VkDeviceMemory memory;
    uint32_t *mapped;
    VkCommandPool pool;
    VkCommandBuffer cb;
    VkFence fence;
} app;

#define BUFFER_WORDS 1024

static void lock_queue(void *user) { pthread_mutex_lock(&((app *)user)->queue_mutex); }
static void unlock_queue(void *user) { pthread_mutex_unlock(&((app *)user)->queue_mutex); }

/* Instance, device (one compute queue, 16-bit storage enabled where the
 * device has it, so clipvk has a feature to find in the create info), a
 * host-visible buffer and a command buffer. Returns 0 on success. */
static int app_create(app *a)
{
    VkApplicationInfo ai = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                            .pApplicationName = "test_embedding_app",
                            .apiVersion = VK_API_VERSION_1_1};
    const char *layers[] = {"VK_LAYER_KHRONOS_validation"};
    const char *exts[] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME};
    VkDebugUtilsMessengerCreateInfoEXT mci = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT,
        .pfnUserCallback = on_message};
    VkInstanceCreateInfo ici = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                                .pNext = &mci,
                                .pApplicationInfo = &ai,
                                .enabledLayerCount = 1,
                                .ppEnabledLayerNames = layers,
                                .enabledExtensionCount = 1,
                                .ppEnabledExtensionNames = exts};
    VkResult r = vkCreateInstance(&ici, NULL, &a->instance);
    if (r != VK_SUCCESS) return fprintf(stderr, "app: vkCreateInstance: %d\n", r), 1;
    PFN_vkCreateDebugUtilsMessengerEXT cm =
        (PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(a->instance, "vkCreateDebugUtilsMessengerEXT");
    if (!cm || cm(a->instance, &mci, NULL, &a->messenger) != VK_SUCCESS) return fprintf(stderr, "app: messenger\n"), 1;

    uint32_t n = 1;
    r = vkEnumeratePhysicalDevices(a->instance, &n, &a->physical);
    if ((r != VK_SUCCESS && r != VK_INCOMPLETE) || !n) return fprintf(stderr, "app: no physical device\n"), 1;
    VkQueueFamilyProperties qf[16];
    uint32_t nq = 16;
    vkGetPhysicalDeviceQueueFamilyProperties(a->physical, &nq, qf);
    a->family = UINT32_MAX;
    for (uint32_t i = 0; i < nq && a->family == UINT32_MAX; i++)
        if (qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) a->family = i;
    if (a->family == UINT32_MAX) return fprintf(stderr, "app: no compute queue\n"), 1;

    VkPhysicalDevice16BitStorageFeatures has16 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &has16};
    vkGetPhysicalDeviceFeatures2(a->physical, &f2);
    a->priority = 1.0f;
    a->qci = (VkDeviceQueueCreateInfo){.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                       .queueFamilyIndex = a->family,
                                       .queueCount = 1,
                                       .pQueuePriorities = &a->priority};
    a->s16 = (VkPhysicalDevice16BitStorageFeatures){.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES,
                                                    .storageBuffer16BitAccess = has16.storageBuffer16BitAccess};
    a->dci = (VkDeviceCreateInfo){.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                                  .pNext = &a->s16,
                                  .queueCreateInfoCount = 1,
                                  .pQueueCreateInfos = &a->qci};
    if ((r = vkCreateDevice(a->physical, &a->dci, NULL, &a->device)) != VK_SUCCESS)
        return fprintf(stderr, "app: vkCreateDevice: %d\n", r), 1;
    vkGetDeviceQueue(a->device, a->family, 0, &a->queue);
    pthread_mutex_init(&a->queue_mutex, NULL);

    VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                              .size = BUFFER_WORDS * 4,
                              .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT};
    if (vkCreateBuffer(a->device, &bci, NULL, &a->buffer) != VK_SUCCESS) return 1;
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(a->device, a->buffer, &req);
    VkPhysicalDeviceMemoryProperties mp;
    vkGetPhysicalDeviceMemoryProperties(a->physical, &mp);
    VkMemoryPropertyFlags want = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    uint32_t type = UINT32_MAX;
    for (uint32_t i = 0; i < mp.memoryTypeCount && type == UINT32_MAX; i++)
        if ((req.memoryTypeBits & (1u << i)) && (mp.memoryTypes[i].propertyFlags & want) == want) type = i;
    VkMemoryAllocateInfo mai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                .allocationSize = req.size,
                                .memoryTypeIndex = type};
    if (type == UINT32_MAX || vkAllocateMemory(a->device, &mai, NULL, &a->memory) != VK_SUCCESS ||
        vkBindBufferMemory(a->device, a->buffer, a->memory, 0) != VK_SUCCESS ||
        vkMapMemory(a->device, a->memory, 0, VK_WHOLE_SIZE, 0, (void **)&a->mapped) != VK_SUCCESS)
        return fprintf(stderr, "app: buffer memory\n"), 1;
    VkCommandPoolCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                   .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                   .queueFamilyIndex = a->family};
    VkCommandBufferAllocateInfo cai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                       .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                       .commandBufferCount = 1};
    VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    if (vkCreateCommandPool(a->device, &pci, NULL, &a->pool) != VK_SUCCESS) return 1;
    cai.commandPool = a->pool;
    if (vkAllocateCommandBuffers(a->device, &cai, &a->cb) != VK_SUCCESS ||
        vkCreateFence(a->device, &fci, NULL, &a->fence) != VK_SUCCESS)
        return 1;
    return 0;
}

/* The application's own work: clears its buffer to value on the shared
 * queue (under its lock) and checks every word. Returns 0 on success. */
static int app_clear(app *a, uint32_t value)
{
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    if (vkResetCommandBuffer(a->cb, 0) != VK_SUCCESS || vkBeginCommandBuffer(a->cb, &bi) != VK_SUCCESS) return 1;
    vkCmdFillBuffer(a->cb, a->buffer, 0, VK_WHOLE_SIZE, value);
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
    vkCmdPipelineBarrier(a->cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, NULL, 0,
                         NULL);
    if (vkEndCommandBuffer(a->cb) != VK_SUCCESS) return 1;
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &a->cb};
    lock_queue(a);
    VkResult r = vkQueueSubmit(a->queue, 1, &si, a->fence);
    unlock_queue(a);
    if (r != VK_SUCCESS || vkWaitForFences(a->device, 1, &a->fence, VK_TRUE, 60ull * 1000000000) != VK_SUCCESS ||
        vkResetFences(a->device, 1, &a->fence) != VK_SUCCESS)
        return fprintf(stderr, "app: clear submission failed (%d)\n", r), 1;
    for (uint32_t i = 0; i < BUFFER_WORDS; i++)
        if (a->mapped[i] != value) return fprintf(stderr, "app: word %u is %#x, not %#x\n", i, a->mapped[i], value), 1;
    return 0;
}

static void app_destroy(app *a)
{
    vkDestroyFence(a->device, a->fence, NULL);
    vkDestroyCommandPool(a->device, a->pool, NULL);
    vkDestroyBuffer(a->device, a->buffer, NULL);
    vkFreeMemory(a->device, a->memory, NULL);
    vkDestroyDevice(a->device, NULL);
    PFN_vkDestroyDebugUtilsMessengerEXT dm =
        (PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(a->instance, "vkDestroyDebugUtilsMessengerEXT");
    if (dm) dm(a->instance, a->messenger, NULL);
    vkDestroyInstance(a->instance, NULL);
    pthread_mutex_destroy(&a->queue_mutex);
}

/* ---- clipvk ---- */

/* The golden model's text embeddings of texts on ctx; 0 on success. */
static int embed(clipvk_context *ctx, float *out)
{
    clipvk_model *m = NULL;
    int bad = test_golden_load(ctx, CLIPVK_PRECISION_FP32, 0, &m) || clipvk_embed_texts(m, texts, NT, 1, out);
    if (bad) fprintf(stderr, "embed: %s\n", clipvk_context_last_error(ctx));
    clipvk_model_free(m);
    return bad;
}

static float max_diff(const float *a, const float *b)
{
    float d = 0;
    for (size_t i = 0; i < NT * DIM; i++) d = fmaxf(d, fabsf(a[i] - b[i]));
    return d;
}

static float ref[NT * DIM];

/* The application keeps using the shared queue while clipvk works. */
typedef struct clearer {
    app *a;
    atomic_int stop;
    int clears, bad;
} clearer;

static void *clear_loop(void *arg)
{
    clearer *c = arg;
    while (!atomic_load(&c->stop) && !c->bad) c->bad = app_clear(c->a, 0x1000u + (uint32_t)c->clears++);
    return NULL;
}

static clipvk_vulkan_device adopt(app *a)
{
    return (clipvk_vulkan_device){.get_instance_proc_addr = vkGetInstanceProcAddr,
                                  .instance = a->instance,
                                  .instance_api_version = VK_API_VERSION_1_1,
                                  .physical_device = a->physical,
                                  .device = a->device,
                                  .device_create_info = &a->dci,
                                  .queue_family = a->family,
                                  .queue_index = 0,
                                  .queue_lock = lock_queue,
                                  .queue_unlock = unlock_queue,
                                  .queue_user = a};
}

static void test_shared_device(app *a)
{
    clipvk_vulkan_device vd = adopt(a);
    clipvk_context_options o;
    clipvk_context_options_init(&o);
    o.cache_dir = "";
    clipvk_context *ctx;
    clipvk_status s = clipvk_context_create_vulkan(&o, &vd, &ctx);
    CHECK(s == CLIPVK_OK, "context on the application's device: %s", clipvk_context_last_error(ctx));
    if (s) {
        clipvk_context_destroy(ctx);
        return;
    }
    static float got[NT * DIM];
    clearer c = {.a = a};
    pthread_t t;
    pthread_create(&t, NULL, clear_loop, &c);
    int bad = 0;
    for (int rep = 0; rep < 2 && !bad; rep++) bad = embed(ctx, got);
    atomic_store(&c.stop, 1);
    pthread_join(t, NULL);
    CHECK(!bad, "embedding on the application's device failed");
    CHECK(!bad && max_diff(got, ref) <= 1e-5f, "embeddings on the application's device differ by %g",
          max_diff(got, ref));
    CHECK(!c.bad && c.clears > 0, "the application's clears on the shared queue (%d done) failed", c.clears);
    printf("shared device: %d application clears ran on the queue during clipvk's work\n", c.clears);
    clipvk_context_destroy(ctx);
    CHECK(!app_clear(a, 0xabcdu), "the application's device after clipvk's context is gone");
}

/* Each refusal of clipvk_context_create_vulkan, with its message. */
static void refused(const clipvk_vulkan_device *vd, clipvk_status want, const char *what)
{
    clipvk_context *ctx;
    clipvk_status s = clipvk_context_create_vulkan(NULL, vd, &ctx);
    const char *msg = clipvk_context_last_error(ctx);
    CHECK(s == want && *msg, "%s: status %d (want %d), message '%s'", what, s, want, msg);
    printf("refused (%s): %s\n", what, msg);
    clipvk_context_destroy(ctx);
}

static void test_refusals(app *a)
{
    clipvk_vulkan_device vd = adopt(a);
    vd.instance_api_version = VK_API_VERSION_1_0;
    refused(&vd, CLIPVK_ERROR_UNSUPPORTED, "a Vulkan 1.0 instance");
    vd = adopt(a);
    vd.queue_family = 99;
    refused(&vd, CLIPVK_ERROR_UNSUPPORTED, "no such queue family");
    vd = adopt(a);
    vd.queue_index = 1;
    refused(&vd, CLIPVK_ERROR_INVALID_ARGUMENT, "a queue the device was created without");
    vd = adopt(a);
    vd.queue_unlock = NULL;
    refused(&vd, CLIPVK_ERROR_INVALID_ARGUMENT, "a lock without an unlock");
    vd = adopt(a);
    vd.device = VK_NULL_HANDLE;
    refused(&vd, CLIPVK_ERROR_INVALID_ARGUMENT, "no device");
    refused(NULL, CLIPVK_ERROR_INVALID_ARGUMENT, "no description");
}

/* Two contexts whose instances differ (the validation layer on one, not
 * the other), embedding on two threads at once. */
typedef struct job {
    int validation, bad;
    unsigned messages;
    float out[NT * DIM];
} job;

static void *worker(void *arg)
{
    job *j = arg;
    clipvk_context_options o;
    clipvk_context_options_init(&o);
    o.validation = j->validation;
    o.cache_dir = "";
    clipvk_context *ctx;
    if (clipvk_context_create(&o, &ctx)) {
        fprintf(stderr, "context (validation %d): %s\n", j->validation, clipvk_context_last_error(ctx));
        j->bad = 1;
    }
    for (int rep = 0; rep < 3 && !j->bad; rep++) j->bad = embed(ctx, j->out);
    j->messages = clipvk_context_validation_messages(ctx);
    clipvk_context_destroy(ctx);
    return NULL;
}

static void test_two_configurations(void)
{
    static job on = {.validation = 1}, off = {.validation = 0};
    pthread_t t1, t2;
    pthread_create(&t1, NULL, worker, &on);
    pthread_create(&t2, NULL, worker, &off);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    CHECK(!on.bad && !off.bad, "a thread failed");
    CHECK(on.messages == 0, "%u validation messages on the validated context", on.messages);
    CHECK(!on.bad && max_diff(on.out, ref) <= 1e-5f, "validated context differs by %g", max_diff(on.out, ref));
    CHECK(!off.bad && max_diff(off.out, ref) <= 1e-5f, "unvalidated context differs by %g", max_diff(off.out, ref));
}

int main(void)
{
    test_golden_require();
    static app a;
    if (app_create(&a)) {
        fprintf(stderr, "FAIL: the application's own Vulkan set-up failed\n");
        return 1;
    }
    CHECK(!app_clear(&a, 0x11111111u), "the application's first clear");

    clipvk_context *ctx = test_context(0, 0);
    CHECK(!embed(ctx, ref), "reference embeddings on clipvk's own device");
    CHECK(clipvk_context_validation_messages(ctx) == 0, "validation messages on clipvk's own device");
    clipvk_context_destroy(ctx);
    CHECK(!app_clear(&a, 0x22222222u), "the application's clear after clipvk's own context");

    test_shared_device(&a);
    test_refusals(&a);
    test_two_configurations();

    app_destroy(&a);
    unsigned n = atomic_load(&app_messages);
    CHECK(n == 0, "%u validation messages on the application's instance", n);
    return test_report();
}
