import FuzzSupport
import EnvMonAlerting

/// Rule, route and target files from arbitrary text (the corpus starts from alerts/*.yaml):
/// each parser either returns a file or lists its issues.
@_cdecl("FuzzAlertFiles_main")
public func entry(argc: Int32, argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc: argc, argv: argv, fuzz)
}

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? RuleFile.parse(text: text, fileName: "rules.yaml")
    _ = try? RouteFile.parse(text: text, fileName: "routes.yaml", environment: ["SMTP_TO": "ops@example.org"])
    _ = try? TargetFile.parse(text: text, fileName: "targets.yaml")
    return 0
}
