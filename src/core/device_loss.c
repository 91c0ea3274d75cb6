/*
 * Waiting for the device, bounded, and what happens when a wait fails:
 * submissions that outlived their fence timeout (dev->pending), and device
 * loss, which is sticky: a lost VkDevice cannot be recovered, so every later
 * call fails fast with CLIPVK_ERROR_DEVICE_LOST and the caller recreates the
 * context.
 */
#include "core/device.h"

#include <stdio.h>
#include <string.h>

/* Every submission goes through clipvk_cmd_submit, which either sees its
 * fence signal or records it in dev->pending: the pending list is all the
 * work of ours the device may still run. That is what makes each wait below
 * boundable (no vkDeviceWaitIdle, no UINT64_MAX), and what decides between
 * freeing and leaking when a wait expires. */

clipvk_status clipvk_device_check(const clipvk_device *d, clipvk_error *err)
{
    if (!d || !d->lost) return CLIPVK_OK;
    return clipvk_fail(err, CLIPVK_ERROR_DEVICE_LOST,
                       "the Vulkan device was lost (%s): destroy this context and create a new one", d->lost_why);
}

clipvk_status clipvk_device_lose(clipvk_device *d, int how, const char *why, clipvk_error *err)
{
    if (!d->lost) snprintf(d->lost_why, sizeof d->lost_why, "%s", why);
    /* A hang found after a reported loss still means work may run: keep the stricter state. */
    if (how > d->lost) d->lost = how;
    return clipvk_device_check(d, err);
}

clipvk_status clipvk_device_vk_fail(clipvk_device *d, clipvk_error *err, VkResult r, const char *call)
{
    if (r != VK_ERROR_DEVICE_LOST) return clipvk_vk_fail(err, r, call);
    char why[128];
    snprintf(why, sizeof why, "%s returned VK_ERROR_DEVICE_LOST", call);
    return clipvk_device_lose(d, CLIPVK_LOST_REPORTED, why, err);
}

int clipvk_device_busy(clipvk_device *d)
{
    if (d->lost == CLIPVK_LOST_HUNG) return 1;
    if (!d->npending) return 0;
    /* A reported loss ends the work (the driver runs nothing more of ours). */
    VkResult r = d->lost ? VK_SUCCESS : d->vk.WaitForFences(d->device, d->npending, d->pending, VK_TRUE, 0);
    if (r == VK_TIMEOUT) return 1;
    if (r == VK_ERROR_DEVICE_LOST) clipvk_device_vk_fail(d, NULL, r, "vkWaitForFences");
    else if (r != VK_SUCCESS) return 1; /* unknown: assume it still runs */
    d->npending = 0;
    return 0;
}

clipvk_status clipvk_device_settle(clipvk_device *d, uint64_t timeout_ns, clipvk_error *err)
{
    if (!d) return CLIPVK_OK;
    if (d->lost) return clipvk_device_check(d, err); /* fail fast: nothing to wait for that can help */
    if (!d->npending) return CLIPVK_OK;
    VkResult r = d->vk.WaitForFences(d->device, d->npending, d->pending, VK_TRUE, timeout_ns);
    if (r == VK_TIMEOUT)
        return clipvk_fail(err, CLIPVK_ERROR_TIMEOUT,
                           "the device is still running work that timed out earlier (waited another %.3g s)",
                           timeout_ns / 1e9);
    if (r == VK_ERROR_DEVICE_LOST) d->npending = 0;
    if (r != VK_SUCCESS) return clipvk_device_vk_fail(d, err, r, "vkWaitForFences (work that timed out earlier)");
    d->npending = 0;
    return CLIPVK_OK;
}

void clipvk_device_add_pending(clipvk_device *d, VkFence fence)
{
    for (uint32_t i = 0; i < d->npending; i++)
        if (d->pending[i] == fence) return;
    if (d->npending == sizeof d->pending / sizeof d->pending[0]) {
        /* Full (cannot happen today: a submission first settles every
         * pending one, so at most one is pending). Wait for the oldest for
         * one timeout rather than lose track of it; past that the device is
         * hung, and a hung device frees nothing, tracked or not. */
        VkResult r = d->vk.WaitForFences(d->device, 1, &d->pending[0], VK_TRUE, d->fence_timeout_ns);
        if (r == VK_TIMEOUT) {
            clipvk_device_lose(d, CLIPVK_LOST_HUNG, "more submissions than clipvk tracks did not finish", NULL);
            return;
        }
        if (r != VK_SUCCESS) clipvk_device_vk_fail(d, NULL, r, "vkWaitForFences");
        memmove(d->pending, d->pending + 1, (d->npending - 1) * sizeof *d->pending);
        d->npending--;
    }
    d->pending[d->npending++] = fence;
}

int clipvk_device_drop_pending(clipvk_device *d, VkFence fence)
{
    for (uint32_t i = 0; i < d->npending; i++)
        if (d->pending[i] == fence) {
            /* Work that already had its fence timeout gets one more, then is
             * declared hung: its fence and memory are leaked, not destroyed
             * under it. After a reported loss there is nothing to wait for. */
            VkResult r = d->lost == CLIPVK_LOST_REPORTED ? VK_SUCCESS
                         : d->lost                       ? VK_TIMEOUT
                                 : d->vk.WaitForFences(d->device, 1, &fence, VK_TRUE, d->fence_timeout_ns);
            if (r == VK_TIMEOUT) {
                char why[128];
                snprintf(why, sizeof why, "a submission was still running %.3g s after its fence timeout",
                         d->fence_timeout_ns / 1e9);
                clipvk_device_lose(d, CLIPVK_LOST_HUNG, why, NULL);
                return 0;
            }
            if (r != VK_SUCCESS) clipvk_device_vk_fail(d, NULL, r, "vkWaitForFences");
            memmove(d->pending + i, d->pending + i + 1, (d->npending - i - 1) * sizeof *d->pending);
            d->npending--;
            return 1;
        }
    /* Not pending: finished, unless the device hung before it could be tracked. */
    return d->lost != CLIPVK_LOST_HUNG;
}
