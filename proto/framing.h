// Constants of the shim -> collector stream (see wire.proto for the layout).
// Shared by the shim's writer and the collector's decoder; no dependencies.
#pragma once

#include <cstdint>

namespace leakscope::wire {

inline constexpr char kStreamMagic[4] = {'L', 'S', 'K', 'W'};
inline constexpr uint32_t kProtocolVersion = 1;
inline constexpr uint32_t kStreamHeaderSize = 8;  // magic + version
inline constexpr uint32_t kFrameHeaderSize = 8;   // compressed size + raw size
inline constexpr uint32_t kMaxFrameRawSize = 16u << 20;

// Field numbers of wire.proto, for the hand-written encoder in the shim.
namespace field {
inline constexpr uint32_t kMessageHello = 1, kMessageModules = 2, kMessageStacks = 3,
                          kMessageEvents = 4, kMessageStats = 5, kMessageGoodbye = 6,
                          kMessageForkMarker = 8, kMessageExitMarker = 9, kMessageMapEvents = 11;
inline constexpr uint32_t kHelloProtocolVersion = 1, kHelloPid = 2, kHelloPpid = 3, kHelloExe = 4,
                          kHelloArgv = 5, kHelloStartTime = 6, kHelloSamplingInterval = 7,
                          kHelloForked = 8, kHelloForkTime = 9, kHelloParentPid = 10,
                          kHelloParentStartTime = 11, kHelloForkId = 12, kHelloForkMarkersSent = 13,
                          kHelloFlushInterval = 14, kHelloLabels = 15,
                          kHelloDrainProgressAddress = 16;
inline constexpr uint32_t kForkMarkerId = 1;
inline constexpr uint32_t kExitMarkerHow = 1;
inline constexpr uint32_t kModulePath = 1, kModuleLoadBias = 2, kModuleExecRanges = 3,
                          kModuleBuildId = 4;
inline constexpr uint32_t kStackId = 1, kStackPcs = 2;
inline constexpr uint32_t kEventsSizePlusOne = 1, kEventsAddressDelta = 2, kEventsStackId = 3,
                          kEventsTimeNs = 4, kEventsTransientStackId = 5, kEventsTransientCount = 6,
                          kEventsTransientBytes = 7, kEventsTransientTemporary = 8,
                          kEventsAdjustBeforeDelta = 9, kEventsAdjustEntries = 10,
                          kEventsAdjustStackId = 11, kEventsAdjustBytes = 12,
                          kEventsAdjustAddress = 13;
inline constexpr uint32_t kStatsDropped = 1, kStatsRss = 2, kStatsReentrant = 3, kStatsThreads = 4,
                          kStatsTimeNs = 5, kStatsMemory = 6;
inline constexpr uint32_t kMemoryAllocator = 1, kMemoryAllocatorInUse = 2, kMemoryAllocatorFree = 3,
                          kMemoryAllocatorMapped = 4, kMemoryAllocatorReleasable = 5,
                          kMemoryMapsRead = 6, kMemoryRss = 7, kMemoryAnonymous = 8,
                          kMemoryStack = 9, kMemoryFile = 10, kMemoryThreadStacks = 11;
inline constexpr uint32_t kMapEventKind = 1, kMapEventAddress = 2, kMapEventLength = 3,
                          kMapEventStackId = 4, kMapEventNewAddress = 5, kMapEventKeepOld = 6;
inline constexpr uint32_t kGoodbyeHasExitStatus = 1, kGoodbyeExitStatus = 2, kGoodbyeHow = 3;
}  // namespace field

}  // namespace leakscope::wire
