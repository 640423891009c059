public import AsyncHTTPClient
public import EnvMonDomain
public import Foundation
public import Logging

/// What a delivery needs besides the notification: servers, sender, links, clock and sinks.
public struct DeliveryContext: Sendable {
    /// `ENVMON_SMTP_URL`; email deliveries fail permanently without it.
    public var smtp: SMTPConfiguration?
    /// `ENVMON_MAIL_FROM`, e.g. `环境监测预警 <envmon@example.gov.cn>`.
    public var mailFrom: MailAddress?
    /// `ENVMON_BASE_URL`: alerts link to `<base>/v1/alerts/<id>` when set.
    public var baseURL: String?
    /// The feed time zone every time is shown in (Asia/Shanghai by default).
    public var timeZone: TimeZone
    /// The HTTP client for webhooks, shared by all deliveries (never one per call);
    /// AsyncHTTPClient's process-wide `HTTPClient.shared` by default.
    public var httpClient: HTTPClient
    /// How long a webhook may take, connection to last byte.
    public var webhookTimeout: Duration
    /// Where the log channel writes.
    public var log: NotificationLog
    public var logger: Logger
    /// The clock for Date headers and log lines; injected so tests can pin it.
    public var now: @Sendable () -> Date

    public init(
        smtp: SMTPConfiguration? = nil, mailFrom: MailAddress? = nil, baseURL: String? = nil,
        timeZone: TimeZone = FeedTimeZone.defaultZone, httpClient: HTTPClient = .shared,
        webhookTimeout: Duration = .seconds(10), log: NotificationLog = .standardOutput, logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.smtp = smtp
        self.mailFrom = mailFrom
        self.baseURL = baseURL
        self.timeZone = timeZone
        self.httpClient = httpClient
        self.webhookTimeout = webhookTimeout
        self.log = log
        self.logger = logger
        self.now = now
    }

    /// Reads `ENVMON_SMTP_URL`, `ENVMON_MAIL_FROM` and `ENVMON_BASE_URL` from `environment`.
    /// - Throws: `SMTPConfigurationError` for an unusable SMTP URL or sender address.
    public init(
        environment: [String: String], timeZone: TimeZone = FeedTimeZone.defaultZone,
        httpClient: HTTPClient = .shared, log: NotificationLog = .standardOutput, logger: Logger
    ) throws(SMTPConfigurationError) {
        var smtp: SMTPConfiguration?
        if let url = environment["ENVMON_SMTP_URL"], !url.isEmpty { smtp = try SMTPConfiguration(url: url) }
        var mailFrom: MailAddress?
        if let text = environment["ENVMON_MAIL_FROM"], !text.isEmpty {
            guard let address = MailAddress(text) else {
                throw SMTPConfigurationError("ENVMON_MAIL_FROM=\(text) is not an address like envmon@example.gov.cn")
            }
            mailFrom = address
        }
        self.init(
            smtp: smtp, mailFrom: mailFrom, baseURL: environment["ENVMON_BASE_URL"].flatMap { $0.isEmpty ? nil : $0 },
            timeZone: timeZone, httpClient: httpClient, log: log, logger: logger)
    }
}

/// What a successful delivery left to report.
public struct DeliveryReceipt: Sendable, Equatable {
    /// Email recipients that were not reached (refused by the server or not an address),
    /// with the reason; the others received the message.
    public var unreachedRecipients: [String: String]

    public init(unreachedRecipients: [String: String] = [:]) {
        self.unreachedRecipients = unreachedRecipients
    }
}

/// Delivers one notification once on one channel and says how a failure should be treated;
/// the outbox owns persistence, retries and backoff.
public struct Notifier: Sendable {
    private let smtpClient: SMTPClient

    public init(smtpClient: SMTPClient = SMTPClient()) {
        self.smtpClient = smtpClient
    }

    /// Sends `group` on `channel`.
    /// - Throws: `NotificationError`; `isRetryable` tells the outbox whether to try again.
    @discardableResult
    public func deliver(
        group: NotificationGroup, channel: ReceiverChannel, context: DeliveryContext
    ) async throws(NotificationError) -> DeliveryReceipt {
        let facts = AlertFacts(timeZone: context.timeZone, baseURL: context.baseURL)
        var logger = context.logger
        logger[metadataKey: "envmon.notify.receiver"] = "\(group.receiver)"
        switch channel {
        case .log:
            try context.log.record(group, facts: facts, at: context.now())
            return DeliveryReceipt()
        case .webhook(let url, let format):
            let webhook = WebhookChannel(httpClient: context.httpClient, timeout: context.webhookTimeout, facts: facts, logger: logger)
            try await webhook.deliver(group, to: url, format: format)
            return DeliveryReceipt()
        case .email(let to):
            return try await email(group, to: to, context: context, logger: logger)
        }
    }

    private func email(
        _ group: NotificationGroup, to: [String], context: DeliveryContext, logger: Logger
    ) async throws(NotificationError) -> DeliveryReceipt {
        guard let smtp = context.smtp else { throw .permanent("email: ENVMON_SMTP_URL is not set") }
        guard let from = context.mailFrom else { throw .permanent("email: ENVMON_MAIL_FROM is not set") }
        var unreached: [String: String] = [:]
        var recipients: [MailAddress] = []
        for text in to {
            if let address = MailAddress(text) { recipients.append(address) } else { unreached[text] = "not an email address" }
        }
        guard !recipients.isEmpty else {
            throw .permanent("email: no usable recipient in \(to.joined(separator: ", "))")
        }
        let message = EmailMessage(
            alerts: group, from: from, to: recipients, baseURL: context.baseURL, timeZone: context.timeZone,
            date: context.now())
        let report = try await smtpClient.send(message, config: smtp, logger: logger)
        unreached.merge(report.refused) { first, _ in first }
        return DeliveryReceipt(unreachedRecipients: unreached)
    }
}
