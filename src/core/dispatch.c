/* Filling the dispatch tables of dispatch.h. */
#include "core/dispatch.h"
#include "platform/platform.h"

#include <stdlib.h>

#if defined(_WIN32)
#define CLIPVK_VULKAN_LIBRARY "vulkan-1.dll"
static const char loader_hint[] = "install your GPU's driver (it brings the Vulkan runtime, vulkan-1.dll) or "
                                  "the Vulkan Runtime from LunarG";
#else
#if defined(__APPLE__)
#define CLIPVK_VULKAN_LIBRARY "libvulkan.1.dylib"
#else
#define CLIPVK_VULKAN_LIBRARY "libvulkan.so.1"
#endif
static const char loader_hint[] = "install 'libvulkan1' and a driver ('mesa-vulkan-drivers' for the CPU "
                                  "fallback, or your GPU's driver)";
#endif

clipvk_status clipvk_vk_load(clipvk_vk *vk, PFN_vkGetInstanceProcAddr gipa, clipvk_error *err)
{
    *vk = (clipvk_vk){0};
    if (!gipa) {
        /* The loader stays loaded for the life of the process, as volk's
         * did: unloading it would unmap what its layers and drivers still
         * point to (their atexit handlers, the leak checker's roots), and
         * opening a library already loaded only counts a reference. */
        /* $CLIPVK_VULKAN_LIBRARY names another loader (one built elsewhere;
         * the tests name a missing one to see what a machine without a
         * loader gets). RTLD_LOCAL: the loader's symbols stay out of the
         * application's namespace. */
        const char *lib = getenv("CLIPVK_VULKAN_LIBRARY");
        int custom = lib && *lib;
        void *h = clipvk_lib_open(custom ? lib : CLIPVK_VULKAN_LIBRARY);
        if (h) gipa = (PFN_vkGetInstanceProcAddr)clipvk_lib_sym(h, "vkGetInstanceProcAddr");
        if (!gipa) {
            clipvk_lib_close(h);
            if (custom)
                return clipvk_fail(err, CLIPVK_ERROR_NO_DEVICE,
                                   "no Vulkan loader at %s ($CLIPVK_VULKAN_LIBRARY): %s; unset it to use the "
                                   "system's, or %s",
                                   lib, h ? "it has no vkGetInstanceProcAddr" : "cannot load it", loader_hint);
            return clipvk_fail(err, CLIPVK_ERROR_NO_DEVICE, "no Vulkan loader found (%s): %s",
                               CLIPVK_VULKAN_LIBRARY, loader_hint);
        }
    }
    vk->GetInstanceProcAddr = gipa;
    vk->EnumerateInstanceVersion =
        (PFN_vkEnumerateInstanceVersion)gipa(VK_NULL_HANDLE, "vkEnumerateInstanceVersion");
#define LOAD_GLOBAL(name) vk->name = (PFN_vk##name)gipa(VK_NULL_HANDLE, "vk" #name);
    CLIPVK_VK_GLOBAL(LOAD_GLOBAL)
#undef LOAD_GLOBAL
    const char *missing = NULL;
#define CHECK(name) if (!vk->name && !missing) missing = "vk" #name;
    CLIPVK_VK_GLOBAL(CHECK)
#undef CHECK
    clipvk_status s = CLIPVK_OK;
    if (missing) s = clipvk_fail(err, CLIPVK_ERROR_NO_DEVICE, "the Vulkan loader has no %s", missing);
    else if (clipvk_vk_instance_version(vk) < VK_API_VERSION_1_1)
        s = clipvk_fail(err, CLIPVK_ERROR_NO_DEVICE,
                        "the Vulkan loader supports only Vulkan 1.0; clipvk needs 1.1 (on Android: 9, API 28, "
                        "or later)");
    return s;
}

uint32_t clipvk_vk_instance_version(const clipvk_vk *vk)
{
    uint32_t v = VK_API_VERSION_1_0;
    if (vk->EnumerateInstanceVersion && vk->EnumerateInstanceVersion(&v) != VK_SUCCESS) v = VK_API_VERSION_1_0;
    return v;
}

clipvk_status clipvk_vk_load_instance(clipvk_vk *vk, VkInstance instance, clipvk_error *err)
{
    const char *missing = NULL;
#define LOAD(name) vk->name = (PFN_vk##name)vk->GetInstanceProcAddr(instance, "vk" #name);
#define LOAD_REQUIRED(name) LOAD(name) if (!vk->name && !missing) missing = "vk" #name;
    CLIPVK_VK_INSTANCE(LOAD_REQUIRED)
    CLIPVK_VK_INSTANCE_OPTIONAL(LOAD)
#undef LOAD_REQUIRED
#undef LOAD
    if (missing)
        return clipvk_fail(err, CLIPVK_ERROR_NO_DEVICE,
                           "the Vulkan instance has no %s (was it created for Vulkan 1.1 or later?)", missing);
    return CLIPVK_OK;
}

clipvk_status clipvk_vk_load_device(clipvk_vk *vk, VkDevice device, clipvk_error *err)
{
    const char *missing = NULL;
#define LOAD(name)                                                                                          \
    vk->name = (PFN_vk##name)vk->GetDeviceProcAddr(device, "vk" #name);                                      \
    if (!vk->name && !missing) missing = "vk" #name;
    CLIPVK_VK_DEVICE(LOAD)
#undef LOAD
    if (missing) return clipvk_fail(err, CLIPVK_ERROR_NO_DEVICE, "the Vulkan device has no %s", missing);
    return CLIPVK_OK;
}
