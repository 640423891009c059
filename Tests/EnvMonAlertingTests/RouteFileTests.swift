import EnvMonDomain
import Foundation
import Testing
@testable import EnvMonAlerting

func issues(ofRoutes text: String, environment: [String: String] = [:]) -> [AlertFileIssue] {
    do {
        _ = try RouteFile.parse(text: text, fileName: "routes.yaml", environment: environment)
        return []
    } catch {
        return error.issues
    }
}

func notice(_ labels: [String: String]) -> AlertNotice {
    AlertNotice(fingerprint: "f", rule: labels["alertname"] ?? "R",
                kind: labels["kind"].flatMap(AlertRuleKind.init(rawValue:)) ?? .target,
                severity: labels["severity"].flatMap(AlertSeverity.init(rawValue:)) ?? .warning, status: .firing,
                labels: labels, annotations: [:],
                startsAt: Date(timeIntervalSince1970: 0))
}

@Suite struct RouteFileTests {
    @Test func shippedRoutesWithoutEmailLogOnly() throws {
        let file = try RouteFile.parse(text: try repositoryFile("alerts/routes.yaml"), fileName: "alerts/routes.yaml",
                                       environment: [:])
        #expect(file.inactiveReceivers == ["email"])
        #expect(file.receivers["log"]?.channels == [.log])
        let router = Router(file)
        #expect(router.route(notice(["severity": "critical", "metric": "sewage_treatment_rate"])) == ["log"])
    }

    @Test func shippedRoutesWithEmailSendToBoth() throws {
        let file = try RouteFile.parse(
            text: try repositoryFile("alerts/routes.yaml"), fileName: "alerts/routes.yaml",
            environment: ["ENVMON_ALERT_EMAIL": "a@bureau.gov.cn, b@bureau.gov.cn,"])
        #expect(file.receivers["email"]?.channels == [.email(to: ["a@bureau.gov.cn", "b@bureau.gov.cn"])])
        #expect(Router(file).route(notice(["severity": "info"])) == ["email", "log"])
    }

    static let tree = """
        receivers:
          - name: log
            log: true
          - name: duty
            email: {to: [duty@bureau.gov.cn]}
          - name: sewage-team
            webhook: {url: "${SEWAGE_HOOK}", format: wecom}
          - name: director
            email: {to: ["${DIRECTOR:-director@bureau.gov.cn}"]}
        route:
          receiver: log
          group_by: [metric]
          repeat_interval: 4h
          routes:
            - matchers: ['severity="critical"']
              receiver: duty
              continue: true
              escalate: [{after: 4h, receiver: director}]
            - matchers: ['metric=~"sewage.*"', 'scope!="all"']
              receiver: sewage-team
              group_wait: 1m
            - matchers: ['kind!~"data_quality|missing_data"']
              receiver: log
              routes:
                - matchers: [severity=info]
                  receiver: duty
        """

    @Test(arguments: [
        (["severity": "critical", "metric": "sewage_treatment_rate", "scope": "east"], ["duty", "sewage-team"]),
        (["severity": "critical", "metric": "sewage_treatment_rate", "scope": "all"], ["duty", "log"]),
        (["severity": "warning", "metric": "sewage", "scope": "x"], ["sewage-team"]),
        (["severity": "warning", "metric": "xsewage", "scope": "x", "kind": "target"], ["log"]),
        (["severity": "info", "kind": "target"], ["duty"]),
        (["severity": "warning", "kind": "missing_data"], ["log"]),
    ] as [([String: String], [String])])
    func matchersAndContinue(labels: [String: String], receivers: [String]) throws {
        let file = try RouteFile.parse(text: Self.tree, fileName: "r.yaml", environment: ["SEWAGE_HOOK": "https://qyapi.example/x"])
        #expect(Router(file).route(notice(labels)) == receivers)
    }

    @Test func childrenInheritAndInterpolate() throws {
        let file = try RouteFile.parse(text: Self.tree, fileName: "r.yaml", environment: ["SEWAGE_HOOK": "https://h/sewage"])
        let routes = Router(file).matchingRoutes(["severity": "critical", "metric": "sewage_x", "scope": "east"])
        #expect(routes.map(\.receiver) == ["duty", "sewage-team"])
        #expect(routes[0].groupBy == ["metric"])
        #expect(routes[0].repeatInterval == 4 * 3_600)
        #expect(routes[0].escalate == [Escalation(after: 4 * 3_600, receiver: "director")])
        #expect(routes[1].groupWait == 60)
        #expect(routes[0].groupWait == 30, "the default group_wait")
        #expect(file.receivers["sewage-team"]?.channels == [.webhook(url: "https://h/sewage", format: .wecom)])
        #expect(file.receivers["director"]?.channels == [.email(to: ["director@bureau.gov.cn"])])
    }

    @Test func webhookWithoutURLIsInactive() throws {
        let file = try RouteFile.parse(text: Self.tree, fileName: "r.yaml", environment: [:])
        #expect(file.inactiveReceivers == ["sewage-team"])
        #expect(Router(file).route(notice(["severity": "warning", "metric": "sewage", "scope": "x"])) == [])
    }

    @Test(arguments: [
        ("receivers: [{name: log, log: true}]\nroute:\n  receiver: logg\n", 3, "unknown receiver 'logg'; did you mean 'log'?"),
        ("receivers: [{name: log, log: true}]\nroute:\n  receiver: log\n  routes:\n    - matchers: ['severity=~\"(\"']\n",
         5, "bad matcher: '(' is not a regular expression"),
        ("receivers: [{name: log, log: true}]\nroute:\n  receiver: log\n  routes:\n    - matchers: ['severity']\n",
         5, "bad matcher:"),
        ("receivers: [{name: log, log: true}]\nroute:\n  receiver: log\n  group_wait: soon\n", 4, "group_wait: bad duration"),
        ("receivers: [{name: log, log: true}]\nroute:\n  receiver: log\n  matchers: ['a=\"b\"']\n", 4,
         "the root route takes every alert"),
        ("receivers:\n  - name: log\n    log: true\n  - name: log\n    log: true\nroute: {receiver: log}\n", 4,
         "duplicate receiver 'log'"),
        ("receivers:\n  - name: w\n    webhook: {url: 'ftp://x', format: slack}\nroute: {receiver: w}\n", 3,
         "unknown webhook format 'slack'"),
        ("receivers:\n  - name: m\n    email: {to: [nobody]}\nroute: {receiver: m}\n", 3, "'nobody' is not an email address"),
        ("receivers:\n  - name: m\n    email: {to: ['${OOPS']}\nroute: {receiver: m}\n", 3, "email.to: unclosed '${'"),
        ("receivers: [{name: log, log: true}]\nroute:\n  receiver: log\n  escalate: [{after: 1h}]\n", 4,
         "an escalation needs 'after' and 'receiver'"),
        ("receivers: [{name: log, log: true}]\nroute:\n  reciever: log\n", 3, "unknown key 'reciever' in a route; did you mean 'receiver'?"),
        ("receivers: [{name: log, log: true}]\n", 1, "the route file needs 'route:'"),
    ] as [(String, Int, String)])
    func badRouteFilesPointAtTheLine(text: String, line: Int, message: String) {
        let found = issues(ofRoutes: text)
        #expect(found.contains { $0.line == line && $0.message.hasPrefix(message) }, "\(found)")
    }

    @Test func eachProblemIsReportedOnce() {
        let found = issues(ofRoutes: "receivers: [{name: log, log: true}]\nroute:\n  reciever: log\n  group_wait: x\n")
        #expect(found.map(\.line) == [3, 4, 3], "\(found)")
        #expect(found.last?.message == "the root route needs a 'receiver'")
    }

    @Test(arguments: [
        ("severity=\"critical\"", ["severity": "critical"], true),
        ("severity=\"critical\"", ["severity": "warning"], false),
        ("metric=~\"sewage.*\"", ["metric": "sewage_treatment_rate"], true),
        ("metric=~\"sewage\"", ["metric": "sewage_treatment_rate"], false),
        ("scope!=\"all\"", ["scope": "all"], false),
        ("scope!=\"all\"", [:], true),
        ("district=\"\"", [:], true),
        ("pollutant!~\"so2|nox\"", ["pollutant": "nox"], false),
        ("pollutant!~\"so2|nox\"", ["pollutant": "cod"], true),
        ("section_name=\"东河\\\"桥\"", ["section_name": "东河\"桥"], true),
        ("enterprise_id = E001", ["enterprise_id": "E001"], true),
    ] as [(String, [String: String], Bool)])
    func matcherSemantics(text: String, labels: [String: String], expected: Bool) throws {
        let matcher = try Matcher(parsing: text)
        #expect(matcher.matches(labels) == expected)
        #expect(try Matcher(parsing: matcher.description) == matcher, "the file syntax round-trips")
    }
}

@Suite struct MangledFileTests {
    /// Damaged copies of the shipped files (characters dropped, swapped, doubled) never crash the
    /// parsers: each either parses or reports problems with a line inside the file.
    @Test func mangledShippedFilesNeverCrash() throws {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(max(bound, 1)))
        }
        for name in ["alerts/rules.yaml", "alerts/routes.yaml"] {
            let original = Array(try repositoryFile(name))
            for _ in 0..<150 {
                var text = original
                for _ in 0..<(1 + next(4)) {
                    let index = next(text.count)
                    switch next(3) {
                    case 0: text.remove(at: index)
                    case 1: text.insert(["{", "}", ":", "-", " ", "\n", "\"", "$", "'", "\t"][next(10)], at: index)
                    default: text.insert(text[index], at: index)
                    }
                }
                let lines = text.filter { $0 == "\n" }.count + 2
                let found = name.hasSuffix("rules.yaml") ? issues(ofRules: String(text))
                    : issues(ofRoutes: String(text), environment: ["ENVMON_ALERT_EMAIL": "a@b.cn"])
                #expect(found.allSatisfy { (1...lines).contains($0.line) && $0.column >= 1 })
            }
        }
    }
}
