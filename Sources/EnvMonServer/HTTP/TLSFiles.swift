public import Foundation
import HTTPTypes
import Hummingbird
import NIOSSL

/// The certificate chain and private key `envmon serve --tls-cert --tls-key` serves with.
public struct TLSFiles: Sendable, Equatable {
    public var certificate: URL
    public var key: URL

    public init(certificate: URL, key: URL) {
        self.certificate = certificate
        self.key = key
    }

    /// Reads both files; a one-line error names the file and the reason.
    func serverConfiguration() throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificate.path)
        } catch {
            throw TLSFilesError("cannot read the TLS certificate \(certificate.path): \(Self.reason(error, path: certificate.path))")
        }
        guard !chain.isEmpty else { throw TLSFilesError("the TLS certificate file \(certificate.path) holds no PEM certificate") }
        let privateKey: NIOSSLPrivateKey
        do {
            privateKey = try NIOSSLPrivateKey(file: key.path, format: .pem)
        } catch {
            throw TLSFilesError("cannot read the TLS private key \(key.path): \(Self.reason(error, path: key.path))")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
        configuration.minimumTLSVersion = .tlsv12
        // The key must belong to the certificate: checked now, not at the first handshake.
        do {
            _ = try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSFilesError("the TLS private key \(key.path) does not fit the certificate \(certificate.path)")
        }
        return configuration
    }

    private static func reason(_ error: any Error, path: String) -> String {
        if !FileManager.default.isReadableFile(atPath: path) { return "no such readable file" }
        return "not PEM or damaged"
    }
}

public struct TLSFilesError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Headers every response carries: no MIME sniffing, no framing, no referrer leaks; under TLS
/// also HSTS, so that browsers never fall back to plain HTTP.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = APIContext
    let tls: Bool
    static let frameOptions = HTTPField.Name("X-Frame-Options")
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        if let name = Self.frameOptions { response.headers[name] = "DENY" }
        if let name = Self.referrerPolicy { response.headers[name] = "same-origin" }
        if tls { response.headers[.strictTransportSecurity] = "max-age=31536000" }
        return response
    }
}
