import Foundation

/// Where and how to reach the bureau's mail server, parsed from `ENVMON_SMTP_URL`.
///
/// ```
/// smtp://user:pass@mail.example.gov.cn:587?starttls=required   STARTTLS, then AUTH
/// smtp://relay.internal:25                                      STARTTLS when offered
/// smtps://user:pass@mail.example.gov.cn                         TLS from the first byte (465)
/// smtp://user:pass@127.0.0.1:2525?ca=/etc/envmon/ca.pem          trust a private CA only
/// ```
/// Credentials are percent-decoded. Certificates are always verified unless the URL says
/// `tls_verify=none` explicitly (laboratory servers only).
public struct SMTPConfiguration: Sendable, Equatable, CustomStringConvertible {
    /// How the connection is protected.
    public enum Security: String, Sendable, Equatable {
        /// Plain connection upgraded with STARTTLS; fails when the server does not offer it.
        case startTLSRequired = "required"
        /// STARTTLS when the server offers it (port 25 relays); credentials are never sent in clear.
        case startTLSOpportunistic = "opportunistic"
        /// No TLS at all (`starttls=never`), for loopback relays.
        case plaintext = "never"
        /// TLS from the first byte (`smtps://`, port 465).
        case implicitTLS = "implicit"
    }

    public var host: String
    public var port: Int
    public var security: Security
    public var username: String?
    public var password: String?
    /// PEM file of the certificate authorities to trust instead of the system's (`ca=`).
    public var trustRootsPath: String?
    /// `false` only with an explicit `tls_verify=none`.
    public var verifiesCertificates: Bool
    /// The name this client gives in EHLO (`helo=`), by default the machine's host name.
    public var clientName: String
    /// How long to wait for the TCP (and, for smtps, TLS) connection (`connect_timeout=` seconds).
    public var connectTimeout: Duration
    /// How long to wait for each reply of the server (`timeout=` seconds).
    public var replyTimeout: Duration

    public init(
        host: String, port: Int, security: Security, username: String? = nil, password: String? = nil,
        trustRootsPath: String? = nil, verifiesCertificates: Bool = true, clientName: String? = nil,
        connectTimeout: Duration = .seconds(10), replyTimeout: Duration = .seconds(60)
    ) {
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.trustRootsPath = trustRootsPath
        self.verifiesCertificates = verifiesCertificates
        self.clientName = clientName ?? Self.defaultClientName()
        self.connectTimeout = connectTimeout
        self.replyTimeout = replyTimeout
    }

    /// Parses an `smtp://` or `smtps://` URL; the error names the part at fault, never the password.
    public init(url text: String) throws(SMTPConfigurationError) {
        guard let components = URLComponents(string: text.trimmingSpaces), let scheme = components.scheme?.lowercased()
        else { throw SMTPConfigurationError("not a URL; expected smtp://user:pass@host:port or smtps://…") }
        guard scheme == "smtp" || scheme == "smtps" else {
            throw SMTPConfigurationError("scheme \(scheme) is not smtp or smtps")
        }
        var host = components.host ?? ""
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw SMTPConfigurationError("the URL names no host") }
        let isImplicitTLS = scheme == "smtps"
        let port = components.port ?? (isImplicitTLS ? 465 : 587)
        guard (1...65535).contains(port) else { throw SMTPConfigurationError("port \(port) is out of range") }

        var security: Security = isImplicitTLS ? .implicitTLS : (port == 25 ? .startTLSOpportunistic : .startTLSRequired)
        var trustRootsPath: String?
        var verifies = true
        var clientName: String?
        var connectTimeout = Duration.seconds(10)
        var replyTimeout = Duration.seconds(60)
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "starttls":
                guard !isImplicitTLS else { throw SMTPConfigurationError("starttls= does not apply to smtps://, which is TLS from the start") }
                guard let chosen = Security(rawValue: value), chosen != .implicitTLS else {
                    throw SMTPConfigurationError("starttls=\(value) is not required, opportunistic or never")
                }
                security = chosen
            case "ca":
                guard !value.isEmpty else { throw SMTPConfigurationError("ca= needs the path of a PEM file") }
                trustRootsPath = value
            case "tls_verify":
                switch value {
                case "none": verifies = false
                case "full": verifies = true
                default: throw SMTPConfigurationError("tls_verify=\(value) is not full or none")
                }
            case "helo":
                guard !value.isEmpty, value.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
                    throw SMTPConfigurationError("helo= must be one ASCII word")
                }
                clientName = value
            case "timeout", "connect_timeout":
                guard let seconds = Double(value), seconds > 0, seconds <= 3600 else {
                    throw SMTPConfigurationError("\(item.name)=\(value) is not a number of seconds between 0 and 3600")
                }
                if item.name == "timeout" { replyTimeout = .milliseconds(Int64(seconds * 1000)) }
                else { connectTimeout = .milliseconds(Int64(seconds * 1000)) }
            default:
                throw SMTPConfigurationError("unknown parameter \(item.name)= (known: starttls, ca, tls_verify, helo, timeout, connect_timeout)")
            }
        }
        let username = components.user.flatMap { $0.isEmpty ? nil : $0 }
        let password = components.password
        if password != nil, username == nil { throw SMTPConfigurationError("a password without a user name") }
        self.init(
            host: host, port: port, security: security, username: username, password: password,
            trustRootsPath: trustRootsPath, verifiesCertificates: verifies, clientName: clientName,
            connectTimeout: connectTimeout, replyTimeout: replyTimeout
        )
    }

    /// The URL without its password, for logs and `envmon notify --status`.
    public var description: String {
        let scheme = security == .implicitTLS ? "smtps" : "smtp"
        let user = username.map { "\($0):***@" } ?? ""
        let shownHost = host.contains(":") ? "[\(host)]" : host
        var text = "\(scheme)://\(user)\(shownHost):\(port)"
        if security != .implicitTLS { text += "?starttls=\(security.rawValue)" }
        if !verifiesCertificates { text += (security == .implicitTLS ? "?" : "&") + "tls_verify=none" }
        return text
    }

    private static func defaultClientName() -> String {
        let name = ProcessInfo.processInfo.hostName
        // EHLO wants a domain or an address literal; a name with spaces or non-ASCII is neither.
        if !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }) {
            return name
        }
        return "localhost"
    }
}

/// `ENVMON_SMTP_URL` is not a usable SMTP URL.
public struct SMTPConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, naming the parameter; never includes the password.
    public var reason: String

    init(_ reason: String) { self.reason = reason }

    public var description: String { "ENVMON_SMTP_URL: \(reason)" }
}
