import CMalloc

/// Keeps the controller's memory bounded while it streams gigabytes through 4–16 MiB buffers. glibc raises its
/// mmap threshold each time a large block is freed, after which such buffers come from per-thread heap arenas
/// that rarely shrink; with a fixed threshold they are mapped and unmapped, and the arenas stay few.
public enum MemoryTuning {
    public static func apply() {
        snaplab_tune_malloc(256 << 10, 4)
    }
}
