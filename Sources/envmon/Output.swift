import EnvMonServer
import Foundation

/// Every byte a command prints goes through here. A reader that has gone away (`| head -1`)
/// ends the command quietly with the conventional status 141, never a crash or a backtrace;
/// a short write is finished, an interrupted one retried.
enum Output {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// One JSON object on stdout.
    static func json(_ value: some Encodable) throws {
        var data = try encoder.encode(value)
        data.append(contentsOf: Array("\n".utf8))
        write(data, to: STDOUT_FILENO)
    }

    static func line(_ text: String) {
        write(Data((text + "\n").utf8), to: STDOUT_FILENO)
    }

    static func note(_ text: String) {
        write(Data((text + "\n").utf8), to: STDERR_FILENO)
    }

    /// Writes all of `data`; exits 141 when the reader closed the pipe.
    static func write(_ data: Data, to descriptor: Int32) {
        data.withUnsafeBytes { buffer in
            guard var pointer = buffer.baseAddress else { return }
            var remaining = buffer.count
            while remaining > 0 {
                let written = Foundation.write(descriptor, pointer, remaining)
                if written >= 0 {
                    pointer += written
                    remaining -= written
                    continue
                }
                switch errno {
                case EINTR, EAGAIN: continue
                case EPIPE: exit(141)
                default: return  // a closed or broken descriptor: nothing useful left to say
                }
            }
        }
    }

    static func fail(_ report: ErrorReport, detail: String, json: Bool) {
        if json {
            let object = ["error": report.message, "detail": detail]
            if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
                write(data + Data("\n".utf8), to: STDERR_FILENO)
                return
            }
        }
        note("envmon: error: \(report.message)")
    }
}

extension Date {
    /// `2026-04-02T01:00:00Z`, for text output.
    var iso8601Text: String { Timestamps.iso8601(self) }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}

extension String {
    /// The text with control characters (terminal escapes, NUL, line breaks) shown as `\u{1B}`
    /// instead of acting on the terminal: file names and values come from uploads.
    var printable: String {
        var result = ""
        for scalar in unicodeScalars {
            let value = scalar.value
            if value < 0x20 || value == 0x7F || (0x80...0x9F).contains(value) {
                result += "\\u{" + String(value, radix: 16, uppercase: true) + "}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
