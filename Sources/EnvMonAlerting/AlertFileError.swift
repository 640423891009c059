/// One problem in a rule or route file, at a line and column.
public struct AlertFileIssue: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column.
    public var column: Int
    public var message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// `file:line:col: message`, the form compilers and editors understand.
    public var description: String { "\(file):\(line):\(column): \(message)" }
}

/// Every problem found in a rule or route file; thrown when there is at least one.
public struct AlertFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The problems in file order.
    public var issues: [AlertFileIssue]

    public init(issues: [AlertFileIssue]) {
        self.issues = issues
    }

    /// One `file:line:col: message` line per problem.
    public var description: String { issues.map(\.description).joined(separator: "\n") }
}
