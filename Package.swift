// swift-tools-version:6.1
import PackageDescription

/// Upcoming features on for every target, as in the server packages we follow.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "envmon",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "envmon", targets: ["envmon"]),
        // The readers of untrusted bytes, for the libFuzzer package in Fuzz/.
        .library(name: "EnvMonIngest", targets: ["EnvMonIngest"]),
        .library(name: "EnvMonXLSX", targets: ["EnvMonXLSX"]),
        .library(name: "EnvMonHJ212", targets: ["EnvMonHJ212"]),
        .library(name: "EnvMonAlerting", targets: ["EnvMonAlerting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "5.0.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/vapor/multipart-kit.git", from: "4.7.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
    ],
    targets: [
        // Pure values and rules: feed kinds, records, pollutant codes, units, water classes,
        // metric ids, targets, alert rule model. No I/O.
        .target(name: "EnvMonDomain", swiftSettings: swiftSettings),
        // Decoding, streaming readers, column mapping, validation. No database.
        .target(name: "EnvMonIngest", dependencies: ["EnvMonDomain", "EnvMonXLSX"], swiftSettings: swiftSettings),
        // Rule files and the alert engine as a pure state machine. No I/O.
        .target(
            name: "EnvMonAlerting",
            dependencies: ["EnvMonDomain", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        // Office Open XML spreadsheets (.xlsx) read as streamed rows: its own bounded zip reader
        // and inflater, shared strings, styles to dates, merged headers. No dependencies.
        .target(name: "EnvMonXLSX", swiftSettings: swiftSettings),
        // HJ 212-2017 over TCP as pure values: framing, CRC, packets, flags, replies, hourly
        // derivation, O2 correction. No I/O.
        .target(name: "EnvMonHJ212", swiftSettings: swiftSettings),
        // The web console's pages: Mustache templates and the stylesheet of web/, embedded.
        .target(
            name: "EnvMonWeb",
            dependencies: ["EnvMonDomain", .product(name: "Mustache", package: "swift-mustache")],
            swiftSettings: swiftSettings,
            plugins: ["EmbedResourcesPlugin"]
        ),
        // A private PostgreSQL cluster made with the machine's binaries.
        .target(
            name: "EmbeddedPostgres",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // Connection settings, migrations, COPY loaders, queue, alert and outbox persistence.
        .target(
            name: "EnvMonStore",
            dependencies: [
                "EnvMonDomain",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings,
            plugins: ["EmbedResourcesPlugin"]
        ),
        // Delivery channels: SMTP, JSON log, webhook.
        .target(
            name: "EnvMonNotify",
            dependencies: [
                "EnvMonDomain",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The composition root: configuration, routes, long-running services.
        .target(
            name: "EnvMonServer",
            dependencies: [
                "EnvMonDomain", "EnvMonIngest", "EnvMonAlerting", "EmbeddedPostgres", "EnvMonStore",
                "EnvMonNotify", "EnvMonWeb", "EnvMonHJ212",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings,
            plugins: ["EmbedResourcesPlugin"]
        ),
        .executableTarget(
            name: "envmon",
            dependencies: [
                "EnvMonServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Build tool: turns sql/ and alerts/ into Swift string constants, so the binary works
        // from any working directory.
        .executableTarget(name: "EmbedResources", path: "Sources/EmbedResources"),
        .plugin(name: "EmbedResourcesPlugin", capability: .buildTool(), dependencies: ["EmbedResources"]),

        .testTarget(name: "EnvMonDomainTests", dependencies: ["EnvMonDomain"], swiftSettings: swiftSettings),
        .testTarget(
            name: "EnvMonIngestTests", dependencies: ["EnvMonIngest", "EnvMonTestSupport", .product(name: "PropertyBased", package: "swift-property-based")], exclude: ["Fixtures"], swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EnvMonAlertingTests", dependencies: ["EnvMonAlerting", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EnvMonXLSXTests",
            dependencies: ["EnvMonXLSX", "EnvMonTestSupport", .product(name: "ZIPFoundation", package: "ZIPFoundation"), .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EnvMonHJ212Tests", dependencies: ["EnvMonHJ212"], exclude: ["Fixtures"], swiftSettings: swiftSettings
        ),
        .testTarget(name: "EmbeddedPostgresTests", dependencies: ["EmbeddedPostgres"], swiftSettings: swiftSettings),
        // One embedded cluster and migrated template per test process, shared by the suites
        // that need a database.
        .target(
            name: "EnvMonTestSupport",
            dependencies: [
                "EnvMonStore", "EmbeddedPostgres", "EnvMonServer", "EnvMonDomain", "EnvMonAlerting",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            path: "Tests/EnvMonTestSupport",
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EnvMonStoreTests",
            dependencies: [
                "EnvMonStore", "EmbeddedPostgres", "EnvMonIngest", "EnvMonServer", "EnvMonTestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EnvMonNotifyTests",
            dependencies: ["EnvMonNotify", "EnvMonTestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EnvMonServerTests",
            dependencies: [
                "EnvMonServer", "envmon", "EnvMonTestSupport", "EnvMonDomain", "EnvMonNotify", "EnvMonAlerting", "EmbeddedPostgres",
                "EnvMonHJ212", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
