/*
 * Device selection and creation. The loader is opened at run time
 * (dispatch.c), so a machine without one gets an error message instead of a
 * program that will not start.
 */
#include "core/device.h"

#include <stdlib.h>
#include <string.h>

#define CLIPVK_DEFAULT_FENCE_TIMEOUT_NS (60ull * 1000 * 1000 * 1000)

const char *clipvk_vk_result_string(VkResult r)
{
    switch (r) {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_NOT_READY: return "VK_NOT_READY";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    case VK_INCOMPLETE: return "VK_INCOMPLETE";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
    case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_FORMAT_NOT_SUPPORTED: return "VK_ERROR_FORMAT_NOT_SUPPORTED";
    case VK_ERROR_FRAGMENTED_POOL: return "VK_ERROR_FRAGMENTED_POOL";
    case VK_ERROR_OUT_OF_POOL_MEMORY: return "VK_ERROR_OUT_OF_POOL_MEMORY";
    default: return "VkResult error";
    }
}

clipvk_status clipvk_vk_fail(clipvk_error *err, VkResult r, const char *call)
{
    clipvk_status s = CLIPVK_ERROR_DEVICE;
    const char *hint = "";
    if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY) {
        s = CLIPVK_ERROR_OUT_OF_DEVICE_MEMORY;
        hint = " (try a smaller batch or --precision fp16)";
    } else if (r == VK_ERROR_OUT_OF_HOST_MEMORY) {
        s = CLIPVK_ERROR_OUT_OF_HOST_MEMORY;
    } else if (r == VK_ERROR_DEVICE_LOST) {
        s = CLIPVK_ERROR_DEVICE_LOST;
    } else if (r == VK_TIMEOUT) {
        s = CLIPVK_ERROR_TIMEOUT;
    }
    return clipvk_fail(err, s, "%s failed: %s (%d)%s", call, clipvk_vk_result_string(r), (int)r, hint);
}

const char *clipvk_device_type_string(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
    default: return "other";
    }
}

static int has_layer(const clipvk_vk *vk, const char *name)
{
    uint32_t n = 0;
    if (vk->EnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS || n == 0) return 0;
    VkLayerProperties *p = malloc(n * sizeof *p);
    int found = 0;
    if (p && vk->EnumerateInstanceLayerProperties(&n, p) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++) found = !strcmp(p[i].layerName, name);
    free(p);
    return found;
}

/* Whether the loader and its drivers (layer NULL) or a layer offer name. */
static int has_instance_extension(const clipvk_vk *vk, const char *layer, const char *name)
{
    uint32_t n = 0;
    if (vk->EnumerateInstanceExtensionProperties(layer, &n, NULL) != VK_SUCCESS || n == 0) return 0;
    VkExtensionProperties *p = malloc(n * sizeof *p);
    int found = 0;
    if (p && vk->EnumerateInstanceExtensionProperties(layer, &n, p) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++) found = !strcmp(p[i].extensionName, name);
    free(p);
    return found;
}

/* A message for the application: its log callback, else stderr as
 * "clipvk: <message>". */
static void device_log(const clipvk_device *dev, clipvk_log_level level, const char *prefix, const char *msg)
{
    if (dev && dev->log) {
        char line[4096];
        snprintf(line, sizeof line, "%s%s", prefix, msg);
        dev->log(dev->log_user, level, line);
        return;
    }
    fprintf(stderr, "clipvk: %s%s\n", prefix, msg);
}

static VKAPI_ATTR VkBool32 VKAPI_CALL on_validation_message(
    VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT type,
    const VkDebugUtilsMessengerCallbackDataEXT *data, void *user)
{
    clipvk_device *dev = user;
    int is_error = (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) != 0;
    const char *msg = data && data->pMessage ? data->pMessage : "(no message)";
    /* The loader reports through the same messenger (a layer enabled by
     * environment, an ICD file of another architecture it skipped): worth
     * printing, but not a fault of clipvk's, so not counted. */
    int loader = type == VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT && data && data->pMessageIdName &&
                 !strcmp(data->pMessageIdName, "Loader Message");
    if (loader) {
        device_log(dev, is_error ? CLIPVK_LOG_ERROR
                        : (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) ? CLIPVK_LOG_WARNING
                                                                                        : CLIPVK_LOG_INFO,
                   "Vulkan loader: ", msg);
        return VK_FALSE;
    }
    if (dev) {
        if (is_error) dev->validation_errors++;
        else dev->validation_warnings++;
    }
    device_log(dev, is_error ? CLIPVK_LOG_ERROR : CLIPVK_LOG_WARNING,
               is_error ? "validation error: " : "validation warning: ", msg);
    return VK_FALSE;
}

static clipvk_status create_instance(clipvk_vk *vk, int validation, clipvk_device *owner, VkInstance *inst,
                                     VkDebugUtilsMessengerEXT *messenger, clipvk_error *err)
{
    const char *layers[1];
    const char *exts[4];
    uint32_t nlayers = 0, nexts = 0;
    VkInstanceCreateFlags flags = 0;
    /* MoltenVK (macOS, iOS) is a "portability" driver: current loaders list
     * it only to instances that ask for portability devices. */
    if (has_instance_extension(vk, NULL, VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME)) {
        exts[nexts++] = VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME;
        flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
    }
    /* Synchronization validation checks every hazard between dispatches,
     * copies and host access, the class of bug that a CPU driver, which
     * runs everything in order, never shows. */
    VkValidationFeatureEnableEXT sync = VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT;
    VkValidationFeaturesEXT vf = {
        .sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
        .enabledValidationFeatureCount = 1,
        .pEnabledValidationFeatures = &sync,
    };
    if (validation) {
        if (!has_layer(vk, "VK_LAYER_KHRONOS_validation"))
            return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED,
                               "validation requested but VK_LAYER_KHRONOS_validation is not installed "
                               "(Debian package 'vulkan-validationlayers')");
        layers[nlayers++] = "VK_LAYER_KHRONOS_validation";
        if (!has_instance_extension(vk, NULL, VK_EXT_DEBUG_UTILS_EXTENSION_NAME))
            return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "validation needs VK_EXT_debug_utils");
        exts[nexts++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
        if (!has_instance_extension(vk, "VK_LAYER_KHRONOS_validation", VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME))
            return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED,
                               "validation needs VK_EXT_validation_features (synchronization validation)");
        exts[nexts++] = VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME;
    }
    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "clipvk",
        .pEngineName = "clipvk",
        .apiVersion = clipvk_vk_instance_version(vk) >= VK_API_VERSION_1_2 ? VK_API_VERSION_1_2 : VK_API_VERSION_1_1,
    };
    VkDebugUtilsMessengerCreateInfoEXT mci = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
        .pfnUserCallback = on_validation_message,
        .pUserData = owner,
    };
    vf.pNext = &mci; /* the messenger also reports instance creation problems */
    VkInstanceCreateInfo ici = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .flags = flags,
        .pNext = validation ? &vf : NULL,
        .pApplicationInfo = &app,
        .enabledLayerCount = nlayers,
        .ppEnabledLayerNames = layers,
        .enabledExtensionCount = nexts,
        .ppEnabledExtensionNames = exts,
    };
    VkResult r = vk->CreateInstance(&ici, NULL, inst);
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER)
        return clipvk_fail(err, CLIPVK_ERROR_NO_DEVICE,
                           "no Vulkan driver found: install 'mesa-vulkan-drivers' for the CPU fallback, "
                           "or your GPU's Vulkan driver");
    if (r != VK_SUCCESS) return clipvk_vk_fail(err, r, "vkCreateInstance");
    clipvk_status s = clipvk_vk_load_instance(vk, *inst, err);
    *messenger = VK_NULL_HANDLE;
    if (!s && validation && !vk->CreateDebugUtilsMessengerEXT)
        s = clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "the Vulkan instance has no vkCreateDebugUtilsMessengerEXT");
    if (s) {
        if (vk->DestroyInstance) vk->DestroyInstance(*inst, NULL);
        *inst = VK_NULL_HANDLE;
        return s;
    }
    if (validation) {
        r = vk->CreateDebugUtilsMessengerEXT(*inst, &mci, NULL, messenger);
        if (r != VK_SUCCESS) {
            vk->DestroyInstance(*inst, NULL);
            *inst = VK_NULL_HANDLE;
            return clipvk_vk_fail(err, r, "vkCreateDebugUtilsMessengerEXT");
        }
    }
    return CLIPVK_OK;
}

static clipvk_status enumerate(const clipvk_vk *vk, VkInstance inst, VkPhysicalDevice **pds, uint32_t *n, clipvk_error *err)
{
    *pds = NULL;
    VkResult r = vk->EnumeratePhysicalDevices(inst, n, NULL);
    if (r != VK_SUCCESS) return clipvk_vk_fail(err, r, "vkEnumeratePhysicalDevices");
    if (*n == 0)
        return clipvk_fail(err, CLIPVK_ERROR_NO_DEVICE,
                           "no Vulkan device found: install 'mesa-vulkan-drivers' for the CPU fallback, "
                           "or your GPU's Vulkan driver");
    *pds = calloc(*n, sizeof **pds);
    if (!*pds) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    r = vk->EnumeratePhysicalDevices(inst, n, *pds);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
        free(*pds);
        *pds = NULL;
        return clipvk_vk_fail(err, r, "vkEnumeratePhysicalDevices");
    }
    return CLIPVK_OK;
}

clipvk_status clipvk_devices_query(clipvk_device_caps **out, uint32_t *count, clipvk_error *err)
{
    *out = NULL;
    *count = 0;
    const clipvk_device_profile *profile;
    clipvk_status s = clipvk_device_profile_resolve(NULL, &profile, err);
    if (s) return s;
    clipvk_vk vk;
    if ((s = clipvk_vk_load(&vk, NULL, err))) return s;
    VkInstance inst;
    VkDebugUtilsMessengerEXT m;
    VkPhysicalDevice *pds = NULL;
    uint32_t n;
    if ((s = create_instance(&vk, 0, NULL, &inst, &m, err))) return s;
    if (!(s = enumerate(&vk, inst, &pds, &n, err))) {
        *out = calloc(n, sizeof **out);
        if (!*out) s = clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
        for (uint32_t i = 0; *out && i < n; i++) clipvk_device_caps_query(&vk, pds[i], i, profile, &(*out)[i]);
        if (*out) *count = n;
        free(pds);
    }
    vk.DestroyInstance(inst, NULL);
    return s;
}

static int env_flag(const char *name)
{
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

/* The logical device, with every optional feature the device has enabled
 * (kernels check caps) and one queue of the compute family. */
static clipvk_status create_logical_device(clipvk_device *d, clipvk_error *err)
{
    /* Enable each optional feature the device has; kernels check caps. */
    const char *exts[8];
    uint32_t nexts = 0;
    /* A portability driver requires its subset extension enabled (and the
     * device then promises to stay inside it). */
    if (d->caps.portability_subset) exts[nexts++] = "VK_KHR_portability_subset";
    if (d->caps.memory_budget) exts[nexts++] = VK_EXT_MEMORY_BUDGET_EXTENSION_NAME;
    int v12 = d->caps.api_version >= VK_API_VERSION_1_2;
    VkPhysicalDevice16BitStorageFeatures s16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES,
        .storageBuffer16BitAccess = d->caps.storage_buffer_16bit ? VK_TRUE : VK_FALSE,
    };
    VkPhysicalDeviceShaderFloat16Int8Features f16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES,
        .shaderFloat16 = d->caps.shader_float16 ? VK_TRUE : VK_FALSE,
        .shaderInt8 = d->caps.shader_int8 ? VK_TRUE : VK_FALSE,
    };
    VkPhysicalDevice8BitStorageFeatures s8 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES,
        .storageBuffer8BitAccess = d->caps.storage_buffer_8bit ? VK_TRUE : VK_FALSE,
    };
    void *chain = &s16;
    if (d->caps.shader_float16 || d->caps.shader_int8) {
        f16.pNext = chain;
        chain = &f16;
        if (!v12) exts[nexts++] = VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME;
    }
    if (d->caps.storage_buffer_8bit) {
        s8.pNext = chain;
        chain = &s8;
        if (!v12) exts[nexts++] = VK_KHR_8BIT_STORAGE_EXTENSION_NAME;
    }
    VkPhysicalDeviceVulkanMemoryModelFeatures mm = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_MEMORY_MODEL_FEATURES,
        .vulkanMemoryModel = VK_TRUE,
    };
    VkPhysicalDeviceCooperativeMatrixFeaturesNV cm = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV,
        .cooperativeMatrix = VK_TRUE,
    };
    if (d->caps.cooperative_matrix_nv) {
        mm.pNext = chain;
        cm.pNext = &mm;
        chain = &cm;
        exts[nexts++] = VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME;
        if (!v12) exts[nexts++] = VK_KHR_VULKAN_MEMORY_MODEL_EXTENSION_NAME;
    }
    VkPhysicalDeviceSubgroupSizeControlFeaturesEXT scf = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES_EXT,
        .subgroupSizeControl = VK_TRUE,
        .computeFullSubgroups = VK_TRUE,
    };
    if (d->caps.subgroup_size_control) {
        scf.pNext = chain;
        chain = &scf;
        exts[nexts++] = VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME;
    }
    float prio = 1.0f;
    VkDeviceQueueCreateInfo qci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = d->queue_family,
        .queueCount = 1,
        .pQueuePriorities = &prio,
    };
    VkDeviceCreateInfo dci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .pNext = chain,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &qci,
        .enabledExtensionCount = nexts,
        .ppEnabledExtensionNames = exts,
    };
    VkResult r = d->vk.CreateDevice(d->physical, &dci, NULL, &d->device);
    return r == VK_SUCCESS ? CLIPVK_OK : clipvk_vk_fail(err, r, "vkCreateDevice");
}

clipvk_status clipvk_device_finish(clipvk_device *d, uint32_t queue_index, clipvk_error *err)
{
    clipvk_status s = clipvk_vk_load_device(&d->vk, d->device, err);
    if (s) return s;
    d->vk.GetDeviceQueue(d->device, d->queue_family, queue_index, &d->queue);
    /* Unified memory: a device-local type that the host can map. */
    for (uint32_t i = 0; i < d->caps.memory.memoryTypeCount; i++) {
        VkMemoryPropertyFlags f = d->caps.memory.memoryTypes[i].propertyFlags;
        if ((f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) && (f & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) &&
            (f & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) && d->caps.type != VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU)
            d->uma = 1;
    }
    return CLIPVK_OK;
}

/* The native CPU backend's device: the Vulkan objects made while choosing
 * go (the instance, its messenger); the runtime describes the processor. */
static void host_init(clipvk_device *d)
{
    if (d->messenger) d->vk.DestroyDebugUtilsMessengerEXT(d->instance, d->messenger, NULL);
    if (d->instance) d->vk.DestroyInstance(d->instance, NULL);
    d->messenger = VK_NULL_HANDLE;
    d->instance = VK_NULL_HANDLE;
    d->validation = 0;
    d->host = 1;
    memset(&d->caps, 0, sizeof d->caps);
    d->caps.index = CLIPVK_CHOSE_CPU; /* runtime.c fills in the rest (clipvk_runtime_cpu_caps) */
    d->caps.type = VK_PHYSICAL_DEVICE_TYPE_CPU;
}

clipvk_status clipvk_device_create(const clipvk_device_options *opt, clipvk_device **out, clipvk_error *err)
{
    *out = NULL;
    clipvk_device_options defaults = {0};
    defaults.validation = -1;
    if (!opt) opt = &defaults;
    const clipvk_device_profile *profile;
    clipvk_status s = clipvk_device_profile_resolve(opt->profile, &profile, err);
    if (s) return s;
    clipvk_device *d = calloc(1, sizeof *d);
    if (!d) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    d->memory_budget = opt->memory_budget;
    d->log = opt->log;
    d->log_user = opt->log_user;
    /* $CLIPVK_FENCE_TIMEOUT (seconds) for machines where work runs far
     * slower than on a GPU: emulators, a CPU driver compiling every
     * pipeline of a simulated device class, a busy CI host. */
    const char *fto = getenv("CLIPVK_FENCE_TIMEOUT");
    double fto_s = fto && *fto ? strtod(fto, NULL) : 0.0;
    d->fence_timeout_ns = opt->fence_timeout_ns         ? opt->fence_timeout_ns
                          : fto_s > 0 && fto_s < 1e9    ? (uint64_t)(fto_s * 1e9)
                                                        : CLIPVK_DEFAULT_FENCE_TIMEOUT_NS;
    if (opt->external) {
        if ((s = clipvk_device_adopt(d, opt->external, profile, err))) goto fail;
        *out = d;
        return CLIPVK_OK;
    }
    d->validation = opt->validation >= 0 ? opt->validation : env_flag("CLIPVK_VALIDATION");
    const char *select = opt->select ? opt->select : getenv("CLIPVK_DEVICE");
    if (clipvk_device_select_is_cpu(select)) goto host;
    VkPhysicalDevice *pds = NULL;
    clipvk_device_caps *caps = NULL;
    uint32_t n = 0, chosen = 0;
    if ((s = clipvk_vk_load(&d->vk, NULL, err)) ||
        (s = create_instance(&d->vk, d->validation, d, &d->instance, &d->messenger, err)) ||
        (s = enumerate(&d->vk, d->instance, &pds, &n, err))) {
        /* No Vulkan here (no loader, no driver): the default is the native CPU. */
        if (select && *select) goto fail;
        goto host;
    }
    caps = calloc(n, sizeof *caps);
    if (!caps) s = clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    for (uint32_t i = 0; caps && i < n; i++) clipvk_device_caps_query(&d->vk, pds[i], i, profile, &caps[i]);
    if (!s && !(s = clipvk_device_choose(caps, n, select, &chosen, err)) && chosen != CLIPVK_CHOSE_CPU) {
        d->physical = pds[chosen];
        d->caps = caps[chosen];
        /* Chosen devices have a compute queue family (caps_query picked it). */
        d->queue_family = d->caps.queue_family;
    }
    free(pds);
    free(caps);
    if (!s && chosen == CLIPVK_CHOSE_CPU) goto host;
    if (s || (s = create_logical_device(d, err)) || (s = clipvk_device_finish(d, 0, err))) goto fail;
    *out = d;
    return CLIPVK_OK;
host:
    host_init(d);
    *out = d;
    return CLIPVK_OK;
fail:
    clipvk_device_destroy(d);
    return s;
}

uint64_t clipvk_device_heap_available(const clipvk_device *d, uint32_t heap)
{
    const clipvk_device_caps *c = &d->caps;
    if (heap >= c->memory.memoryHeapCount) return 0;
    uint64_t size = c->memory.memoryHeaps[heap].size, used = d->heap_used[heap];
    uint32_t real = c->memory_heap_real[heap];
    if (c->memory_budget && real != UINT32_MAX) {
        /* Other processes' use counts too: the driver's budget already
         * leaves it out, and heapUsage includes ours. */
        VkPhysicalDeviceMemoryBudgetPropertiesEXT b = {
            .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
        VkPhysicalDeviceMemoryProperties2 mp = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2,
                                                .pNext = &b};
        d->vk.GetPhysicalDeviceMemoryProperties2(d->physical, &mp);
        if (b.heapBudget[real]) return b.heapBudget[real] > b.heapUsage[real] ? b.heapBudget[real] - b.heapUsage[real] : 0;
    }
    return size > used ? size - used : 0;
}

void clipvk_device_destroy(clipvk_device *d)
{
    if (!d) return;
    if (d->device) {
        /* A bounded stand-in for vkDeviceWaitIdle: only pending work can
         * still run (see device_loss.c). If it does not finish, the device, the
         * instance and this struct (the validation messenger's user data)
         * are leaked: destroying a device that still executes can hang or
         * crash the driver, and a leak cannot. */
        if (clipvk_device_settle(d, d->fence_timeout_ns, NULL) == CLIPVK_ERROR_TIMEOUT)
            clipvk_device_lose(d, CLIPVK_LOST_HUNG, "work did not finish before the device was destroyed", NULL);
        if (clipvk_device_busy(d)) return;
        /* An adopted device and instance stay the application's. */
        if (!d->external) d->vk.DestroyDevice(d->device, NULL);
    }
    if (d->messenger) d->vk.DestroyDebugUtilsMessengerEXT(d->instance, d->messenger, NULL);
    if (d->instance && !d->external) d->vk.DestroyInstance(d->instance, NULL);
    free(d);
}
