import Foundation
import HTTPTypes
public import Hummingbird
import NIOCore

/// An error the client sees as JSON `{error, detail}` with a status code; anything else becomes
/// a 500 whose details stay in the server log (no SQL text, no stack trace).
public struct APIError: HTTPResponseError, Sendable, CustomStringConvertible {
    public let status: HTTPResponse.Status
    /// A short machine-readable code, e.g. `unknown_kind`.
    public let error: String
    /// A sentence for a person.
    public let detail: String
    /// Finds the server's log line of a failure the client cannot fix (the request id).
    public var reference: String?
    var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, error: String, detail: String) {
        self.status = status
        self.error = error
        self.detail = detail
    }

    public var description: String { "\(status.code) \(error): \(detail)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var body = ByteBuffer()
        var object = ["error": error, "detail": detail]
        if let reference { object["reference"] = reference }
        body.writeBytes(JSONBody.encodeObject(object))
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }

    static func unauthorized(_ detail: String) -> APIError {
        var error = APIError(.unauthorized, error: "unauthorized", detail: detail)
        error.headers[.wwwAuthenticate] = "Bearer realm=\"envmon\""
        return error
    }

    static func forbidden(_ detail: String) -> APIError { APIError(.forbidden, error: "forbidden", detail: detail) }
    static func notFound(_ detail: String) -> APIError { APIError(.notFound, error: "not_found", detail: detail) }
    static func badRequest(_ detail: String) -> APIError { APIError(.badRequest, error: "bad_request", detail: detail) }

    static func unprocessable(_ error: String, _ detail: String) -> APIError {
        APIError(.unprocessableContent, error: error, detail: detail)
    }

    static func tooLarge(limit: Int64) -> APIError {
        APIError(.contentTooLarge, error: "too_large",
                 detail: "the upload is larger than the limit of \(limit) bytes (\(limit >> 20) MiB); split the file or raise --max-upload-bytes")
    }

    static func unavailable(_ error: String, _ detail: String, reference: String? = nil) -> APIError {
        var failure = APIError(.serviceUnavailable, error: error, detail: detail)
        failure.reference = reference
        return failure
    }

    /// `unknown X 'value'; allowed: a, b, c` as a 422.
    static func notAllowed(_ name: String, _ value: some StringProtocol, allowed: [String]) -> APIError {
        unprocessable("unknown_\(name)", "unknown \(name) '\(value)'; allowed: \(allowed.joined(separator: ", "))")
    }
}

/// JSON bodies the way the CLI prints them: snake_case keys, ISO 8601 dates, sorted keys.
enum JSONBody {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func encodeObject(_ object: [String: String]) -> [UInt8] {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])).map { Array($0) } ?? Array("{}".utf8)
    }

    /// A JSON response of an Encodable value.
    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        let data = try encoder.encode(value)
        return raw(Array(data), status: status, headers: headers)
    }

    /// A JSON response of text that already is JSON (built by PostgreSQL).
    static func raw(_ bytes: [UInt8], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// `{"key": <json>, ...}` around JSON text made elsewhere.
    static func wrap(_ key: String, json: String, extra: [String: Int] = [:]) -> Response {
        var text = "{"
        for (name, value) in extra.sorted(by: { $0.key < $1.key }) { text += "\"\(name)\":\(value)," }
        text += "\"\(key)\":\(json)}"
        return raw(Array(text.utf8))
    }
}
