// swift-tools-version: 6.1
// libFuzzer targets for envmon's readers of untrusted bytes. Not part of `swift test`: build
// and run them with scripts/fuzz.sh (it adds -sanitize=fuzzer,address). Each target's entry
// point hands its `fuzz` function to libFuzzer's driver (FuzzSupport).
import PackageDescription

let fuzz: [SwiftSetting] = [.swiftLanguageMode(.v6), .unsafeFlags(["-parse-as-library"])]

let package = Package(
    name: "envmon-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "envmon", path: "..")],
    targets: [
        .target(name: "FuzzSupport", swiftSettings: [.swiftLanguageMode(.v6)]),
        .executableTarget(name: "FuzzFeeds", dependencies: ["FuzzSupport", .product(name: "EnvMonIngest", package: "envmon")], swiftSettings: fuzz),
        .executableTarget(name: "FuzzSniffer", dependencies: ["FuzzSupport", .product(name: "EnvMonIngest", package: "envmon")], swiftSettings: fuzz),
        .executableTarget(name: "FuzzXLSX", dependencies: ["FuzzSupport", .product(name: "EnvMonXLSX", package: "envmon")], swiftSettings: fuzz),
        .executableTarget(name: "FuzzHJ212", dependencies: ["FuzzSupport", .product(name: "EnvMonHJ212", package: "envmon")], swiftSettings: fuzz),
        .executableTarget(name: "FuzzAlertFiles", dependencies: ["FuzzSupport", .product(name: "EnvMonAlerting", package: "envmon")], swiftSettings: fuzz),
    ]
)
