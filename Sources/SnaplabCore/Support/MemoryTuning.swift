import CLinux

/// Keeps the controller's memory bounded while it streams gigabytes through 4–16 MiB buffers. glibc raises its
/// mmap threshold each time a large block is freed, after which such buffers come from per-thread heap arenas
/// that rarely shrink. A fixed 8 MiB threshold keeps the 4 MiB read runs in the (at most four) arenas, reused
/// without a page fault per page, and maps and unmaps the 16 MiB packs. Measured with `bench snapshot --size 4G`
/// against a 256 KiB threshold: full snapshot 248–279 vs 213–235 MB/s, restore 270–279 vs 210–243 MB/s, peak
/// RSS 132–145 vs 116–120 MiB.
public enum MemoryTuning {
    public static func apply() {
        snaplab_tune_malloc(1 << 20, 4)
    }
}
