import Foundation
public import Testing

/// Drops the databases a suite made once the suite is over, so a long test run does not fill the
/// shared cluster with hundreds of copies of the template.
///
/// `TestDatabase.make()` registers each name with the registry of the enclosing scope (a task
/// local, so the tests' child tasks see it); the scope drops them afterwards, also when a test
/// threw. Databases made outside any such scope are left to the sweep at the next run
/// (`TestCluster.sweepAbandoned`), which drops every test database whose process has exited.
public struct TemporaryDatabasesTrait: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { false }

    public func provideScope(for test: Test, testCase: Test.Case?,
                             performing function: @Sendable () async throws -> Void) async throws {
        let registry = DatabaseRegistry()
        do {
            try await DatabaseRegistry.$current.withValue(registry) { try await function() }
        } catch {
            await registry.dropAll()
            throw error
        }
        await registry.dropAll()
    }
}

extension Trait where Self == TemporaryDatabasesTrait {
    /// Drop the test databases this suite (or test) made when it ends.
    public static var temporaryDatabases: Self { TemporaryDatabasesTrait() }
}

/// The names of the databases made inside one `.temporaryDatabases` scope.
actor DatabaseRegistry {
    @TaskLocal static var current: DatabaseRegistry?

    private var names: [String] = []

    func register(_ name: String) {
        names.append(name)
    }

    /// Best effort: a database that cannot be dropped now is swept at the next run.
    func dropAll() async {
        let dropping = names
        names.removeAll()
        for name in dropping {
            try? await TestCluster.drop(database: name)
        }
    }
}
