public import EnvMonDomain
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// One stretch of an upload as the parser produced it: rows ready for staging, and rejections.
public struct LoadBatch: Sendable {
    public var records: [StagingRecord]
    public var rejections: [Rejection]

    public init(records: [StagingRecord], rejections: [Rejection]) {
        self.records = records
        self.rejections = rejections
    }
}

/// Where a parser writes an upload's rows while the load transaction is open.
public struct LoadSink {
    let connection: PostgresConnection
    let uploadID: Int64
    let kind: FeedKind
    let logger: Logger
    /// Set when the rows go straight into the fact table (`DirectEmissions`).
    var direct: DirectEmissions?

    /// Writes the batches `next` returns, in order, until it returns nil.
    public func write(_ next: () async throws -> LoadBatch?) async throws {
        if let direct {
            try await direct.write(next)
            return
        }
        while let batch = try await next() {
            try await stage(batch.records)
            if !batch.rejections.isEmpty { try await Self.copy(batch.rejections, on: connection, logger: logger) }
        }
    }

    /// COPYs a batch of normalised rows into the staging table.
    private func stage(_ records: [StagingRecord]) async throws {
        guard !records.isEmpty else { return }
        var buffer = ByteBufferAllocator().buffer(capacity: records.count * 128)
        for record in records {
            CopyText.appendRow(record.fields, to: &buffer)
        }
        try await connection.copyFrom(table: "stage", columns: kind.stagingColumns, logger: logger) { writer in
            try await writer.write(buffer)
        }
    }

    /// COPYs row rejections into the transaction's `stage_rejection` table; they move to
    /// `envmon.upload_rejection` when the load finishes (COPY takes one unqualified name).
    static func copy(_ rejections: [Rejection], on connection: PostgresConnection, logger: Logger) async throws {
        var buffer = ByteBufferAllocator().buffer(capacity: rejections.count * 96)
        for rejection in rejections {
            CopyText.appendRow([String(rejection.line), rejection.column, rejection.value.map(CopyText.clip),
                                rejection.reason], to: &buffer)
        }
        try await connection.copyFrom(
            table: "stage_rejection", columns: ["line", "column_name", "raw_value", "reason"], logger: logger
        ) { writer in
            try await writer.write(buffer)
        }
    }
}

/// PostgreSQL's COPY text format: tab-separated, `\N` for NULL, backslash escapes.
enum CopyText {
    static func appendRow(_ fields: [String?], to buffer: inout ByteBuffer) {
        for (index, field) in fields.enumerated() {
            if index > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
            append(field, to: &buffer)
        }
        buffer.writeInteger(UInt8(ascii: "\n"))
    }

    /// One field: `\N` for NULL, else the escaped text (no separator).
    static func append(_ field: String?, to buffer: inout ByteBuffer) {
        guard let field else {
            buffer.writeStaticString("\\N")
            return
        }
        appendEscaped(field, to: &buffer)
    }

    private static func appendEscaped(_ text: String, to buffer: inout ByteBuffer) {
        var plain = true
        for byte in text.utf8 where byte == 0x5C || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0 {
            plain = false
            break
        }
        if plain {
            buffer.writeString(text)
            return
        }
        for byte in text.utf8 {
            switch byte {
            case 0x5C: buffer.writeStaticString("\\\\")
            case 0x09: buffer.writeStaticString("\\t")
            case 0x0A: buffer.writeStaticString("\\n")
            case 0x0D: buffer.writeStaticString("\\r")
            // PostgreSQL text cannot hold NUL: show it as U+FFFD.
            case 0x00: buffer.writeBytes([0xEF, 0xBF, 0xBD])
            default: buffer.writeInteger(byte)
            }
        }
    }

    /// Raw values are kept for the user to see, up to 4,000 characters.
    static func clip(_ value: String) -> String {
        value.count <= 4000 ? value : String(value.prefix(4000)) + "…"
    }
}
