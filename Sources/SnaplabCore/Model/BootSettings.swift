/// How an instance's machine starts its OS.
public enum Firmware: String, Codable, Sendable, CaseIterable {
    /// qemu loads the kernel and initramfs the lab gives it, with the lab's command line.
    case direct
    /// SeaBIOS boots the disk's own boot loader (an MBR or BIOS-boot partition).
    case bios
    /// OVMF boots the disk's EFI system partition; each instance gets its own copy of the variable store.
    case uefi
}

/// What an OS boots with: the firmware, and the kernel, initramfs and command line for direct kernel boot. With
/// firmware boot the disk carries its loader; a kernel may still be known (empty otherwise), so that the same
/// disk can also be booted directly.
public struct BootSettings: Codable, Sendable, Equatable {
    public var kernel: String
    public var initrd: String
    public var cmdline: String
    /// Nil in records made before firmware boot existed: direct.
    public var firmware: Firmware?

    public init(kernel: String, initrd: String, cmdline: String, firmware: Firmware = .direct) {
        self.kernel = kernel
        self.initrd = initrd
        self.cmdline = cmdline
        self.firmware = firmware == .direct ? nil : firmware
    }

    /// Firmware boot: nothing but the disk.
    public static func firmware(_ firmware: Firmware) -> BootSettings {
        BootSettings(kernel: "", initrd: "", cmdline: "", firmware: firmware)
    }

    public var bootFirmware: Firmware { firmware ?? .direct }

    /// The same, started by `firmware` instead; direct boot needs a kernel.
    public func booting(with firmware: Firmware) throws(SnaplabError) -> BootSettings {
        guard firmware != .direct || !kernel.isEmpty else {
            throw SnaplabError(
                .invalidArgument,
                "no kernel is known for direct boot; boot it by its firmware (\(bootFirmware.rawValue))")
        }
        var settings = self
        settings.firmware = firmware == .direct ? nil : firmware
        return settings
    }
    public var isDirect: Bool { bootFirmware == .direct }
}
