import EnvMonDomain
import Foundation
import Testing

@Suite struct FeedKindTests {
    @Test(arguments: FeedKind.allCases)
    func naturalKeysAreStagingColumns(kind: FeedKind) {
        for column in kind.naturalKey {
            #expect(kind.stagingColumns.contains(column), "\(kind): key column \(column) is not staged")
        }
        #expect(kind.stagingColumns.first == "line")
        #expect(kind.stagingColumns.last == "extra")
        #expect(Set(kind.stagingColumns).count == kind.stagingColumns.count)
    }

    @Test func groupStatusIsFiringWhileAnyAlertFires() {
        let firing = AlertNotice(fingerprint: "a", rule: "r", kind: .target, severity: .critical, status: .firing,
                                 labels: [:], annotations: [:], startsAt: .init(timeIntervalSince1970: 0))
        var resolved = firing
        resolved.status = .resolved
        #expect(NotificationGroup(receiver: "log", groupLabels: [:], alerts: [resolved, firing]).status == .firing)
        #expect(NotificationGroup(receiver: "log", groupLabels: [:], alerts: [resolved]).status == .resolved)
    }
}
