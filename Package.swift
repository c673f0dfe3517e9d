// swift-tools-version: 6.2
import PackageDescription

let strict: [SwiftSetting] = [.treatAllWarnings(as: .error)]

let package = Package(
    name: "snaplab",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "snaplab", targets: ["snaplab"]),
        .library(name: "SnaplabCore", targets: ["SnaplabCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibvirt",
            pkgConfig: "libvirt",
            providers: [.apt(["libvirt-dev"])]
        ),
        .systemLibrary(name: "CLinux"),
        .systemLibrary(name: "CNBD", pkgConfig: "libnbd", providers: [.apt(["libnbd-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .target(
            name: "Blocking", dependencies: [.product(name: "NIOPosix", package: "swift-nio")], swiftSettings: strict),
        .target(name: "Faults", swiftSettings: strict),
        .target(name: "Libvirt", dependencies: ["CLibvirt"], swiftSettings: strict),
        .target(name: "NBD", dependencies: ["CNBD"], swiftSettings: strict),
        .target(name: "NBDServer", swiftSettings: strict),
        .target(
            name: "SnapshotStore",
            dependencies: [
                "Blocking",
                "Faults",
                "NBDServer",
                "CLinux",
                "CZstd",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "SnaplabCore",
            dependencies: [
                "Blocking",
                "Faults",
                "CLinux",
                "Libvirt",
                "NBD",
                "NBDServer",
                "SnapshotStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "SnaplabServer",
            dependencies: [
                "Blocking",
                "SnaplabCore",
                "SnapshotStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "SnaplabCommands",
            dependencies: [
                "NBDServer",
                "Blocking",
                "SnaplabCore",
                "SnaplabServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(name: "snaplab", dependencies: ["SnaplabCommands"], swiftSettings: strict),
        .testTarget(name: "LibvirtTests", dependencies: ["Libvirt"], swiftSettings: strict),
        .target(
            name: "SnaplabTestSupport", dependencies: [.product(name: "Subprocess", package: "swift-subprocess")],
            path: "Tests/Support", swiftSettings: strict),
        .testTarget(
            name: "SnapshotStoreTests", dependencies: ["CNBD", "NBDServer", "SnapshotStore", "SnaplabTestSupport"],
            swiftSettings: strict),
        .testTarget(name: "SnaplabCoreTests", dependencies: ["SnaplabCore"], swiftSettings: strict),
        .testTarget(
            name: "SnaplabServerTests",
            dependencies: [
                "SnaplabCore", "SnaplabServer", "SnaplabTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "Faults", "Libvirt", "NBD", "SnapshotStore", "SnaplabCore", "SnaplabCommands", "SnaplabServer",
                "SnaplabTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
    ]
)
